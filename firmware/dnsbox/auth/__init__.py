"""Authoritative query pipeline: bytes in, bytes out (no sockets, no clock).

Entry point: dnsbox.auth.server.Server(db, nsid=None).handle(query, proto) with proto UDP or TCP.
"""

from dnsbox.wire.reply import TCP, UDP  # noqa: F401 - the handlers' transport numbers
