"""An upstream UDP answer longer than the resolver's read buffer (net.upstream.READ_BUF), sent
whole and without TC by a server that ignores the EDNS size it was given: the resolver takes
it as truncated and asks the same server over TCP, in both modes (forwarding and recursion).

The fake upstream (tests/host/fakeupstream.py, kind `big`) answers a TXT question with over
5,000 bytes over UDP and TCP alike. The resolver runs as a process on loopback: under CPython
from the source tree and as the frozen host binary (skipped when not built). Checked: the
client gets the whole answer over TCP; over UDP it gets what the resolver's size rules give
(TC, the RRset being too large for 1,232 or 512 bytes); the upstream was asked over TCP once.
"""
import os
import subprocess
import sys
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from ports import free_port
from proctree import stop
from tests.host.fakeupstream import BIG_TXT, FakeUpstream, big_strings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
MPY = os.path.join(BUILD, "host", "dnsbox")
SERVE_MAX_S = 120  # a resolver started here exits by itself after this long
READY_S = 20  # time for it to start answering
QUERY_TIMEOUT_S = 6  # one client query


def start(kind, words):
    port = free_port()
    args = ["--host", "--max-s=%d" % SERVE_MAX_S, "port=%d" % port] + list(words)
    env = dict(os.environ)
    if kind == "cpython":
        env["PYTHONPATH"] = os.path.join(ROOT, "firmware")
        cmd = [sys.executable, "-m", "dnsbox.main"] + args
    else:
        if not os.path.exists(MPY):
            pytest.skip("build/host/dnsbox not built (./build.sh host)")
        env.pop("MICROPYPATH", None)
        cmd = [MPY, "-X", "heapsize=8M", "-m", "dnsbox.main"] + args
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + READY_S
    while time.monotonic() < end:
        try:
            q = dns.message.make_query("stats.dnsbox.", "TXT", "CH")
            dns.query.udp(q, "127.0.0.1", port=port, timeout=0.3)
            return p, port
        except Exception:
            if p.poll() is not None:
                break
            time.sleep(0.1)
    stop(p)
    raise AssertionError("resolver (%s) did not start" % kind)


@pytest.fixture
def up():
    u = FakeUpstream()
    yield u
    u.stop()


def _query(name, edns):
    return dns.message.make_query(name, "TXT", use_edns=edns, payload=1232)


def _check(port, up, name):
    m = dns.query.tcp(_query(name, 0), "127.0.0.1", port=port, timeout=QUERY_TIMEOUT_S)
    assert m.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(m.rcode())
    assert not m.flags & dns.flags.TC
    got = sorted(s for rr in m.answer for rd in rr for s in rd.strings)
    assert got == [big_strings(i) for i in range(BIG_TXT)]
    assert up.count(name, "udp") >= 1 and up.count(name, "tcp") == 1
    # over UDP: the RRset does not fit 1,232 bytes (nor 512): TC, and no partial RRset
    for edns in (0, None):
        m = dns.query.udp(_query(name, edns), "127.0.0.1", port=port, timeout=QUERY_TIMEOUT_S,
                          raise_on_truncation=False)
        assert m.rcode() == dns.rcode.NOERROR and m.flags & dns.flags.TC, edns
        assert sum(len(rr) for rr in m.answer) in (0, BIG_TXT), edns


@pytest.mark.parametrize("kind", ["cpython", "micropython"])
def test_forwarder_asks_over_tcp_after_a_cut_answer(kind, up):
    p, port = start(kind, ["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port])
    try:
        _check(port, up, "big.example")
    finally:
        stop(p)


@pytest.mark.parametrize("kind", ["cpython", "micropython"])
def test_recursor_asks_over_tcp_after_a_cut_answer(kind, up):
    # the fake is the root: it answers every question itself (AA for the big one)
    p, port = start(kind, ["mode=resolver", "dnssec=no", "hints=127.0.0.1#%d" % up.port,
                        "do-not-query-localhost=no"])
    try:
        _check(port, up, "big.example")
    finally:
        stop(p)
