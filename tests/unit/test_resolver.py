"""The forwarder state machine with an injected clock and RNG and scripted upstream answers:
no sockets. Upstream answers are built and client answers read with the real codec."""
from dnsbox import config
from dnsbox.resolver import forward as F
from dnsbox.resolver.local import default_nets
from dnsbox.wire import edns as E
from dnsbox.wire import message as M
from dnsbox.wire import rcode as RC
from dnsbox.wire import rd_std
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.wire.rr import RR

UP1 = ("192.0.2.1", 53)
UP2 = ("192.0.2.2", 5300)
LOOP = 0x7F000001  # 127.0.0.1
FOREIGN = 0xC6336407  # 198.51.100.7


class Rng:
    """Deterministic bytes (the tests' stand-in for os.urandom): 0x0101, 0x0202, ..."""

    def __init__(self):
        self.n = 0

    def __call__(self, k):
        self.n = (self.n + 1) & 0xFF
        return bytes([self.n] * k)


def fwd(*words, **kw):
    """A driver made as the firmware makes it (dnsbox.main.make_driver), forwarding to UP1 and
    UP2 (and what words add); kw: auth, zones."""
    from dnsbox import main
    from dnsbox.resolver import budget

    cfg = config.parse(["mode=resolver", "dnssec=no", "server=192.0.2.1",
                        "server=192.0.2.2#5300"] + list(words))
    assert cfg.problems == [], [str(p) for p in cfg.problems]
    nets = cfg.allow if cfg.allow is not None else default_nets("10.0.2.15", "255.255.255.0")
    lim = budget.Limits(budget.BOARD_HEAP, cfg.cache_size)
    return main.make_driver(cfg, nets, kw.get("auth"), kw.get("zones", ()), lim, Rng())


def query(name, qtype=T.A, qid=0x1234, edns=None, rd=True):
    return M.encode_query(Name.from_text(name), qtype, T.CLASS_IN, qid, rd, edns)


def take(f, kind):
    out = [a for a in f.actions if a[0] == kind]
    f.actions = [a for a in f.actions if a[0] != kind]
    return out


def A(name, ttl, addr):
    return RR(Name.from_text(name), T.A, T.CLASS_IN, ttl, rd_std.A(bytes(addr)))


def SOA(zone, ttl, minimum):
    n = Name.from_text(zone)
    return RR(n, T.SOA, T.CLASS_IN, ttl, rd_std.SOA(Name.from_text("ns." + zone),
                                                    Name.from_text("host." + zone),
                                                    1, 7200, 900, 86400, minimum))


def reply(send, answer=(), authority=(), additional=(), rcode=0, tc=False, qid=None, qname=None,
          qtype=None):
    """The upstream's response to the attempt `send` (a "send" action)."""
    q = M.decode(send[4])
    r = M.make_response(q)
    r.ra = True
    r.rcode = rcode
    r.tc = tc
    if qid is not None:
        r.id = qid
    if qname is not None or qtype is not None:
        r.question = [M.Question(Name.from_text(qname) if qname else q.question[0].name,
                                 qtype or q.question[0].qtype)]
    r.answer = list(answer)
    r.authority = list(authority)
    r.additional = list(additional)
    r.edns = E.Edns(1232)
    return M.encode(r)


def src(send):
    return (send[2], send[3])


def ask(f, name, qtype=T.A, now=0, ip=LOOP, client="c", **kw):
    return f.query(query(name, qtype, **kw), F.UDP, client, ip, now)


def test_forward_answer_then_cache_hit_without_upstream_traffic():
    f = fwd()
    assert ask(f, "www.example.org.", now=0) is None
    sends = take(f, "send")
    assert len(sends) == 1 and src(sends[0]) == UP1
    up = M.decode(sends[0][4])
    assert up.rd and up.edns is not None and up.edns.payload == 1232 and not up.edns.do
    assert up.id != 0x1234  # a fresh ID, not the client's
    f.upstream_reply(sends[0][1], reply(sends[0], [A("www.example.org.", 300, (192, 0, 2, 80))]),
                     UP1, 5)
    answers = take(f, "answer")
    assert len(answers) == 1 and answers[0][1] == "c"
    m = M.decode(answers[0][3])
    assert m.id == 0x1234 and m.rcode == 0 and m.ra and m.rd and not m.aa
    assert [r.to_text() for r in m.answer] == ["www.example.org. 300 IN A 192.0.2.80"]
    assert take(f, "done") == [("done", sends[0][1])]
    r = ask(f, "www.example.org.", now=2500, client="d")
    assert f.actions == []  # answered from the cache: nothing sent
    m = M.decode(r)
    assert m.id == 0x1234 and [x.ttl for x in m.answer] == [298]
    assert f.cache.hits >= 1


