"""State kept on a writable disk (state=DIR): the record framing (journal), the files (store)
and what the update zone and the DHCP leases write there (zonestate, leasestate)."""
