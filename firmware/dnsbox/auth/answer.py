"""The general query path: staged checks (NSD's query_process order), zone lookup with typed
outcomes, ONE mapping from outcome to sections + rcode, then encoding within the size limit.

Stages: header (RFC 1035 4.1.1) -> decode or FORMERR -> opcode (NOTIMP) -> question count
(RFC 9619) -> EDNS version (RFC 6891 6.1.3 BADVERS) -> class (CH: id.server, RFC 4892) ->
query type (AXFR/IXFR: zone transfer to the allowed peers, dnsbox.auth.transfer) -> TSIG (a
signed query: its key must be xfr-key=, and its answer is signed; else NOTAUTH, RFC 8945 5.2)
-> lookup -> answer -> encode/truncate. A query with DO gets the RRSIGs and NSEC/NSEC3 proofs
of the signed zones (dnsbox.auth.signed, RFC 4035 3.1).
"""

from dnsbox.compat import const
from dnsbox.wire import edns as _edns
from dnsbox.wire import message as _msg
from dnsbox.wire import rcode as _rc
from dnsbox.wire import reply as _reply
from dnsbox.wire import types as _t
from dnsbox.wire.errors import WireError
from dnsbox.wire.name import Name
from dnsbox.wire.reply import TCP, UDP_MAX
from dnsbox.wire.rr import RR
from dnsbox.zonedb import K_ANSWER, K_DELEG_NS, K_GLUE, rrset_key, lookup as _lk
from dnsbox.zonedb.rrsets import records_at, soa_of, zone_at

RRSIG = const(46)

MAX_CHAIN = const(8)  # CNAME/DNAME links followed in one answer (loop stop)
_TSIG_FIXED = const(58)  # a TSIG record less its two names: type, class, TTL, rdlength (10),
# time, fudge, MAC size, original ID, error, other length (16), an HMAC-SHA256 MAC (32)

_MAX_NAME = const(255)


def _soa_negative(rrs):
    """SOA RRset for a negative answer: TTL = min(SOA TTL, SOA minimum) (RFC 2308 3)."""
    out = []
    for r in rrs:
        ttl = r.ttl if r.ttl < r.rdata.minimum else r.rdata.minimum
        out.append(RR(r.name, r.rtype, r.rclass, ttl, r.rdata))
    return out


def capped(rrs, ttl):
    """rrs with their TTLs at most ttl (the negative SOA's signatures, as NSD sends them)."""
    return [RR(r.name, r.rtype, r.rclass, ttl if r.ttl > ttl else r.ttl, r.rdata) for r in rrs]


AUTH_BIND = b"\x04auth\x04bind\x00"  # CH TXT: queries answered (dnsmasq's auth.bind)


