"""Authenticated denial of existence: what NSEC (RFC 4034 4, RFC 4035 5.4) and NSEC3 (RFC 5155
8) records prove, from records whose signatures were already checked. Pure.

Each proof function takes the NSEC or NSEC3 RRs of a response (owner, rdata) and answers with
a closed set of outcomes:
  PROVEN     the denial holds
  OPT_OUT    NSEC3 opt-out covers the name: the denial holds, but the data is not secure
             (RFC 5155 9.2: an insecure delegation may exist; no AD)
  NOT_PROVEN the records do not prove it (bogus: EDE 12 NSEC Missing)
  TOO_COSTLY NSEC3 iterations over MAX_ITERATIONS (RFC 9276 3.2: insecure, EDE 27), or the
             hash budget spent (CVE-2023-50868)
"""
from dnsbox.compat import const
from dnsbox.dnssec import crypto
from dnsbox.wire import types as _t
from dnsbox.wire.name import Name

PROVEN = const(1)
OPT_OUT = const(2)
NOT_PROVEN = const(3)
TOO_COSTLY = const(4)

MAX_ITERATIONS = const(150)  # NSEC3 iterations above this: insecure (RFC 9276 3.2)
_B32 = b"0123456789abcdefghijklmnopqrstuv"  # base32hex, lower case (RFC 4648 7)


def b32hex(h):
    """The base32hex (no padding) of an NSEC3 hash: its owner label."""
    n = int.from_bytes(h, "big")
    k = (len(h) * 8 + 4) // 5
    out = bytearray(k)
    for i in range(k - 1, -1, -1):
        out[i] = _B32[n & 31]
        n >>= 5
    return bytes(out)


def _ck(name):
    return name.canonical_key()


def nsec_covers(owner, nxt, name):
    """True if name sorts strictly between an NSEC's owner and its next name (the last NSEC of
    a zone wraps around: its next name is the apex)."""
    o, x, n = _ck(owner), _ck(nxt), _ck(name)
    if o < x:
        return o < n < x
    return n > o or n < x  # the wrap at the zone's end


def _ancestors(name):
    out = []
    while True:
        out.append(name)
        if name.is_root():
            return out
        name = name.parent()


def _common(a, b):
    """The longest common ancestor of two names."""
    anc = _ancestors(a)
    for x in _ancestors(b):
        if x in anc:
            return x
    return Name(b"\x00")


def nsec_nodata(nsecs, name, qtype):
    """An NSEC at name whose bitmap has neither qtype nor CNAME (RFC 4035 5.4); for DS at a
    cut, the NS bit without SOA is the parent side's proof (RFC 4035 5.4 bullet 1)."""
    for r in nsecs:
        if r.name == name:
            ts = r.rdata.types
            if qtype in ts or _t.CNAME in ts:
                return NOT_PROVEN
            if qtype == _t.DS and _t.SOA in ts and not name.is_root():
                return NOT_PROVEN  # the child's apex NSEC cannot deny a DS (the parent's)
            return PROVEN
    return NOT_PROVEN


def nsec_nxdomain(nsecs, name):
    """NXDOMAIN (RFC 4035 5.4): an NSEC covering the name, and one covering the wildcard at
    the closest encloser (or at the name's parent chain's deepest existing ancestor). Returns
    (outcome, closest encloser or None)."""
    cover = None
    for r in nsecs:
        if nsec_covers(r.name, r.rdata.next, name):
            cover = r
            break
    if cover is None:
        return NOT_PROVEN, None
    ce = _common(name, cover.name)
    nxt_ce = _common(name, cover.rdata.next)
    if len(nxt_ce.wire) > len(ce.wire):
        ce = nxt_ce
    wild = Name(b"\x01*" + ce.wire)
    for r in nsecs:
        if nsec_covers(r.name, r.rdata.next, wild):
            return PROVEN, ce
    return NOT_PROVEN, ce


def nsec_wildcard(nsecs, name, source):
    """A wildcard expansion (RFC 4035 5.3.4): an NSEC proving that name itself does not exist
    (the answer was made from the wildcard `source`, '*.' + the closest encloser)."""
    for r in nsecs:
        if nsec_covers(r.name, r.rdata.next, name):
            return PROVEN
    return NOT_PROVEN


