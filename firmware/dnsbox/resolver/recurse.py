"""The recursive resolver's client side: the same interface as dnsbox.resolver.forward.Forwarder,
so the socket glue (dnsbox.net.upstream.Resolver) drives either unchanged.

  query(q, proto, client, ip, now)       a client's query -> response bytes now, or None
  upstream_reply(token, data, src, now)  bytes that arrived on an attempt's socket
  upstream_failed(token, reason, now)    that socket failed
  tick(now); next_deadline()             timers
and self.actions, emptied by the glue: ("send", token, ip, port, wire, proto), ("done", token),
("answer", client, proto, bytes). No sockets, no clock: `now` (ms) and `rng` are passed in.

Per query: zones first (to everyone), then allowed clients only (others REFUSED): local names,
the response cache, failures cached briefly (RFC 9520), then one Iteration per distinct question
(identical questions in flight are resolved once). An Iteration has at most one query out at a
time; every query gets a fresh ID and 0x20 case (iterate.py) and, in the glue, a fresh port.
"""

from dnsbox.compat import const
from dnsbox.resolver import front
from dnsbox.resolver.cache import Cache
from dnsbox.resolver.delegation import RRCache
from dnsbox.resolver.forward import MDNS_DOMAIN, error, render
from dnsbox.resolver.iterate import (EDE_NO_REACHABLE_AUTHORITY, EDE_OTHER, FAIL_TTL_S, Ask,
                                      Env, Iteration, Result)
from dnsbox.config import allowed
from dnsbox.resolver.local import Local
from dnsbox.resolver.servers import Servers
from dnsbox.zonedb.lookup import under
from dnsbox.wire import message as _msg
from dnsbox.wire import rcode as _rc
from dnsbox.wire import types as _t
from dnsbox.wire.name import Name
from dnsbox.wire.rr import Question

UDP = const(0)
TCP = const(1)
MAX_INFLIGHT = const(64)  # questions being resolved at once; more get SERVFAIL at once
MAX_WAITERS = const(32)  # clients waiting for one question
MAX_RESOLVE_MS = const(10000)  # a question still unresolved after this gets SERVFAIL
STATS_NAME = b"\x05stats\x06dnsbox\x00"  # CH TXT: counters (allowed clients only)
NOT_RECURSED = front.NOT_RESOLVED + (_t.ANY,)  # NOTIMP: ANY is not resolved from the root
MAX_FAILS = const(256)  # failures remembered (RFC 9520); the oldest half is dropped when full


class Pending:
    def __init__(self, key, it, now):
        self.key = key
        self.it = it
        self.waiters = []
        self.tok = 0
        self.deadline = 0
        self.started = now
        self.followers = []  # DNS64: AAAA questions waiting for this A answer


