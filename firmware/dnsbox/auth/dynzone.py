"""A dynamic zone kept in memory (update-zone=), changed by DNS UPDATE (RFC 2136). Without a
key (update-key=) updates come over TCP only (a spoofed source address cannot complete TCP's
handshake) from the networks of allow-update=; with one, every update must be signed with it
(TSIG HMAC-SHA256, RFC 8945, dnsbox.auth.tsig; the clocks must agree within 5 minutes) and the
response is signed.

The zone starts with its SOA and one NS (ns.ZONE, with the appliance's address) and holds at
most MAX_RECORDS records. Each applied UPDATE is one change (dnsbox.auth.dynhistory): given to
journal(payload) before the response is made (with state=DIR it is on the disk then:
dnsbox.state.zonestate; an OSError there undoes the update and answers SERVFAIL), kept in the
history that IXFR answers from, and announced by on_change(soa) (NOTIFY). Without state= the
content is lost when the appliance restarts. Queries are answered
from it as an authoritative zone without wildcards or delegations: the RRset, a CNAME (not
followed), NODATA or NXDOMAIN with the SOA (an empty non-terminal is NODATA, RFC 8020).
Pure: bytes in, bytes out.
"""
from dnsbox.auth import dynhistory as _hist
from dnsbox.auth import tsig as _tsig
from dnsbox.compat import const
from dnsbox.wire import message as _msg
from dnsbox.wire import rcode as _rc
from dnsbox.wire import rd_std
from dnsbox.wire import rdata as _rdata
from dnsbox.wire import types as _t
from dnsbox.wire.errors import WireError
from dnsbox.wire.name import Name, decode_name
from dnsbox.wire.rr import RR
from dnsbox.zonedb.lookup import under

MAX_RECORDS = const(4096)  # records in the zone (an update that would pass it is REFUSED)
MAX_UPDATE_RRS = const(256)  # prerequisite + update records in one UPDATE
OPCODE_UPDATE = const(5)
SOA_TTL = const(300)
NEG_TTL = const(60)  # the SOA minimum: negative answers are cached this long
CLASS_NONE = const(254)
_META = (_t.ANY, _t.AXFR, _t.IXFR, _t.OPT, _t.TSIG, 249)  # 249: TKEY


