"""DNSSEC in authoritative answers (RFC 4035 3.1, RFC 5155 7.2) for queries with DO: the
RRSIGs of every signed RRset a response carries, and the NSEC or NSEC3 records that prove a
name, a type or a DS absent, read from the blob's signed zones (docs/blob.md: K_SIG entries,
K_NSEC3 entries, the denial index). dnsbox.auth.answer calls it once it has mapped a lookup
outcome to sections; nothing here decides an rcode.
"""

from dnsbox.wire.name import Name
from dnsbox.wire.rr import RR
from dnsbox.zonedb import DENIAL_NSEC, DENIAL_NSEC3, K_ANSWER, K_GLUE, K_NSEC3, rrset_key
from dnsbox.zonedb import denial as _dn
from dnsbox.zonedb import sig_key
from dnsbox.zonedb.lookup import label_offsets
from dnsbox.zonedb.rrsets import records_at

RRSIG = 46
NSEC = 47
NSEC3 = 50
NSEC3_SHA1 = 1  # the only NSEC3 hash algorithm (RFC 5155 11)


class Proofs:
    """The signed side of one blob: db.signed[zone] says whether a zone is signed."""

    def __init__(self, db):
        self.db = db

    # --- signatures ---------------------------------------------------------------------------
    def sigs(self, lname, covered, name=None):
        """The RRSIGs covering (lname, covered); owner `name` when given (a wildcard's
        expansion, the query's case)."""
        db = self.db
        e = db.find(sig_key(lname, covered))
        if e < 0:
            return []
        rrs = records_at(db, e, lname, RRSIG)
        if name is not None:
            rrs = [RR(name, r.rtype, r.rclass, r.ttl, r.rdata) for r in rrs]
        return rrs

    def all_sigs(self, lname, types, name):
        """Every RRSIG at a name (qtype RRSIG, as NSD answers it)."""
        out = []
        for t in types:
            if t != RRSIG:
                out.extend(self.sigs(lname, t, name))
        return out

    def sign_section(self, section, start, wild_name=None, wild_owner=None):
        """Put after each RRset placed in section from index start on its RRSIGs (an RRset
        and its signatures stay together when a response is truncated). Records owned by
        wild_name were expanded from the wildcard wild_owner."""
        tail = section[start:]
        del section[start:]
        i = 0
        while i < len(tail):
            rr = tail[i]
            j = i + 1
            while j < len(tail) and tail[j].rtype == rr.rtype and tail[j].name == rr.name:
                j += 1
            section.extend(tail[i:j])
            if rr.rtype != RRSIG:
                if wild_name is not None and rr.name.lc == wild_name.lc:
                    section.extend(self.sigs(wild_owner, rr.rtype, rr.name))
                else:
                    section.extend(self.sigs(rr.name.lc, rr.rtype, rr.name))
            i = j

    # --- proofs -------------------------------------------------------------------------------
    def nxdomain(self, r, zone, lname, ce):
        """lname does not exist, nor a wildcard at its closest encloser ce (RFC 4035 3.1.3.2,
        RFC 5155 7.2.2)."""
        kind, off = self.db.denial(zone)
        if kind == DENIAL_NSEC:
            self._nsec_cover(r, off, lname)
            self._nsec_cover(r, off, b"\x01*" + ce)
        elif kind == DENIAL_NSEC3:  # in NSD's order (what a truncated answer keeps)
            self._n3(r, zone, off, next_closer(lname, ce), False)
            self._n3(r, zone, off, ce, True)
            self._n3(r, zone, off, b"\x01*" + ce, False)

    def nodata(self, r, zone, lname):
        """lname exists without the type asked (RFC 4035 3.1.3.1, RFC 5155 7.2.3, 7.2.4): its
        NSEC / NSEC3; an empty non-terminal's covering NSEC; with NSEC3 and no record for the
        name (an opt-out delegation asked for DS), the closest provable encloser proof."""
        kind, off = self.db.denial(zone)
        if kind == DENIAL_NSEC:
            if not self._nsec_at(r, lname):
                self._nsec_cover(r, off, lname)
        elif kind == DENIAL_NSEC3:
            if lname[:2] == b"\x01*":  # the wildcard's own name: its closest encloser too
                self._n3(r, zone, off, lname[2:], True)  # (RFC 5155 7.2.5, as NSD)
            if not self._n3(r, zone, off, lname, True):
                self._provable(r, zone, off, lname)

    def wildcard(self, r, zone, lname, wowner):
        """A wildcard answered for lname: lname itself does not exist (RFC 4035 3.1.3.3,
        RFC 5155 7.2.6: the NSEC3 covering the next closer name)."""
        kind, off = self.db.denial(zone)
        if kind == DENIAL_NSEC:
            self._nsec_cover(r, off, lname)
        elif kind == DENIAL_NSEC3:
            self._n3(r, zone, off, next_closer(lname, wowner[2:]), False)

    def wildcard_nodata(self, r, zone, lname, wowner):
        """A wildcard matched lname but has no RRset of the type (RFC 4035 3.1.3.4, RFC 5155
        7.2.5): after wildcard()'s proof that lname does not exist, the wildcard's own
        record without the type (and with NSEC3 the closest encloser's)."""
        kind, off = self.db.denial(zone)
        if kind == DENIAL_NSEC:
            self._nsec_at(r, wowner)
        elif kind == DENIAL_NSEC3:
            self._n3(r, zone, off, wowner[2:], True)
            self._n3(r, zone, off, wowner, True)

    def referral(self, r, zone, cut):
        """A referral: the DS RRset and its RRSIGs, or the proof there is none (RFC 4035
        3.1.4; RFC 5155 7.2.7 with opt-out)."""
        db = self.db
        e = db.find(rrset_key(cut, 43))
        if e >= 0 and db.kind(e) == K_ANSWER:
            ds = records_at(db, e, cut, 43)
            r.authority.extend(ds)
            r.authority.extend(self.sigs(cut, 43))
            return
        self.nodata(r, zone, cut)

    # --- NSEC ---------------------------------------------------------------------------------
    def _add(self, r, lname, rtype, kinds):
        """The RRset (lname, rtype) and its RRSIGs into the authority section, once."""
        for x in r.authority:
            if x.rtype == rtype and x.name.lc == lname:
                return True
        db = self.db
        e = db.find(rrset_key(lname, rtype))
        if e < 0 or db.kind(e) not in kinds:
            return False
        r.authority.extend(records_at(db, e, lname, rtype))
        r.authority.extend(self.sigs(lname, rtype))
        return True

    def _nsec_at(self, r, lname):
        return self._add(r, lname, NSEC, (K_ANSWER, K_GLUE))

    def _nsec_cover(self, r, off, lname):
        found = _dn.nsec_find(self.db, off, Name(lname).canonical_key())
        if found is not None:
            self._add(r, found[0], NSEC, (K_ANSWER, K_GLUE))

    # --- NSEC3 --------------------------------------------------------------------------------
    def _n3(self, r, zone, off, lname, want_match):
        """Add the NSEC3 matching lname (want_match) or covering it; False when the one
        needed is not there (no match; a hash the chain cannot give)."""
        from dnsbox.dnssec import crypto  # loaded only for NSEC3 zones

        alg, iterations, salt = _dn.nsec3_params(self.db, off)
        if alg != NSEC3_SHA1:
            return False
        found = _dn.nsec3_find(self.db, off, crypto.nsec3(lname, salt, iterations))
        if found is None or found[1] != want_match and want_match:
            return False
        apex = self.db.zone(zone)[0].lower()
        return self._add(r, bytes((len(found[0]),)) + found[0] + apex, NSEC3, (K_NSEC3,))

    def _provable(self, r, zone, off, lname):
        """The closest provable encloser proof for lname (RFC 5155 7.2.1): the NSEC3 matching
        the nearest ancestor that has one, and the one covering the name just below it."""
        offs = label_offsets(lname)
        for i in range(1, len(offs)):
            anc = lname[offs[i] :]
            if self._n3(r, zone, off, anc, True):
                self._n3(r, zone, off, lname[offs[i - 1] :], False)
                return


def next_closer(lname, ce):
    """The ancestor of lname (or lname) one label longer than its closest encloser ce."""
    prev = 0
    for o in label_offsets(lname):
        if lname[o:] == ce:
            return lname[prev:]
        prev = o
    return lname
