"""Signatures of RRsets (RFC 4034, 4035 5.3, 6840): the key tag, the DS digest, the data an
RRSIG signs, and the check of one RRset against a set of keys. Pure: the time comes in.

check(rrs, sigs, keys, now, budget) -> (status, ede code, text)
  rrs:  the RRset (RRs of one owner, type and class, as received)
  sigs: the RRSIGs that cover it
  keys: the zone's DNSKEY RRs (validated, or a DNSKEY RRset checking itself)
  status: SECURE (one signature verified), or BOGUS with the Extended DNS Error (RFC 8914)
  code that says why (6 bogus, 7 expired, 8 not yet valid, 9 DNSKEY missing, 10 RRSIGs
  missing, 1 unsupported algorithm when no signature can be checked at all).
budget is a list [checks left, key-tag collisions left] spent by every signature check and by
keys tried past the first of a tag (KeyTrap, CVE-2023-50387): past it, BOGUS with EDE 0.
"""
import struct

from dnsbox.compat import const
from dnsbox.dnssec import crypto
from dnsbox.wire import types as _t

SECURE = const(1)
BOGUS = const(2)
UNSUPPORTED = const(3)  # only signatures by algorithms not offered: insecure (RFC 6840 5.2)

EDE_UNSUPPORTED_ALG = const(1)
EDE_UNSUPPORTED_DIGEST = const(2)
EDE_BOGUS = const(6)
EDE_EXPIRED = const(7)
EDE_NOT_YET_VALID = const(8)
EDE_DNSKEY_MISSING = const(9)
EDE_RRSIGS_MISSING = const(10)
EDE_NO_ZONE_KEY = const(11)

DNSKEY_ZONE = const(0x0100)  # flags: a zone key (RFC 4034 2.1.1)
DNSKEY_REVOKE = const(0x0080)  # RFC 5011 2.1: a revoked key signs nothing


def key_tag(key):
    """RFC 4034 Appendix B for a DNSKEY rdata object (algorithm 1's own rule included)."""
    w = key.to_wire()
    if key.algorithm == 1:
        return (w[-3] << 8) | w[-2] if len(w) > 4 else 0
    ac = 0
    for i in range(len(w)):
        ac += w[i] if i & 1 else w[i] << 8
    ac += (ac >> 16) & 0xFFFF
    return ac & 0xFFFF


def ds_digest(owner_lc, key, kind):
    """The DS digest (RFC 4034 5.1.4, RFC 4509, RFC 6605) of a DNSKEY at owner."""
    return crypto.digest(kind, owner_lc + key.to_wire())


def _serial_le(a, b):
    """a <= b in RFC 1982 serial number arithmetic on 32 bits (RRSIG times, RFC 4034 3.1.5)."""
    return a == b or ((b - a) & 0xFFFFFFFF) < 0x80000000


def signed_data(rrs, sig, owner_lc):
    """What sig signs (RFC 4034 3.1.8.1): its rdata without the signature, then every RR of the
    set in canonical form (owner in lower case, the original TTL, rdata canonical), in
    canonical order, duplicates once. owner_lc: the owner as signed (a wildcard's '*' name
    when the RRSIG's labels field says the answer was expanded, RFC 4035 5.3.2)."""
    head = sig.to_canonical()
    head = head[: len(head) - len(sig.signature)]
    fixed = struct.pack("!HHI", rrs[0].rtype, rrs[0].rclass, sig.original_ttl)
    datas = []
    for r in rrs:
        d = r.rdata.to_canonical()
        if d not in datas:
            datas.append(d)
    datas.sort()
    out = [head]
    for d in datas:
        out.append(owner_lc)
        out.append(fixed)
        out.append(struct.pack("!H", len(d)))
        out.append(d)
    return b"".join(out)


def signed_owner(owner_lc, labels):
    """The owner a signature with `labels` labels covers: the name itself, or the wildcard
    '*.' + its rightmost `labels` labels (RFC 4035 5.3.2); None when labels is more than the
    name has (the signature cannot be for it)."""
    n = 0
    i = 0
    offs = []
    while owner_lc[i]:
        offs.append(i)
        i += owner_lc[i] + 1
        n += 1
    if owner_lc[:2] == b"\x01*":
        n -= 1  # a wildcard's own '*' is not counted (RFC 4034 3.1.3)
    if labels > n:
        return None
    if labels == n:
        return owner_lc
    return b"\x01*" + owner_lc[offs[n - labels] :]


def check(rrs, sigs, keys, now, budget):
    """(status, ede code, text) for the RRset rrs: see the module text."""
    if not sigs:
        return BOGUS, EDE_RRSIGS_MISSING, "no signature"
    owner = rrs[0].name.lc
    why = None  # the best reason so far for BOGUS
    supported = False
    for s in sigs:
        sig = s.rdata
        if sig.type_covered != rrs[0].rtype:
            continue
        if sig.algorithm not in crypto.ALGORITHMS:
            continue
        supported = True
        if not _serial_le(sig.inception, now):
            why = why or (EDE_NOT_YET_VALID, "signature not yet valid")
            continue
        if not _serial_le(now, sig.expiration):
            why = why or (EDE_EXPIRED, "signature expired")
            continue
        signed_as = signed_owner(owner, sig.labels)
        if signed_as is None:
            why = (EDE_BOGUS, "signature labels field larger than the name")
            continue
        matching = [k for k in keys if k.rdata.algorithm == sig.algorithm
                    and k.rdata.flags & DNSKEY_ZONE and not k.rdata.flags & DNSKEY_REVOKE
                    and k.rdata.protocol == 3 and key_tag(k.rdata) == sig.key_tag]
        if not matching:
            why = why or (EDE_DNSKEY_MISSING, "no key with tag %d" % sig.key_tag)
            continue
        data = None
        for i in range(len(matching)):
            if budget[0] <= 0 or (i > 0 and budget[1] <= 0):
                return BOGUS, 0, "too many signature checks"
            budget[0] -= 1
            if i > 0:
                budget[1] -= 1
            if data is None:
                data = signed_data(rrs, sig, signed_as)
            try:
                ok = crypto.verify(sig.algorithm, matching[i].rdata.key, data, sig.signature)
            except crypto.Unsupported:
                ok = False
            if ok:
                return SECURE, 0, None
        why = (EDE_BOGUS, "signature does not verify")
    if not supported:
        return UNSUPPORTED, EDE_UNSUPPORTED_ALG, "no signature by an algorithm offered here"
    return BOGUS, why[0], why[1]


def ds_matches(owner_lc, keys, dss, budget):
    """The DNSKEY RRs that one of the DS records dss names (RFC 4035 5.2): key tag, algorithm
    and digest match. DS digest type 1 is used only when no other type the validator knows is
    present (RFC 4509 3). Returns (matching keys, True if some DS was usable)."""
    usable = [d for d in dss if d.rdata.digest_type in (2, 4)]
    if not usable:
        usable = [d for d in dss if d.rdata.digest_type == 1]
    usable = [d for d in usable if d.rdata.algorithm in crypto.ALGORITHMS]
    out = []
    for d in usable:
        for k in keys:
            kr = k.rdata
            if kr.algorithm != d.rdata.algorithm or key_tag(kr) != d.rdata.key_tag:
                continue
            if budget[0] <= 0:
                return out, True
            budget[0] -= 1
            if ds_digest(owner_lc, kr, d.rdata.digest_type) == d.rdata.digest and k not in out:
                out.append(k)
    return out, bool(usable)


def is_zone_key(rr):
    return rr.rtype == _t.DNSKEY and rr.rdata.flags & DNSKEY_ZONE and rr.rdata.protocol == 3
