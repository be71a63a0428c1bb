"""Meta record types: OPT (RFC 6891), TSIG (RFC 8945) and TKEY (RFC 2930). A decoded message
keeps OPT and TSIG out of the sections (Message.edns, Message.tsig); these classes give them
rdata form anyway."""

import struct

from dnsbox.wire import edns as E
from dnsbox.wire import rcode as RC
from dnsbox.wire import rdbase as B
from dnsbox.wire import text as T
from dnsbox.wire import types as RT
from dnsbox.wire.errors import TextError, WireError


class OPT(B.Rdata):
    rtype = RT.OPT

    def __init__(self, options):
        self.options = list(options)

    def to_wire(self):
        return E.options_to_wire(self.options)

    def to_text(self):
        return " ".join([o.to_text() for o in self.options])

    @classmethod
    def from_tokens(cls, tk, origin):
        raise TextError("OPT has no presentation form (use \\# generic form)")

    @classmethod
    def decode(cls, rtype, buf, off, end):
        return cls(E.from_opt(0, 0, buf, off, end).options)


class TSIG(B.Rdata):
    rtype = RT.TSIG

    def __init__(self, algorithm, time_signed, fudge, mac, original_id, error, other):
        self.algorithm = algorithm
        if not 0 <= time_signed < (1 << 48):
            raise ValueError("time signed not a uint48")
        self.time_signed = time_signed
        self.fudge = B.check_uint(fudge, 16, "fudge")
        self.mac = bytes(mac)
        self.original_id = B.check_uint(original_id, 16, "original id")
        self.error = B.check_uint(error, 16, "error")
        self.other = bytes(other)
        if len(self.mac) > 65535 or len(self.other) > 65535:
            raise ValueError("TSIG mac/other longer than 65535 bytes")

    def to_wire(self):
        t = self.time_signed
        return (
            self.algorithm.wire
            + struct.pack("!HIHH", t >> 32, t & 0xFFFFFFFF, self.fudge, len(self.mac))
            + self.mac
            + struct.pack("!HHH", self.original_id, self.error, len(self.other))
            + self.other
        )

    def to_canonical(self):
        return self.algorithm.lc + self.to_wire()[len(self.algorithm.wire) :]

    def to_text(self):
        mac = T.b64_to_text(self.mac, 1 << 30) if self.mac else '""'
        t = "%s %d %d %d %s %d %s %d" % (
            self.algorithm.to_text(),
            self.time_signed,
            self.fudge,
            len(self.mac),
            mac,
            self.original_id,
            RC.to_text(self.error, True),
            len(self.other),
        )
        if self.other:
            t += " " + T.b64_to_text(self.other, 1 << 30)
        return t

    @classmethod
    def from_tokens(cls, tk, origin):
        alg = B.name_from_token(tk, origin, "algorithm")
        ts = tk.uint("time signed", (1 << 48) - 1)
        fudge = tk.uint("fudge", 65535)
        ml = tk.uint("MAC size", 65535)
        w = tk.word("MAC")
        mac = b"" if w == "" else T.b64_from_text([w], "MAC")
        if len(mac) != ml:
            raise TextError("TSIG MAC size %d but %d bytes" % (ml, len(mac)))
        oid = tk.uint("original id", 65535)
        ew = tk.word("error")
        try:
            err = int(ew) if ew.isdigit() and int(ew) <= 0xFFFF else RC.from_text(ew)
        except ValueError:
            raise TextError("bad TSIG error %r" % ew)
        ol = tk.uint("other length", 65535)
        other = T.b64_from_text(tk.rest(), "other data") if ol else b""
        if len(other) != ol:
            raise TextError("TSIG other length %d but %d bytes" % (ol, len(other)))
        return cls(alg, ts, fudge, mac, oid, err, other)

    @classmethod
    def decode(cls, rtype, buf, off, end):
        alg, o = B.name_at(buf, off, end)
        B.need(buf, o, 10, end)
        hi, lo, fudge, ml = struct.unpack_from("!HIHH", buf, o)
        o += 10
        B.need(buf, o, ml + 6, end)
        mac = buf[o : o + ml]
        o += ml
        oid, err, ol = struct.unpack_from("!HHH", buf, o)
        o += 6
        B.need(buf, o, ol, end)
        other = buf[o : o + ol]
        if o + ol != end:
            raise WireError(o + ol, "TSIG rdata longer than its fields")
        return cls(alg, (hi << 32) | lo, fudge, mac, oid, err, other)


class TKEY(B.Rdata):
    """RFC 2930 2; text as dnspython writes it: algorithm inception expiration mode error
    key [other], times and error as numbers, key and other in base64 ('""' for no key)."""

    rtype = RT.TKEY

    def __init__(self, algorithm, inception, expiration, mode, error, key, other=b""):
        self.algorithm = algorithm
        self.inception = B.check_uint(inception, 32, "inception")
        self.expiration = B.check_uint(expiration, 32, "expiration")
        self.mode = B.check_uint(mode, 16, "mode")
        self.error = B.check_uint(error, 16, "error")
        self.key = bytes(key)
        self.other = bytes(other)
        if len(self.key) > 65535 or len(self.other) > 65535:
            raise ValueError("TKEY key/other longer than 65535 bytes")

    def to_wire(self):
        return (
            self.algorithm.wire
            + struct.pack(
                "!IIHHH", self.inception, self.expiration, self.mode, self.error, len(self.key)
            )
            + self.key
            + struct.pack("!H", len(self.other))
            + self.other
        )

    def names(self):
        return (self.algorithm,)

    def to_text(self):
        t = "%s %d %d %d %d %s" % (
            self.algorithm.to_text(),
            self.inception,
            self.expiration,
            self.mode,
            self.error,
            T.b64_to_text(self.key, 1 << 30) if self.key else '""',
        )
        return t + " " + T.b64_to_text(self.other, 1 << 30) if self.other else t

    @classmethod
    def from_tokens(cls, tk, origin):
        alg = B.name_from_token(tk, origin, "algorithm")
        inc = tk.uint("inception", 0xFFFFFFFF)
        exp = tk.uint("expiration", 0xFFFFFFFF)
        mode = tk.uint("mode", 65535)
        err = tk.uint("error", 65535)
        key = T.b64_from_text([tk.word("key")], "key")
        return cls(alg, inc, exp, mode, err, key, T.b64_from_text(tk.rest(), "other data"))

    @classmethod
    def decode(cls, rtype, buf, off, end):
        alg, o = B.name_at(buf, off, end)
        B.need(buf, o, 16, end)
        inc, exp, mode, err, kl = struct.unpack_from("!IIHHH", buf, o)
        o += 14
        B.need(buf, o, kl + 2, end)
        key = buf[o : o + kl]
        o += kl
        ol = (buf[o] << 8) | buf[o + 1]
        B.need(buf, o + 2, ol, end)
        B.done(o + 2 + ol, end)
        return cls(alg, inc, exp, mode, err, key, buf[o + 2 : o + 2 + ol])