class DynZone:
    def __init__(self, origin_text, ns_ip4=None, key=None):
        self.key = key  # a dnsbox.auth.tsig.Key: updates must be signed with it
        self.origin = Name.from_text(origin_text)
        self.lc = self.origin.lc
        self.serial = 1
        self.nodes = {}  # lname -> {rtype: [RR]} (the owner names keep the case they came in)
        ns = Name.from_text("ns." + self.origin.to_text())
        self._put(RR(self.origin, _t.SOA, _t.CLASS_IN, SOA_TTL, self._soa_rdata(ns)))
        self._put(RR(self.origin, _t.NS, _t.CLASS_IN, SOA_TTL, rd_std.NS(ns)))
        if ns_ip4 is not None:
            self._put(RR(ns, _t.A, _t.CLASS_IN, SOA_TTL, rd_std.A(ns_ip4)))
        self.count = len(self.records())
        self.journal = None  # journal(change payload): raises OSError when it cannot keep it
        self.on_change = None  # on_change(soa record) after each applied change
        self.history = _hist.History()

    def _soa_rdata(self, mname, serial=-1):
        rname = Name.from_text("hostmaster." + self.origin.to_text())
        return rd_std.SOA(mname, rname, self.serial if serial < 0 else serial, 3600, 600, 86400,
                          NEG_TTL)

    def _put(self, rr):
        self.nodes.setdefault(rr.name.lc, {}).setdefault(rr.rtype, []).append(rr)

    def records(self):
        return [r for node in self.nodes.values() for rs in node.values() for r in rs]

    def soa(self):
        return self.nodes[self.lc][_t.SOA][0]

    def transfer(self, qid, question, with_opt, theirs=-1):
        """The zone as transfer messages (dnsbox.auth.transfer.pack), from a copy of its RRsets:
        an update while they are sent does not change them. theirs: an IXFR client's serial:
        the condensed difference from it (RFC 1995 4) when the history reaches back to it."""
        from dnsbox.auth import transfer

        diff = self.history.since(theirs, self.serial) if theirs >= 0 else None
        if diff is not None:
            return self._ixfr(qid, question, with_opt, theirs, diff)
        sets = []
        for lname, node in self.nodes.items():
            for t, rs in node.items():
                if t != _t.SOA or lname != self.lc:
                    sets.append((_size(rs), list(rs)))
        soa = [self.soa()]
        return transfer.pack(soa, _size(soa), sets, qid, question, with_opt)

    def _ixfr(self, qid, question, with_opt, theirs, diff):
        """RFC 1995 4: the new SOA, then the old SOA, the deleted records, the new SOA, the
        added records, and the new SOA last (transfer.pack adds the first and the last)."""
        from dnsbox.auth import transfer

        soa = self.soa()
        old = RR(soa.name, _t.SOA, _t.CLASS_IN, soa.ttl, self._soa_rdata(soa.rdata.mname,
                                                                          theirs))
        sets = [(_size([old]), [old])]
        dels, adds = diff
        for rrs, mark in ((dels, soa), (adds, None)):
            for i in range(0, len(rrs), _hist.SNAP_BATCH):
                part = rrs[i : i + _hist.SNAP_BATCH]
                sets.append((_size(part), part))
            if mark is not None:
                sets.append((_size([mark]), [mark]))
        return transfer.pack([soa], _size([soa]), sets, qid, question, with_opt)

    # --- the state journal (dnsbox.state.zonestate) ------------------------------------
    def apply_change(self, frm, to, dels, adds, payload=None):
        """A journaled change again (at boot): its records deleted and added, the serial set.
        False (nothing done) unless the zone is at serial frm."""
        if frm != self.serial:
            return False
        for rr in dels:
            node = self.nodes.get(rr.name.lc, {})
            rs = node.get(rr.rtype, [])
            keep = [x for x in rs if x.rdata != rr.rdata]
            self.count -= len(rs) - len(keep)
            if keep:
                node[rr.rtype] = keep
            elif rr.rtype in node:
                del node[rr.rtype]
            if not node and rr.name.lc in self.nodes:
                del self.nodes[rr.name.lc]
        for rr in adds:
            rs = self.nodes.setdefault(rr.name.lc, {}).setdefault(rr.rtype, [])
            keep = [x for x in rs if x.rdata != rr.rdata]
            self.count += len(keep) + 1 - len(rs)
            keep.append(rr)
            self.nodes[rr.name.lc][rr.rtype] = keep
        self._set_serial(to)
        if payload is not None:
            self.history.add(frm, to, payload)
        return True

    def load_snapshot(self, serial, rrs):
        """The zone replaced by a snapshot's records (apex SOA made from serial)."""
        mname = self.soa().rdata.mname
        self.nodes = {}
        self.serial = serial
        self._put(RR(self.origin, _t.SOA, _t.CLASS_IN, SOA_TTL, self._soa_rdata(mname)))
        for rr in rrs:
            self._put(rr)
        self.count = len(self.records())
        self.history = _hist.History()

    def snapshot(self):
        """The zone as snapshot payloads (dnsbox.auth.dynhistory.snapshot)."""
        rrs = [r for r in self.records() if r.rtype != _t.SOA or r.name.lc != self.lc]
        return _hist.snapshot(self.serial, rrs)

    def _set_serial(self, serial):
        self.serial = serial
        old = self.soa()
        self.nodes[self.lc][_t.SOA] = [RR(old.name, _t.SOA, _t.CLASS_IN, old.ttl,
                                          self._soa_rdata(old.rdata.mname))]

    def contains(self, lname):
        """True if the lower-case wire name is this zone's apex or below it."""
        return under(lname, self.lc)

    # --- queries ----------------------------------------------------------------------
    def answer(self, r, qname, qtype):
        """Fill response r (from make_response) for (qname, qtype) inside the zone."""
        r.aa = True
        node = self.nodes.get(qname.lc)
        if node is not None:
            rrs = node.get(qtype) if qtype != _t.ANY else [x for v in node.values() for x in v]
            if not rrs and _t.CNAME in node:
                rrs = node[_t.CNAME]
            if rrs:
                r.answer.extend(RR(qname, x.rtype, x.rclass, x.ttl, x.rdata) for x in rrs)
                return
        elif not self._has_below(qname.lc):
            r.rcode = _rc.NXDOMAIN
        soa = self.soa()
        r.authority.append(RR(soa.name, _t.SOA, _t.CLASS_IN, NEG_TTL, soa.rdata))

    def _has_below(self, lname):
        for k in self.nodes:
            if k != lname and under(k, lname):
                return True
        return False

    # --- UPDATE (RFC 2136 3) --------------------------------------------------------------
    def update(self, q, now=0):
        """The response (bytes) to the UPDATE message q, the zone changed when it succeeds.
        now: seconds since 1970 (TSIG's time check)."""
        try:
            qid, flags, zone, prereq, updates, tstart = _parse(q)
            f = _tsig.find(q, tstart) if tstart >= 0 else None
        except (WireError, ValueError):
            return _reply(q[:2], (q[2] << 8) | q[3] if len(q) > 3 else 0, None, _rc.FORMERR)
        if f is not None or self.key is not None:  # signed, or it has to be
            if f is None:
                return _reply(qid, flags, zone, _rc.REFUSED)  # unsigned: refused
            err, rmac = _tsig.check(q, f, self.key, now)
            if err:
                return _tsig.sign(_reply(qid, flags, zone, _rc.NOTAUTH), self.key, f, rmac, now,
                                  err)
            return _tsig.sign(self._update(qid, flags, zone, prereq, updates), self.key, f, rmac,
                              now)
        return self._update(qid, flags, zone, prereq, updates)

    def _update(self, qid, flags, zone, prereq, updates):
        if zone is None or zone[1] != _t.SOA or zone[2] != _t.CLASS_IN or zone[0].lc != self.lc:
            return _reply(qid, flags, zone, _rc.NOTAUTH)
        rc = self._prerequisites(prereq) or self._prescan(updates)
        if rc:
            return _reply(qid, flags, zone, rc)
        saved = (self.nodes, self.count, self.serial)
        copy = {}
        for k, n in self.nodes.items():
            copy[k] = dict((t, list(v)) for t, v in n.items())
        self.nodes = copy  # changed in the copy: a refused update leaves nothing behind
        changed = False
        for rr in updates:
            changed = self._apply(rr) or changed
        if self.count > MAX_RECORDS:
            self.nodes, self.count, self.serial = saved  # nothing of it is kept
            return _reply(qid, flags, zone, _rc.REFUSED)
        if changed:
            frm = self.serial
            dels, adds = _diff(saved[0], self.nodes, updates)
            self._set_serial((frm + 1) & 0xFFFFFFFF or 1)
            try:
                payload = _hist.encode_change(frm, self.serial, dels, adds)
                if self.journal is not None:
                    self.journal(payload)  # on the disk before the answer says so
            except (OSError, ValueError):
                self.nodes, self.count, self.serial = saved  # not kept: not applied
                return _reply(qid, flags, zone, _rc.SERVFAIL)
            self.history.add(frm, self.serial, payload)
            if self.on_change is not None:
                self.on_change(self.soa())
        return _reply(qid, flags, zone, _rc.NOERROR)

    def refuse(self, q):
        """REFUSED (the client may not update), the zone section echoed when it parses."""
        try:
            qid, flags, zone, _p, _u, _t0 = _parse(q)
        except (WireError, ValueError):
            return _reply(q[:2], 0, None, _rc.FORMERR)
        return _reply(qid, flags, zone, _rc.REFUSED)

    def _rrset(self, name, rtype):
        node = self.nodes.get(name.lc)
        return node.get(rtype, []) if node is not None else []

    def _prerequisites(self, prereq):
        value = {}  # (name lc, type) -> [rdata] for the value-dependent ones (RFC 2136 3.2.5)
        for rr in prereq:
            if rr.ttl != 0:
                return _rc.FORMERR
            if not self.contains(rr.name.lc):
                return _rc.NOTZONE
            node = self.nodes.get(rr.name.lc)
            if rr.rclass == _t.CLASS_ANY:
                if rr.rdata is not None:
                    return _rc.FORMERR
                if rr.rtype == _t.ANY:
                    if not node:
                        return _rc.NXDOMAIN
                elif not self._rrset(rr.name, rr.rtype):
                    return _rc.NXRRSET
            elif rr.rclass == CLASS_NONE:
                if rr.rdata is not None:
                    return _rc.FORMERR
                if rr.rtype == _t.ANY:
                    if node:
                        return _rc.YXDOMAIN
                elif self._rrset(rr.name, rr.rtype):
                    return _rc.YXRRSET
            elif rr.rclass == _t.CLASS_IN and rr.rdata is not None:
                value.setdefault((rr.name.lc, rr.rtype), []).append(rr.rdata)
            else:
                return _rc.FORMERR
        for (lname, rtype), rds in value.items():
            have = [x.rdata for x in self.nodes.get(lname, {}).get(rtype, [])]
            if len(have) != len(set(rds)) or any(d not in have for d in rds):
                return _rc.NXRRSET
        return 0

    def _prescan(self, updates):
        for rr in updates:
            if not self.contains(rr.name.lc):
                return _rc.NOTZONE
            if rr.rclass == _t.CLASS_IN:
                if rr.rtype in _META or rr.rdata is None:
                    return _rc.FORMERR
            elif rr.rclass == _t.CLASS_ANY:
                if rr.ttl != 0 or rr.rdata is not None or rr.rtype in _META[1:]:
                    return _rc.FORMERR
            elif rr.rclass == CLASS_NONE:
                if rr.ttl != 0 or rr.rtype in _META:
                    return _rc.FORMERR
            else:
                return _rc.FORMERR
        return 0

    def _apply(self, rr):
        """One update record (RFC 2136 3.4.2); True if the zone changed."""
        lname = rr.name.lc
        apex = lname == self.lc
        node = self.nodes.get(lname)
        if rr.rclass == _t.CLASS_IN:
            if rr.rtype == _t.SOA:
                return False  # the serial is ours to count
            node = self.nodes.get(lname, {})
            if rr.rtype == _t.CNAME and [t for t in node if t != _t.CNAME]:
                return False  # CNAME and other data (RFC 2136 3.4.2.2)
            if rr.rtype != _t.CNAME and _t.CNAME in node:
                return False
            self.nodes[lname] = node
            rs = node.setdefault(rr.rtype, [])
            if rr.rtype == _t.CNAME:
                self.count -= len(rs)
                del rs[:]
            for i in range(len(rs)):
                if rs[i].rdata == rr.rdata:
                    rs[i] = RR(rs[i].name, rr.rtype, _t.CLASS_IN, rr.ttl, rr.rdata)
                    return True
            rs.append(RR(rr.name, rr.rtype, _t.CLASS_IN, rr.ttl, rr.rdata))
            self.count += 1
            return True
        if node is None:
            return False
        if rr.rclass == _t.CLASS_ANY:
            kill = [t for t in node if not (apex and t in (_t.SOA, _t.NS))]
            if rr.rtype != _t.ANY:
                kill = [t for t in kill if t == rr.rtype]
            for t in kill:
                self.count -= len(node.pop(t))
        else:  # CLASS_NONE: one record
            rs = node.get(rr.rtype, [])
            keep = [x for x in rs if x.rdata != rr.rdata]
            if rr.rtype == _t.SOA or (apex and rr.rtype == _t.NS and not keep):
                return False  # never the SOA, never the last apex NS
            kill = [rr.rtype] if len(keep) < len(rs) else []
            if kill:
                self.count -= len(rs) - len(keep)
                if keep:
                    node[rr.rtype] = keep
                else:
                    del node[rr.rtype]
        if not node:
            del self.nodes[lname]
        return bool(kill)


