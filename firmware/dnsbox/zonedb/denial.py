"""The denial indexes of signed zones in the blob (docs/blob.md "Denial index"): which NSEC or
NSEC3 record matches or covers a name (RFC 4034 4, RFC 5155 7.2). Read in place, by binary
search; the NSEC3 hash is made by the caller (dnsbox.auth.signed, dnsbox.auth.proofbytes).
"""

from struct import unpack_from

_len = len


def nsec_find(db, off, ck):
    """(owner lower-case wire, exact) of the NSEC whose owner matches the canonical key ck
    (dnsbox.wire.name.Name.canonical_key) or, when none does, precedes it in canonical order
    (the NSEC that covers it; the last one when ck sorts before every owner). None: an empty
    index."""
    b = db.blob
    n = unpack_from(">I", b, off)[0]
    if n == 0:
        return None
    lo = 0
    hi = n
    while lo < hi:  # the first item whose key is greater than ck
        mid = (lo + hi) // 2
        if _nsec_key(b, off, mid) <= ck:
            lo = mid + 1
        else:
            hi = mid
    i = (lo - 1) % n
    item = off + unpack_from(">I", b, off + 4 + 4 * i)[0]
    k = b[item]
    key = b[item + 1 : item + 1 + k]
    ln = b[item + 1 + k]
    o = item + 2 + k
    return b[o : o + ln], key == ck


def _nsec_key(b, off, i):
    item = off + unpack_from(">I", b, off + 4 + 4 * i)[0]
    return b[item + 1 : item + 1 + b[item]]


def nsec3_params(db, off):
    """(hash algorithm, iterations, salt) of the zone's NSEC3 chain."""
    b = db.blob
    alg, _flags, iterations, sl = unpack_from(">BBHB", b, off)
    return alg, iterations, b[off + 5 : off + 5 + sl]


def nsec3_find(db, off, digest):
    """(owner label, exact) of the NSEC3 whose owner's hash (raw bytes) matches digest or, when
    none does, covers it (the one before it in hash order; the last one when digest sorts
    before every hash): the label is base32hex, lower case. None: an empty index. The bucket of
    the digest's top bits gives a few items to search."""
    b = db.blob
    p = off + 5 + b[off + 4]  # after the salt
    hl = b[p]
    item = hl + b[p + 1]
    bits = b[p + 2]
    n = unpack_from(">I", b, p + 3)[0]
    if n == 0 or _len(digest) != hl:
        return None
    j = (unpack_from(">I", digest, 0)[0] >> (32 - bits)) if bits else 0
    lo, hi = unpack_from(">II", b, p + 7 + 4 * j)
    t = p + 11 + 4 * (1 << bits)  # the items: hash, label
    while lo < hi:  # the first item greater than digest
        mid = (lo + hi) >> 1
        if b[t + mid * item : t + mid * item + hl] <= digest:
            lo = mid + 1
        else:
            hi = mid
    i = (lo - 1) % n
    s = t + i * item
    return b[s + hl : s + item], b[s : s + hl] == digest
