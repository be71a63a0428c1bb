"""The resolver's one query driver, in both resolver modes: client questions in, jobs run,
answers out. Sans-I/O: no sockets, no clock (`now`, ms, and `rng` are passed in).

The socket glue (dnsbox.net.resolve) calls
  query(q, proto, client, ip, now)       a client's query -> reply bytes now, or None
  upstream_reply(token, data, src, now)  bytes that arrived on an ask's socket, src (ip, port)
  upstream_failed(token, reason, now)    that socket failed (send error, TCP reset)
  tick(now); next_deadline()             timers
and performs self.actions, a list it empties:
  ("send", token, ip, port, wire, proto)  open a socket for ask `token`, send wire
  ("done", token)                         close that ask's socket
  ("answer", client, proto, bytes)        send a reply to a client that waited

A query first passes the front stages (dnsbox.resolver.front: malformed, zones, access, local
names, the cache). A question they leave becomes one Pending: the job that resolves it, chosen
here (a .local name with mdns-bridge: MdnsQuery; a name with a server= route: ForwardJob; else,
recursing: Iteration from the root hints), the clients waiting for it (identical questions in
flight are asked once), its open asks and timers. Every job has the interface of
dnsbox.resolver.ask. When the job ends, every waiter is answered, the answer is cached, a failure
is remembered briefly (RFC 9520), and an AAAA NODATA becomes, with DNS64, one follow-up A
question whatever job answered it.

With a Trust (DNSSEC validation on), a job's answer is validated before anyone gets it
(dnsbox.dnssec.validator): the DS and DNSKEY questions the validation needs are asked as raw
questions (same jobs, their answers given to the validation as they came, not cached); clients
then get SERVFAIL with the Extended DNS Error for bogus data (unless they set CD), AD for secure
data when they set AD or DO (RFC 6840 5.8), and the RRSIG, NSEC and NSEC3 records only when
they set DO (RFC 4035 3.2.1). The cache holds both forms (the signed one under the question +
front.DNSSEC_KEY) and whether the data was secure.

Serve-expired (RFC 8767; Unbound's serve-expired, with stale=(reply TTL, client timeout ms)):
the cache keeps expired entries for a while (dnsbox.resolver.cache), and when a question's
resolution fails (every server timed out, refused or failed; no reachable authority; the time
per question is up), or its failure is still remembered (RFC 8767's failure recheck timer), the
clients get the expired answer with every TTL set to the reply TTL and the Extended DNS Error 3
(Stale Answer) when they sent EDNS. With a client timeout, clients still waiting after it get
that answer at once while the resolution goes on and refreshes the cache (RFC 8767's client
response timer); with a client timeout of 0 they get it at once and the question is resolved in
the background (Unbound's original serve-expired).

Prefetch (Unbound's prefetch): a key the cache put on its wanted list (a hit in the last tenth of
the entry's life) is resolved again with no client waiting, and its answer replaces the entry;
at most MAX_REFRESH such background questions at once, each counted among the questions in
flight, never two for one question.

Bounds (each counted in dnsbox.resolver.budget's share of the heap): questions in flight,
clients per question, a share of the questions in flight per client address (one client's dead
names cannot starve the others), failures remembered, time per question. Work past a bound is
shed at once with SERVFAIL and an Extended DNS Error. A failure inside a job (a bug, a
MemoryError) ends that question with SERVFAIL: its asks are closed and the tables stay whole.
"""
from dnsbox.compat import const
from dnsbox.config.nets import allowed
from dnsbox.resolver import dns64 as _dns64
from dnsbox.resolver import front
from dnsbox.resolver.ask import FAIL_TTL_S, Ask, Result
from dnsbox.resolver.forward import ForwardJob
from dnsbox.resolver.mdnsq import MDNS_DOMAIN, MdnsQuery
from dnsbox.wire import message as _msg
from dnsbox.wire import rcode as _rc
from dnsbox.wire import types as _t
from dnsbox.wire.edns import EDE_NO_REACHABLE_AUTHORITY, EDE_OTHER, EDE_STALE
from dnsbox.wire.name import Name
from dnsbox.wire.reply import error, render
from dnsbox.wire.rr import Question
from dnsbox.zonedb.lookup import under