def _diff(old, new, updates):
    """(deleted, added) records between two versions of the nodes, at the names updated."""
    dels = []
    adds = []
    seen = []
    for u in updates:
        lname = u.name.lc
        if lname in seen:
            continue
        seen.append(lname)
        a = _by_key(old.get(lname))
        b = _by_key(new.get(lname))
        dels.extend(r for k, r in a.items() if k not in b)
        adds.extend(r for k, r in b.items() if k not in a)
    return dels, adds


def _by_key(node):
    out = {}
    if node:
        for t, rs in node.items():
            if t != _t.SOA:
                for r in rs:
                    out[_hist.key(r)] = r
    return out


def _size(rrs):
    """A bound on the wire size of records (names written out, rdata uncompressed)."""
    return sum(2 * len(r.name.wire) + 10 + len(r.rdata.to_wire()) for r in rrs)


def _parse(q):
    """(id, flags, (zone name, type, class) or None, prerequisite RRs, update RRs, offset of a
    TSIG record ending the message or -1); records of class ANY/NONE may have no rdata (None)."""
    if len(q) < 12:
        raise ValueError("short")
    counts = [(q[i] << 8) | q[i + 1] for i in (4, 6, 8, 10)]
    if counts[0] != 1 or counts[1] + counts[2] > MAX_UPDATE_RRS:
        raise ValueError("counts")
    name, off = decode_name(q, 12)
    if off + 4 > len(q):
        raise ValueError("short zone")
    zone = (name, (q[off] << 8) | q[off + 1], (q[off + 2] << 8) | q[off + 3])
    off += 4
    sections = []
    for n in counts[1:3]:
        rrs = []
        for _ in range(n):
            rr, off = _record(q, off)
            rrs.append(rr)
        sections.append(rrs)
    tstart = -1
    for i in range(counts[3]):  # additional: an OPT, and a TSIG as the very last record
        start = off
        if i == counts[3] - 1 and _is_tsig(q, off):
            tstart = start
            break
        rr, off = _record(q, off)
        if rr.rtype != _t.OPT:
            raise ValueError("additional data")
    if tstart < 0 and off != len(q):
        raise ValueError("trailing bytes")
    return q[:2], (q[2] << 8) | q[3], zone, sections[0], sections[1], tstart


