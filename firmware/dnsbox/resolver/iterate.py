"""Iterative resolution from the root (RFC 1034 5.3.3), sans-I/O.

One Iteration answers one question. It never touches a socket or a clock: it returns actions
and is fed what happened.
  it = Iteration(env, qname, qtype, now)
  act = it.start(now)                 # an Ask, or a Result when the caches answer at once
  act = it.reply(ask, data, src, now) # bytes from the socket of the current Ask, src (ip, port);
                                      # None: not an answer to that Ask (ignored, keep waiting)
  act = it.failed(ask, now, reason)   # the current Ask timed out / its socket failed
Ask and Result: dnsbox.resolver.ask (the interface every job of the driver shares).

The algorithm is written as nested generators (`yield` an Ask, receive the outcome), so
following a referral, looking up an NS name's address or a CNAME target reads as plain code;
every loop is bounded by a named limit. Shared state lives in Env: the delegation and RRset
caches, server RTTs, the root hints, the random source (os.urandom in the firmware, injected in
tests) and the switches (QNAME minimisation, 0x20).

The scrub (what is kept from a server's answer), per response from a server asked for zone Z:
- answer: CNAME/DNAME links and final records along the chain from the name asked, owners
  inside Z only (bailiwick); cached at rank auth-answer (aa) or answer (RFC 2181 5.4.1);
- referral: the NS RRset of a child zone strictly below Z and above the name asked; glue: only
  A and AAAA records for those NS names, inside Z, kept only in that delegation (never given to
  clients); loopback and unspecified addresses dropped (do-not-query-localhost, below);
- negative: the SOA of a zone inside Z that encloses the name; TTL min(TTL, minimum);
- anything else (additional extras, upward/sideways referrals, other owners) is dropped.

Behaviours that follow Unbound (each has a test on tools/testnet.py):
- parent-side glue: when looking up an NS name's address fails (the child answers NODATA, a
  referral to a dead server, nothing), the addresses the parents' referrals gave for that name
  (kept in their Delegations) are used;
- 0x20 (use-caps-for-id): an answer that matches but for the case of its question marks its
  server as not echoing case (Env.nocaps, bounded); the question goes again to that server
  without 0x20, and later ones too;
- do-not-query-localhost: addresses learnt from the network (glue, NS lookups, priming) in
  127.0.0.0/8, 0.0.0.0/8, ::1, :: or ::ffff:127.0.0.0/104 are never asked, unless configured
  (hints=) or Env.local_ok (do-not-query-localhost=no);
- TTLs: cache-min-ttl/cache-max-ttl clamp positive data (max wins); an answer keeps its own TTL
  even when it exceeds the parent's NS TTL (Unbound caches the authoritative TTL; only the
  delegation itself lives no longer than the parent's NS TTL); an empty NOERROR without SOA
  and without AA is lame (another server is asked; nothing is cached);
- families: addresses of both families are kept; only those of Env.families are asked (the
  box's usable families, set by main), ordered by measured RTT; a timeout moves on to the next
  address, of either family.
"""

from dnsbox.compat import const
from dnsbox.resolver import delegation as _dg
from dnsbox.resolver.ask import (FAIL_TTL_S, TCP, UDP, Ask, Result, match, question, quick,
                                 quick_result)
from dnsbox.resolver.delegation import Delegation
from dnsbox.resolver.scrub import clamp as _clamp
from dnsbox.resolver.servers import TCP_TIMEOUT_MS
from dnsbox.wire import rcode as _rc
from dnsbox.wire import types as _t
from dnsbox.wire.edns import DO_OPT, EDE_NO_REACHABLE_AUTHORITY, EDE_OTHER, PLAIN_OPT
from dnsbox.wire.name import Name
from dnsbox.wire.rd_std import CNAME as _CNAME
from dnsbox.wire.rd_std import ipv4_to_text, ipv6_to_text
from dnsbox.wire.rr import RR