def test_ttl_expiry_refetches():
    f = fwd()
    ask(f, "a.example.org.", now=0)
    s = take(f, "send")[0]
    f.upstream_reply(s[1], reply(s, [A("a.example.org.", 2, (1, 2, 3, 4))]), UP1, 0)
    f.actions = []
    assert ask(f, "a.example.org.", now=1999) is not None
    assert ask(f, "a.example.org.", now=2000) is None  # 2 s TTL: gone at exactly 2000 ms
    assert len(take(f, "send")) == 1


def test_ttl_zero_answers_but_does_not_cache():
    f = fwd()
    ask(f, "z.example.org.")
    s = take(f, "send")[0]
    f.upstream_reply(s[1], reply(s, [A("z.example.org.", 0, (1, 2, 3, 4))]), UP1, 0)
    assert M.decode(take(f, "answer")[0][3]).answer[0].ttl == 0
    assert ask(f, "z.example.org.", now=1) is None and len(take(f, "send")) == 1


def test_negative_caching_rfc2308():
    f = fwd()
    ask(f, "nx.example.org.")
    s = take(f, "send")[0]
    f.upstream_reply(s[1], reply(s, authority=[SOA("example.org.", 3600, 60)], rcode=RC.NXDOMAIN),
                     UP1, 0)
    m = M.decode(take(f, "answer")[0][3])
    assert m.rcode == RC.NXDOMAIN and m.authority[0].ttl == 60  # min(SOA TTL, minimum)
    m = M.decode(ask(f, "nx.example.org.", now=10000))
    assert m.rcode == RC.NXDOMAIN and m.authority[0].ttl == 50
    assert ask(f, "nx.example.org.", now=60000) is None  # negative TTL over
    # NODATA without SOA: no TTL to use, not cached
    f = fwd()
    ask(f, "nodata.example.org.", T.AAAA)
    s = take(f, "send")[0]
    f.upstream_reply(s[1], reply(s), UP1, 0)
    assert M.decode(take(f, "answer")[0][3]).rcode == 0
    assert ask(f, "nodata.example.org.", T.AAAA, now=1) is None


def test_mismatched_answers_are_ignored_and_the_wait_goes_on():
    f = fwd()
    ask(f, "www.example.org.")
    s = take(f, "send")[0]
    good = [A("www.example.org.", 300, (192, 0, 2, 80))]
    evil = [A("www.example.org.", 300, (6, 6, 6, 6))]
    f.upstream_reply(s[1], reply(s, evil), ("192.0.2.9", 53), 1)  # wrong address
    f.upstream_reply(s[1], reply(s, evil), ("192.0.2.1", 5353), 1)  # wrong port
    f.upstream_reply(s[1], reply(s, evil, qid=(M.decode(s[4]).id + 1) & 0xFFFF), UP1, 1)
    f.upstream_reply(s[1], reply(s, evil, qname="www.example.net."), UP1, 1)  # other question
    f.upstream_reply(s[1], reply(s, evil, qtype=T.AAAA), UP1, 1)
    f.upstream_reply(s[1], reply(s, evil)[:-3], UP1, 1)  # malformed (cut short, TC clear)
    f.upstream_reply(s[1], b"\x01", UP1, 1)
    assert f.actions == [] and f.inflight  # still waiting, nothing answered
    assert f.stats["ignored"] == 7
    f.upstream_reply(s[1], reply(s, good), UP1, 2)
    m = M.decode(take(f, "answer")[0][3])
    assert [r.to_text() for r in m.answer] == ["www.example.org. 300 IN A 192.0.2.80"]
    assert M.decode(ask(f, "www.example.org.", now=3)).answer[0].rdata.to_text() == "192.0.2.80"


