"""The iterative resolver core (dnsbox.resolver.iterate), sans-I/O, against real authoritative
servers in memory (tests/unit/iterhelp.py): referrals, glue, NS lookups, chains, negative
answers, TCP, server selection, the scrub and every named limit."""

from dnsbox.resolver import iterate as I
from dnsbox.resolver.iterate import Ask, Env, Iteration
from dnsbox.wire.name import randomise_case
from dnsbox.resolver.servers import Servers
from dnsbox.wire import message as M
from dnsbox.wire import rcode as R
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from tests.unit.iterhelp import Net, counter_rng, env, resolve, texts


def _asked(it):
    return [(z, n, t) for z, n, t, _ip in it.trace()]


def test_first_action_is_a_plain_iterative_query():
    e = env()
    it = Iteration(e, Name.from_text("www.example.test."), T.A, 0)
    a = it.start(0)
    assert isinstance(a, Ask) and a.ip == "10.0.0.1" and a.port == 53 and a.proto == I.UDP
    m = M.decode(a.wire)
    assert not m.rd and not m.qr and m.edns.payload == 1232 and not m.edns.do
    q = m.question[0]
    assert q.name.lc == b"\x04test\x00" and q.qtype == T.A  # minimised: one label below the root
    assert q.name.wire == a.qname.wire  # the case we sent is remembered for the 0x20 check


def test_answer_from_the_root_down_with_qname_minimisation():
    r, it, net, e = resolve("www.example.test.")
    assert r.rcode == R.NOERROR and r.ede is None
    assert texts(r.answer) == ["www.example.test. 300 in a 192.0.2.1"]
    assert _asked(it) == [(".", "test.", T.A), ("test.", "example.test.", T.A),
                          ("example.test.", "www.example.test.", T.A)]
    assert r.life == 300
    # names compressed against our 0x20 question come back without the random case
    assert r.answer[0].name.wire == b"\x03www\x07example\x04test\x00"
    r, _it, _n, _e = resolve("mail.example.test.", T.MX)
    assert r.answer[0].rdata.exchange.wire == b"\x03www\x07example\x04test\x00"


def test_priming_asks_the_root_ns_set_once():
    e = env(hints=(("old.root.", "10.0.0.9", 53),), prime=True)
    r, it, _n, _e = resolve("www.example.test.", e=e)
    assert r.rcode == R.NOERROR
    assert it.trace()[0] == (".", ".", T.NS, "10.0.0.9")
    assert [ip for _z, _n2, _t, ip in it.trace()[1:2]] == ["10.0.0.1"]  # the primed server
    assert e.deleg.root.ips() == ["10.0.0.1", "10.0.0.9"]  # the hint stays behind it
    r, it, _n, _e = resolve("www.short.test.", e=e)
    assert T.NS not in [t for _z, _n2, t, _ip in it.trace()]  # primed for the NS TTL
    # hints on another port (a test root): no priming, its answer would name port 53
    e = Env([("a.root.", "10.0.0.1", 5300)], counter_rng(), Servers())
    assert not e.prime


def test_qname_minimisation_off_sends_the_full_name():
    r, it, net, e = resolve("www.example.test.", e=env(qmin=False))
    assert r.rcode == R.NOERROR
    assert [n for _z, n, _t in _asked(it)] == ["www.example.test."] * 3


def test_minimisation_walks_empty_non_terminals():
    r, it, _n, _e = resolve("a.b.c.d.example.test.")
    assert texts(r.answer) == ["a.b.c.d.example.test. 300 in a 192.0.2.4"]
    assert [n for z, n, _t in _asked(it) if z == "example.test."] == [
        "d.example.test.", "c.d.example.test.", "b.c.d.example.test.", "a.b.c.d.example.test."]


def test_minimisation_falls_back_to_the_full_name_on_nxdomain():
    net = Net({"10.0.3.1": {"entnx"}})
    r, it, _n, _e = resolve("a.b.c.d.example.test.", net=net)
    assert r.rcode == R.NOERROR and texts(r.answer) == ["a.b.c.d.example.test. 300 in a 192.0.2.4"]
    assert [n for z, n, _t in _asked(it) if z == "example.test."] == [
        "d.example.test.", "a.b.c.d.example.test."]  # relaxed (RFC 9156 2.3)


def test_names_known_without_a_cut_are_not_asked_again():
    e = env()
    resolve("a.b.c.d.example.test.", e=e)
    r, it, _n, _e = resolve("x.b.c.d.example.test.", e=e)
    assert r.rcode == R.NXDOMAIN
    assert _asked(it) == [("example.test.", "x.b.c.d.example.test.", T.A)]


