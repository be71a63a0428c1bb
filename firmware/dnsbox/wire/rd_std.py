"""RFC 1035-era and other common record types: A, AAAA, NS, CNAME, PTR, DNAME, MX, SOA, TXT,
SRV, NAPTR, CAA, SSHFP, TLSA."""

import struct

from dnsbox.wire import rdbase as B
from dnsbox.wire import text as T
from dnsbox.wire import types as RT
from dnsbox.wire.errors import TextError
from dnsbox.wire.rdbase import name_at, name_exact, string_at, u32  # direct: a stack word less

# --- addresses -------------------------------------------------------------------------------


def ipv4_from_text(s):
    parts = s.split(".")
    if len(parts) != 4:
        raise TextError("bad IPv4 address %r" % s)
    out = bytearray()
    for p in parts:
        if not p.isdigit() or len(p) > 3 or (len(p) > 1 and p[0] == "0") or int(p) > 255:
            raise TextError("bad IPv4 address %r" % s)
        out.append(int(p))
    return bytes(out)


def ipv4_to_text(b):
    return "%d.%d.%d.%d" % (b[0], b[1], b[2], b[3])


def ipv6_from_text(s):
    tail = b""
    if "." in s:  # embedded IPv4 in the last 32 bits
        k = s.rfind(":")
        tail = ipv4_from_text(s[k + 1 :])
        s = s[: k + 1] + "0:0"
    if s.count("::") > 1:
        raise TextError("bad IPv6 address %r" % s)
    if "::" in s:
        left, right = s.split("::")
        lg = left.split(":") if left else []
        rg = right.split(":") if right else []
        if len(lg) + len(rg) > 7:
            raise TextError("bad IPv6 address %r" % s)
        groups = lg + ["0"] * (8 - len(lg) - len(rg)) + rg
    else:
        groups = s.split(":")
    if len(groups) != 8:
        raise TextError("bad IPv6 address %r" % s)
    out = bytearray()
    for g in groups:
        if not 1 <= len(g) <= 4:
            raise TextError("bad IPv6 address %r" % s)
        try:
            v = int(g, 16)
        except ValueError:
            raise TextError("bad IPv6 address %r" % s)
        if g[0] in "+-":
            raise TextError("bad IPv6 address %r" % s)
        out.append(v >> 8)
        out.append(v & 0xFF)
    if tail:
        out[12:16] = tail
    return bytes(out)


def ipv6_to_text(b):
    """RFC 5952 style as dnspython prints it (longest zero run, first wins; ::a.b.c.d forms)."""
    chunks = ["%x" % ((b[i] << 8) | b[i + 1]) for i in range(0, 16, 2)]
    best_start = best_len = 0
    i = 0
    while i < 8:
        if chunks[i] == "0":
            j = i
            while j < 8 and chunks[j] == "0":
                j += 1
            if j - i > best_len:
                best_start, best_len = i, j - i
            i = j
        else:
            i += 1
    if best_len > 1:
        if best_start == 0 and (best_len == 6 or (best_len == 5 and chunks[5] == "ffff")):
            prefix = "::" if best_len == 6 else "::ffff:"
            return prefix + ipv4_to_text(b[12:])
        return ":".join(chunks[:best_start]) + "::" + ":".join(chunks[best_start + best_len :])
    return ":".join(chunks)


class A(B.Rdata):
    rtype = RT.A
    checked = False  # decode() passes only values the constructor accepts

    def __init__(self, address):
        if len(address) != 4:
            raise ValueError("A address must be 4 bytes")
        self.address = bytes(address)

    def to_wire(self):
        return self.address

    def to_text(self):
        return ipv4_to_text(self.address)

    @classmethod
    def from_tokens(cls, tk, origin):
        return cls(ipv4_from_text(tk.word("address")))

    @classmethod
    def decode(cls, rtype, buf, off, end):
        if end - off != 4:
            raise B.WireError(off, "A rdata must be 4 bytes")
        return cls(buf[off:end])


class AAAA(A):
    rtype = RT.AAAA

    def __init__(self, address):
        if len(address) != 16:
            raise ValueError("AAAA address must be 16 bytes")
        self.address = bytes(address)

    def to_text(self):
        return ipv6_to_text(self.address)

    @classmethod
    def from_tokens(cls, tk, origin):
        return cls(ipv6_from_text(tk.word("address")))

    @classmethod
    def decode(cls, rtype, buf, off, end):
        if end - off != 16:
            raise B.WireError(off, "AAAA rdata must be 16 bytes")
        return cls(buf[off:end])