# Limits (each has a test in tests/unit/test_iterate*.py).
MAX_QUERIES = const(30)  # upstream queries per client request (DNSvizor's figure)
MAX_NS_LOOKUPS = const(3)  # NS-name address lookups per delegation and request (NXNSAttack)
MAX_CNAME = const(8)  # CNAME/DNAME links followed for one question
MAX_REFERRALS = const(12)  # referrals followed in one lookup (a name has <= 127 labels, but
# real chains are < 8 deep)
MAX_DEPTH = const(3)  # nesting of NS-address lookups (an NS name whose NS needs a lookup...)
MAX_MINIMISE = const(10)  # RFC 9156 MAX_MINIMISE_COUNT: minimised steps before the full name
MAX_TRIES_PER_STEP = const(6)  # servers tried for one question to one zone
PRIME_RETRY_S = const(60)  # a failed priming is tried again after this long
MAX_NOCUT = const(1024)  # names remembered as existing without a zone cut (QNAME minimisation)
NEG_MAX_TTL_S = const(10800)  # negative answers at most 3 hours (RFC 2308 5)
MAX_TTL_S = const(86400)  # positive TTLs cut to a day (cache-max-ttl's default and ceiling)
MAX_NOCAPS = const(256)  # servers remembered as not echoing the question's case (0x20)

_DNSSEC = (_t.RRSIG, _t.NSEC, _t.NSEC3)  # the records a validating resolver keeps as proofs


class Fail(Exception):
    """Resolution failed: SERVFAIL with an EDE. fatal: no retry anywhere (budget spent)."""

    def __init__(self, code, text, fatal=False):
        super().__init__(text)
        self.code = code
        self.text = text
        self.fatal = fatal


class Env:
    """Shared between iterations. hints: [(ns name text, ip text, port)]; port: the port of
    every server learnt from referrals (53; tests may use another); rrs and deleg_bytes: the
    RRset cache and the zone cuts' byte bound (dnsbox.resolver.budget)."""

    def __init__(self, hints, rng, servers, rrs=None, port=53, deleg_bytes=_dg.DEFAULT_BYTES):
        ns = []
        root = Delegation(Name(b"\x00"), ns, -1)
        self.ports = {}
        for nsname, ip, p in hints:
            n = Name.from_text(nsname)
            if n not in ns:
                ns.append(n)
            root.add_addr(n, ip)
            if p != port:
                self.ports[ip] = p
        self.rng = rng
        self.servers = servers
        self.hints_root = root
        self.deleg = _dg.Delegations(root, deleg_bytes)
        # priming (RFC 8109): the root's own NS set replaces the hints while it lives; not for
        # hints on other ports (a test root: what it names would be asked on port 53)
        self.prime = not self.ports
        self.primed_until = 0  # ms: the primed root (or the last try) holds until then
        self.rrs = rrs if rrs is not None else _dg.RRCache()
        self.port = port
        self.qmin = True  # QNAME minimisation (RFC 9156), relaxed
        self.nocut = {}  # lower-case wire -> expiry (ms): exists below its zone, no cut
        self.use0x20 = True  # random case towards authoritative servers
        self.nocaps = {}  # ip -> 1: servers that do not echo the case (asked without 0x20)
        self.dnssec = False  # DO in every query; signatures and proofs kept for validation
        self.configured = [ip for _n, ip, _p in hints]  # asked even if loopback
        self.local_ok = False  # do-not-query-localhost=no: loopback learnt from referrals too
        self.families = (4,)  # address families the box can use (4, 6): set by main
        self.min_ttl = 0  # cache-min-ttl (seconds)
        self.max_ttl = MAX_TTL_S  # cache-max-ttl (seconds)

    def port_of(self, ip):
        return self.ports.get(ip, self.port)

    def caps(self, ip):
        """0x20 for questions to ip: on unless turned off or ip does not echo case."""
        return self.use0x20 and ip not in self.nocaps

    def no_caps(self, ip):
        nc = self.nocaps
        if len(nc) >= MAX_NOCAPS:
            nc.clear()  # simple and bounded: such servers are found again by their answers
        nc[ip] = 1

    def addr(self, r):
        """The ip text of an A or AAAA record learnt from the network, None if it must not be
        asked (do-not-query-localhost) or is of another type."""
        b = r.rdata.address if r.rtype == _t.A or r.rtype == _t.AAAA else None
        if b is None or r.rclass != 1:
            return None
        if r.rtype == _t.A:
            ip = ipv4_to_text(b)
            local = b[0] == 127 or b[0] == 0
        else:
            ip = ipv6_to_text(b)
            local = (b[:15] == _ZERO15 and b[15] < 2) or (b[:12] == _MAPPED and
                                                          (b[12] == 127 or b[12] == 0))
        if local and not self.local_ok and ip not in self.configured:
            return None
        return ip

    def clamp(self, rrs):
        """rrs with TTLs within cache-min-ttl..cache-max-ttl (the maximum wins)."""
        return _clamp(rrs, self.min_ttl, self.max_ttl)


