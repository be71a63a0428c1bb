"""EDNS(0) (RFC 6891): the Edns value carried by an OPT record, and its options.

Options are objects with `.code`, `.data` (the option payload bytes) and to_text(); known codes
get a class with parsed fields: Cookie (RFC 7873), NSID (RFC 5001), EDE (RFC 8914), Padding
(RFC 7830), ClientSubnet (RFC 7871), TCPKeepalive (RFC 7828). Others stay Option(code, data).
"""

import struct

from dnsbox.compat import const
from dnsbox.wire.errors import WireError

NSID = const(3)
CLIENT_SUBNET = const(8)
EXPIRE = const(9)
COOKIE = const(10)
TCP_KEEPALIVE = const(11)
PADDING = const(12)
CHAIN = const(13)
EDE = const(15)

# Extended DNS Error info codes (RFC 8914 4; the IANA registry's names) and their texts.
EDE_OTHER = const(0)
EDE_STALE = const(3)
EDE_BOGUS = const(6)
EDE_NOT_READY = const(14)
EDE_PROHIBITED = const(18)
EDE_NO_REACHABLE_AUTHORITY = const(22)
EDE_NETWORK_ERROR = const(23)
EDE_TEXT = {
    0: "Other", 1: "Unsupported DNSKEY Algorithm", 2: "Unsupported DS Digest Type",
    3: "Stale Answer", 4: "Forged Answer", 5: "DNSSEC Indeterminate", 6: "DNSSEC Bogus",
    7: "Signature Expired", 8: "Signature Not Yet Valid", 9: "DNSKEY Missing",
    10: "RRSIGs Missing", 11: "No Zone Key Bit Set", 12: "NSEC Missing", 13: "Cached Error",
    14: "Not Ready", 15: "Blocked", 16: "Censored", 17: "Filtered", 18: "Prohibited",
    19: "Stale NXDOMAIN Answer", 20: "Not Authoritative", 21: "Not Supported",
    22: "No Reachable Authority", 23: "Network Error", 24: "Invalid Data",
    25: "Signature Expired before Valid", 26: "Too Early", 27: "Unsupported NSEC3 Iterations Value",
    28: "Unable to conform to policy", 29: "Synthesized", 30: "Invalid Query Type",
}

DO = const(0x8000)  # the DNSSEC OK bit in the OPT flags (RFC 3225)
MIN_PAYLOAD = const(512)  # smaller advertised sizes are treated as 512 (RFC 6891 6.2.5)
# Our own OPT record in wire form: root owner, type 41, payload 1232 (DNS flag day 2020), no
# extended rcode, version 0, DO clear, no options. Appended to queries upstream and to answers.
PLAIN_OPT = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"
DO_OPT = b"\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x00"  # the same with DO set
_len = len  # a module global: found faster than the builtin (bare_opt_payload is on hot paths)


def bare_opt_payload(q):
    """For a query message q (at least a header) whose ARCOUNT low byte is not 0: the payload
    size of its OPT record if that is the only additional record and a bare one ending the
    message (root owner, type 41, extended rcode 0, version 0, no options; any flags, DO
    included), else -1. The servers' fast paths answer such queries from stored answers."""
    n = _len(q)
    if (q[11] != 1 or n < 28 or q[n - 11] | q[n - 10] | q[n - 6] | q[n - 5] | q[n - 2] | q[n - 1]
            or q[n - 9] != 41):
        return -1
    return (q[n - 8] << 8) | q[n - 7]


class Option:
    """An option kept as bytes."""

    def __init__(self, code, data):
        if not 0 <= code <= 65535:
            raise ValueError("option code not a uint16")
        self.code = code
        self.data = bytes(data)

    def to_text(self):
        return "Generic %d" % self.code

    def __eq__(self, other):
        return isinstance(other, Option) and self.code == other.code and self.data == other.data

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash((self.code, self.data))

    def __repr__(self):
        return "<%s %s>" % (self.__class__.__name__, self.to_text())


def _hex(b):
    return "".join(["%02x" % c for c in b])


