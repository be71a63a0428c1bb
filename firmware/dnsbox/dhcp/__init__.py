"""DHCP server (RFC 2131) for the appliance's network: dnsbox.dhcp.server (pure), .packet, .serve."""
