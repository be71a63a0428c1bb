"""The caching forwarder: a state machine with no sockets and no clock (sans-I/O).

The net glue (dnsbox.net.upstream) calls
  query(q, proto, client, ip, now)        a client's query -> response bytes now, or None
  upstream_reply(token, data, src, now)   bytes that arrived on an upstream attempt's socket
  upstream_failed(token, reason, now)     the socket of an attempt failed (send error, TCP reset)
  tick(now)                               timers; next_deadline() says when to call it next
and then performs self.actions, a list of tuples it empties:
  ("send", token, ip, port, wire, proto)  open a fresh socket for attempt `token`, send wire
  ("done", token)                         close that attempt's socket
  ("answer", client, proto, bytes)        send a response to a client that waited
`now` is milliseconds from a clock that never goes backwards; `rng(n)` gives n random bytes
from a cryptographic source (os.urandom); both are passed in, so tests are deterministic.

Per query: zones first (the authoritative server, to everyone), then recursion for allowed
clients only (others: REFUSED): local names, the cache, then upstreams. Identical questions in
flight are sent once; every attempt gets a fresh ID (and, in the glue, a fresh source port) and,
with do-0x20-encode, a fresh random case of the question name; an answer is accepted only if
source address, port, ID and question match (the name case-exact with 0x20), and anything else
is ignored while the wait goes on. UDP answers with TC are asked again over TCP. When every
upstream failed: SERVFAIL with an Extended DNS Error (RFC 8914) saying why.
"""

import struct

from dnsbox.compat import const
from dnsbox.config import allowed, ipv4_int, parse_ipv4
from dnsbox.resolver import dns64 as _dns64
from dnsbox.resolver import scrub as _scrub
from dnsbox.resolver.cache import MAX_TTL, NEG_MAX_TTL, Cache
from dnsbox.resolver.local import Local
from dnsbox.zonedb.lookup import under
from dnsbox.wire import message as _msg
from dnsbox.wire import rcode as _rc
from dnsbox.wire import types as _t
from dnsbox.wire.edns import PLAIN_OPT, bare_opt_payload
from dnsbox.wire.errors import WireError
from dnsbox.wire.name import ROOT, Name, randomise_case
from dnsbox.wire.rr import Question

UDP = const(0)  # the same numbers as dnsbox.net.server and dnsbox.auth
TCP = const(1)

ATTEMPT_MS = 1000  # wait for one UDP attempt before retrying / failing over
TCP_ATTEMPT_MS = 3000  # one TCP attempt (connect, send, read)
TRIES_PER_UPSTREAM = 2  # UDP attempts per upstream before the next one
MAX_ATTEMPTS = 6  # attempts per question in all (bounds the time a client waits)
MAX_INFLIGHT = 128  # distinct questions waiting for upstreams; more get SERVFAIL at once
MAX_WAITERS = 32  # clients waiting for one question; more get SERVFAIL at once
UDP_MAX = const(1232)  # our UDP payload size, advertised to clients and upstreams
UDP_PLAIN = const(512)  # without EDNS (RFC 1035 4.2.1)
TCP_MAX = const(65535)

# The .local bridge (mdns-bridge): one-shot multicast DNS queries (RFC 6762 5.1) from our own
# port, answered by unicast ("legacy unicast", RFC 6762 6.7) by the host that has the name.
MDNS_IP = "224.0.0.251"
MDNS_PORT = const(5353)
MDNS_DOMAIN = b"\x05local\x00"
MDNS_TRIES = const(2)  # queries sent for one question
MDNS_ATTEMPT_MS = const(500)  # wait for an answer to each (no answer at all: NXDOMAIN)

# Extended DNS Error codes (RFC 8914 4).
EDE_OTHER = const(0)
EDE_NO_REACHABLE_AUTHORITY = const(22)
EDE_NETWORK_ERROR = const(23)
EDE_NOT_READY = const(14)

_OPT = PLAIN_OPT  # our OPT: payload 1232, DO clear, no options
_OPT_LEN = const(11)

# Answer kinds stored in the cache's tag (for statistics).
_KIND = {_scrub.POSITIVE: 1, _scrub.NODATA: 2, _scrub.NXDOMAIN: 3}


class Waiter:
    """A client waiting for a forwarded question."""

    def __init__(self, client, proto, qid, qbytes, flags, payload):
        self.client = client
        self.proto = proto
        self.qid = qid
        self.qbytes = qbytes  # the question as the client wrote it (case kept)
        self.flags = flags  # the client's flags word (RD, CD copied into the answer)
        self.payload = payload  # its EDNS payload size, or -1 without EDNS