class Cookie(Option):
    """client: 8 bytes; server: b"" or 8..32 bytes (RFC 7873 4)."""

    def __init__(self, client, server=b""):
        if len(client) != 8 or not (len(server) == 0 or 8 <= len(server) <= 32):
            raise ValueError("cookie: client must be 8 bytes, server 0 or 8..32 bytes")
        self.client = bytes(client)
        self.server = bytes(server)
        Option.__init__(self, COOKIE, self.client + self.server)

    def to_text(self):
        return "COOKIE " + _hex(self.client) + _hex(self.server)


class NSIDOption(Option):
    def __init__(self, nsid=b""):
        Option.__init__(self, NSID, nsid)
        self.nsid = self.data

    def to_text(self):
        d = self.data
        for c in d:
            if not 0x20 <= c <= 0x7E:
                return "NSID " + _hex(d)
        return "NSID " + d.decode()


class ExtendedError(Option):
    """Extended DNS Error: info_code (uint16) and UTF-8 extra text (RFC 8914)."""

    def __init__(self, info_code, text=""):
        if not 0 <= info_code <= 65535:
            raise ValueError("EDE info code not a uint16")
        self.info_code = info_code
        self.text = text
        Option.__init__(self, EDE, struct.pack("!H", info_code) + text.encode())

    def to_text(self):
        t = "EDE %d" % self.info_code
        if self.text:
            t += ": " + self.text
        return t


class Padding(Option):
    def __init__(self, length=0, data=None):
        Option.__init__(self, PADDING, bytes(length) if data is None else data)
        self.length = len(self.data)

    def to_text(self):
        return "PADDING %d" % self.length


class ClientSubnet(Option):
    """family 1 (IPv4) or 2 (IPv6); address holds ceil(source/8) bytes (RFC 7871 6)."""

    def __init__(self, family, source, scope, address):
        if family not in (1, 2):
            raise ValueError("ECS family must be 1 or 2")
        maxp = 32 if family == 1 else 128
        if not (0 <= source <= maxp and 0 <= scope <= maxp):
            raise ValueError("ECS prefix length out of range")
        if len(address) != (source + 7) // 8:
            raise ValueError("ECS address must have ceil(source/8) bytes")
        if source & 7 and address[-1] & (0xFF >> (source & 7)):
            raise ValueError("ECS address has bits set past the source prefix")
        self.family = family
        self.source = source
        self.scope = scope
        self.address = bytes(address)
        Option.__init__(
            self, CLIENT_SUBNET, struct.pack("!HBB", family, source, scope) + self.address
        )

    def to_text(self):
        return "ECS family %d %s/%d scope/%d" % (
            self.family,
            _hex(self.address),
            self.source,
            self.scope,
        )


class TCPKeepalive(Option):
    """timeout in units of 100 ms, or None (absent: the form clients send, RFC 7828 3.1)."""

    def __init__(self, timeout=None):
        if timeout is not None and not 0 <= timeout <= 65535:
            raise ValueError("keepalive timeout not a uint16")
        self.timeout = timeout
        Option.__init__(
            self, TCP_KEEPALIVE, b"" if timeout is None else struct.pack("!H", timeout)
        )

    def to_text(self):
        return "TCP-KEEPALIVE %s" % ("-" if self.timeout is None else self.timeout)


def decode_option(code, buf, off, end):
    """One option's payload buf[off:end] -> Option (WireError if a known option is malformed:
    the server answers FORMERR, RFC 7873 5.2.2, RFC 7871 7.1.1)."""
    data = buf[off:end]
    n = end - off
    if code == COOKIE:
        if n < 8 or (8 < n < 16) or n > 40:
            raise WireError(off, "COOKIE option length %d" % n)
        return Cookie(data[:8], data[8:])
    if code == NSID:
        return NSIDOption(data)
    if code == EDE:
        return _ede(data, off)
    if code == PADDING:
        return Padding(data=data)
    if code == CLIENT_SUBNET:
        if n < 4:
            raise WireError(off, "CLIENT-SUBNET option shorter than 4 bytes")
        return _ecs(data, off)
    if code == TCP_KEEPALIVE:
        if n == 0:
            return TCPKeepalive()
        if n != 2:
            raise WireError(off, "TCP-KEEPALIVE option length %d" % n)
        return TCPKeepalive((data[0] << 8) | data[1])
    return Option(code, data)


