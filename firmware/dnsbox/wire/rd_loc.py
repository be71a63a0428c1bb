"""Locations and addresses: LOC (RFC 1876), GPOS (RFC 1712), APL (RFC 3123), WKS (RFC 1035
3.4.2), NSAP (RFC 1706), EUI48 and EUI64 (RFC 7043)."""

import struct

from dnsbox.compat import const
from dnsbox.wire import rd_std
from dnsbox.wire import rdbase as B
from dnsbox.wire import text as T
from dnsbox.wire import types
from dnsbox.wire.errors import TextError, WireError
from dnsbox.wire.rdfields import Fields

# --- LOC (RFC 1876) --------------------------------------------------------------------------

LOC_SIZE = const(0x12)  # default size 1e2 cm (RFC 1876 3), as base << 4 | exponent
LOC_HPREC = const(0x16)  # default horizontal precision 1e6 cm
LOC_VPREC = const(0x13)  # default vertical precision 1e3 cm
_EQUATOR = const(0x80000000)  # latitude and longitude 0 on the wire (RFC 1876 2)
_MS_DEGREE = const(3600000)  # thousandths of an arc second in a degree
_ALT_BASE = const(10000000)  # altitude 0 on the wire: 100,000 m below the reference, in cm
_MAX_EXP = const(9)  # sizes are base * 10^exponent cm, base and exponent 0..9 (RFC 1876 2)


def _size_ok(b):
    base, exp = b >> 4, b & 15
    return base <= 9 and exp <= _MAX_EXP and (base or not exp)


def _size_from_cm(cm, what):
    # one significant digit is kept, the rest dropped (as BIND and dnspython do)
    exp = 0
    while cm >= 10:
        cm //= 10
        exp += 1
    if exp > _MAX_EXP:
        raise TextError("LOC %s over 90000000.00m" % what)
    return (cm << 4) | exp if cm else 0