class Recursor:
    """settings: dnsbox.config.Config (local names, cache_size); nets: allowed client networks;
    hints: [(ns name text, ip text, port)]; port: port of servers learnt from referrals."""

    def __init__(self, settings, nets, rng, hints, auth=None, zones=(), cache=None, port=53):
        self.env = Env(hints, rng, Servers(), None, RRCache(), port)
        self.local = Local(settings)
        self.dns64 = settings.dns64  # (prefix, length) or None (dnsbox.resolver.dns64)
        self.mdns = settings.mdns  # .local asked by multicast DNS (dnsbox.resolver.mdnsq)
        self.rng = rng
        self.nets = nets
        self.auth = auth
        self.zones = list(zones)
        self.cache = cache if cache is not None else Cache(settings.cache_size)
        self.fails = {}  # key -> (until ms, (ede code, text))
        self.inflight = {}
        self.tokens = {}
        self.next_token = 1
        self.actions = []
        self.stats = {"resolved": 0, "upstream": 0, "ignored": 0, "refused": 0,
                      "servfail": 0, "joined": 0, "failcache": 0}

    # --- client queries ---------------------------------------------------------------------
    def query(self, q, proto, client, ip, now):
        r = front.cached(self, q, proto, ip, now)
        if r is not None:
            return r
        return self._slow(q, proto, client, ip, now)

    def _slow(self, q, proto, client, ip, now):
        done, v = front.screen(self, q, proto, ip, now, NOT_RECURSED, self._special)
        if done:
            return v
        p, qbytes, payload, key = v
        lname = p.qname.lc
        f = self.fails.get(key)
        if f is not None:
            if f[0] > now:
                self.stats["failcache"] += 1
                return error(q[:2], p.flags, qbytes, _rc.SERVFAIL, payload, f[1])
            del self.fails[key]
        w = (client, proto, q[:2], qbytes, p.flags, payload)
        pend = self.inflight.get(key)
        if pend is not None:
            if len(pend.waiters) >= MAX_WAITERS:
                return error(q[:2], p.flags, qbytes, _rc.SERVFAIL, payload,
                             (EDE_OTHER, "too many clients waiting for this question"))
            pend.waiters.append(w)
            self.stats["joined"] += 1
            return None
        if len(self.inflight) >= MAX_INFLIGHT:
            return error(q[:2], p.flags, qbytes, _rc.SERVFAIL, payload,
                         (EDE_OTHER, "too many questions being resolved"))
        if self.mdns and under(lname, MDNS_DOMAIN):
            from dnsbox.resolver.mdnsq import MdnsQuery

            it = MdnsQuery(Name(lname, lname), p.qtype, self.rng, self.nets)
        else:
            it = Iteration(self.env, Name(lname, lname), p.qtype, now)
        pend = Pending(key, it, now)
        pend.waiters.append(w)
        self.inflight[key] = pend
        self.stats["resolved"] += 1
        self._drive(pend, it.start(now), now)
        if pend.key not in self.inflight and self.actions and self.actions[-1][0] == "answer":
            a = self.actions.pop()  # answered from the caches at once
            return a[3]
        return None

    def _special(self, q, p, qbytes, payload, proto, ip):
        if p.qclass == _t.CLASS_CH and p.qname.lc == STATS_NAME and allowed(self.nets, ip):
            return self._stats(q, p, qbytes, payload, proto)
        return None

    def _stats(self, q, p, qbytes, payload, proto):
        # CH TXT stats.dnsbox.: counters for the bench and for diagnostics (allowed clients)
        from dnsbox.wire.rd_std import TXT
        from dnsbox.wire.rr import RR

        st = self.stats
        words = ["%s=%d" % (k, st[k]) for k in sorted(st)]
        words.append("cache=%d" % len(self.cache))
        words.append("rrsets=%d" % len(self.env.rrs))
        words.append("zones=%d" % len(self.env.deleg.zones))
        try:
            import gc

            gc.collect()
            words.append("heap=%d" % gc.mem_alloc())  # MicroPython only
        except AttributeError:
            pass
        m = _msg.Message(p.id, p.flags & 0x7910)
        m.qr = m.ra = True
        m.question.append(Question(p.qname, p.qtype, p.qclass))
        if p.qtype in (_t.TXT, _t.ANY):
            txt = TXT([w.encode() for w in words])
            m.answer.append(RR(p.qname, _t.TXT, _t.CLASS_CH, 0, txt))
        return render(_msg.encode(m)[2:], q[:2], qbytes, p.flags, payload, proto)

    # --- iterations -------------------------------------------------------------------------
    def _drive(self, pend, act, now):
        if pend.tok:
            self.tokens.pop(pend.tok, None)
            self.actions.append(("done", pend.tok))
            pend.tok = 0
        if isinstance(act, Ask):
            tok = self.next_token
            self.next_token += 1
            pend.tok = tok
            self.tokens[tok] = pend
            pend.deadline = now + act.timeout
            self.stats["upstream"] += 1
            self.actions.append(("send", tok, act.ip, act.port, act.wire, act.proto))
            return
        self._finish(pend, act, now)

    def _finish(self, pend, res, now):
        self.inflight.pop(pend.key, None)
        if res is None:  # cannot happen (Iteration always ends with a Result): fail safe
            res = _iterate_fail("internal error")
        if res.rcode == _rc.SERVFAIL:
            self.stats["servfail"] += 1
            if len(self.fails) >= MAX_FAILS:
                old = sorted([(v[0], k) for k, v in self.fails.items()])
                for _u, k in old[: len(old) // 2]:
                    del self.fails[k]
            if res.life > 0:
                self.fails[pend.key] = (now + res.life * 1000, res.ede)
            for c, proto, qid, qbytes, flags, payload in pend.waiters:
                self.actions.append(("answer", c, proto,
                                     error(qid, flags, qbytes, _rc.SERVFAIL, payload, res.ede)))
            for f in pend.followers:  # DNS64 without an A answer: the AAAA NODATA stands
                self._answer(f[2], f[3], 0, now, None)
            return
        it = pend.it
        img = self._image(it.qname, it.qtype, res.rcode, res.answer, res.authority)
        if (self.dns64 is not None and it.qtype == _t.AAAA and res.rcode == _rc.NOERROR
                and not [r for r in res.answer if r.rtype == _t.AAAA]):
            self._dns64(pend, img, res.life, now)  # NODATA: AAAA made from the A records
            return
        self._answer(pend.waiters, img, res.life, now, pend.key)
        for f in pend.followers:
            self._synthesized(f, res.answer, now)

    def _image(self, qname, qtype, rcode, answer, authority):
        m = _msg.Message(0, 0x8180)
        m.rcode = rcode
        m.question.append(Question(qname, qtype, _t.CLASS_IN))
        m.answer = answer
        m.authority = authority
        return _msg.encode(m)[2:]

    def _answer(self, waiters, img, life, now, key):
        """Cache img under key (life > 0, key given) and answer the waiters with it."""
        if key is not None:
            self.cache.store(key, img, life, now, 1)
        for c, proto, qid, qbytes, flags, payload in waiters:
            self.actions.append(("answer", c, proto, render(img, qid, qbytes, flags, payload,
                                                            proto)))

    # --- DNS64 (RFC 6147), as in dnsbox.resolver.forward -----------------------------------
    def _dns64(self, pend, nodata_img, neg_life, now):
        from dnsbox.resolver import dns64

        f = (pend.key, pend.it.qname, pend.waiters, nodata_img, neg_life)
        akey, cached = dns64.cached_a(self.cache, pend.key, now)
        if cached is not None:
            self._synthesized(f, cached, now)
            return
        apend = self.inflight.get(akey)
        if apend is None:
            it = Iteration(self.env, pend.it.qname, _t.A, now)
            apend = Pending(akey, it, now)
            self.inflight[akey] = apend
            apend.followers.append(f)
            self._drive(apend, it.start(now), now)
            return
        apend.followers.append(f)

    def _synthesized(self, f, a_answer, now):
        from dnsbox.resolver import dns64

        key, qname, waiters, nodata_img, neg_life = f
        rrs = dns64.synthesize(a_answer, qname, self.dns64[0], self.dns64[1], neg_life)
        if rrs is None:
            self._answer(waiters, nodata_img, neg_life, now, key)
            return
        life = min(rr.ttl for rr in rrs)
        self._answer(waiters, self._image(qname, _t.AAAA, _rc.NOERROR, rrs, []), life, now, key)

    def upstream_reply(self, token, data, src, now):
        pend = self.tokens.get(token)
        if pend is None or pend.tok != token:
            return
        act = pend.it.reply(data, src, now)
        if act is None:
            self.stats["ignored"] += 1
            return  # not the answer to that query: the wait goes on
        self._drive(pend, act, now)

    def upstream_failed(self, token, reason, now):
        pend = self.tokens.get(token)
        if pend is None or pend.tok != token:
            return
        self._drive(pend, pend.it.failed(now, reason), now)

    def tick(self, now):
        for pend in list(self.inflight.values()):
            if now - pend.started >= MAX_RESOLVE_MS:
                if pend.tok:
                    self.tokens.pop(pend.tok, None)
                    self.actions.append(("done", pend.tok))
                    pend.tok = 0
                self._finish(pend, _iterate_fail("resolution took longer than %d ms" %
                                                 MAX_RESOLVE_MS), now)
            elif pend.tok and now >= pend.deadline:
                self._drive(pend, pend.it.failed(now, "timed out"), now)

    def next_deadline(self):
        d = -1
        for pend in self.inflight.values():
            t = pend.deadline if pend.tok else pend.started + MAX_RESOLVE_MS
            if pend.started + MAX_RESOLVE_MS < t:
                t = pend.started + MAX_RESOLVE_MS
            if d < 0 or t < d:
                d = t
        return d


def _iterate_fail(text):
    return Result(_rc.SERVFAIL, [], [], (EDE_NO_REACHABLE_AUTHORITY, text), FAIL_TTL_S)
