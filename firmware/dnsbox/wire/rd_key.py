"""Keys, certificates and their kin: KEY and SIG (RFC 2535, RFC 2931), DLV (RFC 4431), CERT
(RFC 4398), IPSECKEY (RFC 4025), DHCID (RFC 4701), HIP (RFC 8005), SMIMEA (RFC 8162),
OPENPGPKEY (RFC 7929), AMTRELAY (RFC 8777), HHIT and BRID (RFC 9886)."""

import struct

from dnsbox.wire import name as _name
from dnsbox.wire import rd_sec, rd_std
from dnsbox.wire import rdbase as B
from dnsbox.wire import text as T
from dnsbox.wire import types
from dnsbox.wire.errors import TextError, WireError
from dnsbox.wire.rdfields import Fields

# --- the DNSSEC family's older and side members ----------------------------------------------

# KEY flag mnemonics (RFC 2535 3.1.2, the names BIND and dnspython accept); SIG0..SIG15 too
_KEY_FLAGS = {
    "NOCONF": 0x4000,
    "NOAUTH": 0x8000,
    "NOKEY": 0xC000,
    "FLAG2": 0x2000,
    "EXTEND": 0x1000,
    "FLAG4": 0x0800,
    "FLAG5": 0x0400,
    "USER": 0x0000,
    "ZONE": 0x0100,
    "HOST": 0x0200,
    "NTYP3": 0x0300,
    "FLAG8": 0x0080,
    "FLAG9": 0x0040,
    "FLAG10": 0x0020,
    "FLAG11": 0x0010,
}
_KEY_PROTOCOLS = {"NONE": 0, "TLS": 1, "EMAIL": 2, "DNSSEC": 3, "IPSEC": 4, "ALL": 255}
_NOKEY = 0xC000  # both "no" bits: the rdata carries no key (RFC 2535 3.1.2)


def _key_flags(w):
    if w.isdigit():
        if int(w) > 0xFFFF:
            raise TextError("KEY flags %r over 16 bits" % w)
        return int(w)
    v = 0
    for f in w.upper().split("|"):
        bit = _KEY_FLAGS.get(f)
        if bit is None and f[:3] == "SIG" and f[3:].isdigit() and int(f[3:]) < 16:
            bit = int(f[3:])
        if bit is None:
            raise TextError("unknown KEY flag %r" % f)
        v |= bit
    return v


class KEY(rd_sec.DNSKEY):
    rtype = types.KEY

    def to_text(self):
        nokey = self.flags & _NOKEY == _NOKEY
        if nokey and not self.key:
            return "%d %d %d" % (self.flags, self.protocol, self.algorithm)
        if nokey:  # a key after NOKEY flags: BIND and dnspython would not read it
            return B.generic_text(self)
        return rd_sec.DNSKEY.to_text(self)

    @classmethod
    def from_tokens(cls, tk, origin):
        flags = _key_flags(tk.word("flags"))
        w = tk.word("protocol")
        p = _KEY_PROTOCOLS.get(w.upper())
        if p is None:
            tk.i -= 1
            p = tk.uint("protocol", 255)
        a = rd_sec.alg_from_tokens(tk)
        # NOKEY flags (RFC 2535 3.1.2) come without a key; one read anyway is kept
        return cls(flags, p, a, T.b64_from_text(tk.rest(), "key"))


class SIG(rd_sec.RRSIG):
    rtype = types.SIG


class DLV(rd_sec.DS):
    rtype = types.DLV


class SMIMEA(rd_std.TLSA):
    rtype = types.SMIMEA


# --- base64 blobs, certificates --------------------------------------------------------------


class DHCID(Fields):
    rtype = types.DHCID
    layout = "b"
    attrs = ("digest",)


class OPENPGPKEY(Fields):
    rtype = types.OPENPGPKEY
    layout = "b"
    attrs = ("key",)
    chunk = 0


class HHIT(Fields):
    rtype = types.HHIT
    layout = "b"
    attrs = ("value",)
    chunk = 0