def _ede(data, off):
    if len(data) < 2:
        raise WireError(off, "EDE option shorter than 2 bytes")
    try:
        t = data[2:].decode()
    except UnicodeError:
        raise WireError(off + 2, "EDE extra text is not UTF-8")
    return ExtendedError((data[0] << 8) | data[1], t)


def _ecs(data, off):
    try:
        return ClientSubnet((data[0] << 8) | data[1], data[2], data[3], data[4:])
    except ValueError as e:
        raise WireError(off, "CLIENT-SUBNET: %s" % e.args[0])


def options_to_wire(options):
    if not options:
        return b""
    out = bytearray()
    i = 0
    while i < len(options):  # (a for loop would cost 4 more frame words on MicroPython)
        o = options[i]
        if isinstance(o, tuple):
            o = Option(o[0], o[1])
        if len(o.data) > 65535:
            raise ValueError("option longer than 65535 bytes")
        out += struct.pack("!HH", o.code, len(o.data))
        out += o.data
        i += 1
    return bytes(out)


class Edns:
    """EDNS parameters of a message: advertised UDP payload size, version, DO flag, the upper
    8 bits of the extended rcode (ext_rcode, the raw OPT field), other flag bits, options."""

    version = ext_rcode = flags = 0  # class defaults: only other values are stored
    do = False

    def __init__(self, payload=1232, version=0, do=False, ext_rcode=0, options=None, flags=0):
        if not 0 <= payload <= 65535 or not 0 <= version <= 255 or not 0 <= ext_rcode <= 255:
            raise ValueError("EDNS payload/version/ext_rcode out of range")
        self.payload = payload
        if version:
            self.version = version
        if do:
            self.do = True
        if ext_rcode:
            self.ext_rcode = ext_rcode
        if flags & 0x7FFF:
            self.flags = flags & 0x7FFF  # Z bits other than DO, kept as received
        self.options = [] if options is None else list(options)

    def option(self, code):
        """The first option with this code, or None."""
        for o in self.options:
            if o.code == code:
                return o
        return None

    def ttl(self):
        """The OPT record's TTL field: ext_rcode, version, flags (RFC 6891 6.1.3)."""
        f = self.flags | (DO if self.do else 0)
        return (self.ext_rcode << 24) | (self.version << 16) | f

    def rdata_wire(self):
        return options_to_wire(self.options)

    def wire_size(self):
        """Bytes the OPT record takes in a message."""
        return 11 + len(self.rdata_wire())

    def __eq__(self, other):
        return (
            isinstance(other, Edns)
            and self.payload == other.payload
            and self.ttl() == other.ttl()
            and self.options == other.options
        )

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "<Edns payload=%d version=%d do=%s ext_rcode=%d options=%r>" % (
            self.payload,
            self.version,
            self.do,
            self.ext_rcode,
            self.options,
        )


def from_opt(rclass, ttl, buf, off, end):
    """Edns from an OPT record's class, TTL and rdata at buf[off:end]."""
    e = object.__new__(Edns)  # Edns() with its 7 parameters costs a heap frame on MicroPython
    e.payload = rclass
    e.options = _options(buf, off, end) if off < end else []
    if ttl:
        if ttl & 0xFF000000:
            e.ext_rcode = ttl >> 24
        if ttl & 0xFF0000:
            e.version = (ttl >> 16) & 0xFF
        if ttl & DO:
            e.do = True
        if ttl & 0x7FFF:
            e.flags = ttl & 0x7FFF
    return e


def _options(buf, off, end):
    opts = []
    while off < end:
        if off + 4 > end:
            raise WireError(off, "OPT option header runs past the rdata")
        n = off + 4 + ((buf[off + 2] << 8) | buf[off + 3])  # end of this option
        if n > end:
            raise WireError(off + 2, "OPT option runs past the rdata")
        opts.append(_option_at(buf, off, n))
        off = n
    return opts


def _option_at(buf, off, end):
    return decode_option((buf[off] << 8) | buf[off + 1], buf, off + 4, end)