def test_warm_caches_skip_the_root():
    e = env()
    resolve("www.example.test.", e=e)
    r, it, _n, _e = resolve("www.example.test.", T.AAAA, e=e)
    assert texts(r.answer) == ["www.example.test. 300 in aaaa 2001:db8::1"]
    assert _asked(it) == [("example.test.", "www.example.test.", T.AAAA)]
    # NS addresses are kept in the RRset cache; a client's answers are not (the response
    # cache of dnsbox.resolver.recurse holds them): the same question asks the zone again
    assert e.rrs.get(Name.from_text("ns1.test.").lc, T.A, 0) is None  # glue: delegation only
    r, it, _n, _e = resolve("www.oob.test.", e=e)
    assert e.rrs.get(Name.from_text("ns.oob.net.").lc, T.A, 0) is not None
    assert e.rrs.get(Name.from_text("www.oob.test.").lc, T.A, 0) is None


def test_ds_is_asked_on_the_parent_side_of_the_cut():
    e = env()
    resolve("www.example.test.", e=e)  # example.test.'s delegation is known now
    r, it, _n, _e = resolve("example.test.", T.DS, e=e)
    assert r.rcode == R.NOERROR and r.answer == []
    assert [x.name.to_text() for x in r.authority] == ["test."]  # NODATA from the parent
    assert [z for z, _n2, _t in _asked(it)] == ["test."]


def test_out_of_bailiwick_ns_is_looked_up():
    r, it, _n, _e = resolve("www.oob.test.")
    assert texts(r.answer) == ["www.oob.test. 3600 in a 192.0.2.2"]
    assert ("net.", "oob.net.", T.A) in _asked(it) or ("net.", "ns.oob.net.", T.A) in _asked(it)
    assert it.trace()[-1][3] == "10.0.4.1"


def test_cname_into_another_zone():
    r, it, _n, _e = resolve("alias.example.test.")
    assert r.rcode == R.NOERROR
    assert texts(r.answer) == ["alias.example.test. 300 in cname www.oob.test.",
                               "www.oob.test. 3600 in a 192.0.2.2"]


def test_dname_synthesises_a_cname():
    r, _it, _n, _e = resolve("x.dn.example.test.")
    assert texts(r.answer) == ["dn.example.test. 300 in dname oob.test.",
                               "x.dn.example.test. 300 in cname x.oob.test.",
                               "x.oob.test. 3600 in a 192.0.2.3"]


def test_nxdomain_and_nodata_carry_the_soa_with_the_negative_ttl():
    r, _it, _n, _e = resolve("nx.example.test.")
    assert r.rcode == R.NXDOMAIN and r.answer == []
    assert [x.to_text().lower().split()[:4] for x in r.authority] == [
        ["example.test.", "60", "in", "soa"]]
    assert r.life == 60
    r, _it, _n, _e = resolve("www.example.test.", T.MX)
    assert r.rcode == R.NOERROR and r.answer == [] and len(r.authority) == 1 and r.life == 60


def test_truncated_udp_is_asked_again_over_tcp():
    net = Net({"10.0.3.1": {"truncate"}})
    r, it, _n, _e = resolve("www.example.test.", net=net)
    assert texts(r.answer) == ["www.example.test. 300 in a 192.0.2.1"]
    last = net.sent[-2:]
    assert [a.proto for a in last] == [I.UDP, I.TCP] and last[1].ip == "10.0.3.1"


def test_answer_too_big_for_udp_comes_over_tcp():
    net = Net()
    r, _it, _n, _e = resolve("big.example.test.", T.TXT, net=net)
    assert r.rcode == R.NOERROR and len(r.answer) == 1
    assert len(r.answer[0].rdata.strings) == 6 and net.sent[-1].proto == I.TCP


def test_dead_server_is_skipped_and_then_avoided():
    e = env(qmin=False)
    net = Net({"10.0.1.1": {"dead"}})
    r, it, _n, _e = resolve("www.example.test.", e=e, net=net)
    assert r.rcode == R.NOERROR
    ips = [a.ip for a in net.sent]
    assert ips[1:3] == ["10.0.1.1", "10.0.1.2"]  # the first try timed out, then the other
    # the dead server is backed off after DEAD_AFTER timeouts; the live one is first now
    net2 = Net({"10.0.1.1": {"dead"}})
    net2.now = net.now
    r, it, _n, _e = resolve("www.short.test.", e=e, net=net2)
    assert r.rcode == R.NOERROR and "10.0.1.1" not in [a.ip for a in net2.sent]


def test_faster_server_preferred_by_smoothed_rtt():
    e = env(qmin=False)
    net = Net()
    net.rtt = {"10.0.1.1": 80, "10.0.1.2": 5}
    for i in range(4):
        resolve("n%d.test." % i, e=e, net=net)
    tail = [a.ip for a in net.sent[-3:]]
    assert tail == ["10.0.1.2"] * 3
    assert e.servers.srtt("10.0.1.2") < e.servers.srtt("10.0.1.1")