class BRID(HHIT):
    rtype = types.BRID


_CERT_TYPES = {
    "PKIX": 1,
    "SPKI": 2,
    "PGP": 3,
    "IPKIX": 4,
    "ISPKI": 5,
    "IPGP": 6,
    "ACPKIX": 7,
    "IACPKIX": 8,
    "URI": 253,
    "OID": 254,
}  # RFC 4398 2.1


class CERT(Fields):
    rtype = types.CERT
    layout = "HHBb"
    attrs = ("cert_type", "key_tag", "algorithm", "certificate")
    words = {"cert_type": _CERT_TYPES, "algorithm": rd_sec.ALGORITHMS}
    shown = ("cert_type",)  # the algorithm is printed as its number: every parser takes it


# --- gateways (IPSECKEY, RFC 4025 2; AMTRELAY, RFC 8777 4) -----------------------------------

_GW_SIZE = {1: 4, 2: 16}  # address octets of gateway types 1 (IPv4) and 2 (IPv6)


def _gw_check(gt, gw):
    """None if gateway value gw fits gateway type gt (0 none, 1 IPv4, 2 IPv6, 3 a name)."""
    if gt == 0:
        ok = gw is None
    elif gt == 3:
        ok = hasattr(gw, "wire")
    else:
        ok = isinstance(gw, (bytes, bytearray)) and len(gw) == _GW_SIZE.get(gt, -1)
    return None if ok else "gateway does not fit gateway type %d" % gt


def _gw_wire(gt, gw):
    if gt == 0:
        return b""
    return gw.wire if gt == 3 else bytes(gw)


def _gw_text(gt, gw):
    if gt == 0:
        return "."
    if gt == 1:
        return rd_std.ipv4_to_text(gw)
    if gt == 2:
        return rd_std.ipv6_to_text(gw)
    return gw.to_text()


def _gw_from_tokens(gt, tk, origin):
    w = tk.word("gateway")
    if gt == 0:
        if w != ".":
            raise TextError('gateway type 0 takes "." as its gateway')
        return None
    if gt == 1:
        return rd_std.ipv4_from_text(w)
    if gt == 2:
        return rd_std.ipv6_from_text(w)
    if gt == 3:
        return _name.from_text(w, origin)
    raise TextError("unknown gateway type %d" % gt)


def _gw_decode(gt, buf, off, end):
    if gt == 0:
        return None, off
    if gt == 3:
        return B.name_at(buf, off, end)
    ln = _GW_SIZE.get(gt)
    if ln is None:
        raise WireError(off, "unknown gateway type %d" % gt)
    B.need(buf, off, ln, end)
    return buf[off : off + ln], off + ln


class IPSECKEY(B.Rdata):
    rtype = types.IPSECKEY

    def __init__(self, precedence, gateway_type, algorithm, gateway, key):
        self.precedence = B.check_uint(precedence, 8, "precedence")
        self.gateway_type = B.check_uint(gateway_type, 8, "gateway type")
        self.algorithm = B.check_uint(algorithm, 8, "algorithm")
        why = _gw_check(self.gateway_type, gateway)
        if why is not None:
            raise ValueError(why)
        self.gateway = gateway
        self.key = bytes(key)

    def to_wire(self):
        head = bytes((self.precedence, self.gateway_type, self.algorithm))
        return head + _gw_wire(self.gateway_type, self.gateway) + self.key

    def names(self):
        return (self.gateway,) if self.gateway_type == 3 else ()

    def to_text(self):
        if not self.key:  # BIND and dnspython want a key: the RFC 3597 form says it all
            return B.generic_text(self)
        return "%d %d %d %s %s" % (
            self.precedence,
            self.gateway_type,
            self.algorithm,
            _gw_text(self.gateway_type, self.gateway),
            T.b64_to_text(self.key),
        )

    @classmethod
    def from_tokens(cls, tk, origin):
        p = tk.uint("precedence", 255)
        gt = tk.uint("gateway type", 255)
        a = tk.uint("algorithm", 255)
        gw = _gw_from_tokens(gt, tk, origin)
        return cls(p, gt, a, gw, T.b64_from_text(tk.rest(), "key"))

    @classmethod
    def decode(cls, rtype, buf, off, end):
        B.need(buf, off, 3, end)
        gw, o = _gw_decode(buf[off + 1], buf, off + 3, end)
        return cls(buf[off], buf[off + 1], buf[off + 2], gw, buf[o:end])


