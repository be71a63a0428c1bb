"""TSIG (RFC 8945) with HMAC-SHA256, for DNS UPDATE (dnsbox.auth.dynzone): check a request's
signature and sign the response. Pure: the time (seconds since 1970) is passed in.

check(q, key, now) -> (tsig rcode, request MAC, the request's TSIG fields) where the rcode is 0
(valid), BADKEY, BADSIG or BADTIME (RFC 8945 5.2); the fields are None when q has no TSIG.
sign(response, key, fields, request_mac, now, error) -> the response with a TSIG record.
"""
import hashlib
import struct

from dnsbox.compat import const
from dnsbox.wire.name import Name, decode_name

TSIG = const(250)
CLASS_ANY = const(255)
BADSIG = const(16)
BADKEY = const(17)
BADTIME = const(18)
FUDGE = const(300)  # seconds of clock difference accepted (RFC 8945 10)
ALGORITHM = Name.from_text("hmac-sha256.")
_BLOCK = const(64)  # SHA-256's block size (HMAC, RFC 2104)


def hmac_sha256(key, data):
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key + bytes(_BLOCK - len(key))
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    inner.update(data)
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    outer.update(inner.digest())
    return outer.digest()


class Key:
    def __init__(self, name, secret):
        self.name = Name.from_text(name if name.endswith(".") else name + ".")
        self.secret = secret


class Fields:
    """The TSIG record of a request: where it starts, key and algorithm names, time, fudge, MAC,
    original ID, error, other data."""

    def __init__(self, start, keyname, alg, signed, fudge, mac, orig_id, error, other):
        self.start = start
        self.keyname = keyname
        self.alg = alg
        self.signed = signed
        self.fudge = fudge
        self.mac = mac
        self.orig_id = orig_id
        self.error = error
        self.other = other


def find(q, start):
    """The TSIG record at offset start (the last record of q), as Fields; WireError (from the
    name decoder) or ValueError when it is not a well-formed TSIG record ending the message."""
    keyname, off = decode_name(q, start)
    if off + 10 > len(q):
        raise ValueError("short TSIG")
    rtype, rclass, ttl, rdlen = struct.unpack_from(">HHIH", q, off)
    if rtype != TSIG or rclass != CLASS_ANY or ttl != 0 or off + 10 + rdlen != len(q):
        raise ValueError("not a TSIG record at the end")
    p = off + 10
    alg, p = decode_name(q, p)
    if p + 10 > len(q):
        raise ValueError("short TSIG")
    hi, lo, fudge, maclen = struct.unpack_from(">HIHH", q, p)
    p += 10
    mac = q[p : p + maclen]
    p += maclen
    if p + 6 > len(q):
        raise ValueError("short TSIG")
    orig_id, error, olen = struct.unpack_from(">HHH", q, p)
    other = q[p + 6 : p + 6 + olen]
    if p + 6 + olen != len(q) or len(mac) != maclen:
        raise ValueError("TSIG length")
    return Fields(start, keyname, alg, (hi << 32) | lo, fudge, mac, orig_id, error, other)


def _variables(f, signed, error, other):
    """The TSIG variables that are digested (RFC 8945 4.3.3): names in canonical form."""
    return (f.keyname.lc + struct.pack(">HI", CLASS_ANY, 0) + f.alg.lc +
            struct.pack(">HIHHH", signed >> 32, signed & 0xFFFFFFFF, f.fudge, error, len(other)) +
            other)


def check(q, f, key, now):
    """(tsig error, request MAC) for request q whose TSIG record is f (RFC 8945 5.2)."""
    if key is None or f.keyname != key.name or f.alg != ALGORITHM:
        return BADKEY, b""
    msg = bytearray(q[: f.start])
    msg[0] = f.orig_id >> 8
    msg[1] = f.orig_id & 0xFF
    ar = ((msg[10] << 8) | msg[11]) - 1  # the TSIG record is not digested
    msg[10] = ar >> 8
    msg[11] = ar & 0xFF
    want = hmac_sha256(key.secret, bytes(msg) + _variables(f, f.signed, f.error, f.other))
    if len(f.mac) != len(want) or not _same(f.mac, want):
        return BADSIG, b""
    if abs(now - f.signed) > f.fudge:
        return BADTIME, f.mac
    return 0, f.mac


def _same(a, b):
    d = 0
    for i in range(len(a)):
        d |= a[i] ^ b[i]
    return d == 0


def sign(resp, key, f, request_mac, now, error=0):
    """resp with a TSIG record for key appended (RFC 8945 5.3); on BADTIME the other data is
    our time (5.2.3). Unsigned (no MAC) for BADKEY and BADSIG (5.3.2)."""
    return sign_mac(resp, key, f, request_mac, now, error)[0]


def sign_mac(resp, key, f, request_mac, now, error=0):
    """sign(), and the MAC it put in (a multi-message answer chains it: sign_next)."""
    other = struct.pack(">HI", now >> 32, now & 0xFFFFFFFF) if error == BADTIME else b""
    signed = f.signed if error == BADTIME else now
    if error in (BADKEY, BADSIG):
        mac = b""
    else:
        data = struct.pack(">H", len(request_mac)) + request_mac + resp + \
            _variables(f, signed, error, other)
        mac = hmac_sha256(key.secret, data)
    return _append(resp, f, signed, mac, error, other), mac


def sign_next(resp, key, f, prior_mac, now):
    """A later message of a multi-message answer (a zone transfer, RFC 8945 5.3.1): the MAC
    covers the prior message's MAC, this message and the timers only. (bytes, MAC)."""
    data = struct.pack(">H", len(prior_mac)) + prior_mac + resp + \
        struct.pack(">HIH", now >> 32, now & 0xFFFFFFFF, f.fudge)
    mac = hmac_sha256(key.secret, data)
    return _append(resp, f, now, mac, 0, b""), mac


def _append(resp, f, signed, mac, error, other):
    rdata = (f.alg.wire + struct.pack(">HIHH", signed >> 32, signed & 0xFFFFFFFF, f.fudge,
                                      len(mac)) +
             mac + struct.pack(">HHH", f.orig_id, error, len(other)) + other)
    rr = f.keyname.wire + struct.pack(">HHIH", TSIG, CLASS_ANY, 0, len(rdata)) + rdata
    out = bytearray(resp)
    ar = ((out[10] << 8) | out[11]) + 1
    out[10] = ar >> 8
    out[11] = ar & 0xFF
    return bytes(out) + rr