def test_0x20_random_case_must_be_echoed_exactly():
    f = fwd("do-0x20-encode")
    ask(f, "WwW.Example.ORG.")
    s = take(f, "send")[0]
    sent = M.decode(s[4]).question[0].name
    assert sent.lc == Name.from_text("www.example.org.").lc and sent.wire != sent.lc
    good = [A("www.example.org.", 300, (192, 0, 2, 80))]
    evil = [A("www.example.org.", 300, (6, 6, 6, 6))]
    f.upstream_reply(s[1], reply(s, evil, qname="www.example.org."), UP1, 1)  # case not echoed
    f.upstream_reply(s[1], reply(s, evil, qname="WWW.EXAMPLE.ORG."), UP1, 1)
    assert f.actions == [] and f.inflight and f.stats["ignored"] == 2
    f.tick(1000)  # the retry draws a fresh case
    s2 = take(f, "send")[0]
    sent2 = M.decode(s2[4]).question[0].name
    assert sent2.lc == sent.lc and sent2.wire != sent.wire
    f.upstream_reply(s2[1], reply(s, good), UP1, 1001)  # the first attempt's case: not this one's
    assert take(f, "answer") == [] and f.stats["ignored"] == 3
    f.upstream_reply(s[1], reply(s, good), UP1, 1002)  # the question as sent, random case and all
    m = M.decode(take(f, "answer")[0][3])
    assert [r.to_text() for r in m.answer] == ["WwW.Example.ORG. 300 IN A 192.0.2.80"]
    m = M.decode(ask(f, "www.example.org.", now=1500))  # cached: no random case in it
    assert [r.to_text() for r in m.answer] == ["www.example.org. 300 IN A 192.0.2.80"]


def test_without_0x20_the_echoed_case_may_differ():
    f = fwd()
    ask(f, "www.example.org.")
    s = take(f, "send")[0]
    assert M.decode(s[4]).question[0].name.wire == Name.from_text("www.example.org.").wire
    f.upstream_reply(s[1], reply(s, [A("www.example.org.", 300, (192, 0, 2, 80))],
                                 qname="WWW.EXAMPLE.ORG."), UP1, 1)
    m = M.decode(take(f, "answer")[0][3])
    assert [r.to_text() for r in m.answer] == ["www.example.org. 300 IN A 192.0.2.80"]


def test_identical_questions_in_flight_are_sent_once():
    f = fwd()
    assert ask(f, "same.example.org.", client="c1", qid=1) is None
    assert ask(f, "SAME.example.org.", client="c2", qid=2) is None
    assert len(take(f, "send")) == 1 and f.stats["joined"] == 1
    s = list(f.tokens.keys())[0]
    pend = f.tokens[s]
    send = ("send", s, UP1[0], UP1[1], b"", 0)
    q = M.decode(query("same.example.org."))
    q.id = (pend.asks[s].wire[0] << 8) | pend.asks[s].wire[1]
    send = ("send", s, UP1[0], UP1[1], M.encode(q), 0)
    f.upstream_reply(s, reply(send, [A("same.example.org.", 60, (1, 1, 1, 1))]), UP1, 1)
    ans = take(f, "answer")
    assert [a[1] for a in ans] == ["c1", "c2"]
    m2 = M.decode(ans[1][3])
    assert m2.id == 2 and m2.question[0].name.wire == Name.from_text("SAME.example.org.").wire


