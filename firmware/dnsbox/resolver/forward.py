"""Forwarding: the plan of asks to upstream resolvers for one question (a job of the driver,
dnsbox.resolver.driver), sans-I/O.

Upstreams holds what the questions share: the servers of server= (dnsmasq's option: the default
ones, and those of server=/domain/ for names under a domain: the longest match wins), a count of
recent failures per server (healthy ones are asked first), and the switches. A ForwardJob asks
the route's servers in that order, TRIES_PER_UPSTREAM times each over UDP, at most MAX_ATTEMPTS
in all: every ask gets a fresh ID (and, in the glue, a fresh source port) and, with
do-0x20-encode, a fresh random case of the name. An answer counts only from the server asked
(address and port), with the ask's ID and question (dnsbox.resolver.ask.match); earlier asks stay
open (linger), so a late answer to one still ends the wait. A truncated UDP answer is asked
again over TCP (RFC 7766 5). Only the scrubbed answer is kept (dnsbox.resolver.scrub: the chain
inside the route's domain, the SOA of a negative answer). When every ask failed: SERVFAIL with
an Extended DNS Error (RFC 8914) saying why, cached briefly (RFC 9520).
"""
from dnsbox.compat import const
from dnsbox.resolver import scrub as _scrub
from dnsbox.resolver.ask import TCP, TLS, UDP, Ask, Result, match, question, quick, quick_result
from dnsbox.wire import rcode as _rc
from dnsbox.wire.edns import DO_OPT, EDE_NETWORK_ERROR, EDE_NO_REACHABLE_AUTHORITY, PLAIN_OPT
from dnsbox.wire.name import ROOT, Name
from dnsbox.zonedb.lookup import under

ATTEMPT_MS = 1000  # wait for one UDP ask before the next one
TCP_ATTEMPT_MS = 3000  # one TCP ask (connect, send, read)
TLS_ATTEMPT_MS = 3000  # one DNS-over-TLS ask (connect and handshake when no connection is open)
TRIES_PER_UPSTREAM = const(2)  # UDP asks per upstream before the next one
TLS_TRIES = const(1)  # asks per DNS-over-TLS upstream (no datagram to lose: a failure is real)
MAX_ATTEMPTS = const(6)  # asks per question in all (bounds the time a client waits)
FAIL_TTL_S = const(1)  # a question no upstream answered is answered SERVFAIL this long
MAX_TTL_S = const(86400)  # positive TTLs cut to a day
NEG_MAX_TTL_S = const(10800)  # negative answers at most 3 hours (RFC 2308 5)
DOWN_AFTER = const(2)  # failures in a row before an upstream is called down (asked last)


class Upstreams:
    """servers: [(domain lower-case wire or None for the default, ip text, port)]; tls: {(ip,
    port): (name, pin)} of the DNS-over-TLS ones (server=IP#PORT#NAME): every ask to one of
    those goes over TLS, never plain (a TLS failure fails the ask: the plan's next server)."""

    def __init__(self, servers, use0x20, rng, dnssec=False, tls=None):
        self.ups = []  # [(ip, port)]
        self.routes = []  # [(domain lower-case wire or None, [upstream indices])]
        for dom, ip, port in servers:
            if (ip, port) not in self.ups:
                self.ups.append((ip, port))
            ui = self.ups.index((ip, port))
            for r in self.routes:
                if r[0] == dom:
                    r[1].append(ui)
                    break
            else:
                self.routes.append((dom, [ui]))
        tls = tls or {}
        self.tls = [tls.get(u) for u in self.ups]  # per upstream: (name, pin) or None (plain)
        self.ca_certs = ()  # DER CAs trusted beside the frozen bundle (tls-ca=; the glue's)
        self.fails = [0] * len(self.ups)  # recent failures per upstream (orders the asks)
        self.sent = [0] * len(self.ups)  # asks sent to each upstream (CH TXT servers.bind)
        self.lost = [0] * len(self.ups)  # asks to each that timed out or failed
        self.use0x20 = use0x20  # random case towards upstreams (do-0x20-encode)
        # validating: DO and CD in every question (the upstream's signatures and proofs, and
        # its data even when it would call it bogus: the validator says why), kept by scrub
        self.dnssec = dnssec
        self.rng = rng
        self.attempt_ms = ATTEMPT_MS
        self.tcp_attempt_ms = TCP_ATTEMPT_MS
        self.tls_attempt_ms = TLS_ATTEMPT_MS
        self.stats = {"tcp": 0, "dropped": 0}  # TCP fallbacks, records scrubbed away
        self.min_ttl = 0  # cache-min-ttl (seconds): positive answers kept at least this long
        self.max_ttl = MAX_TTL_S  # cache-max-ttl (seconds): every answer at most this long
        self.notice = None  # notice(ip, port, up): an upstream went down (False) or came back
        self.srtt = [0] * len(self.ups)  # smoothed round-trip time (ms) per upstream; 0: none

    def answered(self, ui, rtt):
        """Upstream ui answered after rtt ms: its failures are forgotten (and a down one is
        back); its smoothed RTT moves an eighth of the way (RFC 6298's alpha)."""
        if self.fails[ui] >= DOWN_AFTER and self.notice is not None:
            self.notice(self.ups[ui][0], self.ups[ui][1], True)
        self.fails[ui] = 0
        rtt = rtt if rtt > 0 else 1
        self.srtt[ui] = rtt if not self.srtt[ui] else (7 * self.srtt[ui] + rtt) // 8

    def failed(self, ui):
        """An ask to upstream ui timed out or failed."""
        self.lost[ui] += 1
        self.fails[ui] += 1
        if self.fails[ui] == DOWN_AFTER and self.notice is not None:
            self.notice(self.ups[ui][0], self.ups[ui][1], False)

    def route(self, lname):
        """(domain lower-case wire, [upstream indices]) of the longest server= route for the
        name (b"\\x00" for the default servers), or None when no route covers it."""
        best = None
        for dom, uis in self.routes:
            if dom is None:
                if best is None:
                    best = (b"\x00", uis)
            elif under(lname, dom) and (best is None or len(dom) >= len(best[0])):
                best = (dom, uis)
        return best

    def plan(self, uis):
        """[upstream index] of the asks: UDP TRIES_PER_UPSTREAM times each (TLS TLS_TRIES), fewest
        recent failures first, configuration order among equals (MicroPython's sort is not
        stable: the position is part of the key)."""
        order = sorted([(self.fails[uis[i]], i, uis[i]) for i in range(len(uis))])
        out = []
        for _f, _i, u in order:
            for _ in range(TLS_TRIES if self.tls[u] else TRIES_PER_UPSTREAM):
                out.append(u)
        return out[:MAX_ATTEMPTS]

    def text(self):
        return ", ".join([("%s#%d" % u) + (" (tls)" if t else "") for u, t in zip(self.ups,
                                                                                 self.tls)])

    def proto(self, ui):
        """The transport of asks to upstream ui: TLS for a DNS-over-TLS server, else UDP."""
        return TLS if self.tls[ui] else UDP


