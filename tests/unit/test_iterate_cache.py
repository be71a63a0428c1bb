"""The recursive resolver's memory (dnsbox.resolver.delegation): ranked RRsets (RFC 2181 5.4.1)
with TTLs counted down, delegations that expire with the parent's TTL, both bounded."""

from dnsbox.resolver import delegation as D
from dnsbox.wire import rdata
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.wire.rr import RR


def _a(name, ip, ttl):
    return RR(Name.from_text(name), T.A, 1, ttl, rdata.from_text(T.A, ip, None))


def test_lower_rank_does_not_replace_higher():
    c = D.RRCache()
    k = Name.from_text("ns.example.").lc
    assert c.put(k, T.A, [_a("ns.example.", "192.0.2.1", 300)], D.RANK_AUTH_ANSWER, 0)
    assert not c.put(k, T.A, [_a("ns.example.", "6.6.6.6", 300)], D.RANK_GLUE, 1000)
    assert c.get(k, T.A, 1000)[0].rdata.to_text() == "192.0.2.1"
    assert c.put(k, T.A, [_a("ns.example.", "192.0.2.2", 300)], D.RANK_AUTH_ANSWER, 1000)
    assert c.get(k, T.A, 1000)[0].rdata.to_text() == "192.0.2.2"
    # once the trusted data expired, lower-ranked data may take its place
    assert c.put(k, T.A, [_a("ns.example.", "192.0.2.3", 60)], D.RANK_GLUE, 302000)


def test_ttl_counted_down_and_expiry():
    c = D.RRCache()
    k = Name.from_text("ns.example.").lc
    c.put(k, T.A, [_a("ns.example.", "192.0.2.1", 10)], D.RANK_AUTH_ANSWER, 0)
    assert c.get(k, T.A, 3500)[0].ttl == 6
    assert c.get(k, T.A, 10000) is None and len(c) == 0
    assert not c.put(k, T.A, [_a("ns.example.", "192.0.2.1", 0)], D.RANK_AUTH_ANSWER, 0)


def test_rrcache_bounded():
    c = D.RRCache(limit=8)
    for i in range(40):
        n = Name.from_text("n%d.example." % i)
        c.put(n.lc, T.A, [_a("n%d.example." % i, "192.0.2.1", 100 + i)], D.RANK_AUTH_ANSWER, 0)
        assert len(c) <= 8


def test_delegations_expire_and_stay_bounded():
    root = D.Delegation(Name.from_text("."), [], -1)
    ds = D.Delegations(root, limit=4)
    d = D.Delegation(Name.from_text("example."), [Name.from_text("ns.example.")], 5000)
    d.add_addr(Name.from_text("ns.example."), "192.0.2.53")
    ds.put(d)
    www = Name.from_text("www.example.")
    assert ds.closest(www, 4999) is d and ds.closest(www, 5000) is root
    for i in range(10):
        ds.put(D.Delegation(Name.from_text("z%d." % i), [], 100000 + i))
        assert len(ds.zones) <= 4
    ds.put(D.Delegation(Name.from_text("."), [], 1))  # the hints are never replaced
    assert ds.closest(www, 0) is root


def test_closest_usable_skips_delegations_without_addresses():
    root = D.Delegation(Name.from_text("."), [], -1)
    ds = D.Delegations(root)
    parent = D.Delegation(Name.from_text("example."), [Name.from_text("ns.example.")], 9000)
    parent.add_addr(Name.from_text("ns.example."), "192.0.2.53")
    child = D.Delegation(Name.from_text("sub.example."), [Name.from_text("ns.sub.example.")], 9000)
    ds.put(parent)
    ds.put(child)
    n = Name.from_text("ns.sub.example.")
    assert ds.closest(n, 0) is child and ds.closest(n, 0, True) is parent  # ask the parent
    for i in range(10):
        child.add_addr(n, "192.0.2.%d" % i)
    assert child.ips() == ["192.0.2.%d" % i for i in range(D.MAX_ADDRS_PER_NS)]