class Pending:
    """One question in flight: its attempts (token -> (upstream index, id, proto, the question
    name as sent))."""

    def __init__(self, key, qname, qtype, qclass, plan, bailiwick):
        self.key = key
        self.qname = qname
        self.qtype = qtype
        self.qclass = qclass
        self.plan = plan  # [(upstream index, proto)] tried in order
        self.step = 0  # index in plan of the current attempt
        self.bailiwick = bailiwick
        self.attempts = {}
        self.waiters = []
        self.deadline = 0
        self.reasons = []
        self.followers = []  # DNS64: AAAA questions waiting for this A answer (see _dns64)


def header_ok(q):
    """A plain query for the fast path: QR=0, opcode 0, Z=0, one question, no AN/NS records,
    ARCOUNT 0 or 1. Returns the question end (or -1) and the EDNS payload (-1 without)."""
    n = len(q)
    if n < 17 or q[2] & 0xF8 or q[3] & 0x40 or q[4] | q[6] | q[7] | q[8] | q[9] | q[10] or q[5] != 1:
        return -1, -1
    if q[11] == 0:
        return n, -1
    p = bare_opt_payload(q)
    return (-1, -1) if p < 0 else (n - 11, p)


def render(img, qid, qbytes, flags, payload, proto):
    """A response to a client from a cached image: its ID, RD/CD, question case and EDNS."""
    r = bytearray(qid)
    r += img
    r[2] = (r[2] & 0xFE) | ((flags >> 8) & 1)
    r[3] = (r[3] & 0xEF) | (flags & 0x10)
    r[12 : 12 + len(qbytes)] = qbytes
    if proto == TCP:
        limit = TCP_MAX
    elif payload < 0:
        limit = UDP_PLAIN
    else:
        limit = UDP_MAX if payload > UDP_MAX else (UDP_PLAIN if payload < UDP_PLAIN else payload)
    if payload >= 0:
        limit -= _OPT_LEN
    if len(r) > limit:  # too long for UDP: the question alone with TC (RFC 2181 9)
        r = r[: 12 + len(qbytes)]
        r[2] |= 0x02
        r[6] = r[7] = r[8] = r[9] = r[10] = r[11] = 0
    if payload >= 0:
        r[11] += 1
        r += _OPT
    return bytes(r)


def _from_nets(nets, ip_text):
    """True if the dotted address ip_text is in one of nets (an mDNS answer's source)."""
    b = parse_ipv4(ip_text)
    return b is not None and allowed(nets, ipv4_int(b))


def error(qid, flags, qbytes, rcode, payload, ede=None):
    """An error response from the query's header and question bytes (which may be b"").
    ede: (info code, text) added when the client sent EDNS (RFC 8914 needs an OPT)."""
    f = 0x8000 | (flags & 0x7900) | 0x0080 | (flags & 0x0010) | (rcode & 0xF)
    r = bytearray(struct.pack(">2sHHHHH", qid, f, 1 if qbytes else 0, 0, 0,
                              1 if payload >= 0 else 0))
    r += qbytes
    if payload >= 0:
        opt = b""
        if ede is not None:
            text = ede[1].encode()[:200]
            opt = struct.pack(">HHH", 15, 2 + len(text), ede[0]) + text
        r += struct.pack(">BHHIH", 0, 41, UDP_MAX, (rcode >> 4) << 24, len(opt))
        r += opt
    return bytes(r)