# --- one name ----------------------------------------------------------------------------------


class _OneName(B.Rdata):
    checked = False  # decode() passes only values the constructor accepts
    compress = True  # RFC 1035 types: the name may be compressed on encode

    def __init__(self, target):
        self.target = target

    def to_wire(self):
        return self.target.wire

    def to_canonical(self):
        return self.target.lc

    def encode(self, out, comp):
        B.write_name(out, self.target, comp if self.compress else None)

    def names(self):
        return (self.target,)

    def to_text(self):
        return self.target.to_text()

    @classmethod
    def from_tokens(cls, tk, origin):
        return cls(B.name_from_token(tk, origin, "target name"))

    @classmethod
    def decode(cls, rtype, buf, off, end):
        return cls(name_exact(buf, off, end))


class NS(_OneName):
    rtype = RT.NS


class CNAME(_OneName):
    rtype = RT.CNAME


class PTR(_OneName):
    rtype = RT.PTR


class DNAME(_OneName):
    rtype = RT.DNAME
    compress = False  # RFC 6672 2.5


class MX(B.Rdata):
    rtype = RT.MX
    checked = False  # decode() passes only values the constructor accepts

    def __init__(self, preference, exchange):
        self.preference = B.check_uint(preference, 16, "MX preference")
        self.exchange = exchange

    def to_wire(self):
        return struct.pack("!H", self.preference) + self.exchange.wire

    def to_canonical(self):
        return struct.pack("!H", self.preference) + self.exchange.lc

    def encode(self, out, comp):
        out += struct.pack("!H", self.preference)
        B.write_name(out, self.exchange, comp)

    def names(self):
        return (self.exchange,)

    def to_text(self):
        return "%d %s" % (self.preference, self.exchange.to_text())

    @classmethod
    def from_tokens(cls, tk, origin):
        p = tk.uint("preference", 65535)
        return cls(p, B.name_from_token(tk, origin, "exchange"))

    @classmethod
    def decode(cls, rtype, buf, off, end):
        # the name first: it checks that the 2 preference bytes lie inside the rdata
        n = name_exact(buf, off + 2, end)
        return cls((buf[off] << 8) | buf[off + 1], n)


class SOA(B.Rdata):
    rtype = RT.SOA
    checked = False  # decode() passes only values the constructor accepts

    def __init__(self, mname, rname, serial, refresh, retry, expire, minimum):
        self.mname = mname
        self.rname = rname
        self.serial = B.check_uint(serial, 32, "serial")
        self.refresh = B.check_uint(refresh, 32, "refresh")
        self.retry = B.check_uint(retry, 32, "retry")
        self.expire = B.check_uint(expire, 32, "expire")
        self.minimum = B.check_uint(minimum, 32, "minimum")

    def _nums(self):
        return struct.pack(
            "!IIIII", self.serial, self.refresh, self.retry, self.expire, self.minimum
        )

    def to_wire(self):
        return self.mname.wire + self.rname.wire + self._nums()

    def to_canonical(self):
        return self.mname.lc + self.rname.lc + self._nums()

    def encode(self, out, comp):
        B.write_name(out, self.mname, comp)
        B.write_name(out, self.rname, comp)
        out += self._nums()

    def names(self):
        return (self.mname, self.rname)

    def to_text(self):
        return "%s %s %d %d %d %d %d" % (
            self.mname.to_text(),
            self.rname.to_text(),
            self.serial,
            self.refresh,
            self.retry,
            self.expire,
            self.minimum,
        )

    @classmethod
    def from_tokens(cls, tk, origin):
        m = B.name_from_token(tk, origin, "mname")
        r = B.name_from_token(tk, origin, "rname")
        nums = [ttl_from_text(tk.word(w)) for w in ("serial", "refresh", "retry", "expire")]
        nums.append(ttl_from_text(tk.word("minimum")))
        return cls(m, r, nums[0], nums[1], nums[2], nums[3], nums[4])

    @classmethod
    def decode(cls, rtype, buf, off, end):
        # built field by field: a 7-argument call and a 5-tuple cost heap blocks on MicroPython
        s = object.__new__(cls)
        s.mname, off = name_at(buf, off, end)
        s.rname, off = name_at(buf, off, end)
        if off + 20 != end:
            raise B.WireError(off, "SOA rdata: 20 bytes of numbers must follow the names")
        s.serial = u32(buf, off, end)
        s.refresh = u32(buf, off + 4, end)
        s.retry = u32(buf, off + 8, end)
        s.expire = u32(buf, off + 12, end)
        s.minimum = u32(buf, off + 16, end)
        return s


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def ttl_from_text(t):
    """A 32-bit number, or BIND's unit form (1h30m, 2w) as dnspython accepts."""
    if t.isdigit():
        v = int(t)
    else:
        v = 0
        cur = ""
        for ch in t.lower():
            if ch.isdigit():
                cur += ch
            elif ch in _UNITS and cur:
                v += int(cur) * _UNITS[ch]
                cur = ""
            else:
                raise TextError("bad number or TTL %r" % t)
        if cur:
            raise TextError("bad TTL %r (digits after the last unit)" % t)
    if v > 0xFFFFFFFF:
        raise TextError("number %r over 32 bits" % t)
    return v


