"""The denial indexes of signed zones in the blob (docs/blob.md "Denial index"): which NSEC or
NSEC3 record matches or covers a name (RFC 4034 4, RFC 5155 7.2). Read in place, by binary
search; the NSEC3 hash and its base32hex label are made by the caller (dnsbox.auth.signed).
"""

from struct import unpack_from


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


def nsec3_find(db, off, label):
    """(owner label, exact) of the NSEC3 whose hashed owner label (base32hex, lower case)
    matches label or, when none does, covers it (the one before it in hash order; the last
    one when label sorts before every owner). None: an empty index."""
    b = db.blob
    sl = b[off + 4]
    p = off + 5 + sl
    hl = b[p]
    n = unpack_from(">I", b, p + 1)[0]
    if n == 0:
        return None
    t = p + 5
    lo = 0
    hi = n
    while lo < hi:
        mid = (lo + hi) // 2
        if b[t + mid * hl : t + mid * hl + hl] <= label:
            lo = mid + 1
        else:
            hi = mid
    i = (lo - 1) % n
    own = b[t + i * hl : t + i * hl + hl]
    return own, own == label
