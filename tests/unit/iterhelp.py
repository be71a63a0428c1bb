"""A mini-Internet in memory for tests/unit/test_iterate*.py: real authoritative servers
(dnsbox.auth over zones compiled with the real compiler), one per address, and a driver that
performs an Iteration's actions against them. Faults are per address: dead (never answers),
truncate (every UDP answer cut to the question with TC), strip (referral glue removed once),
poison (out-of-bailiwick records added), nocase (question echoed in lower case), entnx
(NXDOMAIN instead of NODATA, also for empty non-terminals: what breaks QNAME minimisation),
empty (an empty NOERROR without AA or SOA: lame).

Addresses: root 10.0.0.1; test. 10.0.1.1 and 10.0.1.2; net. 10.0.2.1; example.test. 10.0.3.1;
oob.test. (NS in net.) 10.0.4.1; chain zones c<k>.test. 10.0.5.<k>, their NS zones n<k>.net.
10.0.6.<k>; deep zones 10.0.7.<k>; lame.test. 10.0.8.1 (serves nothing: REFUSED); lo. on loopback
127.0.0.53; v6. 2001:db8::53 and 10.0.9.1 (one NS name, A and AAAA glue); v6only. 2001:db8::54;
pg.test. 10.0.10.1 (no IPv4 address for its own server: parent-side glue), pgx.net. there
too, served by ns.pg.test.
"""

from dnsbox.auth import TCP, UDP
from dnsbox.auth.server import Server
from dnsbox.resolver.iterate import Ask, Env, Iteration
from dnsbox.resolver.servers import Servers
from dnsbox.wire import message as M
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.zone.compile import compile_zones, load_text
from dnsbox.zonedb import open_blob

SOA = "@ 3600 IN SOA ns hostmaster 1 7200 1800 1209600 %d\n"
CHAIN = 9  # zones c1..c9.test for the budget test
DEEP = 14  # nested zones d.test, d.d.test, ... for the referral limit

ROOT = SOA % 300 + """
@ NS a.root.
a.root. A 10.0.0.1
test. 172800 NS ns1.test.
test. 172800 NS ns2.test.
ns1.test. 172800 A 10.0.1.1
ns2.test. 172800 A 10.0.1.2
net. NS ns.net.
ns.net. A 10.0.2.1
lo. NS ns.lo.
ns.lo. A 127.0.0.53
v6. NS ns.v6.
ns.v6. AAAA 2001:db8::53
ns.v6. A 10.0.9.1
v6only. NS ns.v6only.
ns.v6only. AAAA 2001:db8::54
"""

TEST = SOA % 300 + """
@ NS ns1
@ NS ns2
ns1 A 10.0.1.1
ns2 A 10.0.1.2
example NS ns.example
ns.example A 10.0.3.1
oob NS ns.oob.net.
a NS ns.b.net.
nxns 600 NS ns.nxns.net.
lame NS ns.lame
ns.lame A 10.0.8.1
short 5 NS ns.short
ns.short 5 A 10.0.3.1
d NS ns.d
ns.d A 10.0.7.1
pg NS ns.pg
ns.pg A 10.0.10.1
"""
TEST += "".join("c%d NS c.n%d.net.\n" % (k, k) for k in range(1, CHAIN + 1))
TEST += "".join("nxns 600 NS x%d.nowhere.net.\n" % k for k in range(1, 21))

NET = SOA % 300 + """
@ NS ns
ns A 10.0.2.1
ns.oob A 10.0.4.1
nowhere NS ns
b NS ns.a.test.
pgx NS ns.pg.test.
"""
NET += "".join("n%d NS ns.n%d\nns.n%d A 10.0.6.%d\n" % (k, k, k, k) for k in range(1, CHAIN + 1))

NOWHERE = SOA % 60 + "@ NS ns.net.\n"

EXAMPLE = SOA % 60 + """
@ NS ns
ns A 10.0.3.1
www 300 A 192.0.2.1
www AAAA 2001:db8::1
mail MX 10 www
alias CNAME www.oob.test.
loop1 CNAME loop2
loop2 CNAME loop1
xloop CNAME xloop.oob.test.
dn DNAME oob.test.
a.b.c.d A 192.0.2.4
c0 CNAME c1.c1.test.
big TXT "%s" "%s" "%s" "%s" "%s" "%s"
""" % tuple(c * 250 for c in "abcdef")
EXAMPLE += "".join("l%d CNAME l%d\n" % (k, k + 1) for k in range(12)) + "l12 A 192.0.2.12\n"

