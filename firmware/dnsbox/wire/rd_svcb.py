"""SVCB and HTTPS (RFC 9460)."""

from dnsbox.wire import rdbase as B
from dnsbox.wire import types as RT


class SVCB(B.Generic):
    rtype = RT.SVCB

    def __init__(self, data):
        B.Generic.__init__(self, self.rtype, data)

    @classmethod
    def decode(cls, rtype, buf, off, end):
        return cls(buf[off:end])

    @classmethod
    def from_tokens(cls, tk, origin):
        raise B.TextError("SVCB text form not supported yet")


class HTTPS(SVCB):
    rtype = RT.HTTPS