class ForwardJob:
    linger = True  # earlier asks stay open: a late answer to one still counts

    def __init__(self, ups, qname, qtype, route):
        self.ups = ups
        self.qname = qname
        self.qtype = qtype
        self.bailiwick = ROOT if route[0] == b"\x00" else Name(route[0], route[0])
        self.plan = ups.plan(route[1])
        self.step = 0  # index in plan of the current ask
        self.asks = 0
        self.cur = None  # the current Ask
        self.reasons = []

    def start(self, now):
        return self._ask(self.plan[0], self.ups.proto(self.plan[0]), now)

    def _ask(self, ui, proto, now):
        ups = self.ups
        wire, sent = question(self.qname, self.qtype, ups.rng(2), True, ups.use0x20, ups.rng,
                              DO_OPT if ups.dnssec else PLAIN_OPT, ups.dnssec)
        ip, port = ups.ups[ui]
        t = (ups.attempt_ms, ups.tcp_attempt_ms, ups.tls_attempt_ms)[proto]
        self.asks += 1
        ups.sent[ui] += 1
        self.cur = Ask(ip, port, wire, proto, t, sent, self.qtype, ups.use0x20)
        self.cur.ui = ui
        self.cur.at = now  # ms it was made: the upstream's round-trip time
        return self.cur

    def _next(self, ui, reason, now):
        """The current ask failed: the next one in the plan, or the SERVFAIL Result."""
        self.ups.failed(ui)
        ip, port = self.ups.ups[ui]
        r = "%s#%d %s" % (ip, port, reason)
        if r not in self.reasons:
            self.reasons.append(r)
        self.step += 1
        if self.step < len(self.plan) and self.asks < MAX_ATTEMPTS:
            return self._ask(self.plan[self.step], self.ups.proto(self.plan[self.step]), now)
        self.cur = None
        code = EDE_NO_REACHABLE_AUTHORITY
        for r in self.reasons:
            if "network" in r:
                code = EDE_NETWORK_ERROR
        return Result(_rc.SERVFAIL, [], [], (code, "no upstream answered: " +
                                             ", ".join(self.reasons)), FAIL_TTL_S)

    def failed(self, ask, now, reason):
        if ask is not self.cur:
            return None  # an earlier ask's socket: the current one goes on
        return self._next(ask.ui, ("network error: " + reason) if reason != "timed out" else
                          ("timed out" + ("", " (tcp)", " (tls)")[ask.proto]), now)

    def reply(self, ask, data, src, now):
        if src != (ask.ip, ask.port):
            return None  # not from the upstream asked: keep waiting
        ups = self.ups
        q = None if ups.min_ttl else quick(ask, data, ups.max_ttl)
        if q is not None:  # addresses of the name: no objects made
            ups.answered(ask.ui, now - ask.at)
            self.cur = None
            return quick_result(q)
        m = match(ask, data)
        if m is None:
            return None
        if m.tc:
            if ask.proto == UDP:  # truncated: the same upstream over TCP (RFC 7766 5)
                self.ups.stats["tcp"] += 1
                return self._ask(ask.ui, TCP, now)
            return self._next(ask.ui, "truncated over " + ("TCP" if ask.proto == TCP else "TLS"),
                              now)
        neg = NEG_MAX_TTL_S if NEG_MAX_TTL_S < ups.max_ttl else ups.max_ttl
        s = _scrub.scrub(m, self.qname, self.qtype, 1, self.bailiwick, ups.max_ttl, neg,
                         ups.dnssec)
        if s is None:
            if ask is not self.cur:
                return None  # an error from an earlier ask: the current one goes on
            return self._next(ask.ui, "answered " + _rc.to_text(m.rcode), now)
        ups.stats["dropped"] += s.dropped
        ups.answered(ask.ui, now - ask.at)
        self.cur = None
        if ups.min_ttl and s.kind == _scrub.POSITIVE:  # cache-min-ttl: positive data only
            s.answer = _scrub.clamp(s.answer, ups.min_ttl, ups.max_ttl)
            s.life = s.life if s.life > ups.min_ttl else ups.min_ttl
        return Result(s.rcode, s.answer, s.authority, None, s.life)