class Nsec3:
    """The NSEC3 RRs of one response, with their hash parameters and a hash budget."""

    def __init__(self, rrs, zone, budget):
        self.rrs = [r for r in rrs if r.rtype == _t.NSEC3]
        self.zone = zone  # the zone (apex Name) whose NSEC3 chain these are
        self.budget = budget  # [hash computations left]
        self.params = None
        for r in self.rrs:
            if r.rdata.algorithm == 1:
                self.params = (r.rdata.salt, r.rdata.iterations)
                break

    def costly(self):
        return self.params is None or self.params[1] > MAX_ITERATIONS

    def hash(self, name):
        if self.budget[0] <= 0:
            return None
        self.budget[0] -= 1
        return crypto.nsec3(name.lc, self.params[0], self.params[1])

    def _owner_hash(self, r):
        lab = r.name.labels()[0].lower() if r.name.label_count() else b""
        return lab

    def matching(self, name):
        """The NSEC3 whose owner is the hash of name, or None ("" when the budget is spent)."""
        h = self.hash(name)
        if h is None:
            return ""
        label = b32hex(h)
        for r in self.rrs:
            if self._owner_hash(r) == label and r.name.parent() == self.zone:
                return r
        return None

    def covering(self, name):
        """The NSEC3 whose owner hash < hash(name) < next hash (with the wrap), or None."""
        h = self.hash(name)
        if h is None:
            return ""
        for r in self.rrs:
            if r.name.parent() != self.zone:
                continue
            try:
                o = _b32decode(self._owner_hash(r))
            except ValueError:
                continue
            x = r.rdata.next
            if (o < h < x) if o < x else (h > o or h < x):
                return r
        return None

    def closest_encloser(self, name):
        """RFC 5155 8.3: (closest encloser, the NSEC3 covering the next closer name) or an
        outcome when it cannot be proven."""
        prev = None
        n = name
        while True:
            m = self.matching(n)
            if m == "":
                return TOO_COSTLY
            if m is not None:
                if prev is None:
                    return n, None  # the name itself exists
                c = self.covering(prev)
                if c == "":
                    return TOO_COSTLY
                if c is None:
                    return NOT_PROVEN
                return n, c
            if n == self.zone or n.is_root():
                return NOT_PROVEN
            prev = n
            n = n.parent()


def nsec3_nxdomain(n3, name):
    """NXDOMAIN with NSEC3 (RFC 5155 8.4): the closest encloser, the next closer name covered,
    the wildcard at the closest encloser covered."""
    if n3.costly():
        return TOO_COSTLY
    ce = n3.closest_encloser(name)
    if not isinstance(ce, tuple):
        return ce
    enc, cover = ce
    if cover is None:
        return NOT_PROVEN  # the name exists
    w = n3.covering(Name(b"\x01*" + enc.wire))
    if w == "":
        return TOO_COSTLY
    if w is None:
        return NOT_PROVEN
    return OPT_OUT if cover.rdata.flags & 1 else PROVEN


def nsec3_nodata(n3, name, qtype):
    """NODATA with NSEC3 (RFC 5155 8.5-8.7): a matching NSEC3 without qtype and CNAME; for DS,
    an opt-out NSEC3 covering the next closer name also proves it (insecure delegation)."""
    if n3.costly():
        return TOO_COSTLY
    m = n3.matching(name)
    if m == "":
        return TOO_COSTLY
    if m is not None:
        ts = m.rdata.types
        if qtype in ts or _t.CNAME in ts:
            return NOT_PROVEN
        if qtype == _t.DS and _t.SOA in ts:
            return NOT_PROVEN
        return PROVEN
    if qtype == _t.DS:
        ce = n3.closest_encloser(name)
        if not isinstance(ce, tuple):
            return ce
        if ce[1] is not None and ce[1].rdata.flags & 1:
            return OPT_OUT
    return NOT_PROVEN


def nsec3_wildcard(n3, name, source):
    """A wildcard expansion with NSEC3 (RFC 5155 8.8): the next closer name of the wildcard's
    closest encloser is covered."""
    if n3.costly():
        return TOO_COSTLY
    enc = Name(source.wire[source.wire[0] + 1 :])  # the wildcard's parent: the encloser
    nc = name
    while nc.label_count() > enc.label_count() + 1:
        nc = nc.parent()
    c = n3.covering(nc)
    if c == "":
        return TOO_COSTLY
    if c is None:
        return NOT_PROVEN
    return OPT_OUT if c.rdata.flags & 1 else PROVEN


def _b32decode(label):
    n = 0
    for c in label:
        i = _B32.find(bytes((c,)))
        if i < 0:
            raise ValueError("not base32hex")
        n = (n << 5) | i
    bits = len(label) * 5
    size = bits // 8
    return (n >> (bits - size * 8)).to_bytes(size, "big")