OOB = SOA % 60 + """
@ NS ns.oob.net.
www A 192.0.2.2
x A 192.0.2.3
xloop CNAME xloop.example.test.
"""

SHORT = SOA % 60 + "@ NS ns\nns A 10.0.3.1\nwww A 192.0.2.5\n"


def _leaf(ns, extra=""):
    return SOA % 60 + "@ NS %s\n%swww A 192.0.2.50\n" % (ns, extra)


def _chain(k):
    nxt = "c%d.c%d.test." % (k + 1, k + 1) if k < CHAIN else None
    body = SOA % 60 + "@ NS c.n%d.net.\n" % k
    body += ("c%d CNAME %s\n" % (k, nxt)) if nxt else "c%d A 192.0.2.99\n" % k
    return body


def _deep(k):
    # zone k (k dots of 'd') delegates d.<zone> to 10.0.7.<k+1>
    body = SOA % 60 + "@ NS ns\nns A 10.0.7.%d\n" % k
    if k < DEEP:
        body += "d NS ns.d\nns.d A 10.0.7.%d\n" % (k + 1)
    body += "www A 192.0.2.7\n"
    return body


def _n(k):
    return SOA % 60 + "@ NS ns\nns A 10.0.6.%d\nc A 10.0.5.%d\n" % (k, k)


def _zones():
    z = {
        "10.0.0.1": [(ROOT, ".")],
        "10.0.0.9": [(ROOT, ".")],  # an old hint: serves the root, not named in it
        "10.0.1.1": [(TEST, "test.")],
        "10.0.1.2": [(TEST, "test.")],
        "10.0.2.1": [(NET, "net."), (NOWHERE, "nowhere.net.")],
        "10.0.3.1": [(EXAMPLE, "example.test."), (SHORT, "short.test.")],
        "10.0.4.1": [(OOB, "oob.test.")],
        "10.0.8.1": [(SOA % 60 + "@ NS ns\nns A 10.0.8.1\n", "other.")],
        "127.0.0.53": [(_leaf("ns", "ns A 127.0.0.53\n"), "lo.")],
        "2001:db8::53": [(_leaf("ns", "ns A 10.0.9.1\nns AAAA 2001:db8::53\n"), "v6.")],
        "10.0.9.1": [(_leaf("ns", "ns A 10.0.9.1\nns AAAA 2001:db8::53\n"), "v6.")],
        "2001:db8::54": [(_leaf("ns", "ns AAAA 2001:db8::54\n"), "v6only.")],
        "10.0.10.1": [(_leaf("ns", "ns AAAA 2001:db8::99\n"), "pg.test."),
                      (_leaf("ns.pg.test."), "pgx.net.")],
    }
    for k in range(1, CHAIN + 1):
        z["10.0.5.%d" % k] = [(_chain(k), "c%d.test." % k)]
        z["10.0.6.%d" % k] = [(_n(k), "n%d.net." % k)]
    for k in range(1, DEEP + 1):
        z["10.0.7.%d" % k] = [(_deep(k), "d." * k + "test.")]
    return z


_servers = {}


def server_for(ip):
    s = _servers.get(ip)
    if s is None:
        zs = _zones().get(ip)
        if zs is None:
            return None
        loaded = [load_text(text, origin)[0] for text, origin in zs]
        s = Server(open_blob(compile_zones(loaded)))
        _servers[ip] = s
    return s


def counter_rng():
    """Deterministic bytes (tests pin what they see): a counter, as ocaml-dns's tests do."""
    st = [0]

    def rng(n):
        out = bytearray(n)
        for i in range(n):
            st[0] = (st[0] * 1103515245 + 12345) & 0x7FFFFFFF
            out[i] = (st[0] >> 16) & 0xFF
        return bytes(out)

    return rng


