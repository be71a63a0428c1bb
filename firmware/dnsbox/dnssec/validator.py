"""DNSSEC validation of a resolved answer (RFC 4033, 4034, 4035 5, 6840, 5155), sans-I/O.

A Validation takes the answer a job produced (with its RRSIG, NSEC and NSEC3 records, asked
with DO) and decides SECURE, INSECURE or BOGUS (with the Extended DNS Error of RFC 8914 that
says why). What it needs to know (a zone's DS at its parent, a zone's DNSKEY) it asks for as
Need(name, type); the driver answers each with the raw Result of a job (not validated: that is
done here) through give(). Written as nested generators like dnsbox.resolver.iterate:
  v = Validation(trust, qname, qtype, result, budget)
  act = v.start()          # a Need, or the Verdict at once (cached keys)
  act = v.give(result)     # the Result for the last Need -> the next Need or the Verdict

The chain of trust goes down from a trust anchor (the root's DS records): a zone's DNSKEY
RRset is secure when a key matches a secure DS and signs the set; its DS is secure when the
parent's keys sign it; a proven absent DS (NSEC/NSEC3 at the parent, or NSEC3 opt-out) makes
the zone and everything below it insecure, as do a negative trust anchor (domain-insecure=),
DS records of algorithms or digests not offered here (RFC 6840 5.2) and NSEC3 iterations over
150 (RFC 9276). Unsigned data is insecure only when such a cut above it is proven; in a secure
zone it is bogus (EDE 10). Zone keys and zone states are remembered in Trust (bounded, TTLs).

Limits against CPU exhaustion (KeyTrap CVE-2023-50387, NSEC3 CVE-2023-50868), per client
question: MAX_SIG_CHECKS signature verifications, MAX_KEY_COLLISIONS keys tried past the first
of one tag, MAX_NSEC3_HASHES NSEC3 hashes, MAX_NEEDS questions asked; past one, BOGUS (EDE 0).
"""
from dnsbox.compat import const
from dnsbox.dnssec import denial as D
from dnsbox.dnssec import sig as S
from dnsbox.wire import rcode as _rc
from dnsbox.wire import types as _t
from dnsbox.wire.name import Name

SECURE = const(1)
INSECURE = const(2)
BOGUS = const(3)

MAX_SIG_CHECKS = const(32)  # signature verifications per client question
MAX_KEY_COLLISIONS = const(4)  # keys tried past the first with one key tag
MAX_NSEC3_HASHES = const(64)  # NSEC3 hash computations per client question
MAX_NEEDS = const(24)  # DS/DNSKEY questions one validation may ask
MAX_ZONES = const(1024)  # zone key states remembered, at most
ZONE_BYTES = const(768)  # what one takes (its DNSKEY RRs as objects): the budget's count
BOGUS_TTL_S = const(60)  # a bogus zone state is remembered this long
INSECURE_TTL_S = const(3600)  # an insecure zone state at most this long
MAX_KEY_TTL_S = const(86400)  # secure keys at most a day (and never past their signatures)

EDE_OTHER = const(0)
EDE_NSEC_MISSING = const(12)
EDE_NSEC3_ITERATIONS = const(27)


class Need:
    def __init__(self, name, qtype):
        self.name = name
        self.qtype = qtype

    def __repr__(self):
        return "<Need %s %d>" % (self.name, self.qtype)


class Verdict:
    def __init__(self, state, ede=None):
        self.state = state
        self.ede = ede  # (code, text) or None


class _Bogus(Exception):
    def __init__(self, code, text):
        super().__init__(text)
        self.code = code
        self.text = text


class ZoneState:
    """A zone's security: SECURE with its keys, INSECURE, or BOGUS with why; until (ms)."""

    def __init__(self, state, keys, until, ede=None):
        self.state = state
        self.keys = keys
        self.until = until
        self.ede = ede