def test_retry_then_failover_then_servfail_with_ede():
    f = fwd()
    ask(f, "down.example.org.", edns=E.Edns(1232))
    s1 = take(f, "send")[0]
    assert src(s1) == UP1
    f.tick(F.ATTEMPT_MS - 1)
    assert f.actions == []
    f.tick(F.ATTEMPT_MS)
    s2 = take(f, "send")[0]
    assert src(s2) == UP1 and M.decode(s2[4]).id != M.decode(s1[4]).id  # fresh ID per try
    f.tick(2 * F.ATTEMPT_MS)
    s3 = take(f, "send")[0]
    assert src(s3) == UP2
    f.upstream_reply(s3[1], reply(s3, rcode=RC.SERVFAIL), UP2, 2 * F.ATTEMPT_MS + 5)
    s4 = take(f, "send")[0]
    assert src(s4) == UP2
    f.tick(10 * F.ATTEMPT_MS)
    ans = take(f, "answer")
    assert len(ans) == 1
    m = M.decode(ans[0][3])
    assert m.rcode == RC.SERVFAIL
    ede = m.edns.option(E.EDE)
    assert ede.info_code == F.EDE_NO_REACHABLE_AUTHORITY
    assert "192.0.2.1#53 timed out" in ede.text and "192.0.2.2#5300 answered SERVFAIL" in ede.text
    assert sorted(a[1] for a in take(f, "done")) == sorted([s1[1], s2[1], s3[1], s4[1]])
    assert not f.inflight and not f.tokens
    # the failures are remembered: the next question tries the healthier upstream first
    ask(f, "other.example.org.", now=20000)
    assert src(take(f, "send")[0]) == UP2 or f.ups.fails[0] == f.ups.fails[1]


def test_late_answer_to_an_earlier_try_is_accepted():
    f = fwd()
    ask(f, "slow.example.org.")
    s1 = take(f, "send")[0]
    f.tick(F.ATTEMPT_MS)
    take(f, "send")
    f.upstream_reply(s1[1], reply(s1, [A("slow.example.org.", 60, (1, 2, 3, 4))]), UP1, 1100)
    assert len(take(f, "answer")) == 1


def test_network_error_fails_over_at_once():
    f = fwd()
    ask(f, "x.example.org.")
    s = take(f, "send")[0]
    f.upstream_failed(s[1], "send failed", 1)
    s2 = take(f, "send")[0]
    assert s2[1] != s[1]


def test_truncated_answer_retried_over_tcp():
    f = fwd()
    ask(f, "big.example.org.", T.TXT)
    s = take(f, "send")[0]
    assert s[5] == F.UDP
    f.upstream_reply(s[1], reply(s, tc=True), UP1, 1)
    t = take(f, "send")[0]
    assert t[5] == F.TCP and src(t) == UP1
    assert f.counters()["tcp"] == 1
    txt = RR(Name.from_text("big.example.org."), T.TXT, T.CLASS_IN, 60,
             rd_std.TXT([b"x" * 200] * 4))
    f.upstream_reply(t[1], reply(t, [txt]), UP1, 2)
    m = M.decode(take(f, "answer")[0][3])
    assert m.tc  # 800+ bytes do not fit the client's 512-byte UDP limit
    r = f.query(query("big.example.org.", T.TXT), F.TCP, "t", LOOP, 3)
    m = M.decode(r)
    assert not m.tc and len(m.answer) == 1


def _zone_server():
    """An authoritative server for example.com: compiled from authhelp's zone where the zone
    compiler is importable (CPython, the source tree), else the firmware's own compiled-in
    zone (the frozen binary leaves dnsbox.zone out)."""
    try:
        import tests.unit.authhelp as AH

        return AH.server()
    except ImportError:
        import zoneblob

        from dnsbox.auth.server import Server
        from dnsbox.zonedb import open_blob

        return Server(open_blob(zoneblob.BLOB))


def test_foreign_clients_are_refused_but_get_zone_answers():
    srv = _zone_server()
    f = fwd(auth=srv, zones=[Name.from_text("example.com.").lc])
    m = M.decode(f.query(query("www.example.org."), F.UDP, "x", FOREIGN, 0))
    assert m.rcode == RC.REFUSED and f.actions == [] and not m.ra  # no recursion for it
    m = M.decode(f.query(query("www.example.com."), F.UDP, "x", FOREIGN, 0))
    assert m.rcode == 0 and m.aa and len(m.answer) == 2  # the zone is public
    own = 0x0A000209  # 10.0.2.9: the appliance's own subnet
    assert f.query(query("www.example.org."), F.UDP, "y", own, 0) is None
    f2 = fwd("allow=any")
    assert f2.query(query("www.example.org."), F.UDP, "x", FOREIGN, 0) is None