def _is_tsig(q, off):
    _n, p = decode_name(q, off)
    return p + 2 <= len(q) and ((q[p] << 8) | q[p + 1]) == _t.TSIG


def _record(q, off):
    name, off = decode_name(q, off)
    if off + 10 > len(q):
        raise ValueError("short record")
    rtype = (q[off] << 8) | q[off + 1]
    rclass = (q[off + 2] << 8) | q[off + 3]
    ttl = (q[off + 4] << 24) | (q[off + 5] << 16) | (q[off + 6] << 8) | q[off + 7]
    rdlen = (q[off + 8] << 8) | q[off + 9]
    off += 10
    rd = _rdata.decode(rtype, q, off, rdlen) if rdlen else None
    if rdlen and rtype != _t.OPT and rclass not in (_t.CLASS_IN, CLASS_NONE):
        raise ValueError("rdata with class %d" % rclass)
    return RR(name, rtype, rclass, ttl, rd), off + rdlen


def _reply(qid, flags, zone, rcode):
    """The UPDATE response: header (QR, opcode 5, the request's ID), the zone echoed."""
    m = _msg.Message((qid[0] << 8) | qid[1] if len(qid) == 2 else 0)
    m.qr = True
    m.opcode = OPCODE_UPDATE
    m.rcode = rcode
    if zone is not None:
        m.question.append(_msg.Question(zone[0], zone[1], zone[2]))
    return _msg.encode(m)
