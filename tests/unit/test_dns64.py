"""DNS64 (RFC 6147): address embedding (RFC 6052's examples), the prefix setting, and the
forwarder's flow: AAAA NODATA -> A -> synthesized AAAA, cached; AAAA present, NXDOMAIN, no A
either, A from the cache, A failing."""
from dnsbox import config
from dnsbox.config import nets, values
from dnsbox.resolver import dns64 as D
from dnsbox.wire import message as M
from dnsbox.wire import rcode as RC
from dnsbox.wire import rd_std
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.wire.rr import RR
from tests.unit.helpers import raises
from tests.unit.test_resolver import SOA, UP1, A, ask, fwd, reply, take

V4 = bytes((192, 0, 2, 33))


def v6(text):
    return nets.parse_ipv6(text)


def test_embedding_matches_rfc6052_examples():
    # RFC 6052 2.4: 192.0.2.33 under 2001:db8::/32 .. /96
    for prefix, n, want in (
        ("2001:db8::", 32, "2001:db8:c000:221::"),
        ("2001:db8:100::", 40, "2001:db8:1c0:2:21::"),
        ("2001:db8:122::", 48, "2001:db8:122:c000:2:2100::"),
        ("2001:db8:122:300::", 56, "2001:db8:122:3c0:0:221::"),
        ("2001:db8:122:344::", 64, "2001:db8:122:344:c0:2:2100:0"),
        ("2001:db8:122:344::", 96, "2001:db8:122:344::c000:221"),
    ):
        assert D.embed(v6(prefix), n, V4) == v6(want), (prefix, n)
    assert D.embed(v6("64:ff9b::"), 96, V4) == v6("64:ff9b::c000:221")


def test_prefix_setting():
    c = config.parse(["dns64-prefix=64:ff9b::/96"])
    assert c.problems == [] and c.dns64 == (v6("64:ff9b::"), 96)
    assert config.parse(["dns64-prefix=64:ff9b::/96", "dns64-prefix=off"]).dns64 is None
    for bad in ("64:ff9b::", "64:ff9b::/80", "nonsense/96", "64:ff9b::1/96",
                "2001:db8:0:0:ff00::/96", "10.0.0.0/96"):
        c = config.parse(["dns64-prefix=" + bad])
        assert [p.key for p in c.problems] == ["dns64-prefix"] and c.dns64 is None, bad
    assert "length" in str(raises(ValueError, values.dns64_prefix, "::/8"))


def _aaaa(name, ttl, text):
    return RR(Name.from_text(name), T.AAAA, T.CLASS_IN, ttl, rd_std.AAAA(v6(text)))


def _cname(name, ttl, target):
    return RR(Name.from_text(name), T.CNAME, T.CLASS_IN, ttl, rd_std.CNAME(Name.from_text(target)))


def texts(m):
    return [r.to_text() for r in m.answer]


def test_nodata_then_a_gives_synthesized_aaaa_and_is_cached():
    f = fwd("dns64-prefix=64:ff9b::/96")
    assert ask(f, "v4only.example.org.", T.AAAA) is None
    s = take(f, "send")[0]
    f.upstream_reply(s[1], reply(s, authority=[SOA("example.org.", 3600, 120)]), UP1, 0)
    assert take(f, "answer") == []  # not yet: the A question goes out
    s2 = take(f, "send")[0]
    up = M.decode(s2[4])
    assert up.question[0].qtype == T.A and up.question[0].name == Name.from_text(
        "v4only.example.org.")
    f.upstream_reply(s2[1], reply(s2, [_cname("v4only.example.org.", 600, "host.example.org."),
                                       A("host.example.org.", 300, (192, 0, 2, 33)),
                                       A("host.example.org.", 60, (192, 0, 2, 34))]), UP1, 0)
    m = M.decode(take(f, "answer")[0][3])
    assert m.rcode == 0 and m.question[0].qtype == T.AAAA
    assert texts(m) == ["v4only.example.org. 600 IN CNAME host.example.org.",
                        "host.example.org. 120 IN AAAA 64:ff9b::c000:221",
                        "host.example.org. 60 IN AAAA 64:ff9b::c000:222"]
    assert len(take(f, "done")) == 2  # both upstream attempts closed
    m = M.decode(ask(f, "v4only.example.org.", T.AAAA, now=10000))  # cached: nothing sent
    assert f.actions == [] and texts(m)[1] == "host.example.org. 110 IN AAAA 64:ff9b::c000:221"
    assert ask(f, "v4only.example.org.", T.A, now=10000) is not None  # the A answer too


