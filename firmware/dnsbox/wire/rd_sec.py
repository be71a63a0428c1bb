"""DNSSEC record types (RFC 4034, RFC 5155, RFC 7344): DS, CDS, DNSKEY, CDNSKEY, RRSIG, NSEC,
NSEC3, NSEC3PARAM. No name in these rdata is ever compressed (RFC 3597 4, RFC 4034)."""

import struct

from dnsbox.wire import rdbase as B
from dnsbox.wire import text as T
from dnsbox.wire import types as RT
from dnsbox.wire.errors import TextError, WireError

# DNSSEC algorithm mnemonics accepted in text (RFC 8624 list, and the spellings BIND and
# dnspython use for 4, 6, 7 and 12; output is always the number)
ALGORITHMS = {
    "RSAMD5": 1,
    "DH": 2,
    "DSA": 3,
    "ECC": 4,
    "RSASHA1": 5,
    "DSA-NSEC3-SHA1": 6,
    "NSEC3DSA": 6,
    "DSANSEC3SHA1": 6,
    "RSASHA1-NSEC3-SHA1": 7,
    "NSEC3RSASHA1": 7,
    "RSASHA1NSEC3SHA1": 7,
    "RSASHA256": 8,
    "RSASHA512": 10,
    "ECC-GOST": 12,
    "ECCGOST": 12,
    "ECDSAP256SHA256": 13,
    "ECDSAP384SHA384": 14,
    "ED25519": 15,
    "ED448": 16,
    "INDIRECT": 252,
    "PRIVATEDNS": 253,
    "PRIVATEOID": 254,
}


def alg_from_tokens(tk):
    t = tk.word("algorithm")
    v = ALGORITHMS.get(t.upper())
    if v is not None:
        return v
    if not t.isdigit() or int(t) > 255:
        raise TextError("bad algorithm %r" % t)
    return int(t)


class DS(B.Rdata):
    rtype = RT.DS
    # digest lengths by digest type: SHA-1 (RFC 3658), SHA-256 (RFC 4509), GOST (RFC 5933),
    # SHA-384 (RFC 6605)
    _lengths = {1: 20, 2: 32, 3: 32, 4: 48}

    def __init__(self, key_tag, algorithm, digest_type, digest):
        self.key_tag = B.check_uint(key_tag, 16, "key tag")
        self.algorithm = B.check_uint(algorithm, 8, "algorithm")
        self.digest_type = B.check_uint(digest_type, 8, "digest type")
        self.digest = bytes(digest)
        ln = self._lengths.get(self.digest_type)
        if self.digest_type == 0 and ln is None:
            raise ValueError("digest type 0 is reserved")
        if ln is not None and len(self.digest) != ln:
            raise ValueError(
                "digest length %d wrong for digest type %d" % (len(self.digest), digest_type)
            )

    def to_wire(self):
        return struct.pack("!HBB", self.key_tag, self.algorithm, self.digest_type) + self.digest

    def to_text(self):
        if not self.digest:
            return B.generic_text(self)
        return "%d %d %d %s" % (
            self.key_tag,
            self.algorithm,
            self.digest_type,
            T.hex_to_text(self.digest),
        )

    @classmethod
    def from_tokens(cls, tk, origin):
        kt = tk.uint("key tag", 65535)
        a = alg_from_tokens(tk)
        dt = tk.uint("digest type", 255)
        return cls(kt, a, dt, T.hex_from_text(tk.rest(), "digest"))

    @classmethod
    def decode(cls, rtype, buf, off, end):
        B.need(buf, off, 4, end)
        kt, a, dt = struct.unpack_from("!HBB", buf, off)
        return cls(kt, a, dt, buf[off + 4 : end])


class CDS(DS):
    rtype = RT.CDS
    _lengths = {0: 1, 1: 20, 2: 32, 3: 32, 4: 48}  # 0: delete (RFC 8078 4)