def _cm_text(cm):
    sign = "-" if cm < 0 else ""
    cm = -cm if cm < 0 else cm
    return "%s%d.%02dm" % (sign, cm // 100, cm % 100)


def _cm_from_text(t, what, signed):
    """Centimetres of '[-]m[.cc][m]' (at most two decimals: the wire holds centimetres)."""
    s = t[:-1] if t[-1:] == "m" else t
    neg = signed and s[:1] == "-"
    if neg:
        s = s[1:]
    parts = s.split(".")
    whole = parts[0]
    frac = parts[1] if len(parts) == 2 else ""
    if (
        len(parts) > 2
        or not (whole or frac)
        or (whole and not whole.isdigit())
        or (len(parts) == 2 and not (frac.isdigit() and len(frac) <= 2))
    ):
        raise TextError("bad LOC %s %r" % (what, t))
    cm = int(whole or "0") * 100 + int((frac + "00")[:2])
    return -cm if neg else cm


def _coord_from_tokens(tk, what, maxdeg, pos, neg):
    """'d [m [s[.fff]]] N|S' (or E|W) -> the wire value (RFC 1876 3)."""
    d = tk.uint(what + " degrees", maxdeg)
    m = s = ms = 0
    t = tk.word(what)
    if t.isdigit():
        m = int(t)
        t = tk.word(what)
        parts = t.split(".")
        if parts[0].isdigit() and (
            len(parts) == 1 or (len(parts) == 2 and parts[1].isdigit() and len(parts[1]) <= 3)
        ):
            s = int(parts[0])
            ms = int((parts[1] + "00")[:3]) if len(parts) == 2 else 0
            t = tk.word(what)
    if m > 59 or s > 59:
        raise TextError("LOC %s minutes or seconds over 59" % what)
    v = ((d * 60 + m) * 60 + s) * 1000 + ms
    if v > maxdeg * _MS_DEGREE:
        raise TextError("LOC %s over %d degrees" % (what, maxdeg))
    h = t.upper()
    if h == pos:
        return _EQUATOR + v
    if h == neg:
        return _EQUATOR - v
    raise TextError("LOC %s: %r is not %s or %s" % (what, t, pos, neg))


def _coord_text(v, pos, neg):
    h = pos if v >= _EQUATOR else neg
    v = v - _EQUATOR if v >= _EQUATOR else _EQUATOR - v
    ms = v % 1000
    v //= 1000
    return "%d %d %d.%03d %s" % (v // 3600, (v // 60) % 60, v % 60, ms, h)


class LOC(B.Rdata):
    """Values as on the wire: latitude and longitude in thousandths of an arc second offset
    by 2^31, altitude in cm offset by 10^7, size and precisions as base << 4 | exponent."""

    rtype = types.LOC

    def __init__(
        self, latitude, longitude, altitude, size=LOC_SIZE, hprec=LOC_HPREC, vprec=LOC_VPREC
    ):
        self.latitude = B.check_uint(latitude, 32, "latitude")
        self.longitude = B.check_uint(longitude, 32, "longitude")
        self.altitude = B.check_uint(altitude, 32, "altitude")
        if abs(self.latitude - _EQUATOR) > 90 * _MS_DEGREE:
            raise ValueError("LOC latitude over 90 degrees")
        if abs(self.longitude - _EQUATOR) > 180 * _MS_DEGREE:
            raise ValueError("LOC longitude over 180 degrees")
        self.size = B.check_uint(size, 8, "size")
        self.hprec = B.check_uint(hprec, 8, "horizontal precision")
        self.vprec = B.check_uint(vprec, 8, "vertical precision")
        for b in (self.size, self.hprec, self.vprec):
            if not _size_ok(b):
                raise ValueError("LOC size or precision octet 0x%02x is not base/exponent" % b)

    def to_wire(self):
        return struct.pack(
            "!BBBBIII",
            0,
            self.size,
            self.hprec,
            self.vprec,
            self.latitude,
            self.longitude,
            self.altitude,
        )

    def to_text(self):
        t = "%s %s %s" % (
            _coord_text(self.latitude, "N", "S"),
            _coord_text(self.longitude, "E", "W"),
            _cm_text(self.altitude - _ALT_BASE),
        )
        if (self.size, self.hprec, self.vprec) != (LOC_SIZE, LOC_HPREC, LOC_VPREC):
            for b in (self.size, self.hprec, self.vprec):
                t += " " + _cm_text((b >> 4) * 10 ** (b & 15))
        return t

    @classmethod
    def from_tokens(cls, tk, origin):
        lat = _coord_from_tokens(tk, "latitude", 90, "N", "S")
        lon = _coord_from_tokens(tk, "longitude", 180, "E", "W")
        alt = _cm_from_text(tk.word("altitude"), "altitude", True) + _ALT_BASE
        if not 0 <= alt <= 0xFFFFFFFF:
            raise TextError("LOC altitude out of range")
        sizes = [LOC_SIZE, LOC_HPREC, LOC_VPREC]
        for i, what in enumerate(("size", "horizontal precision", "vertical precision")):
            if tk.more():
                sizes[i] = _size_from_cm(_cm_from_text(tk.word(what), what, False), what)
        return cls(lat, lon, alt, sizes[0], sizes[1], sizes[2])

    @classmethod
    def decode(cls, rtype, buf, off, end):
        if end - off != 16:
            raise WireError(off, "LOC rdata must be 16 bytes")
        v = struct.unpack_from("!BBBBIII", buf, off)
        if v[0] != 0:
            raise WireError(off, "LOC version %d (only 0 is defined, RFC 1876 2)" % v[0])
        return cls(v[4], v[5], v[6], v[1], v[2], v[3])


# --- GPOS (RFC 1712) -------------------------------------------------------------------------


def _decimal(b):
    """(integer part, True if the fraction is not zero) of b = [+-]digits[.digits], or None."""
    try:
        s = b.decode()
    except UnicodeError:
        return None
    if s[:1] in ("+", "-"):
        s = s[1:]
    parts = s.split(".")
    if len(parts) > 2 or not (parts[0] or parts[-1]):
        return None
    for p in parts:
        if p and not p.isdigit():
            return None
    frac = parts[1] if len(parts) == 2 else ""
    return int(parts[0] or "0"), frac.strip("0") != ""


def _within(b, limit):
    d = _decimal(b)
    return d is not None and (d[0] < limit or (d[0] == limit and not d[1]))


class GPOS(Fields):
    rtype = types.GPOS
    layout = "SSS"
    attrs = ("latitude", "longitude", "altitude")

    def check(self):
        if not (_within(self.latitude, 90) and _within(self.longitude, 180)):
            return "GPOS latitude or longitude is not a number within range"
        if _decimal(self.altitude) is None:
            return "GPOS altitude is not a number"
        return None

    def to_text(self):
        # only signs, digits and a dot: printed bare, as RFC 1712 3 shows them
        return " ".join([v.decode() for v in (self.latitude, self.longitude, self.altitude)])


# --- APL (RFC 3123) --------------------------------------------------------------------------

_AFD_MAX = {1: 4, 2: 16}  # address octets of IPv4 and IPv6 (other families: up to 127)
_PREFIX_MAX = {1: 32, 2: 128}
_AFD_LEN_MAX = const(127)  # AFDLENGTH is 7 bits (RFC 3123 4)


def _apl_check(family, prefix, afd):
    if not 0 <= family <= 0xFFFF or not 0 <= prefix <= _PREFIX_MAX.get(family, 255):
        return "APL family or prefix out of range"
    if len(afd) > _AFD_MAX.get(family, _AFD_LEN_MAX):
        return "APL address longer than its family allows"
    if afd and afd[-1] == 0:
        return "APL address ends in a zero octet (RFC 3123 4)"
    return None


def _apl_item_from_text(w):
    neg = w[:1] == "!"
    if neg:
        w = w[1:]
    c = w.find(":")
    s = w.rfind("/")
    if c < 1 or s < c or not w[:c].isdigit() or not w[s + 1 :].isdigit():
        raise TextError("APL item %r is not [!]family:address/prefix" % w)
    family = int(w[:c])
    addr = w[c + 1 : s]
    if family == 1:
        afd = rd_std.ipv4_from_text(addr)
    elif family == 2:
        afd = rd_std.ipv6_from_text(addr)
    else:
        afd = T.hex_from_text([addr], "APL address")
    while afd and afd[-1] == 0:
        afd = afd[:-1]
    return (family, neg, int(w[s + 1 :]), afd)


class APL(B.Rdata):
    """items: (family, negation, prefix length, address without its trailing zero octets)."""

    rtype = types.APL

    def __init__(self, items):
        self.items = tuple([(f, bool(n), p, bytes(a)) for f, n, p, a in items])
        for f, _, p, a in self.items:
            why = _apl_check(f, p, a)
            if why is not None:
                raise ValueError(why)

    def to_wire(self):
        out = bytearray()
        for f, n, p, a in self.items:
            out += struct.pack("!HBB", f, p, len(a) | (0x80 if n else 0))
            out += a
        return bytes(out)

    def to_text(self):
        out = []
        for f, n, p, a in self.items:
            if f == 1:
                addr = rd_std.ipv4_to_text(a + bytes(4 - len(a)))
            elif f == 2:
                addr = rd_std.ipv6_to_text(a + bytes(16 - len(a)))
            else:
                addr = T.hex_to_text(a, 1 << 30)
            out.append("%s%d:%s/%d" % ("!" if n else "", f, addr, p))
        return " ".join(out)

    @classmethod
    def from_tokens(cls, tk, origin):
        return cls([_apl_item_from_text(w) for w in tk.rest()])

    @classmethod
    def decode(cls, rtype, buf, off, end):
        items = []
        while off < end:
            B.need(buf, off, 4, end)
            f, p, ln = struct.unpack_from("!HBB", buf, off)
            B.need(buf, off + 4, ln & 0x7F, end)
            items.append((f, ln >> 7, p, buf[off + 4 : off + 4 + (ln & 0x7F)]))
            off += 4 + (ln & 0x7F)
        return cls(items)


# --- WKS (RFC 1035 3.4.2) --------------------------------------------------------------------

WKS_BITMAP_MAX = const(8192)  # octets: one bit for each port 0..65535
# Mnemonics accepted in text (a few of /etc/protocols and /etc/services; output is numbers)
_PROTOCOLS = {"icmp": 1, "tcp": 6, "udp": 17}
_SERVICES = {
    "ftp": 21,
    "ssh": 22,
    "telnet": 23,
    "smtp": 25,
    "domain": 53,
    "tftp": 69,
    "http": 80,
    "pop3": 110,
    "sunrpc": 111,
    "ntp": 123,
    "imap": 143,
    "snmp": 161,
    "ldap": 389,
    "https": 443,
}


class WKS(B.Rdata):
    rtype = types.WKS

    def __init__(self, address, protocol, bitmap):
        self.address = bytes(address)
        if len(self.address) != 4:
            raise ValueError("WKS address must be 4 bytes")
        self.protocol = B.check_uint(protocol, 8, "protocol")
        self.bitmap = bytes(bitmap)
        if len(self.bitmap) > WKS_BITMAP_MAX:
            raise ValueError("WKS bitmap longer than %d octets" % WKS_BITMAP_MAX)

    def to_wire(self):
        return self.address + bytes((self.protocol,)) + self.bitmap

    def ports(self):
        out = []
        for i in range(len(self.bitmap)):
            c = self.bitmap[i]
            for k in range(8):
                if c & (0x80 >> k):
                    out.append(i * 8 + k)
        return out

    def to_text(self):
        if self.bitmap[-1:] == b"\x00":  # a form the service list cannot give back
            return B.generic_text(self)
        out = [rd_std.ipv4_to_text(self.address), "%d" % self.protocol]
        return " ".join(out + ["%d" % p for p in self.ports()])

    @classmethod
    def from_tokens(cls, tk, origin):
        addr = rd_std.ipv4_from_text(tk.word("address"))
        w = tk.word("protocol")
        proto = _PROTOCOLS.get(w.lower())
        if proto is None:
            if not w.isdigit() or int(w) > 255:
                raise TextError("unknown WKS protocol %r" % w)
            proto = int(w)
        bits = bytearray()
        for w in tk.rest():
            port = _SERVICES.get(w.lower())
            if port is None:
                if not w.isdigit() or int(w) > 65535:
                    raise TextError("unknown WKS service %r" % w)
                port = int(w)
            if len(bits) <= port >> 3:
                bits += bytes((port >> 3) + 1 - len(bits))
            bits[port >> 3] |= 0x80 >> (port & 7)
        return cls(addr, proto, bits)

    @classmethod
    def decode(cls, rtype, buf, off, end):
        B.need(buf, off, 5, end)
        return cls(buf[off : off + 4], buf[off + 4], buf[off + 5 : end])


# --- NSAP (RFC 1706), EUI48 and EUI64 (RFC 7043) ---------------------------------------------


class NSAP(B.Rdata):
    rtype = types.NSAP

    def __init__(self, address):
        self.address = bytes(address)

    def to_wire(self):
        return self.address

    def to_text(self):
        return "0x" + T.hex_to_text(self.address, 1 << 30)

    @classmethod
    def from_tokens(cls, tk, origin):
        w = tk.word("address")
        if w[:2] not in ("0x", "0X"):
            raise TextError("NSAP address %r does not start with 0x (RFC 1706)" % w)
        return cls(T.hex_from_text([w[2:].replace(".", "")], "NSAP address"))

    @classmethod
    def decode(cls, rtype, buf, off, end):
        return cls(buf[off:end])


class EUI48(B.Rdata):
    rtype = types.EUI48
    size = 6  # octets

    def __init__(self, address):
        self.address = bytes(address)
        if len(self.address) != self.size:
            raise ValueError("EUI%d address must be %d octets" % (self.size * 8, self.size))

    def to_wire(self):
        return self.address

    def to_text(self):
        return "-".join(["%02x" % c for c in self.address])

    @classmethod
    def from_tokens(cls, tk, origin):
        w = tk.word("address")
        parts = w.split("-")
        if len(parts) != cls.size or [p for p in parts if len(p) != 2]:
            raise TextError("EUI%d address %r is not xx-xx-..." % (cls.size * 8, w))
        return cls(T.hex_from_text(parts, "EUI address"))

    @classmethod
    def decode(cls, rtype, buf, off, end):
        if end - off != cls.size:
            raise WireError(off, "EUI%d rdata must be %d bytes" % (cls.size * 8, cls.size))
        return cls(buf[off:end])


class EUI64(EUI48):
    rtype = types.EUI64
    size = 8
