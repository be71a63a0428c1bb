"""Serve-expired (RFC 8767) and prefetch end to end: the frozen host firmware in both resolver
modes in front of real servers that go silent.

Forwarding: the fake upstream (tests/host/fakeupstream.py) stops answering after the first
answer. Recursing: the mini-Internet (tools/testnet.py), whose NSD for short.test. is stopped by
its PID after the first answer for fast.short.test. (a 5 s TTL). Past the TTL, a resolver with
serve-expired=yes answers the expired data with TTL 30 and the Extended DNS Error 3 (Stale
Answer); one without answers SERVFAIL. Prefetch: a query in the last tenth of the TTL is answered
from the cache and sends exactly one query upstream (counted by the fake upstream, or by the CH TXT
stats.dnsbox. counters when recursing). Loopback only; every wait is bounded.
"""
import time

import dns.edns
import dns.rcode
import pytest
import testnet

from ports import free_port
from tests.host.fakeupstream import FakeUpstream
from tests.host.test_forwarder import Resolver
from tests.host.test_recursive import ask, start_resolver, stats, stop

FAST = "fast.short.test."  # 192.0.2.6 with a 5 s TTL (tests/testnet/short.test.zone)
TTL_S = 5
PAST_TTL_S = TTL_S + 0.6  # a wait that takes an answer cached now past its expiry
LAST_TENTH_S = 4.7  # within the last tenth of a 5 s TTL (4.5 .. 5 s), with room both ways
REFRESH_WAIT_S = 0.4  # for a prefetch on loopback to come back


def _ede(m):
    for o in m.options:
        if o.otype == dns.edns.EDE:
            return o.code
    return None


def _a(m):
    return sorted(rd.to_text() for rr in m.answer for rd in rr if rr.rdtype == 1)


def _stale_ok(m, addr):
    assert m.rcode() == dns.rcode.NOERROR, m
    assert _a(m) == [addr] and [rr.ttl for rr in m.answer] == [30]
    assert _ede(m) == 3  # Stale Answer (RFC 8914 4.4)


@pytest.fixture
def up():
    u = FakeUpstream()
    yield u
    u.stop()


def _fwd(up, *words):
    return Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port] + list(words))


# --- forwarding -------------------------------------------------------------------------------
def test_forward_stale_answer_after_the_upstream_goes_silent(up):
    r = _fwd(up, "serve-expired=yes")  # client timer 1800 ms (the default)
    try:
        assert r.ask("ok-ttl1.example.").answer[0].ttl == 1
        up.silent = True
        time.sleep(1.2)
        _stale_ok(r.ask("ok-ttl1.example."), "192.0.2.1")  # after the client timer
        _stale_ok(r.ask("ok-ttl1.example."), "192.0.2.1")  # at once: the timer has passed
        m = r.ask("ok-ttl1.example.", edns=-1)  # no EDNS: the answer alone, no OPT
        assert _a(m) == ["192.0.2.1"] and m.answer[0].ttl == 30 and m.edns < 0
        assert up.count("ok-ttl1.example") >= 2  # it did ask again
    finally:
        r.stop()


def test_forward_stale_answer_when_the_resolution_fails(up):
    r = _fwd(up, "serve-expired=yes", "serve-expired-client-timeout=10000",
             "serve-expired-reply-ttl=30")
    try:
        r.ask("ok-ttl1.example.")
        up.silent = True
        time.sleep(1.2)
        _stale_ok(r.ask("ok-ttl1.example."), "192.0.2.1")  # both tries timed out (2 s)
    finally:
        r.stop()


def test_forward_servfail_without_serve_expired(up):
    r = _fwd(up)
    try:
        r.ask("ok-ttl1.example.")
        up.silent = True
        time.sleep(1.2)
        m = r.ask("ok-ttl1.example.")
        assert m.rcode() == dns.rcode.SERVFAIL and _ede(m) != 3
    finally:
        r.stop()


def test_forward_prefetch_asks_upstream_once(up):
    r = _fwd(up, "prefetch=yes")
    try:
        t0 = time.monotonic()
        assert r.ask("ok-ttl5.example.").answer[0].ttl == TTL_S
        assert up.count("ok-ttl5.example") == 1
        time.sleep(max(0, t0 + LAST_TENTH_S - time.monotonic()))
        assert r.ask("ok-ttl5.example.").answer[0].ttl == 1  # from the cache (4 s elapsed)
        time.sleep(REFRESH_WAIT_S)
        assert up.count("ok-ttl5.example") == 2  # the prefetch
        for _ in range(3):
            r.ask("ok-ttl5.example.")
        time.sleep(max(0, t0 + PAST_TTL_S - time.monotonic()))
        m = r.ask("ok-ttl5.example.")  # past the first answer's TTL: the refreshed entry
        assert _a(m) == ["192.0.2.1"] and m.answer[0].ttl >= TTL_S - 1
        assert up.count("ok-ttl5.example") == 2  # exactly one prefetch, and no miss
        st = stats(r.port)
        assert st["prefetch"] == 1
    finally:
        r.stop()


# --- recursing --------------------------------------------------------------------------------
@pytest.fixture
def net():
    n = testnet.TestNet().start()
    yield n
    n.stop()


def _stop_nsd(net, last_octet):
    """Stop the testnet's NSD on prefix.last_octet by its PID (and forget it)."""
    ip = net.prefix + str(last_octet)
    procs = [p for what, p in net.procs if what == "nsd " + ip]
    assert len(procs) == 1, net.procs
    testnet.stop_all(procs)
    net.procs = [(w, p) for w, p in net.procs if p not in procs]


def test_recursing_stale_answer_when_the_authority_goes_silent(net):
    on_port, off_port = free_port(), free_port()
    on = start_resolver("micropython", on_port, net.hints, ["serve-expired=yes"])
    try:
        off = start_resolver("micropython", off_port, net.hints)
        try:
            for port in (on_port, off_port):
                m = ask(port, FAST, "A")
                assert _a(m) == ["192.0.2.6"] and m.answer[0].ttl == TTL_S
            _stop_nsd(net, 105)  # short.test.'s only server
            time.sleep(PAST_TTL_S)
            _stale_ok(ask(on_port, FAST, "A"), "192.0.2.6")
            m = ask(off_port, FAST, "A")
            assert m.rcode() == dns.rcode.SERVFAIL and _ede(m) != 3
            assert stats(on_port)["stale"] >= 1 and stats(off_port)["stale"] == 0
        finally:
            stop(off)
    finally:
        stop(on)


def test_recursing_prefetch_sends_one_upstream_query(net):
    port = free_port()
    p = start_resolver("micropython", port, net.hints, ["prefetch=yes"])
    try:
        t0 = time.monotonic()
        assert _a(ask(port, FAST, "A")) == ["192.0.2.6"]
        before = stats(port)["upstream"]
        time.sleep(max(0, t0 + LAST_TENTH_S - time.monotonic()))
        assert ask(port, FAST, "A").answer[0].ttl == 1  # from the cache
        time.sleep(REFRESH_WAIT_S)
        st = stats(port)
        assert st["prefetch"] == 1 and st["upstream"] == before + 1  # one query to short.test.
        time.sleep(max(0, t0 + PAST_TTL_S - time.monotonic()))
        m = ask(port, FAST, "A")  # past the first answer's TTL: the refreshed entry
        assert _a(m) == ["192.0.2.6"] and m.answer[0].ttl >= TTL_S - 1
        assert stats(port)["upstream"] == before + 1
    finally:
        stop(p)
