"""Iteration behaviours that follow Unbound (tests/unit/iterhelp.py's in-memory net): parent-side
glue, loopback addresses learnt from the network, AAAA glue and the families the box can use,
cache-min-ttl/cache-max-ttl, a lame empty answer, priming counted, the settings' wiring."""

from dnsbox.resolver import iterate as I
from dnsbox.wire import rcode as R
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.wire.rdata import from_text
from dnsbox.wire.rr import RR
from tests.unit.iterhelp import Net, driver, env, resolve


def _ips(net):
    return [a.ip for a in net.sent]


def test_parent_side_glue_when_the_child_has_no_address():
    # pgx.net.'s server is ns.pg.test.; pg.test.'s own server answers NODATA for its name's
    # IPv4 address: the glue test. gave for it is used (before: SERVFAIL)
    r, it, net, _e = resolve("www.pgx.net.")
    assert r.rcode == R.NOERROR and r.answer[0].to_text().endswith("192.0.2.50")
    asked = [(n, t) for _z, n, t, _ip in it.trace()]
    assert ("ns.pg.test.", T.A) in asked  # the child side was asked first
    assert _ips(net)[-1] == "10.0.10.1"


def test_loopback_glue_is_never_asked():
    r, _it, net, _e = resolve("www.lo.")
    assert r.rcode == R.SERVFAIL and r.ede[0] == I.EDE_NO_REACHABLE_AUTHORITY
    assert "127.0.0.53" not in _ips(net)
    e = env()
    e.local_ok = True  # do-not-query-localhost=no
    r, _it, net, _e = resolve("www.lo.", e=e)
    assert r.rcode == R.NOERROR and _ips(net)[-1] == "127.0.0.53"


def _a(name, text, rtype=T.A):
    return RR(Name.from_text(name), rtype, 1, 60, from_text(rtype, text, None))


def test_loopback_and_unspecified_addresses_refused_unless_configured():
    e = env(hints=(("a.root.", "10.0.0.1", 53), ("b.root.", "127.0.0.9", 53)))
    for text, rtype in (("127.0.0.1", T.A), ("127.255.1.2", T.A), ("0.0.0.0", T.A),
                        ("0.1.2.3", T.A), ("::1", T.AAAA), ("::", T.AAAA),
                        ("::ffff:127.0.0.1", T.AAAA), ("::ffff:0.0.0.0", T.AAAA)):
        assert e.addr(_a("ns.x.", text, rtype)) is None, text
    assert e.addr(_a("ns.x.", "127.0.0.9")) == "127.0.0.9"  # a configured hint
    assert e.addr(_a("ns.x.", "2001:db8::1", T.AAAA)) == "2001:db8::1"
    assert e.addr(_a("ns.x.", "::ffff:192.0.2.1", T.AAAA)) is not None
    assert e.addr(_a("ns.x.", "10.1.2.3")) == "10.1.2.3"
    e.local_ok = True
    assert e.addr(_a("ns.x.", "::1", T.AAAA)) == "::1"


def test_aaaa_glue_kept_and_only_usable_families_asked():
    e = env(qmin=False)
    r, _it, net, _e = resolve("www.v6.", e=e, net=Net())
    assert r.rcode == R.NOERROR and "2001:db8::53" not in _ips(net)
    d = e.deleg.get(Name.from_text("v6.").lc, net.now)
    assert sorted(d.ips()) == ["10.0.9.1", "2001:db8::53"] and d.ips((4,)) == ["10.0.9.1"]
    # an IPv6-only zone cannot be reached over IPv4 alone
    r, _it, net, _e = resolve("www.v6only.", e=e, net=Net())
    assert r.rcode == R.SERVFAIL and "2001:db8::54" not in _ips(net)


def test_ipv6_asked_when_the_box_has_it():
    e = env(qmin=False)
    e.families = (4, 6)
    r, _it, net, _e = resolve("www.v6only.", e=e)
    assert r.rcode == R.NOERROR and _ips(net)[-1] == "2001:db8::54"


def test_family_fallback_on_timeout():
    e = env(qmin=False)
    e.families = (4, 6)
    e.servers.good("10.0.9.1", 300, 0)  # measured slow: the unmeasured IPv6 one goes first
    net = Net({"2001:db8::53": {"dead"}})
    r, _it, net, _e = resolve("www.v6.", e=e, net=net)
    assert r.rcode == R.NOERROR
    assert _ips(net)[-2:] == ["2001:db8::53", "10.0.9.1"]  # timed out, then IPv4
    net.sent = []
    r, _it, net, _e = resolve("ns.v6.", e=e, net=net)  # the dead one is not first again
    assert r.rcode == R.NOERROR and _ips(net) == ["10.0.9.1"]


def test_cache_max_and_min_ttl():
    e = env()
    e.max_ttl = 100
    r, _it, _n, _e = resolve("www.example.test.", e=e)
    assert r.answer[0].ttl == 100 and r.life == 100
    e = env()
    e.min_ttl = 1000
    r, _it, _n, _e = resolve("www.example.test.", e=e)
    assert r.answer[0].ttl == 1000 and r.life == 1000
    # negative answers are not raised
    r, _it, _n, _e = resolve("nx.example.test.", e=e)
    assert r.rcode == R.NXDOMAIN and r.life == 60


def test_answer_ttl_above_the_parents_ns_ttl_is_kept():
    # short.test. is delegated for 5 s; its www A has TTL 3600: Unbound answers 3600, so do we
    r, _it, _n, _e = resolve("www.short.test.")
    assert r.rcode == R.NOERROR and r.answer[0].ttl == 3600 and r.life == 3600


def test_empty_noerror_without_aa_is_lame_not_nodata():
    net = Net({"10.0.1.1": {"empty"}})
    r, _it, net, _e = resolve("ns1.test.", T.AAAA, e=env(qmin=False), net=net)
    assert r.rcode == R.NOERROR and not r.answer and r.authority  # NODATA from 10.0.1.2
    assert _ips(net)[-2:] == ["10.0.1.1", "10.0.1.2"]
    net = Net({"10.0.3.1": {"empty"}})  # the only server
    r, _it, _n, _e = resolve("www.example.test.", T.AAAA, net=net)
    assert r.rcode == R.SERVFAIL and r.life == I.FAIL_TTL_S


def test_priming_counts_as_upstream_queries():
    e = env(hints=(("old.root.", "10.0.0.9", 53),), prime=True)
    r, it, net, _e = resolve("www.example.test.", e=e)
    assert r.rcode == R.NOERROR and it.queries == len(net.sent) and it.trace()[0][2] == T.NS


def test_settings_reach_the_env():
    d = driver(words=["qname-minimisation=no", "use-caps-for-id=no",
                      "do-not-query-localhost=no", "cache-min-ttl=5", "cache-max-ttl=600"])
    e = d.env
    assert (e.qmin, e.use0x20, e.local_ok, e.min_ttl, e.max_ttl) == (False, False, True, 5, 600)
    e = driver().env
    assert (e.qmin, e.use0x20, e.local_ok, e.min_ttl, e.max_ttl) == (True, True, False, 0,
                                                                     86400)
    assert e.families == (4,)