_ZERO15 = bytes(15)
_MAPPED = bytes(10) + b"\xff\xff"  # ::ffff:0:0/96, IPv4-mapped


def _suffix(name, n):
    """The last n labels of name (n counts labels, the root not included)."""
    w = name.wire
    total = name.label_count()
    i = 0
    k = total
    while k > n:
        i += w[i] + 1
        k -= 1
    return Name(w[i:], name.lc[i:])


def _sets(rrs, qclass=1):
    """Group records into RRsets: {(lc owner, type): [RR]} in order of first appearance."""
    out = {}
    order = []
    for r in rrs:
        if r.rclass != qclass:
            continue
        k = (r.name.lc, r.rtype)
        lst = out.get(k)
        if lst is None:
            lst = []
            out[k] = lst
            order.append(k)
        lst.append(r)
    return out, order


def _min_ttl(rrs, most):
    t = most
    for r in rrs:
        if r.ttl < t:
            t = r.ttl
    return t


class Iteration:
    linger = False  # one ask at a time: a new ask closes the one before

    # The common question (its zone's servers known, nothing to minimise, nothing cached) is
    # asked without the generators (fast_start): their frames are most of what a question
    # allocates, and on MicroPython allocation drives the collector, whose cost grows with the
    # cache. The answer ends it when dnsbox.resolver.ask.quick takes it; otherwise the
    # generators start then, reach the same ask (same caches, same choice of server) and are
    # given the answer that came (_replay). Class defaults stand for attributes not yet set.
    ns_lookups = None  # zone lc -> NS-name lookups made for it
    resolving = ()  # NS names whose address is being looked up (cycle guard)
    lame = ()  # (zone lc, ip) that answered lamely in this request (not asked again)
    last_ip = None  # the server that gave the last answer
    ask = None
    result = None
    _gen = None

    def __init__(self, env, qname, qtype, now):
        self.env = env
        self.qname = qname
        self.qtype = qtype
        self.now = now
        self.queries = 0  # upstream queries sent (UDP and TCP)
        self.sent = 0  # ms when the current Ask was made
        self.log = []  # (zone, name asked, type, ip) per query (trace() gives texts)

    def _begin(self):
        """The generators and the tables they keep, made on first need."""
        self.ns_lookups = {}
        self.resolving = []
        self.lame = []
        self._gen = self._main()

    def trace(self):
        """[(zone text, name asked in lower case, type, ip)] for every query sent."""
        return [(z.to_text(), n.lower().to_text(), t, ip) for z, n, t, ip in self.log]

    # --- the shell's entry points -----------------------------------------------------------
    def start(self, now):
        self.now = now
        a = self._fast_start()
        if a is not None:
            return a
        self._begin()
        return self._step(None)

    def _fast_start(self):
        """The Ask for the question itself to the closest known zone's best server when the
        generators would ask exactly that first, else None."""
        env = self.env
        name = self.qname
        lc = name.lc
        if self.qtype == _t.DS or env.rrs.get(lc, self.qtype, self.now) is not None:
            return None
        if env.rrs.get(lc, _t.CNAME, self.now) is not None:
            return None
        d = env.deleg.closest(name, self.now, False)
        if d is env.deleg.root:
            return None  # priming, referrals: the generators' work
        ips = d.ips(env.families)
        if not ips:
            return None
        if env.qmin:
            total = name.label_count()
            known = d.zone.label_count()
            while known + 1 < total:
                if env.nocut.get(_suffix(name, known + 1).lc, 0) <= self.now:
                    return None  # a minimised step first
                known += 1
        ip = env.servers.order(ips, self.now)[0]
        self.queries = 1
        caps = env.caps(ip)
        wire, qn = question(name, self.qtype, env.rng(2), False, caps, env.rng,
                            DO_OPT if env.dnssec else PLAIN_OPT)
        self.log.append((d.zone, name, self.qtype, ip))
        a = Ask(ip, env.port_of(ip), wire, UDP, env.servers.timeout(ip, self.now), qn,
                self.qtype, caps)
        self.ask = a
        self.sent = self.now
        return a

    def _replay(self, a, event):
        """The generators take over from a fast start: run them to their first ask and give it
        the event of the fast one when it is the same question to the same server; else their
        own ask goes out (the fast one's event is dropped)."""
        self._begin()
        self.queries = 0
        self.log = []
        b = self._step(None)
        if (isinstance(b, Ask) and b.ip == a.ip and b.port == a.port and b.proto == UDP
                and b.qtype == a.qtype and b.qname.lc == a.qname.lc):
            self.ask = a
            self.sent = self.now - (event[2] if event[0] == "reply" else 0)
            return self._step(event)
        return b

    def reply(self, ask, data, src, now):
        a = self.ask
        if a is None or ask is not a or src != (a.ip, a.port):
            return None
        env = self.env
        if (a.qname.lc == self.qname.lc and a.qtype == self.qtype and not self.resolving
                and a.proto == UDP and not env.min_ttl):
            # the client's own question (no CNAME followed, no NS address looked up): its
            # addresses end the iteration without objects (dnsbox.resolver.ask.quick)
            q = quick(a, data, env.max_ttl)
            if q is not None:
                env.servers.good(a.ip, now - self.sent, now)
                self.ask = None
                self._gen = None
                self.result = quick_result(q)
                return self.result
        m = match(a, data)
        ev = None if m is None else ("reply", m, now - self.sent)
        if m is None and a.exact:
            # use-caps-for-id fallback: the answer but for the case of its question
            a.exact = False
            m = match(a, data)
            a.exact = True
            if m is not None:
                ev = ("nocaps", m)
        if ev is None:
            return None
        self.now = now
        if self._gen is None:
            return self._replay(a, ev)
        return self._step(ev)

    def failed(self, ask, now, reason="timed out"):
        if self.ask is None or ask is not self.ask:
            return None
        self.now = now
        if self._gen is None:
            return self._replay(ask, ("fail", reason))
        return self._step(("fail", reason))

    def _step(self, value):
        try:
            a = self._gen.send(value)
        except StopIteration:
            self.ask = None
            return self.result
        except Exception as e:  # MemoryError or a bug: this question fails, the rest go on
            self.ask = None
            if self.result is None:
                self.result = Result(_rc.SERVFAIL, [], [], (EDE_OTHER, "internal error: %s" %
                                                            type(e).__name__), FAIL_TTL_S)
            return self.result
        self.ask = a
        self.sent = self.now
        return a

    # --- the algorithm ----------------------------------------------------------------------
    def _main(self):
        try:
            r = yield from self._resolve(self.qname, self.qtype, 0)
        except Fail as f:
            r = Result(_rc.SERVFAIL, [], [], (f.code, f.text), FAIL_TTL_S)
        self.result = r

    def _resolve(self, qname, qtype, depth):
        """-> Result for (qname, qtype): CNAME/DNAME chains followed across zones."""
        rrs = self.env.rrs
        chain = []
        seen = [qname.lc]
        name = qname
        for _ in range(MAX_CNAME + 1):
            hit = rrs.get(name.lc, qtype, self.now)
            if hit is not None:
                return self._final(_rc.NOERROR, chain + hit, [])
            c = rrs.get(name.lc, _t.CNAME, self.now) if qtype != _t.CNAME else None
            if c is not None:
                chain.extend(c)  # the CNAME (and its signatures, kept when validating)
                name = c[0].rdata.target
            else:
                out = yield from self._lookup(name, qtype, depth)
                chain.extend(out[1])
                if out[3] is None:
                    return self._final(out[0], chain, out[2])
                name = out[3]
            if name.lc in seen:
                raise Fail(EDE_OTHER, "CNAME loop at %s" % name.lower())
            seen.append(name.lc)
            links = 0
            for r in chain:
                if r.rtype == _t.CNAME:
                    links += 1
            if links > MAX_CNAME:
                break
        raise Fail(EDE_OTHER, "CNAME chain longer than %d at %s" % (MAX_CNAME, qname))

    def _final(self, rcode, answer, authority):
        env = self.env
        if env.min_ttl or env.max_ttl < MAX_TTL_S:
            answer = env.clamp(answer)  # cached ones were clamped when stored; these may not
        life = _min_ttl(answer, env.max_ttl)
        if rcode != _rc.NOERROR or not answer or answer[-1].rtype != self.qtype:
            life = _min_ttl(authority, NEG_MAX_TTL_S) if authority else 0
            if answer:
                life = _min_ttl(answer, life)
            if life > env.max_ttl:
                life = env.max_ttl
        return Result(rcode, answer, authority, None, life)

    def _lookup(self, name, qtype, depth):
        """Iterate from the closest known delegation.
        -> (rcode, records for the answer, authority, next name to chase or None)."""
        env = self.env
        # DS lives on the parent side of a cut (RFC 4035 3.1.4.1): start above the name
        above = name.parent() if qtype == _t.DS and not name.is_root() else name
        d = env.deleg.closest(above, self.now, depth > 0, env.families)
        if d is env.deleg.root and env.prime and self.now >= env.primed_until:
            yield from self._prime(depth)
            d = env.deleg.root
        qmin = env.qmin and qtype != _t.DS
        total = name.label_count()
        known = d.zone.label_count()  # the deepest ancestor known to exist (below d.zone)
        steps = 0
        referrals = 0
        while True:
            while qmin and known + 1 < total and env.nocut.get(_suffix(name, known + 1).lc,
                                                                0) > self.now:
                known += 1  # known from an earlier question: no cut here, the name exists
            if qmin and known + 1 < total and steps < MAX_MINIMISE:
                sname = _suffix(name, known + 1)
                stype = _t.A  # RFC 9156 2.1 (relaxed): A rather than NS
                steps += 1
            else:
                sname = name
                stype = qtype
            m = yield from self._ask_zone(d, sname, stype, depth)
            z = d.zone
            rc = m.rcode
            minimised = sname is not name
            if rc != _rc.NOERROR and rc != _rc.NXDOMAIN:
                if minimised:
                    qmin = False  # relaxed: a server that errs on the shorter name
                    continue
                self.lame.append((d.zone.lc, self.last_ip))
                continue
            ref = self._referral(m, z, sname)
            if ref is not None:
                referrals += 1
                if referrals > MAX_REFERRALS:
                    raise Fail(EDE_OTHER, "more than %d referrals for %s" % (MAX_REFERRALS, name))
                d = ref
                known = d.zone.label_count()
                continue
            if minimised:
                if rc == _rc.NXDOMAIN or self._has_dname(m, z, name):
                    qmin = False  # relaxed fallback (RFC 9156 2.3): ask the full name
                else:
                    known += 1  # the shorter name exists (or is an empty non-terminal)
                    self._no_cut(sname, m, z)
                continue
            out = self._answer(m, z, name, qtype, depth > 0)
            if out is None:
                # neither answer, referral nor negative: lame
                self.lame.append((d.zone.lc, self.last_ip))
                continue
            return out

    def _prime(self, depth):
        # RFC 8109: ask the hinted servers for the root NS set and their addresses; on any
        # failure keep what we have and try again after PRIME_RETRY_S
        env = self.env
        env.primed_until = self.now + PRIME_RETRY_S * 1000
        root = env.hints_root
        try:
            m = yield from self._ask_zone(root, root.zone, _t.NS, depth)
        except Fail as f:
            if f.fatal:
                raise
            return
        ns = []
        ttl = MAX_TTL_S
        for r in m.answer:
            if r.rtype == _t.NS and r.rclass == 1 and r.name.is_root() and len(ns) < 13:
                if r.rdata.target.lower() not in ns:
                    ns.append(r.rdata.target.lower())
                ttl = r.ttl if r.ttl < ttl else ttl
        if m.rcode != _rc.NOERROR or not ns:
            return
        d = Delegation(root.zone, ns, -1)
        for r in m.additional:
            if r.name in ns:
                ip = env.addr(r)
                if ip is not None:
                    d.add_addr(r.name, ip)
        if not d.ips(env.families):
            return
        for n in root.ns:  # the hints stay as a fallback behind the primed servers
            if n not in d.ns:
                d.ns.append(n)
                for ip in root.addrs.get(n.lc, ()):
                    d.add_addr(n, ip)
        env.deleg.root = d
        env.primed_until = _dg.ttl_ms(ttl, self.now)

    def _no_cut(self, sname, m, z):
        # remember that sname exists below z without a zone cut, as long as the answer's data
        # or negative TTL lives (saves the minimised query for the next name under it)
        ttl = 0
        for r in m.answer:
            if r.name == sname and (ttl == 0 or r.ttl < ttl):
                ttl = r.ttl
        if ttl == 0:
            soa = self._soa(m, z, sname)
            ttl = soa[0].ttl if soa else 0
        if ttl <= 0:
            return
        nc = self.env.nocut
        if len(nc) >= MAX_NOCUT:
            nc.clear()  # simple and bounded: the next questions learn again
        nc[sname.lc] = _dg.ttl_ms(ttl, self.now)

    def _has_dname(self, m, z, name):
        for r in m.answer:
            if r.rtype == _t.DNAME and name.is_subdomain(r.name) and r.name.is_subdomain(z):
                return True
        return False

    def _referral(self, m, z, sname):
        """A Delegation if m refers us to a zone strictly below z enclosing sname, else None.
        Glue is taken only for the NS names of that zone and only inside z (the bailiwick of
        the server that sent it)."""
        if m.answer or m.rcode != _rc.NOERROR:
            return None
        cut = None
        ns = []
        ttl = MAX_TTL_S
        for r in m.authority:
            if r.rtype != _t.NS or r.rclass != 1:
                continue
            if cut is None:
                if r.name == z or not r.name.is_subdomain(z) or not sname.is_subdomain(r.name):
                    return None  # upward, sideways or same-zone NS: lame (RFC 1034 5.3.3)
                cut = r.name
            elif r.name != cut:
                continue
            if r.rdata.target not in ns and len(ns) < _dg.MAX_NS_PER_ZONE:
                ns.append(r.rdata.target.lower())
            if r.ttl < ttl:
                ttl = r.ttl
        if cut is None:
            return None
        env = self.env
        d = Delegation(cut.lower(), ns, _dg.ttl_ms(ttl if ttl < env.max_ttl else env.max_ttl,
                                                   self.now))
        for r in m.additional:
            if r.name in ns and r.name.is_subdomain(z):
                ip = env.addr(r)
                if ip is not None:
                    d.add_addr(r.name, ip)
        self.env.deleg.put(d, self.now)
        return d

    def _answer(self, m, z, name, qtype, keep):
        """(rcode, records, authority, next) from an answer or negative answer, or None.
        keep: put the RRsets in the RRset cache (NS-address lookups: what later iterations
        reuse; a client's own answer goes to the response cache instead, one copy not two)."""
        env = self.env
        rank = _dg.RANK_AUTH_ANSWER if m.aa else _dg.RANK_ANSWER
        sets, _order = _sets(m.answer)
        out = []
        cur = name
        proofs = self._proofs(m, z) if env.dnssec else []
        for _ in range(MAX_CNAME + 1):
            fin = sets.get((cur.lc, qtype))
            if fin is not None and cur.is_subdomain(z):
                fin = env.clamp(fin) + self._sigs(m, cur, qtype)
                if keep:
                    env.rrs.put(cur.lc, qtype, fin, rank, self.now)
                return (_rc.NOERROR, out + fin, proofs, None)
            c = sets.get((cur.lc, _t.CNAME))
            nxt = None
            dn = self._dname_for(m, z, cur)
            if dn is None and c is not None and cur.is_subdomain(z):
                c = env.clamp(c[:1]) + self._sigs(m, cur, _t.CNAME)
                if keep:
                    env.rrs.put(cur.lc, _t.CNAME, c, rank, self.now)
                out.extend(c)
                nxt = c[0].rdata.target
            else:
                if dn is not None:  # our own CNAME from the DNAME, not the server's
                    out.append(dn)
                    out.extend(self._sigs(m, dn.name, _t.DNAME))
                    try:
                        nxt = Name(cur.wire[: len(cur.wire) - len(dn.name.wire)] +
                                   dn.rdata.target.wire)
                    except Exception:
                        raise Fail(EDE_OTHER, "DNAME substitution too long at %s" % cur)
                    out.append(RR(cur, _t.CNAME, 1, dn.ttl, _CNAME(nxt)))  # RFC 6672 2.2
            if nxt is None:
                break
            if len(nxt.wire) > 255:
                raise Fail(EDE_OTHER, "DNAME substitution too long at %s" % cur)
            cur = nxt
            if not cur.is_subdomain(z):
                return (_rc.NOERROR, out, [], cur)  # the chain leaves this zone: chase it
        soa = self._soa(m, z, cur)
        if soa and env.dnssec:
            soa = soa + self._sigs(m, soa[0].name, _t.SOA, m.authority) + proofs
        if m.rcode == _rc.NXDOMAIN:
            return (_rc.NXDOMAIN, out, soa, None)
        if soa or (m.aa and not out):
            return (_rc.NOERROR, out, soa, None)  # NODATA (RFC 2308 2.2)
        if out:
            return (_rc.NOERROR, out, [], cur)  # chain without its end: ask for the rest
        return None

    def _sigs(self, m, owner, covered, section=None):
        """The RRSIGs of a response that cover (owner, covered), when validating."""
        if not self.env.dnssec:
            return []
        return [r for r in (m.answer if section is None else section)
                if r.rtype == _t.RRSIG and r.rclass == 1 and r.name == owner
                and r.rdata.type_covered == covered]

    def _proofs(self, m, z):
        """The NSEC and NSEC3 records of the authority section inside zone z, with their
        RRSIGs: denial of existence and wildcard proofs for the validator."""
        out = []
        for r in m.authority:
            if r.rclass != 1 or not r.name.is_subdomain(z):
                continue
            if r.rtype in (_t.NSEC, _t.NSEC3) or (r.rtype == _t.RRSIG and
                                                   r.rdata.type_covered in (_t.NSEC, _t.NSEC3)):
                out.append(r)
        return out

    def _dname_for(self, m, z, cur):
        for r in m.answer:
            if (r.rtype == _t.DNAME and r.rclass == 1 and cur.is_subdomain(r.name)
                    and cur != r.name and r.name.is_subdomain(z)):
                return r
        return None

    def _soa(self, m, z, cur):
        for r in m.authority:
            if (r.rtype == _t.SOA and r.rclass == 1 and r.name.is_subdomain(z)
                    and cur.is_subdomain(r.name)):
                t = r.ttl if r.ttl < r.rdata.minimum else r.rdata.minimum
                if t > NEG_MAX_TTL_S:
                    t = NEG_MAX_TTL_S
                return [RR(r.name, r.rtype, r.rclass, t, r.rdata)]
        return []

    # --- asking the servers of a zone -------------------------------------------------------
    def _ask_zone(self, d, sname, stype, depth):
        """The answer (Message) of one of d's servers; Fail when none answers."""
        tried = []
        for _ in range(MAX_TRIES_PER_STEP):
            ips = [ip for ip in d.ips(self.env.families)
                   if ip not in tried and (d.zone.lc, ip) not in self.lame]
            if not ips:
                got = yield from self._find_addr(d, depth)
                if not got:
                    break
                continue
            ip = self.env.servers.order(ips, self.now)[0]
            tried.append(ip)
            m = yield from self._send(ip, sname, stype, d.zone)
            if m is not None:
                self.last_ip = ip
                return m
        raise Fail(EDE_NO_REACHABLE_AUTHORITY,
                   "no server of %s answered for %s" % (d.zone, sname.lower()))

    def _find_addr(self, d, depth):
        """Look up the address of one more of d's NS names (A, then AAAA when the box has IPv6
        and no A was usable; the parents' glue for it when that fails); True if one was
        found."""
        if depth >= MAX_DEPTH:
            return False
        fams = self.env.families
        for n in d.unresolved(fams):
            k = d.zone.lc
            done = self.ns_lookups.get(k, 0)
            if done >= MAX_NS_LOOKUPS:
                return False  # NXNSAttack: a few lookups per delegation, not one per NS
            if n.lc in self.resolving or (k + n.lc) in self.ns_lookups:
                continue  # an NS cycle, or already tried in this request
            self.ns_lookups[k] = done + 1
            self.ns_lookups[k + n.lc] = 1
            self.resolving.append(n.lc)
            try:
                for t in (_t.A, _t.AAAA):
                    if (4 if t == _t.A else 6) not in fams:
                        continue
                    try:
                        r = yield from self._resolve(n, t, depth + 1)
                    except Fail as f:
                        if f.fatal:
                            raise
                        r = None
                    if r is not None and r.rcode == _rc.NOERROR:
                        for rr in r.answer:
                            if rr.rtype == t and rr.name == n:
                                ip = self.env.addr(rr)
                                if ip is not None:
                                    d.add_addr(n, ip)
                    if d.ips_of(n, fams):
                        break
            finally:
                self.resolving.remove(n.lc)
            if not d.ips_of(n, fams):
                self._parent_glue(d, n)
            if d.ips_of(n, fams):
                return True
        return False

    def _parent_glue(self, d, n):
        # the child side gave no address for n (NODATA, a referral to nowhere, a failure):
        # take what the referrals of n's enclosing zones gave as glue for it (Unbound's
        # parent-side addresses); they live as long as those delegations
        deleg = self.env.deleg
        w = n.lc
        i = 0
        while w[i]:
            e = deleg.get(w[i:], self.now)
            if e is not None and e is not d:
                for ip in e.addrs.get(n.lc, ()):
                    d.add_addr(n, ip)
            i += w[i] + 1

    def _send(self, ip, sname, stype, zone):
        """One question to one server (UDP, then TCP if truncated): Message or None."""
        env = self.env
        m = None
        proto = UDP
        caps = env.caps(ip)
        while proto is not None:
            if self.queries >= MAX_QUERIES:
                raise Fail(EDE_OTHER, "more than %d upstream queries for %s" % (
                    MAX_QUERIES, self.qname), True)
            self.queries += 1
            wire, qn = question(sname, stype, env.rng(2), False, caps, env.rng,
                                DO_OPT if env.dnssec else PLAIN_OPT)
            t = env.servers.timeout(ip, self.now) if proto == UDP else TCP_TIMEOUT_MS
            self.log.append((zone, sname, stype, ip))
            ev = yield Ask(ip, env.port_of(ip), wire, proto, t, qn, stype, caps)
            if ev[0] == "nocaps":
                env.no_caps(ip)  # it answers, without our case: ask it again without 0x20
                caps = False
                continue
            if ev[0] != "reply":
                env.servers.bad(ip, self.now)
                return None
            m = ev[1]
            if proto == UDP:
                env.servers.good(ip, ev[2], self.now)
            if m.tc and proto == UDP:
                proto = TCP  # truncated: the same server over TCP (RFC 7766 5)
            elif m.tc:
                return None
            else:
                proto = None
        return m