class TXT(B.Rdata):
    rtype = RT.TXT
    checked = False  # decode() refuses the empty rdata itself

    def __init__(self, strings):
        self.strings = tuple(bytes(s) for s in strings)
        if not self.strings:
            raise ValueError("TXT needs at least one string (RFC 1035 3.3.14)")
        for s in self.strings:
            if len(s) > 255:
                raise ValueError("TXT string longer than 255 octets")

    def to_wire(self):
        out = bytearray()
        for s in self.strings:
            out.append(len(s))
            out += s
        return bytes(out)

    def to_text(self):
        return " ".join([T.quote(s) for s in self.strings])

    @classmethod
    def from_tokens(cls, tk, origin):
        out = []
        while tk.more():
            out.append(T.string_from_text(tk.word("string")))
        if not out:
            raise TextError("TXT needs at least one string")
        return cls(out)

    @classmethod
    def decode(cls, rtype, buf, off, end):
        if off == end:
            raise B.WireError(off, "TXT needs at least one string (RFC 1035 3.3.14)")
        out = []
        while off < end:
            s, off = string_at(buf, off, end)
            out.append(s)
        s = object.__new__(cls)  # the strings are bytes of at most 255 octets already
        s.strings = tuple(out)
        return s


class SRV(B.Rdata):
    rtype = RT.SRV
    checked = False  # decode() passes only values the constructor accepts

    def __init__(self, priority, weight, port, target):
        self.priority = B.check_uint(priority, 16, "priority")
        self.weight = B.check_uint(weight, 16, "weight")
        self.port = B.check_uint(port, 16, "port")
        self.target = target

    def _head(self):
        return struct.pack("!HHH", self.priority, self.weight, self.port)

    def to_wire(self):
        return self._head() + self.target.wire

    def to_canonical(self):
        return self._head() + self.target.lc

    def names(self):
        return (self.target,)

    def to_text(self):
        return "%d %d %d %s" % (self.priority, self.weight, self.port, self.target.to_text())

    @classmethod
    def from_tokens(cls, tk, origin):
        p = tk.uint("priority", 65535)
        w = tk.uint("weight", 65535)
        port = tk.uint("port", 65535)
        return cls(p, w, port, B.name_from_token(tk, origin, "target"))

    @classmethod
    def decode(cls, rtype, buf, off, end):
        s = object.__new__(cls)  # see SOA.decode
        s.target = name_exact(buf, off + 6, end)  # also checks the 6 bytes before it
        s.priority = (buf[off] << 8) | buf[off + 1]
        s.weight = (buf[off + 2] << 8) | buf[off + 3]
        s.port = (buf[off + 4] << 8) | buf[off + 5]
        return s


class NAPTR(B.Rdata):
    rtype = RT.NAPTR

    def __init__(self, order, preference, flags, services, regexp, replacement):
        self.order = B.check_uint(order, 16, "order")
        self.preference = B.check_uint(preference, 16, "preference")
        self.flags = bytes(flags)
        self.services = bytes(services)
        self.regexp = bytes(regexp)
        for s in (self.flags, self.services, self.regexp):
            if len(s) > 255:
                raise ValueError("NAPTR string longer than 255 octets")
        self.replacement = replacement

    def _head(self):
        out = bytearray(struct.pack("!HH", self.order, self.preference))
        for s in (self.flags, self.services, self.regexp):
            out.append(len(s))
            out += s
        return bytes(out)

    def to_wire(self):
        return self._head() + self.replacement.wire

    def to_canonical(self):
        return self._head() + self.replacement.lc

    def names(self):
        return (self.replacement,)

    def to_text(self):
        return "%d %d %s %s %s %s" % (
            self.order,
            self.preference,
            T.quote(self.flags),
            T.quote(self.services),
            T.quote(self.regexp),
            self.replacement.to_text(),
        )

    @classmethod
    def from_tokens(cls, tk, origin):
        o = tk.uint("order", 65535)
        p = tk.uint("preference", 65535)
        f = T.string_from_text(tk.word("flags"))
        s = T.string_from_text(tk.word("services"))
        r = T.string_from_text(tk.word("regexp"))
        return cls(o, p, f, s, r, B.name_from_token(tk, origin, "replacement"))

    @classmethod
    def decode(cls, rtype, buf, off, end):
        B.need(buf, off, 4, end)
        o, p = struct.unpack_from("!HH", buf, off)
        f, off = B.string_at(buf, off + 4, end)
        s, off = B.string_at(buf, off, end)
        r, off = B.string_at(buf, off, end)
        n, off = B.name_at(buf, off, end)
        B.done(off, end)
        return cls(o, p, f, s, r, n)