def test_case_randomised_and_checked():
    wire = Name.from_text("www.example.test.").wire
    out = randomise_case(wire, counter_rng())
    assert out.lower() == wire and out != wire
    assert out[0] == 3 and out[4] == 7  # length bytes untouched
    # a server that does not echo our case (use-caps-for-id fallback): its answer is not
    # taken; the question goes to it again without 0x20, and it is remembered
    net = Net({"10.0.3.1": {"nocase"}})
    r, it, _n, e = resolve("www.example.test.", net=net)
    assert r.rcode == R.NOERROR and texts(r.answer) == ["www.example.test. 300 in a 192.0.2.1"]
    to = [a for a in net.sent if a.ip == "10.0.3.1"]
    assert [a.exact for a in to] == [True, False]
    assert to[0].qname.wire != to[0].qname.lc and to[1].qname.wire == to[1].qname.lc
    assert e.nocaps == {"10.0.3.1": 1} and it.queries == len(net.sent)
    net.sent = []
    r, _it, _n, _e = resolve("mail.example.test.", T.MX, e=e, net=net)
    assert r.rcode == R.NOERROR and [a.exact for a in net.sent] == [False]
    # use-caps-for-id=no: never random case, not even to servers that echo it
    net = Net()
    r, _it, _n, _e = resolve("www.example.test.", e=env(use0x20=False), net=net)
    assert r.rcode == R.NOERROR
    assert all(not a.exact and a.qname.wire == a.qname.lc for a in net.sent)