def env(hints=(("a.root.", "10.0.0.1", 53),), rng=None, qmin=True, use0x20=True,
        prime=False):
    """An Env; priming off unless asked (tests pin the queries after it)."""
    e = Env(list(hints), rng or counter_rng(), Servers())
    e.qmin = qmin
    e.use0x20 = use0x20
    e.prime = prime
    return e


class Net:
    """Performs Asks against the in-memory servers; counts what was sent."""

    def __init__(self, faults=None):
        self.faults = faults or {}  # ip -> set of fault names
        self.sent = []  # Asks in order
        self.now = 0
        self.rtt = {}  # ip -> ms an answer takes (default 10)

    def answer(self, a):
        f = self.faults.get(a.ip, ())
        srv = server_for(a.ip)
        if "dead" in f or srv is None:
            return None
        r = srv.handle(a.wire, UDP if a.proto == 0 else TCP)
        if r is None:
            return None
        if "truncate" in f and a.proto == 0:
            m = M.decode(r)
            m.answer = []
            m.authority = []
            m.additional = []
            m.tc = True
            r = M.encode(m)
        if "strip" in f:
            m = M.decode(r)
            if m.additional and not m.answer:
                m.additional = []
                r = M.encode(m)
                f.discard("strip")  # once
        if "poison" in f:
            m = M.decode(r)
            from dnsbox.wire.rdata import from_text
            from dnsbox.wire.rr import RR

            evil = Name.from_text("www.victim.net.")
            m.additional.append(RR(evil, T.A, 1, 3600, from_text(T.A, "6.6.6.6", None)))
            m.answer.append(RR(evil, T.A, 1, 3600, from_text(T.A, "6.6.6.6", None)))
            ns = Name.from_text("test.")
            m.authority.append(RR(ns, T.NS, 1, 3600, from_text(T.NS, "ns.evil.net.", None)))
            r = M.encode(m)
        if "entnx" in f:  # a broken server: NXDOMAIN for empty non-terminals and NODATA
            m = M.decode(r)
            if m.rcode == 0 and not m.answer and m.aa:
                m.rcode = 3
                r = M.encode(m)
        if "empty" in f:
            m = M.decode(r)
            m.rcode = 0
            m.aa = False
            m.answer = []
            m.authority = []
            m.additional = []
            r = M.encode(m)
        if "nocase" in f:
            r = r[:12] + r[12:].lower()
        return r

    def run(self, it, limit=200):
        """Drive it to its Result (every Ask answered or timed out); bounded by limit."""
        return self.run_from(it, it.start(self.now), limit)

    def run_from(self, it, act, limit=200):
        """run() from an action already taken (it.start's)."""
        for _ in range(limit):
            if not isinstance(act, Ask):
                return act
            self.sent.append(act)
            r = self.answer(act)
            if r is None:
                self.now += act.timeout
                act = it.failed(act, self.now)
                continue
            self.now += self.rtt.get(act.ip, 10)
            nxt = it.reply(act, r, (act.ip, act.port), self.now)
            if nxt is None:  # ignored (e.g. case mismatch): the attempt times out
                self.now += act.timeout
                nxt = it.failed(act, self.now)
            act = nxt
        raise AssertionError("iteration did not finish in %d steps" % limit)


def driver(cache_size=100, hints=(("a.root.", "10.0.0.1", 53),), words=(), rng=None,
           heap=None):
    """A resolver driver made as the firmware makes it (dnsbox.main.make_driver) from boot
    variables, recursing from hints unless words give server=; allowed clients: loopback."""
    from dnsbox import config, main
    from dnsbox.resolver import budget

    cfg = config.parse(["mode=resolver", "dnssec=no", "cache-size=%d" % cache_size] +
                       list(words), True)
    cfg.hints = list(hints)
    lim = budget.Limits(heap or budget.BOARD_HEAP, cfg.cache_size)
    return main.make_driver(cfg, [(0x7F000000, 0xFF000000)], None, [], lim, rng or counter_rng())


def resolve(name, qtype=T.A, e=None, net=None, now=None):
    e = e or env()
    net = net or Net()
    if now is not None:
        net.now = now
    it = Iteration(e, Name.from_text(name), qtype, net.now)
    r = net.run(it)
    return r, it, net, e


def texts(rrs):
    return [r.to_text().lower() for r in rrs]