class CAA(B.Rdata):
    rtype = RT.CAA

    def __init__(self, flags, tag, value):
        self.flags = B.check_uint(flags, 8, "CAA flags")
        self.tag = bytes(tag)
        if not 1 <= len(self.tag) <= 15 or not _alnum(self.tag):
            raise ValueError("CAA tag must be 1..15 letters or digits")
        self.value = bytes(value)

    def to_wire(self):
        return bytes((self.flags, len(self.tag))) + self.tag + self.value

    def to_text(self):
        return "%d %s %s" % (self.flags, self.tag.decode(), T.quote(self.value))

    @classmethod
    def from_tokens(cls, tk, origin):
        f = tk.uint("flags", 255)
        tag = tk.word("tag").encode()
        if not 1 <= len(tag) <= 15 or not _alnum(tag):
            raise TextError("CAA tag must be 1..15 letters or digits")
        v = T.unescape(tk.word("value"))
        tk.end()
        return cls(f, tag, v)

    @classmethod
    def decode(cls, rtype, buf, off, end):
        B.need(buf, off, 2, end)
        f = buf[off]
        ln = buf[off + 1]
        B.need(buf, off + 2, ln, end)
        tag = buf[off + 2 : off + 2 + ln]
        if not 1 <= ln <= 15 or not _alnum(tag):
            raise B.WireError(off + 1, "CAA tag must be 1..15 letters or digits")
        return cls(f, tag, buf[off + 2 + ln : end])


def _alnum(b):
    for c in b:
        if not (0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A):
            return False
    return True


class _HexTail(B.Rdata):
    # fixed small integer fields followed by opaque data printed as hex
    fields = ()
    _lengths = {}  # data length required by the last field's value

    def __init__(self, *args):
        n = len(self.fields)
        if len(args) != n + 1:
            raise TypeError("%s takes %d arguments" % (self.__class__.__name__, n + 1))
        for i in range(n):
            setattr(self, self.fields[i], B.check_uint(args[i], 8, self.fields[i]))
        self.data = bytes(args[n])
        ln = self._lengths.get(args[n - 1])
        if ln is not None and len(self.data) != ln:
            raise ValueError("data length %d wrong for its digest type" % len(self.data))

    def to_wire(self):
        return bytes([getattr(self, f) for f in self.fields]) + self.data

    def to_text(self):
        if not self.data:  # "-" is not a form BIND or dnspython read
            return B.generic_text(self)
        head = " ".join(["%d" % getattr(self, f) for f in self.fields])
        return head + " " + T.hex_to_text(self.data)

    @classmethod
    def from_tokens(cls, tk, origin):
        args = [tk.uint(f, 255) for f in cls.fields]
        words = tk.rest()
        if words == ["-"]:
            words = []
        args.append(T.hex_from_text(words, "data"))
        return cls(*args)

    @classmethod
    def decode(cls, rtype, buf, off, end):
        n = len(cls.fields)
        B.need(buf, off, n, end)
        args = [buf[off + i] for i in range(n)]
        args.append(buf[off + n : end])
        return cls(*args)


class SSHFP(_HexTail):
    rtype = RT.SSHFP
    fields = ("algorithm", "fp_type")
    _lengths = {1: 20, 2: 32}  # SHA-1 (RFC 4255), SHA-256 (RFC 6594)


class TLSA(_HexTail):
    rtype = RT.TLSA
    fields = ("usage", "selector", "mtype")
    _lengths = {1: 32, 2: 64}  # SHA-256, SHA-512 (RFC 6698 2.1.3)