class DNSKEY(B.Rdata):
    rtype = RT.DNSKEY

    def __init__(self, flags, protocol, algorithm, key):
        self.flags = B.check_uint(flags, 16, "flags")
        self.protocol = B.check_uint(protocol, 8, "protocol")
        self.algorithm = B.check_uint(algorithm, 8, "algorithm")
        self.key = bytes(key)

    def to_wire(self):
        return struct.pack("!HBB", self.flags, self.protocol, self.algorithm) + self.key

    def to_text(self):
        if not self.key:
            return B.generic_text(self)
        return "%d %d %d %s" % (self.flags, self.protocol, self.algorithm, T.b64_to_text(self.key))

    @classmethod
    def from_tokens(cls, tk, origin):
        f = tk.uint("flags", 65535)
        p = tk.uint("protocol", 255)
        a = alg_from_tokens(tk)
        return cls(f, p, a, T.b64_from_text(tk.rest(), "key"))

    @classmethod
    def decode(cls, rtype, buf, off, end):
        B.need(buf, off, 4, end)
        f, p, a = struct.unpack_from("!HBB", buf, off)
        return cls(f, p, a, buf[off + 4 : end])

    def key_tag(self):
        """RFC 4034 appendix B (algorithm 1 not special-cased: it is deprecated)."""
        w = self.to_wire()
        acc = 0
        for i in range(len(w)):
            acc += w[i] << 8 if not i & 1 else w[i]
        acc += (acc >> 16) & 0xFFFF
        return acc & 0xFFFF


class CDNSKEY(DNSKEY):
    rtype = RT.CDNSKEY


# --- time stamps (RFC 4034 3.2: YYYYMMDDHHmmSS in UTC, or a plain number) ----------------------


