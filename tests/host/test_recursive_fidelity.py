"""Recursion behaviours that follow Unbound, on the mini-Internet (tools/testnet.py): parent-side
glue, the use-caps-for-id fallback and switch, qname-minimisation=no, do-not-query-localhost,
cache-min-ttl/cache-max-ttl and TTLs above the parent's NS TTL, a lame empty answer, root
priming from an old hint. The odd server (net.odd_ip) logs every question as it came, which
shows what was asked and in which case. Unbound answers the same where it is compared
(test_recursive_unbound.py has the scenarios; the TTL one is compared here)."""
import os
import sys

import dns.edns
import dns.rcode
import dns.rdatatype
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_recursive import (answer_sets, ask, free_port, start_resolver, stats,  # noqa
                            stop, testnet)


@pytest.fixture(scope="module")
def net():
    n = testnet.TestNet().start()
    yield n
    n.stop()


class Resolver:
    """Ours under CPython with extra words; stopped when the with-block ends."""

    def __init__(self, net, extra=(), local=True, hints=None):
        self.port = free_port()
        self.proc = start_resolver("cpython", self.port, hints or net.hints, list(extra), local)

    def __enter__(self):
        return self.port

    def __exit__(self, *_a):
        stop(self.proc)


def _odd_since(net, n):
    return net.odd_questions()[n:]


def test_parent_side_glue(net):
    # www.pgx.net.: its server ns.pg.test. has no address in pg.test. (NODATA); www.pgrx.net.:
    # its server's name is referred by pgr.test. to a dead server. Both answered from the glue
    # test. gave (Unbound answers the first; the second it does not within 12 s)
    with Resolver(net) as port:
        r = ask(port, "www.pgx.net.", "A")
        assert answer_sets(r) == ["www.pgx.net. A 192.0.2.22"]
        r = ask(port, "www.pgrx.net.", "A")
        assert answer_sets(r) == ["www.pgrx.net. A 192.0.2.23"]


def test_caps_fallback_for_a_server_that_lowercases(net):
    n = len(net.odd_questions())
    with Resolver(net) as port:
        r = ask(port, "www.nocase.test.", "A")
        assert answer_sets(r) == ["www.nocase.test. A 192.0.2.77"]
        got = _odd_since(net, n)
        assert len(got) == 2 and got[0][0] != got[0][0].lower()  # 0x20, then without
        assert got[1] == ("www.nocase.test.", 1)
        r = ask(port, "nx.nocase.test.", "A")  # remembered: no 0x20 for it any more
        assert r.rcode() == dns.rcode.NXDOMAIN
        assert _odd_since(net, n)[2:] == [("nx.nocase.test.", 1)]


def test_use_caps_for_id_no(net):
    n = len(net.odd_questions())
    with Resolver(net, ["use-caps-for-id=no"]) as port:
        r = ask(port, "www.nocase.test.", "A")
        assert answer_sets(r) == ["www.nocase.test. A 192.0.2.77"]
        r = ask(port, "www.empty.test.", "A")
        assert answer_sets(r) == ["www.empty.test. A 192.0.2.24"]
        got = _odd_since(net, n)
        assert got and all(name == name.lower() for name, _t in got), got


def test_qname_minimisation_no_asks_the_full_name(net):
    name = "x.y.www.nocase.test."
    n = len(net.odd_questions())
    with Resolver(net, ["use-caps-for-id=no"]) as port:
        assert ask(port, name, "A").rcode() == dns.rcode.NXDOMAIN
        assert [q for q, _t in _odd_since(net, n)] == ["www.nocase.test.", "y.www.nocase.test.",
                                                      name]  # minimised, then relaxed
    n = len(net.odd_questions())
    with Resolver(net, ["use-caps-for-id=no", "qname-minimisation=no"]) as port:
        assert ask(port, name, "A").rcode() == dns.rcode.NXDOMAIN
        assert _odd_since(net, n) == [(name, 1)]


def test_do_not_query_localhost_by_default(net):
    n = len(net.odd_questions())
    with Resolver(net, local=False) as port:
        r = ask(port, "www.nocase.test.", "A")
        assert r.rcode() == dns.rcode.SERVFAIL
        ede = [o for o in r.options if o.otype == dns.edns.EDE]
        assert ede and ede[0].code == 22, r  # No Reachable Authority
        assert _odd_since(net, n) == []  # test.'s servers (127.0.0.102) were never asked
        assert stats(port)["upstream"] <= 4  # the configured root only (priming, referrals)


def test_cache_min_and_max_ttl(net):
    with Resolver(net, ["cache-max-ttl=100"]) as port:
        r = ask(port, "www.example.test.", "A")
        assert answer_sets(r) == ["www.example.test. A 192.0.2.1"] and r.answer[0].ttl == 100
    with Resolver(net, ["cache-min-ttl=5000"]) as port:
        r = ask(port, "www.short.test.", "A")
        assert answer_sets(r) == ["www.short.test. A 192.0.2.5"] and r.answer[0].ttl == 5000
        r = ask(port, "nx.example.test.", "A")
        assert r.rcode() == dns.rcode.NXDOMAIN and r.authority[0].ttl <= 300  # not raised


def test_answer_ttl_above_the_parents_ns_ttl_as_unbound(net):
    # short.test. is delegated for 5 s, its www A has TTL 60: both answer 60
    ub = testnet.Unbound(free_port(), net.hints)
    try:
        with Resolver(net) as port:
            ours = ask(port, "www.short.test.", "A").answer[0].ttl
        try:
            ask(ub.port, "ns1.test.", "A")  # warm-up: priming, the dead test. server
        except Exception:
            pass
        theirs = ask(ub.port, "www.short.test.", "A").answer[0].ttl
    finally:
        ub.stop()
    assert ours == theirs == 60


def test_lame_empty_answer_is_not_nodata(net):
    # empty.test.: 127.0.0.112 answers NOERROR with nothing, no AA, no SOA; 127.0.0.113 has
    # the data. Asked first (never measured), the lame one is not believed, nor cached
    n = len(net.odd_questions())
    with Resolver(net, ["use-caps-for-id=no"]) as port:
        for _ in range(2):
            r = ask(port, "www.empty.test.", "AAAA")
            assert answer_sets(r) == ["www.empty.test. AAAA 2001:db8::24"]
        assert ("www.empty.test.", 28) in _odd_since(net, n)


def test_priming_picks_up_a_changed_root_server_set(net):
    # the hint is the odd server (an old root): its NS set names a.root. at 127.0.0.101; it
    # refuses everything else, so answers prove the primed set replaced the hint
    n = len(net.odd_questions())
    with Resolver(net, hints=net.odd_ip) as port:
        r = ask(port, "www.example.test.", "A")
        assert answer_sets(r) == ["www.example.test. A 192.0.2.1"]
        r = ask(port, "www.oob.test.", "A")
        assert answer_sets(r) == ["www.oob.test. A 192.0.2.2"]
        assert _odd_since(net, n) == [(".", dns.rdatatype.NS)]
