"""NXDOMAIN and NODATA answers with their DNSSEC proofs (RFC 4035 3.1.3, RFC 5155 7.2.2-7.2.4)
assembled from the blob's bytes for the fast path: the zone's DO negative block (SOA and its
RRSIGs, shifted like the other blocks) and the NSEC or NSEC3 records that prove the name or the
type absent, copied from their entries with the owner written as its labels and a pointer to
the zone's apex in the question. No message objects: the proofs are the same records the
general path (dnsbox.auth.signed) picks, in the same order; only the name compression differs.

answer(db, q, lkey, o, flags, zi, limit) -> bytes or None (None: the general path answers)
"""

from dnsbox.auth.signed import next_closer
from dnsbox.dnssec import crypto  # this module is loaded for signed zones only
from dnsbox.zonedb import (
    DENIAL_NSEC,
    DENIAL_NSEC3,
    F_CNAME,
    F_DNAME,
    F_WILD,
    K_ANSWER,
    K_GLUE,
    rrset_key,
    sig_key,
)
from dnsbox.zonedb import denial as _dn

NSEC = 47
NSEC3 = 50
_OPT_DO = b"\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x00"  # OPT, payload 1232, DO echoed


def answer(db, q, lkey, o, flags, zi, limit):
    """The DO answer of a query (bare OPT last, question = lkey in the query's case) whose
    closest node in signed zone zi is at label offset o with node flags `flags`."""
    qtype = (lkey[-4] << 8) | lkey[-3]
    lname = lkey[:-4]
    kind, off = db.denial(zi)
    soa_block = db.do_neg(zi)
    if not soa_block or kind == 0:
        return None
    apex = db.zone(zi)[0].lower()
    if o == 0:
        if flags & (F_CNAME | F_DNAME) or qtype == 43 or qtype == 46:
            return None
        owners = _nodata(db, kind, off, lname, apex)
        rcode = 0
    else:
        if flags & (F_DNAME | F_WILD):
            return None
        owners = _nxdomain(db, kind, off, lname, lname[o:], apex)
        rcode = 3
    if owners is None:
        return None
    ln = len(lname)
    apos = 12 + ln - len(apex)  # where the apex sits in the question
    ptr = bytes((0xC0 | (apos >> 8), apos & 0xFF))
    proof = bytearray()
    count = 0
    for owner, rtype in owners:
        count += _records(db, owner, rtype, owner[: len(owner) - len(apex)] + ptr, proof)
    blen, base, nptr = _block_head(db.blob, soa_block)
    h = soa_block + 5 + 2 * nptr
    soa = bytearray(db.blob[h + 10 : soa_block + blen])
    k = ln - base
    if k:
        i = soa_block + 5
        while i < h:  # the block's pointers all point into the question: move them by k
            p = (db.blob[i] << 8) | db.blob[i + 1]
            v = (((soa[p] & 0x3F) << 8) | soa[p + 1]) + k
            soa[p] = 0xC0 | (v >> 8)
            soa[p + 1] = v & 0xFF
            i += 2
    nsoa = (db.blob[h + 6] << 8) | db.blob[h + 7]  # the block's authority count
    r = bytearray(q[:2])
    r.append(0x84 | (q[2] & 1))  # QR, AA, RD copied
    r.append((q[3] & 0x10) | rcode)  # CD copied
    n = count + nsoa
    r += bytes((0, 1, 0, 0, n >> 8, n & 0xFF, 0, 1))
    r += q[12 : 16 + ln]
    if rcode == 3:  # NSD's order: the proof, then the SOA; NODATA the other way round
        r += proof
        r += soa
    else:
        r += soa
        r += proof
    r += _OPT_DO
    if len(r) > limit:
        return None
    return bytes(r)


def _block_head(b, off):
    return (b[off] << 8) | b[off + 1], (b[off + 2] << 8) | b[off + 3], b[off + 4]


def _nodata(db, kind, off, lname, apex):
    """(owner, type) of the records proving no RRset of the type at lname (it exists)."""
    if kind == DENIAL_NSEC:
        if _kind(db, rrset_key(lname, NSEC)) in (K_ANSWER, K_GLUE):
            return [(lname, NSEC)]
        return _nsec_cover(db, off, lname, [])
    par = _n3_params(db, off)
    if par is None:
        return None
    out = []
    if lname[:2] == b"\x01*":  # the wildcard's own name: its closest encloser too
        out = _n3(db, off, par, lname[2:], True, out, apex)
    return _n3(db, off, par, lname, True, out, apex)  # None (opt-out DS...): the general path


def _nxdomain(db, kind, off, lname, ce, apex):
    """(owner, type) of the records proving lname and the wildcard at ce absent."""
    if kind == DENIAL_NSEC:
        out = _nsec_cover(db, off, lname, [])
        return _nsec_cover(db, off, b"\x01*" + ce, out)
    par = _n3_params(db, off)
    if par is None:
        return None
    out = _n3(db, off, par, next_closer(lname, ce), False, [], apex)
    out = _n3(db, off, par, ce, True, out, apex)
    return _n3(db, off, par, b"\x01*" + ce, False, out, apex)


def _nsec_cover(db, off, lname, out):
    from dnsbox.wire.name import Name

    if out is None:
        return None
    found = _dn.nsec_find(db, off, Name(lname).canonical_key())
    if found is None:
        return None
    if (found[0], NSEC) not in out:
        out.append((found[0], NSEC))
    return out


def _n3_params(db, off):
    """(salt, iterations) of the zone's NSEC3 chain; None: not SHA-1."""
    alg, iterations, salt = _dn.nsec3_params(db, off)
    return (salt, iterations) if alg == 1 else None


def _n3(db, off, par, lname, match, out, apex):
    """out plus the NSEC3 matching (match) or covering lname; None when it has none."""
    if out is None:
        return None
    found = _dn.nsec3_find(db, off, crypto.nsec3(lname, par[0], par[1]))
    if found is None or match and not found[1]:
        return None
    owner = bytes((len(found[0]),)) + found[0] + apex
    if (owner, NSEC3) not in out:
        out.append((owner, NSEC3))
    return out


def _kind(db, key):
    e = db.find(key)
    return db.kind(e) if e >= 0 else -1


def _records(db, owner, rtype, wire_owner, out):
    """Append the RRset (owner, rtype) and its RRSIGs, each record as wire_owner + its fixed
    fields and rdata read from the entries; returns how many records."""
    n = 0
    for key in (rrset_key(owner, rtype), sig_key(owner, rtype)):
        e = db.find(key)
        if e < 0:
            continue
        n += _copy_records(db.blob, e, wire_owner, out)
    return n


def _copy_records(b, e, wire_owner, out):
    """The answer-section records of entry e, each as wire_owner + fixed fields + rdata."""
    an = (b[e + 8] << 8) | b[e + 9]
    i = e + 14 + b[e + 3]  # after the question (the key)
    for _ in range(an):
        while True:  # skip the owner: labels, ending with the root or a pointer
            c = b[i]
            if c >= 0xC0:
                i += 2
                break
            i += c + 1
            if c == 0:
                break
        rdlen = (b[i + 8] << 8) | b[i + 9]
        out += wire_owner
        out += b[i : i + 10 + rdlen]
        i += 10 + rdlen
    return an