def days_from_civil(y, m, d):
    """Days from 1970-01-01 to the civil date (proleptic Gregorian)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z):
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return y + (m <= 2), m, d


def sigtime_to_text(t):
    days = t // 86400
    s = t - days * 86400
    y, m, d = _civil_from_days(days)
    return "%04d%02d%02d%02d%02d%02d" % (y, m, d, s // 3600, (s // 60) % 60, s % 60)


def sigtime_from_text(w):
    if not w.isdigit():
        raise TextError("bad signature time %r" % w)
    if len(w) <= 10:
        v = int(w)
    elif len(w) == 14:
        y, mo, d = int(w[0:4]), int(w[4:6]), int(w[6:8])
        h, mi, s = int(w[8:10]), int(w[10:12]), int(w[12:14])
        if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 60):
            raise TextError("bad signature time %r" % w)
        v = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
        if _civil_from_days(v // 86400) != (y, mo, d):
            raise TextError("bad signature date %r" % w)
    else:
        raise TextError("bad signature time %r" % w)
    if v < 0 or v > 0xFFFFFFFF:
        raise TextError("signature time %r out of range" % w)
    return v


class RRSIG(B.Rdata):
    rtype = RT.RRSIG

    def __init__(
        self,
        type_covered,
        algorithm,
        labels,
        original_ttl,
        expiration,
        inception,
        key_tag,
        signer,
        signature,
    ):
        self.type_covered = B.check_uint(type_covered, 16, "type covered")
        self.algorithm = B.check_uint(algorithm, 8, "algorithm")
        self.labels = B.check_uint(labels, 8, "labels")
        self.original_ttl = B.check_uint(original_ttl, 32, "original TTL")
        self.expiration = B.check_uint(expiration, 32, "expiration")
        self.inception = B.check_uint(inception, 32, "inception")
        self.key_tag = B.check_uint(key_tag, 16, "key tag")
        self.signer = signer
        self.signature = bytes(signature)

    def _head(self):
        return struct.pack(
            "!HBBIIIH",
            self.type_covered,
            self.algorithm,
            self.labels,
            self.original_ttl,
            self.expiration,
            self.inception,
            self.key_tag,
        )

    def to_wire(self):
        return self._head() + self.signer.wire + self.signature

    def to_canonical(self):
        return self._head() + self.signer.lc + self.signature

    def names(self):
        return (self.signer,)

    def to_text(self):
        if not self.signature:
            return B.generic_text(self)
        return "%s %d %d %d %s %s %d %s %s" % (
            RT.type_to_text(self.type_covered),
            self.algorithm,
            self.labels,
            self.original_ttl,
            sigtime_to_text(self.expiration),
            sigtime_to_text(self.inception),
            self.key_tag,
            self.signer.to_text(),
            T.b64_to_text(self.signature),
        )

    @classmethod
    def from_tokens(cls, tk, origin):
        tc = RT.type_from_text(tk.word("type covered"))
        a = alg_from_tokens(tk)
        lab = tk.uint("labels", 255)
        ttl = tk.uint("original TTL", 0xFFFFFFFF)
        exp = sigtime_from_text(tk.word("expiration"))
        inc = sigtime_from_text(tk.word("inception"))
        kt = tk.uint("key tag", 65535)
        signer = B.name_from_token(tk, origin, "signer")
        sig = T.b64_from_text(tk.rest(), "signature")
        return cls(tc, a, lab, ttl, exp, inc, kt, signer, sig)

    @classmethod
    def decode(cls, rtype, buf, off, end):
        B.need(buf, off, 18, end)
        v = struct.unpack_from("!HBBIIIH", buf, off)
        signer, o = B.name_at(buf, off + 18, end)
        return cls(v[0], v[1], v[2], v[3], v[4], v[5], v[6], signer, buf[o:end])


# --- type bitmaps (RFC 4034 4.1.2) ---------------------------------------------------------------


def bitmap_to_wire(rtypes):
    """Window blocks for a collection of type numbers."""
    out = bytearray()
    ts = sorted(set(rtypes))
    i = 0
    while i < len(ts):
        win = ts[i] >> 8
        bits = bytearray(32)
        top = 0
        while i < len(ts) and ts[i] >> 8 == win:
            lo = ts[i] & 0xFF
            bits[lo >> 3] |= 0x80 >> (lo & 7)
            top = lo >> 3
            i += 1
        out.append(win)
        out.append(top + 1)
        out += bits[: top + 1]
    return bytes(out)


def bitmap_decode(buf, off, end):
    """Type numbers of the window blocks at buf[off:end] (strict: increasing windows,
    lengths 1..32, no trailing zero octet)."""
    out = []
    last = -1
    while off < end:
        B.need(buf, off, 2, end)
        win = buf[off]
        ln = buf[off + 1]
        if win <= last:
            raise WireError(off, "type bitmap windows not in increasing order")
        if not 1 <= ln <= 32:
            raise WireError(off + 1, "type bitmap length %d not in 1..32" % ln)
        B.need(buf, off + 2, ln, end)
        if buf[off + 1 + ln] == 0:
            raise WireError(off + 1 + ln, "type bitmap ends in a zero octet")
        for j in range(ln):
            c = buf[off + 2 + j]
            if c:
                for k in range(8):
                    if c & (0x80 >> k):
                        out.append((win << 8) | (j << 3) | k)
        last = win
        off += 2 + ln
    return tuple(out)


def bitmap_to_text(rtypes):
    return "".join([" " + RT.type_to_text(t) for t in rtypes])


def bitmap_from_tokens(tk):
    # TYPE0 is accepted (dnspython refuses it) so that whatever decodes prints and parses back
    return tuple(sorted(set([RT.type_from_text(w) for w in tk.rest()])))


class NSEC(B.Rdata):
    rtype = RT.NSEC

    def __init__(self, next_name, rtypes):
        self.next = next_name
        self.types = tuple(sorted(set(rtypes)))
        for t in self.types:
            B.check_uint(t, 16, "type")

    def to_wire(self):
        # RFC 6840 5.1: the next name is not lowercased in canonical form
        return self.next.wire + bitmap_to_wire(self.types)

    def names(self):
        return (self.next,)

    def to_text(self):
        return self.next.to_text() + bitmap_to_text(self.types)

    @classmethod
    def from_tokens(cls, tk, origin):
        n = B.name_from_token(tk, origin, "next name")
        return cls(n, bitmap_from_tokens(tk))

    @classmethod
    def decode(cls, rtype, buf, off, end):
        n, o = B.name_at(buf, off, end)
        return cls(n, bitmap_decode(buf, o, end))


class NSEC3PARAM(B.Rdata):
    rtype = RT.NSEC3PARAM

    def __init__(self, algorithm, flags, iterations, salt):
        self.algorithm = B.check_uint(algorithm, 8, "algorithm")
        self.flags = B.check_uint(flags, 8, "flags")
        self.iterations = B.check_uint(iterations, 16, "iterations")
        self.salt = bytes(salt)
        if len(self.salt) > 255:
            raise ValueError("salt longer than 255 octets")

    def _head(self):
        return struct.pack("!BBHB", self.algorithm, self.flags, self.iterations, len(self.salt))

    def to_wire(self):
        return self._head() + self.salt

    def _salt_text(self):
        return T.hex_to_text(self.salt, 1 << 30) if self.salt else "-"

    def to_text(self):
        return "%d %d %d %s" % (self.algorithm, self.flags, self.iterations, self._salt_text())

    @classmethod
    def _head_from_tokens(cls, tk):
        a = tk.uint("algorithm", 255)
        f = tk.uint("flags", 255)
        it = tk.uint("iterations", 65535)
        s = tk.word("salt")
        salt = b"" if s == "-" else T.hex_from_text([s], "salt")
        if len(salt) > 255:
            raise TextError("salt longer than 255 octets")
        return a, f, it, salt

    @classmethod
    def from_tokens(cls, tk, origin):
        a, f, it, salt = cls._head_from_tokens(tk)
        tk.end()
        return cls(a, f, it, salt)

    @classmethod
    def _head_decode(cls, buf, off, end):
        B.need(buf, off, 5, end)
        a, f, it, sl = struct.unpack_from("!BBHB", buf, off)
        B.need(buf, off + 5, sl, end)
        return a, f, it, buf[off + 5 : off + 5 + sl], off + 5 + sl

    @classmethod
    def decode(cls, rtype, buf, off, end):
        a, f, it, salt, o = cls._head_decode(buf, off, end)
        B.done(o, end)
        return cls(a, f, it, salt)


class NSEC3(NSEC3PARAM):
    rtype = RT.NSEC3

    def __init__(self, algorithm, flags, iterations, salt, next_hash, rtypes):
        NSEC3PARAM.__init__(self, algorithm, flags, iterations, salt)
        self.next = bytes(next_hash)
        if not 1 <= len(self.next) <= 255:
            raise ValueError("NSEC3 next hash length not in 1..255")
        self.types = tuple(sorted(set(rtypes)))

    def to_wire(self):
        return (
            self._head()
            + self.salt
            + bytes((len(self.next),))
            + self.next
            + bitmap_to_wire(self.types)
        )

    def to_text(self):
        return "%s %s%s" % (
            NSEC3PARAM.to_text(self),
            T.b32hex_to_text(self.next),
            bitmap_to_text(self.types),
        )

    @classmethod
    def from_tokens(cls, tk, origin):
        a, f, it, salt = cls._head_from_tokens(tk)
        nxt = T.b32hex_from_text(tk.word("next hashed owner"), "next hashed owner")
        if not nxt:
            raise TextError("empty next hashed owner")
        return cls(a, f, it, salt, nxt, bitmap_from_tokens(tk))

    @classmethod
    def decode(cls, rtype, buf, off, end):
        a, f, it, salt, o = cls._head_decode(buf, off, end)
        hl = B.u8(buf, o, end)
        if hl == 0:
            raise WireError(o, "NSEC3 hash length 0")
        B.need(buf, o + 1, hl, end)
        nxt = buf[o + 1 : o + 1 + hl]
        return cls(a, f, it, salt, nxt, bitmap_decode(buf, o + 1 + hl, end))
