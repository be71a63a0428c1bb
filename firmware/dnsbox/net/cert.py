"""What the forwarder checks of an upstream's X.509 certificate beyond mbedTLS's chain and name
checks, pure (no I/O, no clock: the time comes in): the SPKI pin (RFC 7858 4.2: the base64
SHA-256 of the DER SubjectPublicKeyInfo, RFC 7469 2.4) and the validity dates, read with a
bounded DER walk of the certificate's first fields (RFC 5280 4.1). Malformed DER is ValueError.

The dates are checked here, not by mbedTLS: the boards boot near 1970 and the firmware cannot
set the system clock, which is what mbedTLS would read (board/variant/mbedtls_config_dnsbox.h
leaves MBEDTLS_HAVE_TIME_DATE out). check_dates() applies the clock rules.
"""
import binascii
import hashlib

from dnsbox.compat import const
from dnsbox.wire.rd_sec import days_from_civil

CERT_MAX = const(16384)  # bytes of one certificate walked (real ones are 0.5-3 KB)
_LEN_BYTES_MAX = const(3)  # DER length octets read (lengths below 16 MB)
_SEQ = const(0x30)
_UTC = const(0x17)
_GEN = const(0x18)


def _tlv(der, off, end):
    """(tag, start of contents, end of contents) of the DER element at off, within end."""
    if off + 2 > end:
        raise ValueError("DER cut at %d" % off)
    tag = der[off]
    n = der[off + 1]
    off += 2
    if n & 0x80:
        k = n & 0x7F
        if not 0 < k <= _LEN_BYTES_MAX or off + k > end:
            raise ValueError("DER length at %d" % (off - 1))
        n = 0
        for i in range(k):
            n = (n << 8) | der[off + i]
        off += k
    if off + n > end:
        raise ValueError("DER element at %d runs past its parent" % off)
    return tag, off, off + n


def _fields(der):
    """[(tag, start, end)] of the tbsCertificate's fields up to subjectPublicKeyInfo: version
    ([0], when present), serial, signature, issuer, validity, subject, SPKI."""
    if len(der) > CERT_MAX:
        raise ValueError("certificate longer than %d bytes" % CERT_MAX)
    tag, s, e = _tlv(der, 0, len(der))
    if tag != _SEQ:
        raise ValueError("not a certificate")
    tag, off, e = _tlv(der, s, e)  # tbsCertificate
    if tag != _SEQ:
        raise ValueError("no tbsCertificate")
    out = []
    while off < e and len(out) < 7:
        t, cs, ce = _tlv(der, off, e)
        if not out and t != 0xA0:
            out.append(None)  # version absent: v1
        out.append((t, cs, ce, off))
        off = ce
    if len(out) < 7 or out[6][0] != _SEQ or out[4][0] != _SEQ:
        raise ValueError("certificate fields missing")
    return out


def spki_digest(der):
    """The SHA-256 of a DER certificate's SubjectPublicKeyInfo (what a pin names)."""
    t, cs, ce, start = _fields(der)[6]
    return hashlib.sha256(bytes(der[start:ce])).digest()


def spki_pin(der):
    """The pin of a DER certificate: base64 of spki_digest."""
    return binascii.b2a_base64(spki_digest(der)).decode().strip()


def _time(der, tag, s, e):
    """Seconds since 1970 of a UTCTime or GeneralizedTime in Z form (RFC 5280 4.1.2.5)."""
    txt = bytes(der[s:e]).decode()  # ValueError (UnicodeError) when not text
    if tag == _UTC and len(txt) == 13:
        y = int(txt[0:2])
        y += 2000 if y < 50 else 1900
        txt = txt[2:]
    elif tag == _GEN and len(txt) == 15:
        y = int(txt[0:4])
        txt = txt[4:]
    else:
        raise ValueError("certificate time of an unknown form")
    if txt[-1:] != "Z" or not txt[:-1].isdigit():
        raise ValueError("certificate time not in Z form")
    mo, d, h, mi, sec = (int(txt[i : i + 2]) for i in range(0, 10, 2))
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and sec < 61):
        raise ValueError("certificate time out of range")
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec


def validity(der):
    """(notBefore, notAfter) of a DER certificate, seconds since 1970."""
    t, vs, ve, _start = _fields(der)[4]
    t1, s1, e1 = _tlv(der, vs, ve)
    t2, s2, e2 = _tlv(der, e1, ve)
    return _time(der, t1, s1, e1), _time(der, t2, s2, e2)


def check_dates(der, now, synced, floor):
    """None when the certificate's dates allow it now, else the reason. The clock rules: once
    synced (ntp-server= answered), or when the clock reads later than floor (the firmware's
    build time: a clock behind it is one nobody set), notBefore <= now <= notAfter; otherwise
    the date is unknown and only notAfter >= floor is checked (a certificate that had expired
    when the firmware was built is refused; one issued since cannot be told from a forgery by
    date, and the chain, name and pin checks still hold)."""
    nb, na = validity(der)
    if synced or now >= floor:
        if now < nb:
            return "certificate not yet valid"
        if now > na:
            return "certificate expired"
        return None
    if na < floor:
        return "certificate expired (before the firmware was built)"
    return None


PEM_MAX = const(131072)  # bytes of a PEM bundle read at boot (tls-ca=): ~100 CA certificates
PEM_CERTS_MAX = const(200)  # certificates taken from one PEM bundle (Debian's has about 150)
_BEGIN = "-----BEGIN CERTIFICATE-----"
_END = "-----END CERTIFICATE-----"


def pem_ders(text, max_bytes=PEM_MAX, max_certs=PEM_CERTS_MAX):
    """The DER certificates of a PEM bundle (RFC 7468 'CERTIFICATE' blocks; text between them
    ignored), in order; ValueError naming the block on a broken one or over the limits. Each
    certificate's first fields are walked (_fields): a block that is no certificate fails
    here, at boot, not at the first upstream connection. tools/cabundle.py uses it too, with
    its own limits."""
    if len(text) > max_bytes:
        raise ValueError("larger than %d bytes" % max_bytes)
    out = []
    at = text.find(_BEGIN)
    while at >= 0:
        if len(out) >= max_certs:
            raise ValueError("more than %d certificates" % max_certs)
        end = text.find(_END, at)
        if end < 0:
            raise ValueError("certificate %d has no END line" % (len(out) + 1))
        body = "".join(text[at + len(_BEGIN) : end].split())
        try:
            der = binascii.a2b_base64(body)
        except ValueError:
            der = b""
        if not der:
            raise ValueError("certificate %d: not base64" % (len(out) + 1))
        try:
            _fields(der)
        except ValueError as e:
            raise ValueError("certificate %d: %s" % (len(out) + 1, e))
        out.append(der)
        at = text.find(_BEGIN, end)
    return out