def test_real_aaaa_and_nxdomain_pass_unchanged():
    f = fwd("dns64-prefix=64:ff9b::/96")
    ask(f, "dual.example.org.", T.AAAA)
    s = take(f, "send")[0]
    f.upstream_reply(s[1], reply(s, [_aaaa("dual.example.org.", 300, "2001:db8::1")]), UP1, 0)
    assert texts(M.decode(take(f, "answer")[0][3])) == ["dual.example.org. 300 IN AAAA 2001:db8::1"]
    assert take(f, "send") == []
    ask(f, "nx.example.org.", T.AAAA)
    s = take(f, "send")[0]
    f.upstream_reply(s[1], reply(s, authority=[SOA("example.org.", 3600, 60)], rcode=RC.NXDOMAIN),
                     UP1, 0)
    assert M.decode(take(f, "answer")[0][3]).rcode == RC.NXDOMAIN and take(f, "send") == []


def test_no_a_either_gives_the_nodata():
    f = fwd("dns64-prefix=64:ff9b::/96")
    ask(f, "txtonly.example.org.", T.AAAA)
    s = take(f, "send")[0]
    f.upstream_reply(s[1], reply(s, authority=[SOA("example.org.", 3600, 60)]), UP1, 0)
    s2 = take(f, "send")[0]
    f.upstream_reply(s2[1], reply(s2, authority=[SOA("example.org.", 3600, 60)]), UP1, 0)
    m = M.decode(take(f, "answer")[0][3])
    assert m.rcode == 0 and m.answer == [] and m.authority[0].rtype == T.SOA
    assert M.decode(ask(f, "txtonly.example.org.", T.AAAA, now=1000)).answer == []  # cached


def test_a_from_the_cache_and_a_failing():
    f = fwd("dns64-prefix=64:ff9b::/96")
    ask(f, "c.example.org.", T.A)
    s = take(f, "send")[0]
    f.upstream_reply(s[1], reply(s, [A("c.example.org.", 300, (192, 0, 2, 1))]), UP1, 0)
    take(f, "answer")
    ask(f, "c.example.org.", T.AAAA, now=1000)
    s = take(f, "send")[0]
    f.upstream_reply(s[1], reply(s, authority=[SOA("example.org.", 3600, 900)]), UP1, 1000)
    assert take(f, "send") == []  # the A answer came from the cache
    assert texts(M.decode(take(f, "answer")[0][3])) == [
        "c.example.org. 299 IN AAAA 64:ff9b::c000:201"]
    # the A question fails everywhere: the AAAA NODATA is answered
    ask(f, "d.example.org.", T.AAAA, now=2000)
    s = take(f, "send")[0]
    f.upstream_reply(s[1], reply(s, authority=[SOA("example.org.", 3600, 900)]), UP1, 2000)
    for _ in range(20):
        sends = take(f, "send")
        if not sends:
            break
        for x in sends:
            f.upstream_reply(x[1], reply(x, rcode=RC.SERVFAIL), (x[2], x[3]), 2000)
    m = M.decode(take(f, "answer")[0][3])
    assert m.rcode == 0 and m.answer == []


def test_off_by_default():
    f = fwd()
    ask(f, "v4only.example.org.", T.AAAA)
    s = take(f, "send")[0]
    f.upstream_reply(s[1], reply(s, authority=[SOA("example.org.", 3600, 120)]), UP1, 0)
    assert M.decode(take(f, "answer")[0][3]).answer == [] and take(f, "send") == []


def _recursor():
    from tests.unit.iterhelp import driver

    return driver(words=["dns64-prefix=64:ff9b::/96"])


def test_recursor_synthesizes_too():
    from tests.unit.iterhelp import Net
    from tests.unit.test_iterate_recursor import drive, q

    rec, net = _recursor(), Net()

    def aaaa(name):
        r = rec.query(q(name, T.AAAA), 0, "c", 0x7F000001, net.now)
        if r is None:
            out = drive(rec, net)
            assert len(out) == 1
            r = out[0][1]
        return M.decode(r)

    m = aaaa("www.oob.test.")  # A only: synthesized
    assert m.rcode == 0 and texts(m) == ["www.oob.test. 60 IN AAAA 64:ff9b::c000:202"]
    m = aaaa("www.example.test.")  # a real AAAA: unchanged
    assert texts(m) == ["www.example.test. 300 IN AAAA 2001:db8::1"]
    m = aaaa("alias.example.test.")  # a CNAME to an A-only name: the chain and the AAAA
    assert [r.rtype for r in m.answer] == [T.CNAME, T.AAAA]
    assert m.answer[1].rdata.to_text() == "64:ff9b::c000:202"
    assert aaaa("nothere.example.test.").rcode == RC.NXDOMAIN
    sent = len(net.sent)
    assert texts(aaaa("www.oob.test."))[0].endswith("64:ff9b::c000:202")  # from the cache
    assert len(net.sent) == sent