class Trust:
    """What validations share. anchors: {zone lower-case wire: [DS RR]}; insecure: [domain
    lower-case wire] (negative trust anchors); wall: the wall clock (seconds since 1970) that
    signature validity is checked against."""

    def __init__(self, anchors, insecure, wall, limit=MAX_ZONES):
        self.anchors = anchors
        self.insecure = list(insecure)
        self.wall = wall
        self.limit = limit if 16 < limit < MAX_ZONES else (16 if limit <= 16 else MAX_ZONES)
        self.zones = {}  # zone lower-case wire -> ZoneState
        self.stats = {"secure": 0, "insecure": 0, "bogus": 0, "checks": 0}

    def anchor_for(self, name):
        """The closest trust anchor zone at or above name (a Name), or None."""
        n = name
        while True:
            if n.lc in self.anchors:
                return n
            if n.is_root():
                return None
            n = n.parent()

    def nta(self, name):
        for d in self.insecure:
            if name.lc.endswith(d) and (len(name.lc) == len(d) or _label_edge(name.lc, d)):
                return True
        return False

    def cached(self, zone, now):
        z = self.zones.get(zone.lc)
        if z is not None and z.until <= now:
            del self.zones[zone.lc]
            return None
        return z

    def remember(self, zone, state):
        if zone.lc not in self.zones and len(self.zones) >= self.limit:
            soon = sorted([(v.until, k) for k, v in self.zones.items()])
            for _u, k in soon[: len(soon) // 4 + 1]:
                del self.zones[k]
        self.zones[zone.lc] = state


def _label_edge(lname, domain):
    """True if domain is lname's suffix at a label boundary."""
    d = len(lname) - len(domain)
    i = 0
    while i < d:
        i += lname[i] + 1
    return i == d


def _sets(rrs):
    """[(owner Name, type, [RR], [RRSIG RR])] of the records, RRSIGs with the set they cover."""
    order = []
    sets = {}
    sigs = {}
    for r in rrs:
        if r.rclass != 1:
            continue
        if r.rtype == _t.RRSIG:
            k = (r.name.lc, r.rdata.type_covered)
            sigs.setdefault(k, []).append(r)
            continue
        k = (r.name.lc, r.rtype)
        if k not in sets:
            sets[k] = []
            order.append((r.name, r.rtype, k))
        sets[k].append(r)
    return [(n, t, sets[k], sigs.get(k, [])) for n, t, k in order]


def _worse(a, b):
    return a if a > b else b


class Validation:
    def __init__(self, trust, qname, qtype, result, now_ms):
        self.trust = trust
        self.qname = qname
        self.qtype = qtype
        self.result = result
        self.now = now_ms
        self.wall = trust.wall()
        self.budget = [MAX_SIG_CHECKS, MAX_KEY_COLLISIONS]
        self.hashes = [MAX_NSEC3_HASHES]
        self.needs = 0
        self.insecure_ede = None  # an EDE worth telling even though the answer is insecure
        self.verdict = None
        self._gen = self._main()

    def start(self):
        return self._step(None)

    def give(self, result):
        return self._step(result)

    def _step(self, value):
        try:
            return self._gen.send(value)
        except StopIteration:
            return self.verdict

    def _ask(self, name, qtype):
        self.needs += 1
        if self.needs > MAX_NEEDS:
            raise _Bogus(EDE_OTHER, "more than %d key questions" % MAX_NEEDS)
        res = yield Need(name, qtype)
        return res

    # --- the whole answer ---------------------------------------------------------------------
    def _main(self):
        try:
            state = yield from self._answer()
            self.verdict = Verdict(state, self.insecure_ede if state == INSECURE else None)
        except _Bogus as b:
            self.verdict = Verdict(BOGUS, (b.code, "%s" % b.text))
        st = self.trust.stats
        st[("secure", "insecure", "bogus")[self.verdict.state - 1]] += 1

    def _answer(self):
        res = self.result
        answer = _sets(res.answer)
        state = SECURE
        dnames = [n for n, t, _r, _s in answer if t == _t.DNAME]
        final = False
        last = self.qname
        for owner, rtype, rrs, sigs in answer:
            if rtype == _t.CNAME:
                last = rrs[0].rdata.target
                if not sigs and [d for d in dnames if owner != d and owner.is_subdomain(d)]:
                    continue  # the CNAME a DNAME makes (RFC 6672 5.3.1): not signed itself
            st, wild = yield from self._rrset(owner, rtype, rrs, sigs)
            state = _worse(state, st)
            if wild is not None and st == SECURE:
                st = yield from self._wildcard(owner, wild, res.authority)
                state = _worse(state, st)
            if rtype == self.qtype or self.qtype == _t.ANY:
                final = True
        if res.rcode == _rc.NXDOMAIN or not final:
            st = yield from self._denial(last, self.qtype, res)
            state = _worse(state, st)
        return state

    # --- one RRset ----------------------------------------------------------------------------
    def _rrset(self, owner, rtype, rrs, sigs):
        """(state, wildcard source Name or None) of one RRset; raises _Bogus."""
        if not sigs:
            st = yield from self._unsigned(owner, rtype)
            return st, None
        signer = sigs[0].rdata.signer
        if not owner.is_subdomain(signer):
            raise _Bogus(S.EDE_BOGUS, "%s signed by %s, not a zone above it" % (
                owner, signer))
        zs = yield from self._keys(signer)
        if zs.state == INSECURE:
            return INSECURE, None
        self.trust.stats["checks"] += 1
        st, code, text = S.check(rrs, [s for s in sigs if s.rdata.signer == signer], zs.keys,
                                 self.wall, self.budget)
        if st == S.UNSUPPORTED:
            if self.insecure_ede is None:
                self.insecure_ede = (code, "%s %s: %s" % (owner, _t.type_to_text(rtype), text))
            return INSECURE, None
        if st != S.SECURE:
            raise _Bogus(code, "%s %s: %s" % (owner, _t.type_to_text(rtype), text))
        labels = min([s.rdata.labels for s in sigs])
        n = owner.label_count() - (1 if owner.wire[:2] == b"\x01*" else 0)
        if labels < n:
            return SECURE, Name(S.signed_owner(owner.lc, labels))
        return SECURE, None

    # --- keys ---------------------------------------------------------------------------------
    def _keys(self, zone):
        """The ZoneState of zone (SECURE with its DNSKEYs, or INSECURE); raises _Bogus."""
        t = self.trust
        zs = t.cached(zone, self.now)
        if zs is not None:
            if zs.state == BOGUS:
                raise _Bogus(zs.ede[0], zs.ede[1])
            self._note(zs)
            return zs
        if t.nta(zone) or t.anchor_for(zone) is None:
            return self._remember(zone, INSECURE, None, INSECURE_TTL_S)
        if zone.lc in t.anchors:
            dss = t.anchors[zone.lc]
        else:
            dss = yield from self._ds(zone)
            if dss is None:
                return self._remember(zone, INSECURE, None, INSECURE_TTL_S)
        try:
            zs = yield from self._dnskeys(zone, dss)
        except _Bogus as b:
            t.remember(zone, ZoneState(BOGUS, None, self.now + BOGUS_TTL_S * 1000,
                                       (b.code, b.text)))
            raise
        self._note(zs)
        return zs

    def _note(self, zs):
        # why a zone is insecure, when that is worth telling (RFC 8914: EDE 1, 2)
        if zs.state == INSECURE and zs.ede is not None and self.insecure_ede is None:
            self.insecure_ede = zs.ede

    def _remember(self, zone, state, keys, ttl_s, ede=None):
        zs = ZoneState(state, keys, self.now + ttl_s * 1000, ede)
        self.trust.remember(zone, zs)
        return zs

    def _dnskeys(self, zone, dss):
        res = yield from self._ask(zone, _t.DNSKEY)
        sets = _sets(res.answer)
        keys = []
        sigs = []
        for owner, rtype, rrs, s in sets:
            if owner == zone and rtype == _t.DNSKEY:
                keys = rrs
                sigs = s
        if not keys:
            raise _Bogus(S.EDE_DNSKEY_MISSING, "no DNSKEY for %s" % zone)
        matched, usable = S.ds_matches(zone.lc, keys, dss, self.budget)
        if not usable:  # RFC 4035 5.2, RFC 6840 5.2
            return self._remember(zone, INSECURE, None, INSECURE_TTL_S, _unusable(zone, dss))
        if not matched:
            raise _Bogus(S.EDE_DNSKEY_MISSING, "no DNSKEY of %s matches its DS" % zone)
        self.trust.stats["checks"] += 1
        st, code, text = S.check(keys, sigs, matched, self.wall, self.budget)
        if st == S.UNSUPPORTED:
            return self._remember(zone, INSECURE, None, INSECURE_TTL_S,
                                  (code, "DNSKEY of %s: %s" % (zone, text)))
        if st != S.SECURE:
            raise _Bogus(code, "DNSKEY of %s: %s" % (zone, text))
        ttl = MAX_KEY_TTL_S
        for r in keys:
            ttl = r.ttl if r.ttl < ttl else ttl
        for s in sigs:
            left = (s.rdata.expiration - self.wall) & 0xFFFFFFFF
            ttl = left if left < ttl else ttl
        return self._remember(zone, SECURE, [k for k in keys if S.is_zone_key(k)], ttl)

    def _ds(self, zone):
        """zone's DS RRs (secure), or None when the parent proves there are none (an insecure
        delegation) or is insecure itself; raises _Bogus."""
        res = yield from self._ask(zone, _t.DS)
        found = yield from self._signed_ds(zone, res)
        if found is not None:
            return found[0] if found[1] == SECURE else None
        if res.rcode != _rc.NOERROR and res.rcode != _rc.NXDOMAIN:
            raise _Bogus(S.EDE_DNSKEY_MISSING, "DS of %s: %s" % (zone, _rc.to_text(res.rcode)))
        yield from self._denial(zone, _t.DS, res)  # raises unless the absence is proven
        return None  # no DS (an insecure delegation), or the parent is insecure itself

    def _signed_ds(self, name, res):
        """(DS RRs, state) of name in res, or None when res has none; raises _Bogus when they
        come without a signature."""
        for owner, rtype, rrs, sigs in _sets(res.answer):
            if owner == name and rtype == _t.DS:
                if not sigs:
                    raise _Bogus(S.EDE_RRSIGS_MISSING, "DS of %s without a signature" % name)
                st, _w = yield from self._rrset(owner, rtype, rrs, sigs)
                return rrs, st
        return None

    # --- unsigned data -------------------------------------------------------------------------
    def _unsigned(self, owner, rtype):
        """INSECURE when a proven insecure cut (or a negative anchor) lies above owner; raises
        _Bogus (RRSIGs missing) when owner is in a secure zone."""
        t = self.trust
        anchor = t.anchor_for(owner)
        if anchor is None or t.nta(owner):
            return INSECURE
        zs = yield from self._keys(anchor)
        if zs.state == INSECURE:
            return INSECURE
        zone = anchor
        names = []
        n = owner if rtype != _t.DS else owner.parent()
        while n != zone and n.label_count() > zone.label_count():
            names.append(n)
            n = n.parent()
        names.reverse()  # top down, the child of the anchor first
        for n in names:
            zs = t.cached(n, self.now)
            if zs is None:
                cut = yield from self._cut(n)
                if cut is None:
                    continue  # a name inside the zone, not a cut
                zs = cut
            if zs.state == INSECURE:
                return INSECURE
            if zs.state == BOGUS:
                raise _Bogus(zs.ede[0], zs.ede[1])
            zone = n
        raise _Bogus(S.EDE_RRSIGS_MISSING, "%s %s unsigned in the secure zone %s" % (
            owner, _t.type_to_text(rtype), zone))

    def _cut(self, name):
        """Whether a zone cut is at name, asked as DS at its parent: the ZoneState of the zone
        there (secure, insecure), or None when name is no cut."""
        res = yield from self._ask(name, _t.DS)
        found = yield from self._signed_ds(name, res)
        if found is not None:
            if found[1] != SECURE:
                return self._remember(name, INSECURE, None, INSECURE_TTL_S)
            zs = yield from self._keys(name)
            return zs
        st = yield from self._denial(name, _t.DS, res)
        if st == INSECURE:
            return self._remember(name, INSECURE, None, INSECURE_TTL_S)
        # proven: no DS at name. A cut there (NS in the NSEC/NSEC3 bitmap) is an insecure
        # delegation; otherwise name is just a name of the zone above
        if _has_ns(res.authority, name):
            return self._remember(name, INSECURE, None, INSECURE_TTL_S)
        return None

    # --- denial of existence ------------------------------------------------------------------
    def _denial(self, name, qtype, res):
        """SECURE when res proves (qtype at) name does not exist, INSECURE when the zone is
        insecure (or NSEC3 opt-out / costly); raises _Bogus (EDE 12) otherwise."""
        auth = _sets(res.authority)
        nsec = []
        nsec3 = []
        zone = None
        state = SECURE
        signed = False
        for owner, rtype, rrs, sigs in auth:
            if rtype not in (_t.SOA, _t.NSEC, _t.NSEC3):
                continue
            if sigs:
                signed = True
                zone = zone or sigs[0].rdata.signer
            st, _w = yield from self._rrset(owner, rtype, rrs, sigs)
            state = _worse(state, st)
            if rtype == _t.NSEC:
                nsec += rrs
            elif rtype == _t.NSEC3:
                nsec3 += rrs
        if not signed:
            st = yield from self._unsigned(name, qtype)
            return st
        if state == INSECURE:
            return INSECURE
        nx = res.rcode == _rc.NXDOMAIN
        if nsec:
            if nx:
                out = D.nsec_nxdomain(nsec, name)[0]
            else:
                out = D.nsec_nodata(nsec, name, qtype)
                if out != D.PROVEN:
                    out = _wild_nodata(nsec, name, qtype)
        elif nsec3:
            n3 = D.Nsec3(nsec3, zone, self.hashes)
            out = D.nsec3_nxdomain(n3, name) if nx else D.nsec3_nodata(n3, name, qtype)
        else:
            raise _Bogus(EDE_NSEC_MISSING, "no NSEC or NSEC3 proves %s %s" % (
                name, "does not exist" if nx else "has no " + _t.type_to_text(qtype)))
        if out == D.PROVEN:
            return SECURE
        if out == D.OPT_OUT:
            return INSECURE
        if out == D.TOO_COSTLY:
            if self.hashes[0] <= 0:
                raise _Bogus(EDE_OTHER, "too many NSEC3 hashes")
            self.insecure_ede = (EDE_NSEC3_ITERATIONS, "NSEC3 iterations over %d in %s" % (
                D.MAX_ITERATIONS, zone))
            return INSECURE
        raise _Bogus(EDE_NSEC_MISSING, "the NSEC%s records do not prove %s %s" % (
            "" if nsec else "3", name, "does not exist" if nx else "has no " +
            _t.type_to_text(qtype)))

    def _wildcard(self, owner, source, authority):
        """An answer made from the wildcard source: proven that owner itself does not exist
        (RFC 4035 5.3.4, RFC 5155 8.8)."""
        auth = _sets(authority)
        nsec = []
        nsec3 = []
        zone = None
        for o, rtype, rrs, sigs in auth:
            if rtype not in (_t.NSEC, _t.NSEC3):
                continue
            st, _w = yield from self._rrset(o, rtype, rrs, sigs)
            if st != SECURE:
                return INSECURE
            zone = zone or (sigs[0].rdata.signer if sigs else None)
            if rtype == _t.NSEC:
                nsec += rrs
            else:
                nsec3 += rrs
        if nsec:
            out = D.nsec_wildcard(nsec, owner, source)
        elif nsec3:
            out = D.nsec3_wildcard(D.Nsec3(nsec3, zone, self.hashes), owner, source)
        else:
            out = D.NOT_PROVEN
        if out == D.PROVEN:
            return SECURE
        if out in (D.OPT_OUT, D.TOO_COSTLY):
            return INSECURE
        raise _Bogus(EDE_NSEC_MISSING, "no proof that %s does not exist (wildcard %s)" % (
            owner, source))


def _wild_nodata(nsecs, name, qtype):
    """NODATA from a wildcard (RFC 4035 5.4): the name covered, and the wildcard's NSEC without
    the type."""
    out, ce = D.nsec_nxdomain(nsecs, name)
    if ce is None:
        return D.NOT_PROVEN
    for r in nsecs:
        if not nsec_covers_any(r, name):
            continue
        wild = Name(b"\x01*" + ce.wire)
        return D.nsec_nodata(nsecs, wild, qtype)
    return D.NOT_PROVEN


def nsec_covers_any(r, name):
    return D.nsec_covers(r.name, r.rdata.next, name)


def _unusable(zone, dss):
    """The EDE for a zone whose DS records name nothing offered here (RFC 8914 4.2, 4.3)."""
    for d in dss:
        if d.rdata.algorithm in S.crypto.ALGORITHMS:
            return S.EDE_UNSUPPORTED_DIGEST, "DS of %s: no digest type offered here" % zone
    return S.EDE_UNSUPPORTED_ALG, "DS of %s: no algorithm offered here" % zone


def _has_ns(authority, name):
    """True if an NSEC or NSEC3 record of the response lists NS for name's node (a cut)."""
    for r in authority:
        if r.rtype == _t.NSEC and r.name == name:
            return _t.NS in r.rdata.types and _t.SOA not in r.rdata.types
        if r.rtype == _t.NSEC3 and _t.NS in r.rdata.types and _t.SOA not in r.rdata.types:
            return True  # the matching record (its hash was checked by the denial)
    return False