class General:
    """peers: [(network, mask)] that may transfer zones over TCP (auth-peer=); empty: none."""

    def __init__(self, db, nsid=None, peers=(), dyn=None, updaters=(), xfr_key=None):
        self.db = db
        self.peers = peers
        self.xfr_key = xfr_key  # a dnsbox.auth.tsig.Key: signed transfer requests (xfr-key=)
        self.history = None  # history(serial) -> IXFR differences since it, or None (secondary)
        self.dyn = dyn  # a dnsbox.auth.dynzone.DynZone (update-zone=) or None
        self.updaters = updaters  # [(network, mask)] that may UPDATE it (over TCP)
        if isinstance(nsid, str):
            nsid = nsid.encode()
        self.nsid = nsid or None
        self._chaos = None
        self.stats_nets = None  # networks that may read CH TXT auth.bind; None: not answered
        self.answered = None  # a function giving the queries answered (auth.bind's count)
        if self.nsid:
            self._chaos = Name.from_text("id.server."), Name.from_text("hostname.bind.")
        self.proofs = None
        self.wild = None  # the wildcard owner of the last UDP answer made from one (the rate
        # limiter, dnsbox.auth.rrl, reads and clears it: NSD's "wildcard" response class)
        if db.any_signed:
            from dnsbox.auth.signed import Proofs

            self.proofs = Proofs(db)

    # --- blob access ------------------------------------------------------------------------
    def rrset(self, lname, rtype, kinds=(K_ANSWER,)):
        """Records of (lname, rtype) from an entry of one of `kinds`, or None."""
        db = self.db
        e = db.find(rrset_key(lname, rtype))
        if e < 0 or db.kind(e) not in kinds:
            return None
        return records_at(db, e, lname, rtype) or None

    def zone_soa(self, zone):
        apex = self.db.zone(zone)[0].lower()
        return _soa_negative(self.rrset(apex, _t.SOA))

    def addresses(self, lnames):
        """A and AAAA RRsets of names in our zones (authoritative or glue): every A first,
        then every AAAA, so that a truncated additional section keeps one address per name."""
        out = []
        for t in (_t.A, _t.AAAA):
            for ln in lnames:
                rs = self.rrset(ln, t, (K_ANSWER, K_GLUE))
                if rs:
                    out.extend(rs)
        return out

    # --- the stages -------------------------------------------------------------------------
    def handle(self, q, proto, peer=None, now=0):
        """Response bytes, None (send nothing) or, for a zone transfer, a generator of messages.
        peer: the client's IPv4 address as an int (TCP), None if unknown; now: the wall time
        (seconds since 1970) that TSIG checks and signs with."""
        if len(q) < 12:
            return None  # no header to answer to
        if q[2] & 0x80:
            return None  # a response: never answer it (RFC 1035 7.3? avoids loops)
        if (q[2] >> 3) & 0xF == 5 and self.dyn is not None:
            return self._update(q, proto, peer, now)  # its records may have no rdata: own parser
        try:
            m = _msg.decode(q)
        except WireError:
            return self._formerr(q)
        r = _msg.make_response(m)
        limit = _reply.limit(proto, -1 if m.edns is None else m.edns.payload)
        if m.edns is not None:
            r.edns = _edns.Edns(UDP_MAX, 0, m.edns.do)
            if self.nsid and m.edns.option(_edns.NSID) is not None:  # RFC 5001
                r.edns.options.append(_edns.NSIDOption(self.nsid))
        if m.opcode != 0:
            r.rcode = _rc.NOTIMP  # no NOTIFY/UPDATE here; sections of other opcodes differ,
            r.question = []  # so nothing of the query is echoed (as NSD does)
            return self._encode(r, limit)
        if len(m.question) != 1 or m.answer or (m.authority and m.question[0].qtype != _t.IXFR):
            r.rcode = _rc.FORMERR
            return self._encode(r, limit)
        if m.edns is not None and m.edns.version > 0:
            r.rcode = _rc.BADVERS  # RFC 6891 6.1.3
            r.edns.options = []
            return self._encode(r, limit)
        qu = m.question[0]
        if qu.qclass == _t.CLASS_CH:
            return self._encode(self._chaos_answer(r, qu, proto, peer), limit)
        if qu.qclass != _t.CLASS_IN and qu.qclass != _t.CLASS_ANY:
            r.rcode = _rc.REFUSED
            return self._encode(r, limit)
        qt = qu.qtype
        if qt == _t.AXFR or qt == _t.IXFR:
            return self._transfer(q, m, r, proto, peer, limit, now)
        signed = None
        if m.tsig is not None:  # RFC 8945 5.2: checked (and the answer signed) or NOTAUTH
            signed, err = self._tsig(q, r, limit, now, True)
            if err is not None:
                return err
            limit -= len(signed[1].keyname.wire) + len(signed[1].alg.wire) + _TSIG_FIXED
        self.collect(r, qu.name, qt, m.edns is not None and m.edns.do)
        if proto == TCP:
            self.wild = None  # TCP answers are not rate limited
        if qu.qclass == _t.CLASS_ANY:
            r.aa = False  # QCLASS * (RFC 1035 3.2.5): IN data, not authoritative for "all"
        w = self._encode(r, limit, r.rcode == _rc.NOERROR and not r.aa and r.authority)
        return w if signed is None else _tsig_sign(w, signed)

    def _tsig(self, q, r, limit, now, query=False):
        """(signed, error reply) for a request with a TSIG record: signed = (key, the request's
        TSIG fields, its MAC, time) when it is signed with xfr-key= (a query: or update-key=,
        as certbot's rfc2136 plugin signs its SOA queries) and the signature and time are
        good, else the error reply: FORMERR for a malformed TSIG record, NOTAUTH with the
        TSIG error (BADKEY for a key we do not have, BADSIG, BADTIME) otherwise."""
        from dnsbox.auth import tsig as _tsig

        try:
            f = _tsig.find(q, _msg.decode_question(q).tsig_off)
        except (WireError, ValueError):
            r.rcode = _rc.FORMERR
            return None, self._encode(r, limit)
        key = self.xfr_key
        dkey = self.dyn.key if query and self.dyn is not None else None
        if dkey is not None and f.keyname == dkey.name:
            key = dkey  # the update key signs queries, never transfers
        err, rmac = _tsig.check(q, f, key, now)
        if err:
            r.rcode = _rc.NOTAUTH
            return None, _tsig.sign(self._encode(r, limit), key, f, rmac, now, err)
        return (key, f, rmac, now), None

    def _update(self, q, proto, peer, now):
        """DNS UPDATE (RFC 2136) of the dynamic zone: signed with its key (TSIG) when it has
        one, from any address or those of allow-update=; without a key over TCP from
        allow-update= networks only."""
        from dnsbox.config.nets import allowed

        if self.dyn.key is not None:
            if self.updaters and (peer is None or not allowed(self.updaters, peer)):
                return self.dyn.refuse(q)
            return self.dyn.update(q, now)
        if proto != TCP or peer is None or not allowed(self.updaters, peer):
            return self.dyn.refuse(q)
        return self.dyn.update(q)

    def _transfer(self, q, m, r, proto, peer, limit, now):
        """AXFR / IXFR (RFC 5936, RFC 1995): the checks in NSD's order of answers, then one SOA
        or the whole zone. IXFR over UDP gets the current SOA only (RFC 1995 2: the client
        then asks over TCP); an IXFR from an older serial gets the whole zone (the update zone:
        the differences, when its history reaches back to that serial). A request signed
        with xfr-key= (TSIG) is served whatever its address, and every answer to it signed."""
        from dnsbox.auth import transfer as _xfr  # here: the import chain stays shallow (see
        # HACKING.md), and no transfer, no module loaded
        from dnsbox.config.nets import allowed

        qu = m.question[0]
        if qu.qtype == _t.AXFR and proto != TCP:
            r.rcode = _rc.NOTIMP  # no AXFR over UDP (RFC 5936 4.2)
            return self._encode(r, limit)
        signed = None  # (key, the request's TSIG fields, its MAC, time) for a signed request
        if m.tsig is not None:
            signed, err = self._tsig(q, r, limit, now)
            if err is not None:
                return err
        elif not self.peers or proto == TCP and (peer is None or not allowed(self.peers, peer)):
            r.rcode = _rc.REFUSED
            return self._encode(r, limit)

        def one(w):  # a single-message answer, signed when the request was
            return w if signed is None else _tsig_sign(w, signed)

        zi = zone_at(self.db, qu.name.wire.lower())
        dyn = self.dyn if zi < 0 and self.dyn is not None and qu.name.lc == self.dyn.lc else None
        if zi < 0 and dyn is None:
            r.rcode = _rc.NOTAUTH  # not a zone apex we serve (RFC 5936 2.2.1, as NSD)
            return one(self._encode(r, limit))
        theirs = -1
        if qu.qtype == _t.IXFR:
            theirs = _ixfr_serial(m)
            if theirs < 0:
                r.rcode = _rc.FORMERR  # RFC 1995 3: the client's SOA is in the authority section
                return one(self._encode(r, limit))
            soa = soa_of(self.db, zi) if dyn is None else dyn.soa()
            if proto != TCP or not _xfr.newer(soa.rdata.serial, theirs):
                r.aa = True
                r.answer = [soa]
                return one(self._encode(r, limit))
            diffs = self.history(theirs) if self.history is not None else None
            if diffs:  # RFC 1995 4: the differences (a secondary zone's, dnsbox.auth.secondary)
                msgs = _xfr.differences(soa, diffs, m.id, qu, m.edns is not None)
                return msgs if signed is None else _signed_stream(msgs, signed)
        if dyn is None:
            msgs = _xfr.messages(self.db, zi, m.id, qu, m.edns is not None)
        else:  # the in-memory zone of update-zone=: IXFR from its history when it reaches back
            msgs = dyn.transfer(m.id, qu, m.edns is not None, theirs)
        return msgs if signed is None else _signed_stream(msgs, signed)

    def _encode(self, r, limit, glue_needed=False):
        try:
            return _msg.encode(r, limit, glue_needed)
        except ValueError:
            r.answer = []
            r.authority = []
            r.additional = []
            r.tc = True
            return _msg.encode(r, limit)

    def _formerr(self, q):
        """FORMERR with the ID, opcode and RD of the query, the question when it parsed."""
        return _reply.error_for(q, _rc.FORMERR, None, False)

    def _chaos_answer(self, r, qu, proto, peer):
        """id.server / hostname.bind CH TXT (RFC 4892) when a server name is configured;
        dnsmasq's auth.bind (the queries answered) to the networks of stats_nets only: over UDP
        the answer is truncated (TC, no records) so that the client asks again over TCP, where
        its address is known (handle_tcp gives it)."""
        from dnsbox.wire import rdata as _rd

        if self._chaos and qu.qtype in (_t.TXT, _t.ANY) and qu.name in self._chaos:
            txt = _rd.from_text(_t.TXT, '"%s"' % self.nsid.decode().replace('"', ""))
            r.answer.append(RR(qu.name, _t.TXT, _t.CLASS_CH, 0, txt))
            r.aa = True
        elif self.stats_nets is not None and qu.name.lc == AUTH_BIND:
            from dnsbox.config.nets import allowed

            if proto != TCP:
                r.tc = True
            elif peer is None or not allowed(self.stats_nets, peer):
                r.rcode = _rc.REFUSED
            else:
                r.aa = True
                if qu.qtype in (_t.TXT, _t.ANY):
                    txt = _rd.from_text(_t.TXT, '"%d"' % self.answered())
                    r.answer.append(RR(qu.name, _t.TXT, _t.CLASS_CH, 0, txt))
        else:
            r.rcode = _rc.REFUSED
        return r

    # --- outcome -> sections ----------------------------------------------------------------
    def collect(self, r, qname, qtype, do=False):
        """Fill r's sections, aa and rcode for (qname, qtype), following CNAME/DNAME; with
        do, the signatures and proofs of signed zones too."""
        name = qname
        lname = qname.wire.lower()
        seen = []
        self.wild = None
        for step in range(MAX_CHAIN + 1):
            o = _lk.lookup(self.db, lname, qtype)
            if o.wild and self.wild is None:
                self.wild = o.owner
            a0 = len(r.answer)
            d0 = len(r.additional)
            more = self.map_outcome(r, o, name, lname, qtype, step)
            if do and o.zone >= 0 and self.proofs is not None and self.db.signed[o.zone]:
                self._sign(r, o, name, lname, qtype, a0, d0)
            if more is None:
                return
            if len(seen) >= MAX_CHAIN or more.wire.lower() in seen:
                return  # chain too long or a loop: answer what we have (RFC 1034 3.6.2)
            seen.append(lname)
            name = more
            lname = more.wire.lower()

    def map_outcome(self, r, o, name, lname, qtype, step):
        """THE mapping from a lookup outcome to sections and rcode. Returns the next name to
        chase (a CNAME/DNAME target) or None when the answer is complete."""
        k = o.kind
        if k == _lk.NOT_AUTH:
            if step == 0:
                if self.dyn is not None and self.dyn.contains(lname):
                    self.dyn.answer(r, name, qtype)  # the in-memory zone of update-zone=
                else:
                    r.rcode = _rc.REFUSED
            return None
        if step == 0:
            r.aa = k != _lk.DELEGATION
        if k == _lk.ANSWER or k == _lk.ANY:
            t = qtype if k == _lk.ANSWER else o.types[0]  # RFC 8482: one RRset for ANY
            if t == RRSIG:  # every signature at the name (as NSD)
                r.answer.extend(self.proofs.all_sigs(o.owner, o.types, name))
                return None
            rrs = self._owned(self.rrset(o.owner, t), name)
            r.answer.extend(rrs)
            if k == _lk.ANSWER:
                self._additional(r, rrs, o.zone)
            return None
        if k == _lk.CNAME:
            rrs = self._owned(self.rrset(o.owner, _t.CNAME), name)
            r.answer.extend(rrs)
            target = rrs[0].rdata.target
            return target
        if k == _lk.NODATA:
            r.authority.extend(self.zone_soa(o.zone))
            return None
        if k == _lk.NXDOMAIN:
            r.rcode = _rc.NXDOMAIN
            r.authority.extend(self.zone_soa(o.zone))
            return None
        if k == _lk.DELEGATION:
            # A referral; after a CNAME (step > 0) too, with AA as the first step set it.
            ns = self.rrset(o.owner, _t.NS, (K_DELEG_NS,))
            r.authority.extend(ns)
            apex = Name(self.db.zone(o.zone)[0])
            targets = []
            for rr in ns:  # glue: addresses of targets inside this zone (in-domain, sibling)
                t = rr.rdata.target
                lt = t.wire.lower()
                if t.is_subdomain(apex) and lt not in targets:
                    targets.append(lt)
            r.additional.extend(self.addresses(targets))
            return None
        if k == _lk.DNAME:
            d = self.rrset(o.owner, _t.DNAME)[0]
            r.answer.append(d)
            prefix = name.wire[: len(name.wire) - len(o.owner)]
            w = prefix + d.rdata.target.wire
            if len(w) > _MAX_NAME:
                r.rcode = _rc.YXDOMAIN  # RFC 6672 2.2
                return None
            target = Name(w)
            r.answer.append(RR(name, _t.CNAME, _t.CLASS_IN, d.ttl, _cname(target)))
            return target
        return None

    def _sign(self, r, o, name, lname, qtype, a0, d0):
        """After map_outcome filled the sections for outcome o (in a signed zone, for a DO
        query; a0, d0: where this step's answer and additional records begin): the RRSIGs of
        what it placed, and the proof of what does not exist."""
        pf = self.proofs
        k = o.kind
        wild = name if o.wild else None
        wowner = o.owner if o.wild else None
        if k == _lk.ANSWER or k == _lk.ANY or k == _lk.CNAME or k == _lk.DNAME:
            if not (k == _lk.ANSWER and qtype == RRSIG):  # those are the signatures
                pf.sign_section(r.answer, a0, wild, wowner)
            if len(r.additional) > d0:
                pf.sign_section(r.additional, d0)
            if o.wild:
                pf.wildcard(r, o.zone, lname, o.owner)
            return
        if k == _lk.NODATA or k == _lk.NXDOMAIN:
            soa = []
            if r.authority and r.authority[-1].rtype == _t.SOA:
                s = r.authority.pop()
                soa = [s] + capped(pf.sigs(s.name.lc, _t.SOA), s.ttl)
            if k == _lk.NODATA and not o.wild:
                r.authority.extend(soa)  # NSD's order (it decides what truncation keeps)
                pf.nodata(r, o.zone, lname)
                return
            if k == _lk.NXDOMAIN:
                pf.nxdomain(r, o.zone, lname, o.owner)
                r.authority.extend(soa)
            else:  # NSD's order: the name's absence, the SOA, the wildcard's own record
                pf.wildcard(r, o.zone, lname, o.owner)
                r.authority.extend(soa)
                pf.wildcard_nodata(r, o.zone, lname, o.owner)
            return
        if k == _lk.DELEGATION:
            pf.referral(r, o.zone, o.owner)

    def _owned(self, rrs, name):
        """The RRset with `name` (the query's case, or the wildcard's match) as owner."""
        return [RR(name, x.rtype, x.rclass, x.ttl, x.rdata) for x in rrs]

    def _additional(self, r, rrs, zone):
        """A/AAAA of MX and SRV targets inside our zones (RFC 1035 3.3.9, RFC 2782), of NS
        targets inside the same zone (as NSD: glue-like data only from the zone answering)."""
        seen = []
        apex = None
        for rr in rrs:
            t = rr.rtype
            if t == _t.NS:
                target = rr.rdata.target
                if apex is None:
                    apex = Name(self.db.zone(zone)[0])
                if not target.is_subdomain(apex):
                    continue
            elif t == _t.SRV:
                target = rr.rdata.target
            elif t == _t.MX:
                target = rr.rdata.exchange
            else:
                continue
            lt = target.wire.lower()
            if lt not in seen and lt != b"\x00":
                seen.append(lt)
        if seen:
            r.additional.extend(self.addresses(seen))


def _tsig_sign(w, signed):
    """w with the TSIG record answering a request signed as `signed` (General._tsig)."""
    from dnsbox.auth import tsig as _tsig

    return _tsig.sign(w, *signed)


def _signed_stream(msgs, signed):
    """The messages of a transfer, each signed: the first as an answer to the request, the
    others chained to the one before (RFC 8945 5.3.1)."""
    from dnsbox.auth import tsig as _tsig  # loaded already: _transfer imports it

    key, f, mac, now = signed
    first = True
    for w in msgs:
        if first:
            w, mac = _tsig.sign_mac(w, key, f, mac, now)
            first = False
        else:
            w, mac = _tsig.sign_next(w, key, f, mac, now)
        yield w


def _ixfr_serial(m):
    """The serial of the one SOA record in an IXFR query's authority section, or -1."""
    a = m.authority
    if len(a) != 1 or a[0].rtype != _t.SOA or a[0].name != m.question[0].name:
        return -1
    return a[0].rdata.serial


def _cname(target):
    from dnsbox.wire import rd_std

    return rd_std.CNAME(target)