def test_cache_hit_does_not_bypass_the_allow_list():
    f = fwd()
    ask(f, "www.example.org.")
    s = take(f, "send")[0]
    f.upstream_reply(s[1], reply(s, [A("www.example.org.", 300, (1, 2, 3, 4))]), UP1, 0)
    m = M.decode(f.query(query("www.example.org."), F.UDP, "x", FOREIGN, 1))
    assert m.rcode == RC.REFUSED and not m.answer


def test_out_of_bailiwick_and_unrelated_records_dropped():
    f = fwd("server=/corp.example/192.0.2.3")
    ask(f, "www.corp.example.")
    s = take(f, "send")[0]
    assert src(s) == ("192.0.2.3", 53)
    cname = RR(Name.from_text("www.corp.example."), T.CNAME, T.CLASS_IN, 300,
               rd_std.CNAME(Name.from_text("host.corp.example.")))
    ans = [cname, A("host.corp.example.", 300, (10, 0, 0, 5)),
           A("www.bank.example.", 300, (6, 6, 6, 6))]  # unrelated owner in the answer
    auth = [RR(Name.from_text("bank.example."), T.NS, T.CLASS_IN, 300,
               rd_std.NS(Name.from_text("ns.evil.example.")))]
    add = [A("ns.evil.example.", 300, (6, 6, 6, 6))]
    f.upstream_reply(s[1], reply(s, ans, auth, add), ("192.0.2.3", 53), 1)
    m = M.decode(take(f, "answer")[0][3])
    assert [r.to_text() for r in m.answer] == [
        "www.corp.example. 300 IN CNAME host.corp.example.",
        "host.corp.example. 300 IN A 10.0.0.5"]
    assert m.authority == [] and m.additional == []
    assert f.counters()["dropped"] == 3
    # nothing of the extras reached the cache
    assert ask(f, "www.bank.example.", now=2) is None
    assert src(take(f, "send")[0]) == UP1
    # a CNAME leaving the per-domain upstream's bailiwick is not followed
    ask(f, "out.corp.example.")
    s = take(f, "send")[0]
    cname = RR(Name.from_text("out.corp.example."), T.CNAME, T.CLASS_IN, 300,
               rd_std.CNAME(Name.from_text("www.bank.example.")))
    f.upstream_reply(s[1], reply(s, [cname, A("www.bank.example.", 300, (6, 6, 6, 6))]),
                     ("192.0.2.3", 53), 3)
    m = M.decode(take(f, "answer")[0][3])
    assert [r.rtype for r in m.answer] == [T.CNAME]


def test_local_names():
    f = fwd("host-record=router.lan,192.168.1.1,fd00::1", "address=/ads.example/0.0.0.0",
            "address=/gone.example/", "local=/lan/", "domain-needed", "bogus-priv")
    m = M.decode(ask(f, "router.lan."))
    assert m.aa and [r.to_text() for r in m.answer] == ["router.lan. 0 IN A 192.168.1.1"]
    m = M.decode(ask(f, "ROUTER.lan.", T.AAAA))
    assert m.answer[0].rdata.to_text() == "fd00::1"
    assert m.question[0].name.wire == Name.from_text("ROUTER.lan.").wire
    assert M.decode(ask(f, "router.lan.", T.MX)).answer == []  # NODATA
    assert M.decode(ask(f, "x.y.ads.example.")).answer[0].rdata.to_text() == "0.0.0.0"
    assert M.decode(ask(f, "gone.example.")).rcode == RC.NXDOMAIN
    assert M.decode(ask(f, "printer.lan.")).rcode == RC.NXDOMAIN  # local=: never forwarded
    assert M.decode(ask(f, "plainname.")).rcode == RC.NXDOMAIN  # domain-needed
    assert M.decode(ask(f, "5.1.168.192.in-addr.arpa.", T.PTR)).rcode == RC.NXDOMAIN
    # the host-record's addresses answer PTR with its name (before bogus-priv, as dnsmasq)
    m = M.decode(ask(f, "1.1.168.192.in-addr.arpa.", T.PTR))
    assert [r.to_text() for r in m.answer] == ["1.1.168.192.in-addr.arpa. 0 IN PTR router.lan."]
    v6 = "1.0." + "0." * 28 + "d.f.ip6.arpa."
    assert M.decode(ask(f, v6, T.PTR)).answer[0].rdata.to_text() == "router.lan."
    assert M.decode(ask(f, "1.1.168.192.in-addr.arpa.", T.TXT)).answer == []  # NODATA
    assert f.actions == []
    assert M.decode(ask(f, "router.lan.", ip=FOREIGN)).rcode == RC.REFUSED