def test_nocaps_table_is_bounded():
    e = env()
    for k in range(I.MAX_NOCAPS + 5):
        e.no_caps("10.9.%d.%d" % (k // 256, k % 256))
    assert len(e.nocaps) <= I.MAX_NOCAPS and e.caps("10.0.3.1") and not e.caps("10.9.1.4")


def test_reply_checks_source_and_id():
    e = env()
    it = Iteration(e, Name.from_text("www.example.test."), T.A, 0)
    a = it.start(0)
    good = Net().answer(a)
    assert it.reply(a, good, ("10.0.0.9", 53), 5) is None  # another address
    assert it.reply(a, good, (a.ip, 5353), 5) is None  # another port
    bad_id = bytes((good[0] ^ 1,)) + good[1:]
    assert it.reply(a, bad_id, (a.ip, a.port), 5) is None
    assert it.reply(a, good[:20], (a.ip, a.port), 5) is None  # malformed
    nxt = it.reply(a, good, (a.ip, a.port), 5)
    assert isinstance(nxt, Ask) and nxt.ip in ("10.0.1.1", "10.0.1.2")


def test_poisoning_extras_are_dropped():
    e = env(qmin=False)
    net = Net({"10.0.3.1": {"poison"}})
    r, _it, _n, _e = resolve("www.example.test.", e=e, net=net)
    assert texts(r.answer) == ["www.example.test. 300 in a 192.0.2.1"]
    victim = Name.from_text("www.victim.net.")
    assert e.rrs.get(victim.lc, T.A, net.now) is None
    d = e.deleg.get(Name.from_text("test.").lc, net.now)
    assert [n.to_text() for n in d.ns] == ["ns1.test.", "ns2.test."]


def test_lame_server_fails_bounded():
    r, it, _n, _e = resolve("www.lame.test.")
    assert r.rcode == R.SERVFAIL and r.ede[0] == I.EDE_NO_REACHABLE_AUTHORITY
    assert it.queries <= 4 and r.life == I.FAIL_TTL_S


def test_missing_glue_recovered_from_the_parent():
    e = env(qmin=False)
    net = Net({"10.0.1.1": {"strip"}, "10.0.1.2": {"dead"}})
    r, it, _n, _e = resolve("www.example.test.", e=e, net=net)
    assert r.rcode == R.NOERROR and texts(r.answer) == ["www.example.test. 300 in a 192.0.2.1"]
    asked = _asked(it)
    assert ("test.", "ns.example.test.", T.A) in asked  # the parent asked again


def test_delegation_expires_with_the_parents_ttl():
    e = env(qmin=False)
    net = Net()
    resolve("www.short.test.", e=e, net=net)
    r, it, _n, _e = resolve("nx1.short.test.", e=e, net=net, now=net.now + 2000)
    assert r.rcode == R.NXDOMAIN and [z for z, _n2, _t in _asked(it)] == ["short.test."]
    r, it, _n, _e = resolve("nx2.short.test.", e=e, net=net, now=net.now + 6000)
    assert [z for z, _n2, _t in _asked(it)] == ["test.", "short.test."]  # NS TTL 5 s passed


# --- limits -------------------------------------------------------------------------------------


def test_limit_upstream_queries_per_request():
    r, it, _n, _e = resolve("c0.example.test.")
    assert r.rcode == R.SERVFAIL and it.queries == I.MAX_QUERIES == 30
    assert "more than 30 upstream queries" in r.ede[1]


def test_limit_ns_name_lookups_per_referral_nxns():
    r, it, net, _e = resolve("www.nxns.test.")
    assert r.rcode == R.SERVFAIL and r.ede[0] == I.EDE_NO_REACHABLE_AUTHORITY
    looked = set(n for _z, n, _t, _ip in it.trace() if "nowhere" in n)
    assert len(looked) <= I.MAX_NS_LOOKUPS == 3
    assert it.queries <= 12


def test_limit_cname_chain():
    r, it, _n, _e = resolve("l4.example.test.")  # 8 links: allowed
    assert r.rcode == R.NOERROR and len(r.answer) == 9
    r, it, _n, _e = resolve("l0.example.test.")  # 12 links
    assert r.rcode == R.SERVFAIL and "CNAME chain longer than 8" in r.ede[1]


def test_limit_referral_depth():
    r, _it, _n, _e = resolve("www." + "d." * 11 + "test.")  # 12 referrals
    assert r.rcode == R.NOERROR
    r, it, _n, _e = resolve("www." + "d." * 13 + "test.")
    assert r.rcode == R.SERVFAIL and "more than 12 referrals" in r.ede[1]


def test_cname_loops_end_bounded_with_servfail():
    r, it, _n, _e = resolve("loop1.example.test.")
    assert r.rcode == R.SERVFAIL and r.ede is not None and it.queries <= 4
    r, it, _n, _e = resolve("xloop.example.test.")  # across two zones
    assert r.rcode == R.SERVFAIL and "CNAME loop" in r.ede[1] and it.queries <= 10
    assert r.life == I.FAIL_TTL_S


def test_ns_cycle_ends_bounded_with_servfail():
    r, it, _n, _e = resolve("www.a.test.")
    assert r.rcode == R.SERVFAIL and r.ede[0] == I.EDE_NO_REACHABLE_AUTHORITY
    assert it.queries <= 8 and r.life == I.FAIL_TTL_S


def test_servers_backoff_and_timeouts():
    s = Servers()
    assert s.timeout("192.0.2.1", 0) >= 200
    s.good("192.0.2.1", 20, 0)
    assert s.srtt("192.0.2.1") == 20 and s.timeout("192.0.2.1", 0) == 200
    s.bad("192.0.2.2", 0)
    assert not s.held("192.0.2.2", 0)
    s.bad("192.0.2.2", 0)
    assert s.held("192.0.2.2", 1000) and not s.held("192.0.2.2", 2001)
    assert s.order(["192.0.2.2", "192.0.2.1"], 1000) == ["192.0.2.1", "192.0.2.2"]
    s.good("192.0.2.2", 5, 3000)
    assert s.order(["192.0.2.1", "192.0.2.2"], 3000) == ["192.0.2.2", "192.0.2.1"]
    small = Servers(4)
    for i in range(10):
        small.good("192.0.2.%d" % i, 10, i)
    assert len(small.info) <= 4


def test_fast_start_then_quick_answer_or_replay():
    """Once example.test.'s servers are known, a new name is asked without the generators; an
    address answer ends it at once (quick), anything else is replayed into them: one query
    either way, and the same results as the generators give."""
    e = env(qmin=False)
    net = Net()
    resolve("www.example.test.", e=e, net=net)  # learns the delegation
    it = Iteration(e, Name.from_text("www.example.test."), T.AAAA, net.now)
    a = it.start(net.now)
    assert isinstance(a, Ask) and it._gen is None  # the fast start: no generators
    r = it.reply(a, net.answer(a), (a.ip, a.port), net.now + 5)
    assert r.rcode == R.NOERROR and r.img is not None and it.queries == 1
    assert texts(r.answer) == ["www.example.test. 300 in aaaa 2001:db8::1"]
    for name, rc in (("nx.example.test.", R.NXDOMAIN), ("alias.example.test.", R.NOERROR),
                     ("mail.example.test.", R.NOERROR)):
        r, it, _n, _e = resolve(name, e=e, net=net)
        plain, it2, _n2, _e2 = resolve(name, e=env(qmin=False), net=Net())  # no fast start
        assert r.rcode == rc == plain.rcode and texts(r.answer) == texts(plain.answer), name
        assert it.trace()[0][1] == name  # the first query is the question itself, once
    dead = Net({"10.0.3.1": {"dead"}})  # the fast ask times out: the generators go on
    it = Iteration(e, Name.from_text("www2.example.test."), T.A, net.now)
    a = it.start(net.now)
    assert it._gen is None
    dead.now = net.now
    r = dead.run_from(it, a)
    assert r.rcode in (R.NOERROR, R.NXDOMAIN, R.SERVFAIL) and it.trace()[0][3] == a.ip