MAX_WAITERS = const(32)  # clients waiting for one question; more get SERVFAIL at once
MAX_RESOLVE_MS = const(10000)  # a question still unresolved after this gets SERVFAIL
MAX_FAILS = const(256)  # failures remembered (RFC 9520); the oldest half is dropped when full
MAX_REFRESH = const(8)  # background questions (prefetch, serve-expired's refresh) in flight
STALE_EDE = (EDE_STALE, "")  # RFC 8914 4.4: the answer is from expired cache data
STATS_NAME = b"\x05stats\x06dnsbox\x00"  # CH TXT: counters (allowed clients only)
RAW_KEY = b"\x02"  # appended to a question's key: a raw question of a validation
_DNSSEC_TYPES = (_t.RRSIG, _t.NSEC, _t.NSEC3)


class Pending:
    """One question in flight: its job, waiters (client, proto, ID, question bytes, flags,
    payload, ip), open asks (token -> Ask), the current ask's token and deadline, DNS64
    followers."""

    raw = False  # a validation's question: its answer goes to needers as it came
    refresh = False  # a background question (prefetch): no client, its answer is cached
    signed = False  # a refresh of a signed cache entry: the signed form is cached too
    stale_at = 0  # ms when waiters get the expired answer (client timeout); -1: passed
    val = None  # the Validation of its answer, while one runs
    res = None  # the job's answer while it is validated

    def __init__(self, key, job, now):
        self.key = key
        self.job = job
        self.waiters = []
        self.asks = {}
        self.cur = 0
        self.deadline = 0
        self.started = now
        self.followers = []  # DNS64: AAAA questions waiting for this A answer
        self.needers = []  # validations waiting for this raw question's answer