def test_no_upstream_gives_servfail_with_reason():
    from dnsbox.resolver import budget
    from dnsbox.resolver.cache import Cache
    from dnsbox.resolver.driver import Driver
    from dnsbox.resolver.local import Local

    lim = budget.Limits(budget.BOARD_HEAP, 100)
    f = Driver(None, (), [(0x7F000000, 0xFF000000)], Local(), Cache(100), lim, Rng())
    m = M.decode(f.query(query("a.example.", edns=E.Edns(1232)), F.UDP, "c", LOOP, 0))
    assert m.rcode == RC.SERVFAIL and "no upstream" in m.edns.option(E.EDE).text


def test_bad_queries():
    f = fwd()
    assert f.query(b"\x00\x01\x80", F.UDP, "c", LOOP, 0) is None  # too short
    r = reply(("send", 0, "", 0, query("a.example."), 0))
    assert f.query(r, F.UDP, "c", LOOP, 0) is None  # a response: never answered
    m = M.decode(f.query(query("a.example.")[:-2], F.UDP, "c", LOOP, 0))
    assert m.rcode == RC.FORMERR
    q = bytearray(query("a.example."))
    q[2] |= 0x20  # opcode 4 (NOTIFY)
    assert M.decode(f.query(bytes(q), F.UDP, "c", LOOP, 0)).rcode == RC.NOTIMP
    m = M.decode(f.query(query("a.example.", edns=E.Edns(1232, version=1)), F.UDP, "c", LOOP, 0))
    assert m.rcode == RC.BADVERS
    assert f.actions == []


def test_client_case_and_edns_preserved_on_cache_hits():
    f = fwd()
    ask(f, "mixed.example.org.")
    s = take(f, "send")[0]
    f.upstream_reply(s[1], reply(s, [A("mixed.example.org.", 60, (1, 2, 3, 4))]), UP1, 0)
    f.actions = []
    m = M.decode(ask(f, "MiXeD.Example.ORG.", now=1, edns=E.Edns(4096)))
    assert m.question[0].name.wire == Name.from_text("MiXeD.Example.ORG.").wire
    assert m.edns is not None and m.edns.payload == 1232
    m = M.decode(ask(f, "mixed.example.org.", now=1, rd=False))
    assert not m.rd and m.ra


def test_inflight_limit():
    f = fwd()
    for i in range(f.limits.inflight):  # from many clients: each within its share
        assert ask(f, "n%d.example.org." % i, ip=LOOP + i % 100) is None
    m = M.decode(ask(f, "one-more.example.org.", ip=LOOP + 200, edns=E.Edns(1232)))
    assert m.rcode == RC.SERVFAIL and "in flight" in m.edns.option(E.EDE).text
    assert f.counters()["shed"] == 1


def test_one_client_cannot_take_the_others_share():
    f = fwd()
    share = f.limits.client_share
    assert 0 < share < f.limits.inflight
    for i in range(share):  # one client's dead names fill its share...
        assert ask(f, "dead%d.example.org." % i, ip=LOOP + 1) is None
    m = M.decode(ask(f, "dead-more.example.org.", ip=LOOP + 1, edns=E.Edns(1232)))
    assert m.rcode == RC.SERVFAIL and "this client" in m.edns.option(E.EDE).text
    assert ask(f, "mine.example.org.", ip=LOOP + 2) is None  # ...another client's goes out
    sends = take(f, "send")
    s = sends[-1]
    assert M.decode(s[4]).question[0].name.to_text() == "mine.example.org."
    f.upstream_reply(s[1], reply(s, [A("mine.example.org.", 60, (1, 2, 3, 4))]), UP1, 5)
    assert M.decode(take(f, "answer")[0][3]).rcode == RC.NOERROR
    # when its questions end, the share is the client's again
    f.tick(20000)
    assert not f.inflight and not f.clients
    assert ask(f, "again.example.org.", ip=LOOP + 1, now=20001) is None
