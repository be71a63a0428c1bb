"""DHCP server (RFC 2131) for the appliance's network: .server (pure), .packet, .serve (I/O)."""