class AMTRELAY(B.Rdata):
    rtype = types.AMTRELAY

    def __init__(self, precedence, discovery, relay_type, relay):
        self.precedence = B.check_uint(precedence, 8, "precedence")
        self.discovery = bool(discovery)  # the D bit: discovery optional (RFC 8777 4)
        self.relay_type = B.check_uint(relay_type, 7, "relay type")
        why = _gw_check(self.relay_type, relay)
        if why is not None:
            raise ValueError(why)
        self.relay = relay

    def to_wire(self):
        head = bytes((self.precedence, self.relay_type | (0x80 if self.discovery else 0)))
        return head + _gw_wire(self.relay_type, self.relay)

    def names(self):
        return (self.relay,) if self.relay_type == 3 else ()

    def to_text(self):
        return "%d %d %d %s" % (
            self.precedence,
            1 if self.discovery else 0,
            self.relay_type,
            _gw_text(self.relay_type, self.relay),
        )

    @classmethod
    def from_tokens(cls, tk, origin):
        p = tk.uint("precedence", 255)
        d = tk.uint("discovery optional bit", 1)
        rt = tk.uint("relay type", 127)
        return cls(p, d, rt, _gw_from_tokens(rt, tk, origin))

    @classmethod
    def decode(cls, rtype, buf, off, end):
        B.need(buf, off, 2, end)
        rt = buf[off + 1] & 0x7F
        relay, o = _gw_decode(rt, buf, off + 2, end)
        B.done(o, end)
        return cls(buf[off], buf[off + 1] >> 7, rt, relay)


# --- HIP (RFC 8005 5) ------------------------------------------------------------------------


class HIP(B.Rdata):
    rtype = types.HIP

    def __init__(self, hit, algorithm, key, servers=()):
        self.hit = bytes(hit)
        self.algorithm = B.check_uint(algorithm, 8, "algorithm")
        self.key = bytes(key)
        self.servers = tuple(servers)  # rendezvous servers: never compressed (RFC 8005 5)
        if not 0 < len(self.hit) < 256 or not 0 < len(self.key) <= 0xFFFF:
            raise ValueError("HIP needs a HIT of 1..255 octets and a key of 1..65535")

    def to_wire(self):
        out = struct.pack("!BBH", len(self.hit), self.algorithm, len(self.key))
        return out + self.hit + self.key + b"".join([s.wire for s in self.servers])

    def names(self):
        return self.servers

    def to_text(self):
        t = "%d %s %s" % (
            self.algorithm,
            T.hex_to_text(self.hit, 1 << 30),
            T.b64_to_text(self.key, 1 << 30),
        )
        return " ".join([t] + [s.to_text() for s in self.servers])

    @classmethod
    def from_tokens(cls, tk, origin):
        a = tk.uint("algorithm", 255)
        hit = T.hex_from_text([tk.word("HIT")], "HIT")
        key = T.b64_from_text([tk.word("public key")], "public key")
        servers = []
        while tk.more():
            servers.append(B.name_from_token(tk, origin, "rendezvous server"))
        return cls(hit, a, key, servers)

    @classmethod
    def decode(cls, rtype, buf, off, end):
        B.need(buf, off, 4, end)
        hl, a, kl = struct.unpack_from("!BBH", buf, off)
        off += 4
        B.need(buf, off, hl + kl, end)
        hit = buf[off : off + hl]
        key = buf[off + hl : off + hl + kl]
        off += hl + kl
        servers = []
        while off < end:
            s, off = B.name_at(buf, off, end)
            servers.append(s)
        return cls(hit, a, key, servers)