class Forwarder:
    """settings: a dnsbox.config.Config (servers, local names, allow, cache_size).
    auth: a dnsbox.auth.server.Server for the compiled-in zones (or None), zones: their apex
    names as lower-case wire bytes. nets: allowed client networks [(network, mask)]."""

    def __init__(self, settings, nets, rng, auth=None, zones=(), cache=None):
        from dnsbox.resolver import front  # front imports this module's render/error

        self._screen = front.screen
        self._cached = front.cached
        self.ups = []  # [(ip, port)]
        self.routes = []  # [(domain lower-case wire or None, [upstream indices])]
        for dom, ip, port in settings.upstreams():
            if (ip, port) not in self.ups:
                self.ups.append((ip, port))
            ui = self.ups.index((ip, port))
            for r in self.routes:
                if r[0] == dom:
                    r[1].append(ui)
                    break
            else:
                self.routes.append((dom, [ui]))
        self.mdns_ui = -1  # the upstream index of the .local bridge, -1: off
        if settings.mdns and not any(r[0] == MDNS_DOMAIN for r in self.routes):
            self.ups.append((MDNS_IP, MDNS_PORT))
            self.mdns_ui = len(self.ups) - 1
            self.routes.append((MDNS_DOMAIN, [self.mdns_ui]))
        self.fails = [0] * len(self.ups)  # recent failures per upstream (orders the attempts)
        self.local = Local(settings)
        self.nets = nets
        self.rng = rng
        self.use0x20 = settings.do_0x20  # random case towards upstreams (do-0x20-encode)
        self.dns64 = settings.dns64  # (prefix bytes, length) or None: dnsbox.resolver.dns64
        self.auth = auth
        self.zones = list(zones)
        self.cache = cache if cache is not None else Cache(settings.cache_size)
        self.attempt_ms = ATTEMPT_MS
        self.tcp_attempt_ms = TCP_ATTEMPT_MS
        self.inflight = {}  # key -> Pending
        self.tokens = {}  # token -> Pending
        self.next_token = 1
        self.actions = []
        # counters: forwarded questions, upstream answers ignored (mismatch), malformed,
        # refused clients, SERVFAILs for failed upstreams, TCP fallbacks, poison records dropped
        self.stats = {"forwarded": 0, "ignored": 0, "malformed": 0, "refused": 0,
                      "servfail": 0, "tcp": 0, "dropped": 0, "joined": 0}

    # --- client queries ---------------------------------------------------------------------
    def query(self, q, proto, client, ip, now):
        """Response bytes for query q from client (ip: its IPv4 address as an int), or None
        (dropped, or waiting for an upstream: the answer comes later as an action)."""
        r = self._cached(self, q, proto, ip, now)
        if r is not None:
            return r
        return self._slow(q, proto, client, ip, now)

    def _slow(self, q, proto, client, ip, now):
        done, v = self._screen(self, q, proto, ip, now)
        if done:
            return v
        p, qbytes, payload, key = v
        lname = p.qname.lc
        w = Waiter(client, proto, q[:2], qbytes, p.flags, payload)
        pend = self.inflight.get(key)
        if pend is not None:
            if len(pend.waiters) >= MAX_WAITERS:
                return error(q[:2], p.flags, qbytes, _rc.SERVFAIL, payload,
                             (EDE_OTHER, "too many clients waiting for this question"))
            pend.waiters.append(w)  # the same question is in flight: asked once
            self.stats["joined"] += 1
            return None
        plan, bailiwick = self._plan(lname)
        if not plan:
            return error(q[:2], p.flags, qbytes, _rc.SERVFAIL, payload,
                         (EDE_NO_REACHABLE_AUTHORITY, "no upstream server configured"))
        if len(self.inflight) >= MAX_INFLIGHT:
            return error(q[:2], p.flags, qbytes, _rc.SERVFAIL, payload,
                         (EDE_OTHER, "too many questions in flight"))
        pend = Pending(key, Name(lname, lname), p.qtype, p.qclass, plan, bailiwick)
        pend.waiters.append(w)
        self.inflight[key] = pend
        self.stats["forwarded"] += 1
        self._send(pend, now)
        return None

    def _plan(self, lname):
        """The attempts for a name: the upstreams of the longest matching server=/domain/,
        else the default ones; UDP TRIES_PER_UPSTREAM times each, healthiest first."""
        best = None
        for dom, uis in self.routes:
            if dom is None:
                if best is None:
                    best = (b"\x00", uis)
            elif under(lname, dom) and (best is None or len(dom) >= len(best[0])):
                best = (dom, uis)
        if best is None:
            return [], ROOT
        uis = best[1]
        if uis == [self.mdns_ui]:
            return [(self.mdns_ui, UDP)] * MDNS_TRIES, Name(best[0], best[0])
        # fewest recent failures first, configuration order among equals (MicroPython's sort
        # is not stable: the position is part of the key)
        order = sorted([(self.fails[uis[i]], i, uis[i]) for i in range(len(uis))])
        plan = []
        for _f, _i, u in order:
            for _ in range(TRIES_PER_UPSTREAM):
                plan.append((u, UDP))
        return plan[:MAX_ATTEMPTS], Name(best[0], best[0])

    # --- upstream attempts --------------------------------------------------------------------
    def _send(self, pend, now):
        ui, proto = pend.plan[pend.step]
        tok = self.next_token
        self.next_token += 1
        rnd = self.rng(2)
        qid = (rnd[0] << 8) | rnd[1]
        qname = pend.key[:-4]
        mdns = ui == self.mdns_ui
        if self.use0x20 and not mdns:  # mDNS responders need not echo the case
            qname = randomise_case(qname, self.rng)
        pend.attempts[tok] = (ui, qid, proto, qname)
        self.tokens[tok] = pend
        if mdns:
            pend.deadline = now + MDNS_ATTEMPT_MS
        else:
            pend.deadline = now + (self.tcp_attempt_ms if proto == TCP else self.attempt_ms)
        # RD for upstream resolvers; clear in multicast queries (RFC 6762 18.6)
        wire = bytearray(struct.pack(">HHHHHH", qid, 0 if mdns else 0x0100, 1, 0, 0, 1))
        wire += qname
        wire += pend.key[-4:]
        wire += _OPT  # EDNS, payload 1232 (DNS flag day 2020), DO clear
        ip, port = self.ups[ui]
        self.actions.append(("send", tok, ip, port, bytes(wire), proto))

    def _next(self, pend, now, reason):
        """The current attempt failed: try the next one in the plan, or fail the question."""
        ui = pend.plan[pend.step][0]
        self.fails[ui] += 1
        r = "%s#%d %s" % (self.ups[ui][0], self.ups[ui][1], reason)
        if r not in pend.reasons:
            pend.reasons.append(r)
        pend.step += 1
        if pend.step < len(pend.plan) and len(pend.attempts) < MAX_ATTEMPTS:
            self._send(pend, now)
            return
        if ui == self.mdns_ui and "timed out" in reason:
            # no host on the link answered for the name: it does not exist (not cached)
            for w in pend.waiters:
                self.actions.append(("answer", w.client, w.proto,
                                     error(w.qid, w.flags, w.qbytes, _rc.NXDOMAIN, w.payload)))
        else:
            self._servfail(pend)
        for f in pend.followers:  # DNS64 without an A answer: the AAAA NODATA stands
            self._answer(f[2], f[3], 0, now, 0, None)
        self._finish(pend)

    def _servfail(self, pend):
        self.stats["servfail"] += 1
        code = EDE_NO_REACHABLE_AUTHORITY
        for r in pend.reasons:
            if "network" in r:
                code = EDE_NETWORK_ERROR
        text = "no upstream answered: " + ", ".join(pend.reasons)
        for w in pend.waiters:
            self.actions.append(("answer", w.client, w.proto,
                                 error(w.qid, w.flags, w.qbytes, _rc.SERVFAIL, w.payload,
                                       (code, text))))

    def _finish(self, pend):
        for tok in pend.attempts:
            self.tokens.pop(tok, None)
            self.actions.append(("done", tok))
        pend.attempts = {}
        self.inflight.pop(pend.key, None)

    def upstream_failed(self, token, reason, now):
        pend = self.tokens.get(token)
        if pend is None:
            return
        cur = pend.plan[pend.step]
        att = pend.attempts.get(token)
        if att is not None and att[0] == cur[0] and att[2] == cur[1]:
            self._next(pend, now, "network error: " + reason)

    def tick(self, now):
        for pend in list(self.inflight.values()):
            if now >= pend.deadline:
                proto = pend.plan[pend.step][1]
                self._next(pend, now, "timed out" + (" (tcp)" if proto == TCP else ""))

    def next_deadline(self):
        """The earliest attempt deadline (ms), or -1 when nothing is in flight."""
        d = -1
        for pend in self.inflight.values():
            if d < 0 or pend.deadline < d:
                d = pend.deadline
        return d

    def upstream_reply(self, token, data, src, now):
        """Bytes from the socket of attempt `token`, sent by src (ip text, port)."""
        pend = self.tokens.get(token)
        if pend is None:
            return
        ui, qid, proto, sent = pend.attempts[token]
        if ui == self.mdns_ui:
            if src[1] != MDNS_PORT or not _from_nets(self.nets, src[0]):
                self.stats["ignored"] += 1
                return  # an mDNS answer comes from a host of an allowed network, port 5353
        elif src != self.ups[ui]:
            self.stats["ignored"] += 1
            return  # not from the upstream we asked: keep waiting
        if len(data) < 12 or ((data[0] << 8) | data[1]) != qid or not data[2] & 0x80:
            self.stats["ignored"] += 1
            return
        # The question name comes first (never compressed): with 0x20 exactly the case we sent.
        # It is put back in lower case before decoding, so that names compressed against it
        # carry no random case into the cache.
        n = len(sent)
        qn = data[12 : 12 + n]
        if (qn != sent) if self.use0x20 else (qn.lower() != pend.key[:n]):
            self.stats["ignored"] += 1
            return
        data = data[:12] + pend.key[:n] + data[12 + n :]
        try:
            m = _msg.decode(data, partial=bool(data[2] & 0x02))
        except WireError:
            self.stats["malformed"] += 1
            return  # never cached, never passed on; the wait goes on
        qs = m.question
        if ((m.opcode != 0 or len(qs) != 1 or qs[0].name.lc != pend.key[:-4]
             or qs[0].qtype != pend.qtype or qs[0].qclass != pend.qclass)):
            self.stats["ignored"] += 1
            return  # an answer to another question (spoofing attempt or confusion)
        if m.tc:
            # truncated: ask the same upstream over TCP (RFC 7766 5); mDNS has no TCP
            if proto == UDP and ui != self.mdns_ui:
                self.stats["tcp"] += 1
                pend.plan.insert(pend.step + 1, (ui, TCP))
                pend.step += 1
                self._send(pend, now)
            else:
                self._next(pend, now, "truncated over TCP")
            return
        s = _scrub.scrub(m, pend.qname, pend.qtype, pend.qclass, pend.bailiwick, MAX_TTL,
                         NEG_MAX_TTL)
        if s is None:
            self._next(pend, now, "answered " + _rc.to_text(m.rcode))
            return
        self.stats["dropped"] += s.dropped
        self.fails[ui] = 0
        r = _msg.Message(qid, 0x8180)  # QR, RD, RA
        r.rcode = s.rcode
        r.question.append(Question(pend.qname, pend.qtype, pend.qclass))
        r.answer = s.answer
        r.authority = s.authority
        img = _msg.encode(r)[2:]
        if (self.dns64 is not None and s.kind == _scrub.NODATA and pend.qtype == _t.AAAA
                and pend.qclass == _t.CLASS_IN):
            self._dns64(pend, img, s.life, now)  # not cached: the synthesized answer will be
            return
        self._answer(pend.waiters, img, s.life, now, _KIND[s.kind], pend.key)
        for f in pend.followers:
            self._synthesized(f, s.answer, now)
        self._finish(pend)

    def _answer(self, waiters, img, life, now, kind, key):
        """Cache img under key (when life > 0 and key is given) and answer the waiters."""
        if key is not None:
            self.cache.store(key, img, life, now, kind)
        for w in waiters:
            self.actions.append(("answer", w.client, w.proto,
                                 render(img, w.qid, w.qbytes, w.flags, w.payload, w.proto)))

    # --- DNS64 (RFC 6147) -----------------------------------------------------------------
    def _dns64(self, pend, nodata_img, neg_life, now):
        """The AAAA answer was NODATA: ask A for the name (or take it from the cache) and
        answer the AAAA waiters from it (_synthesized)."""
        f = (pend.key, pend.qname, pend.waiters, nodata_img, neg_life)
        self._finish(pend)
        akey, cached = _dns64.cached_a(self.cache, pend.key, now)
        if cached is not None:
            self._synthesized(f, cached, now)
            return
        apend = self.inflight.get(akey)
        if apend is None:
            plan, bailiwick = self._plan(akey[:-4])
            apend = Pending(akey, pend.qname, _t.A, _t.CLASS_IN, plan, bailiwick)
            self.inflight[akey] = apend
            self._send(apend, now)
        apend.followers.append(f)

    def _synthesized(self, f, a_answer, now):
        key, qname, waiters, nodata_img, neg_life = f
        rrs = _dns64.synthesize(a_answer, qname, self.dns64[0], self.dns64[1], neg_life)
        if rrs is None:  # no A either: the AAAA NODATA is the answer
            self._answer(waiters, nodata_img, neg_life, now, _KIND[_scrub.NODATA], key)
            return
        r = _msg.Message(0, 0x8180)
        r.question.append(Question(qname, _t.AAAA, _t.CLASS_IN))
        r.answer = rrs
        life = min(rr.ttl for rr in rrs)
        self._answer(waiters, _msg.encode(r)[2:], life, now, _KIND[_scrub.POSITIVE], key)