class Driver:
    """front: what the front stages need (auth: the zones' server or None, zones: their apexes
    as lower-case wire, nets: allowed client networks, local: a dnsbox.resolver.local.Local);
    cache: the response cache; limits: a dnsbox.resolver.budget.Limits; ups: a
    dnsbox.resolver.forward.Upstreams or None; env: a dnsbox.resolver.iterate.Env (recursion
    from the root) or None; dns64: (prefix, length) or None; mdns: .local by multicast DNS;
    stale: (reply TTL s, client timeout ms) to serve expired answers (the cache keeps them),
    or None."""

    def __init__(self, auth, zones, nets, local, cache, limits, rng, ups=None, env=None,
                 dns64=None, mdns=False, trust=None, stale=None):
        self.auth = auth
        self.zones = list(zones)
        self.nets = nets
        self.local = local
        self.cache = cache
        self.limits = limits
        self.rng = rng
        self.ups = ups
        self.env = env
        self.dns64 = dns64
        self.mdns = mdns
        self.trust = trust  # dnsbox.dnssec.validator.Trust: validation on; None: off
        self.inflight = {}  # key -> Pending
        self.tokens = {}  # token -> Pending
        self.clients = {}  # client ip -> waiters it has in flight
        self.fails = {}  # key -> (until ms, (ede code, text))
        self.next_token = 1
        self.due = -1  # the earliest deadline (ms) there may be; -1: none
        self.actions = []
        self.stale_ttl = -1 if stale is None else stale[0]  # TTL of expired answers; -1: off
        self.stale_wait = -1 if stale is None else stale[1]  # client timeout (ms)
        self.refreshing = 0  # background questions in flight
        self.stats = {"started": 0, "upstream": 0, "ignored": 0, "refused": 0, "servfail": 0,
                      "joined": 0, "failcache": 0, "shed": 0, "faults": 0, "stale": 0,
                      "prefetch": 0}
        self.more = []  # other counters shown with these (the serving loop's rate limiter)

    # --- client queries ---------------------------------------------------------------------
    def query(self, q, proto, client, ip, now):
        """Reply bytes for query q from client (ip: its address as an int), or None (dropped,
        or waiting: the answer comes later as an action)."""
        done, v = front.screen(self, q, proto, ip, now, self._special)
        if done:
            return v
        p, qbytes, payload, key = v
        cd = p.flags & 0x10
        w = (client, proto, q[:2], qbytes, p.flags, payload, ip,
             p.edns is not None and p.edns.do)
        f = None if cd else self.fails.get(key)
        if f is not None:
            if f[0] > now:
                self.stats["failcache"] += 1
                r = self._stale(key, w, now)  # RFC 8767 4: stale data until the recheck
                return r if r is not None else error(q[:2], p.flags, qbytes, _rc.SERVFAIL,
                                                     payload, f[1])
            del self.fails[key]
        pend = self.inflight.get(key)
        if self.stale_wait == 0 or (pend is not None and pend.stale_at < 0):
            r = self._stale(key, w, now)  # serve-expired at once, or the client timer passed
            if r is not None:
                if pend is None:
                    self._refresh(self._stale_key(key, w), now)
                return r
        if self.clients.get(ip, 0) >= self.limits.client_share:
            return self._shed(q, p, qbytes, payload, "too many of this client's questions "
                              "in flight")
        if pend is not None:
            if len(pend.waiters) >= MAX_WAITERS:
                return self._shed(q, p, qbytes, payload, "too many clients waiting for this "
                                  "question")
            self._wait(pend, w)
            self.stats["joined"] += 1
            if pend.stale_at == 0:
                self._arm_stale(pend, w, now)  # a background question: no timer yet
            return None
        if len(self.inflight) >= self.limits.inflight:
            return self._shed(q, p, qbytes, payload, "too many questions in flight")
        lname = p.qname.lc
        job = self._job(Name(lname, lname), p.qtype, now)
        if isinstance(job, tuple):
            return error(q[:2], p.flags, qbytes, job[0], payload, job[1])
        pend = self._start(key, job, now, w)
        if pend.key not in self.inflight and self.actions and self.actions[-1][0] == "answer":
            return self.actions.pop()[3]  # answered from the caches at once
        if self.inflight.get(key) is pend:
            self._arm_stale(pend, w, now)
        return None

    # --- serve-expired and prefetch -----------------------------------------------------------
    def _stale_key(self, key, w):
        """The cache key of the form waiter w gets: signed for DO clients when validating."""
        return key + front.DNSSEC_KEY if w[7] and self.trust is not None else key

    def _arm_stale(self, pend, w, now):
        """Start pend's client timer (RFC 8767 5: the client response timer) when its waiter w
        has expired data to get when it runs out."""
        if self.stale_wait <= 0 or self.cache.stale(self._stale_key(pend.key, w), now,
                                                    0) is None:
            return
        pend.stale_at = now + self.stale_wait
        if self.due < 0 or pend.stale_at < self.due:
            self.due = pend.stale_at

    def _stale(self, key, w, now):
        """The reply to waiter w from key's expired cache entry (TTLs the reply TTL, EDE 3), or
        None (serve-expired off, no such entry, or expired too long ago)."""
        if self.stale_ttl < 0:
            return None
        got = self.cache.stale(self._stale_key(key, w), now, self.stale_ttl)
        if got is None:
            return None
        self.stats["stale"] += 1
        ad = got[1] and bool(w[4] & 0x20 or w[7])
        return render(got[0], w[2], w[3], w[4], w[5], w[1], ad, w[7], STALE_EDE)

    def _stale_waiters(self, pend, now):
        """The client timer of pend passed: its waiters that have an expired answer get it;
        the resolution goes on (its answer refreshes the cache)."""
        pend.stale_at = -1
        keep = []
        for w in pend.waiters:
            r = self._stale(pend.key, w, now)
            if r is None:
                keep.append(w)
                continue
            self._reply(w, r)
            self._unwait(w)
        pend.waiters = keep

    def _refresh(self, key, now):
        """Resolve key's question with no client waiting (prefetch, serve-expired's refresh):
        its answer goes to the cache. Not when it is in flight already, nor past MAX_REFRESH
        background questions or the questions in flight."""
        i = 0
        while i < len(key) and key[i]:
            i += key[i] + 1
        if i + 5 > len(key):
            return  # not a question's key (never made by the cache)
        plain = key[: i + 5]  # the name, type and class (a suffix names the signed form)
        if plain in self.inflight:
            return
        if self.refreshing >= MAX_REFRESH or len(self.inflight) >= self.limits.inflight:
            self.stats["refresh_dropped"] = self.stats.get("refresh_dropped", 0) + 1
            return
        name = Name(plain[: i + 1], plain[: i + 1])
        job = self._job(name, (plain[i + 1] << 8) | plain[i + 2], now)
        if isinstance(job, tuple):
            return
        self.stats["prefetch"] += 1
        self._start(plain, job, now, None, False, len(key) > i + 5)

    def _prefetch(self, now):
        """Start the background questions the cache's hits asked for."""
        keys = self.cache.wanted
        self.cache.wanted = []
        for key in keys:
            self._refresh(key, now)

    def _shed(self, q, p, qbytes, payload, why):
        self.stats["shed"] += 1
        return error(q[:2], p.flags, qbytes, _rc.SERVFAIL, payload, (EDE_OTHER, why))

    def _job(self, qname, qtype, now):
        """The job for a question, or (rcode, ede) when none can resolve it."""
        lname = qname.lc
        route = self.ups.route(lname) if self.ups is not None else None
        if self.mdns and under(lname, MDNS_DOMAIN) and (route is None or
                                                       not under(route[0], MDNS_DOMAIN)):
            return MdnsQuery(qname, qtype, self.rng, self.nets)
        if route is not None:
            return ForwardJob(self.ups, qname, qtype, route)
        if self.env is not None:
            if qtype == _t.ANY:
                return _rc.NOTIMP, None  # ANY is not resolved from the root
            from dnsbox.resolver.iterate import Iteration

            return Iteration(self.env, qname, qtype, now)
        return _rc.SERVFAIL, (EDE_NO_REACHABLE_AUTHORITY, "no upstream server configured")

    def _special(self, q, p, qbytes, payload, proto, ip):
        if p.qclass == _t.CLASS_CH and p.qname.lc == STATS_NAME and allowed(self.nets, ip):
            return self._stats_reply(q, p, qbytes, payload, proto)
        return None

    def counters(self):
        """Every counter by name (the CH TXT stats.dnsbox. answer, tests, benchmarks)."""
        out = dict(self.stats)
        out["inflight"] = len(self.inflight)
        out["cache"] = len(self.cache)
        out["cache_bytes"] = self.cache.bytes
        if self.env is not None:
            out["rrsets"] = len(self.env.rrs)
            out["zones"] = len(self.env.deleg.zones)
        if self.ups is not None:
            for k in self.ups.stats:
                out[k] = self.ups.stats[k]
        if self.trust is not None:
            for k in self.trust.stats:
                out["dnssec_" + k] = self.trust.stats[k]
        for d in self.more:
            out.update(d)
        try:
            import gc

            gc.collect()
            out["heap"] = gc.mem_alloc()  # MicroPython only
        except AttributeError:
            pass
        return out

    def _stats_reply(self, q, p, qbytes, payload, proto):
        from dnsbox.wire.rd_std import TXT
        from dnsbox.wire.rr import RR

        st = self.counters()
        words = [("%s=%d" % (k, st[k])).encode() for k in sorted(st)]
        m = _msg.Message(p.id, p.flags & 0x7910)
        m.qr = m.ra = True
        m.question.append(Question(p.qname, p.qtype, p.qclass))
        if p.qtype in (_t.TXT, _t.ANY):
            m.answer.append(RR(p.qname, _t.TXT, _t.CLASS_CH, 0, TXT(words)))
        return render(_msg.encode(m)[2:], q[:2], qbytes, p.flags, payload, proto)

    # --- pending questions --------------------------------------------------------------------
    def _wait(self, pend, w):
        pend.waiters.append(w)
        self.clients[w[6]] = self.clients.get(w[6], 0) + 1

    def _unwait(self, w):
        cl = self.clients
        n = cl.get(w[6], 0) - 1
        if n > 0:
            cl[w[6]] = n
        else:
            cl.pop(w[6], None)

    def _start(self, key, job, now, w=None, raw=False, signed=None):
        """Start pend for key; signed not None: a background question (True: of a signed
        cache entry)."""
        pend = Pending(key, job, now)
        pend.raw = raw
        if signed is not None:
            pend.refresh = True
            pend.signed = signed
            self.refreshing += 1
        self.inflight[key] = pend
        if w is not None:
            self._wait(pend, w)
        self.stats["started"] += 1
        end = now + MAX_RESOLVE_MS
        if self.due < 0 or end < self.due:
            self.due = end
        try:
            act = job.start(now)
        except Exception as e:  # a bug or MemoryError: this question fails, the rest go on
            self._abort(pend, e, now)
            return pend
        self._drive(pend, act, now)
        return pend

    def _drive(self, pend, act, now):
        """Perform what the job asked for: send an Ask, or answer with its Result."""
        if act is None:
            return
        if not isinstance(act, Ask):
            self._finish(pend, act, now)
            return
        if not pend.job.linger:
            for tok in list(pend.asks):
                self._close(pend, tok)
        tok = self.next_token
        self.next_token += 1
        pend.asks[tok] = act
        self.tokens[tok] = pend
        pend.cur = tok
        pend.deadline = now + act.timeout
        if self.due < 0 or pend.deadline < self.due:
            self.due = pend.deadline
        self.stats["upstream"] += 1
        self.actions.append(("send", tok, act.ip, act.port, act.wire, act.proto))

    def _close(self, pend, tok):
        pend.asks.pop(tok, None)
        if self.tokens.pop(tok, None) is not None:
            self.actions.append(("done", tok))
        if pend.cur == tok:
            pend.cur = 0

    def _retire(self, pend):
        """Take pend out of every table (no allocation but the "done" actions): done first, so
        that a MemoryError while answering leaves nothing half-registered."""
        if self.inflight.get(pend.key) is pend:
            del self.inflight[pend.key]
            if pend.refresh:
                self.refreshing -= 1
        for tok in list(pend.asks):
            self._close(pend, tok)
        for w in pend.waiters:
            self._unwait(w)

    def _abort(self, pend, e, now):
        self.stats["faults"] += 1
        self._finish(pend, Result(_rc.SERVFAIL, [], [], (EDE_OTHER, "internal error: %s" %
                                                         type(e).__name__), 0), now)

    def _finish(self, pend, res, now):
        if pend.raw:
            self._retire(pend)
            pend.res = res
            for p in pend.needers:
                if self.inflight.get(p.key) is p and p.val is not None:
                    self._validating(p, p.val.give(res), now)
            return
        if (self.trust is not None and pend.val is None and getattr(pend.job, "validate", True)
                and res.rcode in (_rc.NOERROR, _rc.NXDOMAIN)):
            for tok in list(pend.asks):
                self._close(pend, tok)
            pend.res = res
            from dnsbox.dnssec.validator import Validation

            pend.val = Validation(self.trust, pend.job.qname, pend.job.qtype, res, now)
            self._validating(pend, pend.val.start(), now)
            return
        self._deliver(pend, res, None, now)

    def _validating(self, pend, act, now):
        """Go on with pend's validation: ask what it needs, or answer with its verdict."""
        from dnsbox.dnssec.validator import Need

        try:
            while isinstance(act, Need):
                raw = self._need(pend, act, now)
                if raw is None:
                    return  # asked: the raw question's end resumes it
                act = pend.val.give(raw)  # no room, or no job: a SERVFAIL Result at once
        except Exception as e:  # a bug or MemoryError in the validation: this question fails
            self._abort(pend, e, now)
            return
        self._deliver(pend, pend.res, act, now)

    def _need(self, pend, need, now):
        """Ask a validation's question raw (or join one in flight): None when asked, or the
        SERVFAIL Result to give at once when it cannot be asked."""
        key = need.name.lc + bytes((need.qtype >> 8, need.qtype & 255, 0, 1)) + RAW_KEY
        raw = self.inflight.get(key)
        if raw is not None:
            raw.needers.append(pend)
            return None
        if len(self.inflight) >= self.limits.inflight:
            return Result(_rc.SERVFAIL, [], [], (EDE_OTHER, "too many questions in flight"))
        job = self._job(need.name, need.qtype, now)
        if isinstance(job, tuple):
            return Result(_rc.SERVFAIL, [], [], job[1])
        raw = self._start(key, job, now, None, True)
        if self.inflight.get(key) is raw:
            raw.needers.append(pend)
            return None
        return raw.res  # it ended at once (its answer is kept for this case)

    def _deliver(self, pend, res, verdict, now):
        """Answer pend's waiters (and followers) with res, as the verdict (or no validation)
        says: SERVFAIL with EDE for bogus data, unless a client asked with CD."""
        self._retire(pend)
        job = pend.job
        if verdict is not None and verdict.state == 3:  # BOGUS
            self.stats["bogus"] = self.stats.get("bogus", 0) + 1
            fail = Result(_rc.SERVFAIL, [], [], verdict.ede, FAIL_TTL_S)
            self._remember_failure(pend.key, fail, now)
            cd = [w for w in pend.waiters if w[4] & 0x10]
            for w in pend.waiters:
                if not w[4] & 0x10:
                    self._reply(w, error(w[2], w[4], w[3], _rc.SERVFAIL, w[5], verdict.ede))
            if cd:
                self._signed_answer(cd, job, res, None, now, None, False)
            for f in pend.followers:
                self._answer(f[2], f[3], 0, now, None)
            return
        if res.rcode == _rc.SERVFAIL:
            self.stats["servfail"] += 1
            self._remember_failure(pend.key, res, now)
            for w in pend.waiters:  # an expired answer when there is one (serve-expired)
                r = self._stale(pend.key, w, now)
                self._reply(w, r if r is not None else error(w[2], w[4], w[3], _rc.SERVFAIL,
                                                             w[5], res.ede))
            for f in pend.followers:  # DNS64 without an A answer: the AAAA NODATA stands
                self._answer(f[2], f[3], 0, now, None)
            return
        if verdict is not None:
            self._signed_answer(pend.waiters, job, res, verdict, now, pend.key, pend.signed)
            for f in pend.followers:
                self._synthesized(f, _plain(res.answer, _t.A), now)
            return
        img = res.img
        if img is None:
            img = _image(job.qname, job.qtype, res.rcode, res.answer, res.authority)
            if (self.dns64 is not None and job.qtype == _t.AAAA and res.rcode == _rc.NOERROR
                    and not [r for r in res.answer if r.rtype == _t.AAAA]):
                self._dns64(pend, img, res.life, now)  # NODATA: AAAA made from the A records
                return
        self._answer(pend.waiters, img, res.life, now, pend.key, res.pairs)
        for f in pend.followers:
            self._synthesized(f, res.answer, now)

    def _signed_answer(self, waiters, job, res, verdict, now, key, signed_too):
        """Answer validated data (verdict None: CD clients, not validated): the signed form to
        DO clients, the plain one to the others, AD when secure and asked for, the verdict's
        EDE (an insecure answer may say why, e.g. 27); the plain form cached under key (when
        given), the signed one too when a client asked with DO (most do not: half the bytes) or
        signed_too (the refresh of a signed entry)."""
        qt = job.qtype
        secure = verdict is not None and verdict.state == 1
        ede = verdict.ede if verdict is not None else None
        plain = _image(job.qname, qt, res.rcode, _plain(res.answer, qt),
                       _plain(res.authority, qt))
        signed = None
        if signed_too or [w for w in waiters if w[7]]:
            signed = _image(job.qname, qt, res.rcode, res.answer, res.authority)
        if key is not None and ede is None:
            self.cache.store(key, plain, res.life, now, secure)
            if signed is not None:
                self.cache.store(key + front.DNSSEC_KEY, signed, res.life, now, secure)
        for w in waiters:
            ad = secure and bool(w[4] & 0x20 or w[7])
            img = signed if w[7] else plain
            self._reply(w, render(img, w[2], w[3], w[4], w[5], w[1], ad, w[7], ede))

    def _remember_failure(self, key, res, now):
        if res.life <= 0:
            return
        if len(self.fails) >= MAX_FAILS:
            old = sorted([(v[0], k) for k, v in self.fails.items()])
            for _u, k in old[: len(old) // 2]:
                del self.fails[k]
        self.fails[key] = (now + res.life * 1000, res.ede)

    def _reply(self, w, data):
        self.actions.append(("answer", w[0], w[1], data))

    def _answer(self, waiters, img, life, now, key, pairs=None):
        """Cache img under key (life > 0, key given; pairs: its TTL offsets when known) and
        answer the waiters with it."""
        if key is not None:
            if pairs is None:
                self.cache.store(key, img, life, now)
            else:
                self.cache.put(key, img, pairs, life, now)
        for w in waiters:
            self._reply(w, render(img, w[2], w[3], w[4], w[5], w[1]))

    # --- DNS64 (RFC 6147): one follow-up A question for any job's AAAA NODATA -----------------
    def _dns64(self, pend, nodata_img, neg_life, now):
        qname = pend.job.qname
        f = (pend.key, qname, pend.waiters, nodata_img, neg_life)
        akey, cached = _dns64.cached_a(self.cache, pend.key, now)
        if cached is not None:
            self._synthesized(f, cached, now)
            return
        apend = self.inflight.get(akey)
        if apend is not None:
            apend.followers.append(f)
            return
        job = self._job(qname, _t.A, now)
        if isinstance(job, tuple):
            self._answer(f[2], nodata_img, neg_life, now, pend.key)
            return
        apend = Pending(akey, job, now)
        apend.followers.append(f)
        self.inflight[akey] = apend
        try:
            act = job.start(now)
        except Exception as e:
            self._abort(apend, e, now)
            return
        self._drive(apend, act, now)

    def _synthesized(self, f, a_answer, now):
        key, qname, waiters, nodata_img, neg_life = f
        rrs = _dns64.synthesize(a_answer, qname, self.dns64[0], self.dns64[1], neg_life)
        if rrs is None:  # no A either: the AAAA NODATA is the answer
            self._answer(waiters, nodata_img, neg_life, now, key)
            return
        life = min(rr.ttl for rr in rrs)
        self._answer(waiters, _image(qname, _t.AAAA, _rc.NOERROR, rrs, []), life, now, key)

    # --- what the glue reports ------------------------------------------------------------------
    def upstream_reply(self, token, data, src, now):
        pend = self.tokens.get(token)
        if pend is None:
            return
        try:
            act = pend.job.reply(pend.asks[token], data, src, now)
        except Exception as e:
            self._abort(pend, e, now)
            return
        if act is None:
            self.stats["ignored"] += 1
            return  # not the answer to that ask: the wait goes on
        self._drive(pend, act, now)

    def upstream_failed(self, token, reason, now):
        pend = self.tokens.get(token)
        if pend is None:
            return
        try:
            act = pend.job.failed(pend.asks[token], now, reason)
        except Exception as e:
            self._abort(pend, e, now)
            return
        if act is None and token != pend.cur:
            self._close(pend, token)  # an earlier ask's socket: closed, the current goes on
        self._drive(pend, act, now)

    def tick(self, now):
        if self.cache.wanted:
            self._prefetch(now)
        if self.due < 0 or now < self.due:
            return
        due = -1
        for pend in list(self.inflight.values()):
            if self.inflight.get(pend.key) is not pend:
                continue  # ended while this round ran (a DNS64 follow-up answered it)
            if pend.stale_at > 0 and now >= pend.stale_at:
                self._stale_waiters(pend, now)
            if pend.cur and now >= pend.deadline:
                try:
                    act = pend.job.failed(pend.asks[pend.cur], now, "timed out")
                except Exception as e:
                    self._abort(pend, e, now)
                    continue
                if act is None:  # a job must answer the failure of its current ask
                    act = Result(_rc.SERVFAIL, [], [], (EDE_OTHER, "no next step"), 0)
                self._drive(pend, act, now)
            if self.inflight.get(pend.key) is pend and now - pend.started >= MAX_RESOLVE_MS:
                self._finish(pend, Result(_rc.SERVFAIL, [], [], (
                    EDE_NO_REACHABLE_AUTHORITY, "resolution took longer than %d ms" %
                    MAX_RESOLVE_MS), FAIL_TTL_S), now)
        for pend in self.inflight.values():
            t = pend.started + MAX_RESOLVE_MS
            if pend.cur and pend.deadline < t:
                t = pend.deadline
            if pend.stale_at > 0 and pend.stale_at < t:
                t = pend.stale_at
            if due < 0 or t < due:
                due = t
        self.due = due

    def next_deadline(self):
        """The earliest time (ms) tick() has work to do (0: at once, prefetches are wanted), or
        -1 when nothing is in flight."""
        return 0 if self.cache.wanted else self.due


def _image(qname, qtype, rcode, answer, authority):
    """A reply image (dnsbox.wire.reply): QR, RD, RA, the question, the records."""
    m = _msg.Message(0, 0x8180)
    m.rcode = rcode
    m.question.append(Question(qname, qtype, _t.CLASS_IN))
    m.answer = answer
    m.authority = authority
    return _msg.encode(m)[2:]


def _plain(rrs, qtype):
    """rrs without the DNSSEC records (RRSIG, NSEC, NSEC3) a client without DO does not get,
    except those of the type it asked for (RFC 4035 3.2.1)."""
    return [r for r in rrs if r.rtype not in _DNSSEC_TYPES or r.rtype == qtype]
