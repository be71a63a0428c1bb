"""Upstreams that never answer.

Recursing: dead. is delegated to two servers that take every query and answer none
(tests/abuse/evilnet.py). dnsbox asks each once (a timeout per server), then answers SERVFAIL
with an Extended DNS Error; meanwhile it answers other questions; asked again within the
failure's lifetime (dnsbox.resolver.ask.FAIL_TTL_S, RFC 9520) it answers SERVFAIL at once
without asking anyone (measured: SERVFAIL after 1.5 s, one query to each dead server; the
second ask answered at once). Unbound 1.17 from the same root, the reference, also answers other
questions meanwhile (checked), but keeps trying the dead servers: measured when this was
written, no answer within 60 s (21 queries to them), and none for the same question asked again
within another 60 s.

Forwarding (UDP silence is tests/host/test_forwarder.py's test_timeout_then_servfail_with_ede):
an upstream that answers UDP with TC and then, over TCP, reads the query and never answers, or
sends half an answer, or closes the connection. dnsbox asks over TCP after each TC and gives up
after its plan (two UDP asks, each followed by one TCP ask: dnsbox.resolver.forward), with
SERVFAIL and an Extended DNS Error, answering another question meanwhile. Measured: SERVFAIL
after 6.0 s for the silent and the half answer (two TCP asks of 3 s), at once for the closed
connection. Unbound 1.17 forwarding to the same upstream (not run here: it takes too long) gave
no answer within 90 s in all three cases (5 UDP and 2 TCP queries each).
"""
import select
import socket
import time

import dns.edns
import dns.message
import dns.query
import dns.rcode
import pytest

from dnsbox.resolver import forward, iterate
from tests.abuse import refs
from tests.abuse.upstreams import StallingUpstream

WAIT_S = 15  # longer than any resolver here takes to give up on one question


def send(port, name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    q = dns.message.make_query(name, "A", use_edns=0, payload=1232)
    s.sendto(q.to_wire(), ("127.0.0.1", port))
    return s


def receive(s, timeout=WAIT_S):
    s.settimeout(timeout)
    try:
        return dns.message.from_wire(s.recv(4096))
    finally:
        s.close()


def pending(s):
    """True while nothing has come back on s."""
    return not select.select([s], [], [], 0)[0]


def ede(m):
    return [o for o in m.options if o.otype == dns.edns.EDE]


def test_dead_delegation_recursing(recursors):
    net = recursors.net
    for who, port, src in recursors.both():
        mark = net.mark()
        t0 = time.monotonic()
        dead = send(port, "www.dead.")
        live = dns.query.udp(dns.message.make_query("www.evil.", "A"), "127.0.0.1",
                             port=port, timeout=WAIT_S)
        assert live.rcode() == 0 and live.answer, (who, live.to_text())
        assert pending(dead), "%s: the dead question was answered before the live one" % who
        if who != "dnsbox":
            dead.close()  # Unbound answers it after a minute or more (module docstring)
            continue
        m = receive(dead)
        took = time.monotonic() - t0
        asked = net.queries(mark, src=src, under="dead.")
        at_dead = [x for x in asked if x[0] in (net.ip(4), net.ip(5))]
        figures = "%s after %.1f s, %d queries to the dead servers" % (
            dns.rcode.to_text(m.rcode()), took, len(at_dead))
        assert m.rcode() == dns.rcode.SERVFAIL and ede(m), figures
        assert 1 <= len(at_dead) <= iterate.MAX_TRIES_PER_STEP, (figures, at_dead)
        print("dnsbox: " + figures)
        mark = net.mark()
        again = receive(send(port, "www.dead."), 2)  # remembered: no new query
        assert again.rcode() == dns.rcode.SERVFAIL and ede(again)
        assert not net.queries(mark, src=src, under="dead."), "asked again within FAIL_TTL_S"


@pytest.fixture(scope="module")
def stalling():
    up = StallingUpstream()
    fw = None
    try:
        fw = refs.dnsbox(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port])
        yield up, fw.port
    finally:
        refs.stop(fw)
        up.stop()


def test_upstream_tcp_never_answers(stalling):
    up, port = stalling
    kinds = ("tchang", "tchalf", "tcpclose")
    socks = dict((k, send(port, "%s.example." % k)) for k in kinds)
    live = dns.query.udp(dns.message.make_query("ok-live.example.", "A"), "127.0.0.1",
                         port=port, timeout=WAIT_S)
    assert [a.to_text() for rr in live.answer for a in rr] == ["192.0.2.1"]
    assert pending(socks["tchang"]) and pending(socks["tchalf"])  # still waiting on TCP
    for k in kinds:
        m = receive(socks[k])
        assert m.rcode() == dns.rcode.SERVFAIL and ede(m), (k, m.to_text())
        name = "%s.example" % k
        plan = forward.TRIES_PER_UPSTREAM  # one upstream: each UDP ask is followed by TCP
        assert (up.count(name, "udp"), up.count(name, "tcp")) == (plan, plan), k
    # the resolver is whole afterwards: a new name is forwarded and answered
    m = dns.query.udp(dns.message.make_query("ok-after.example.", "A"), "127.0.0.1", port=port,
                      timeout=WAIT_S)
    assert [a.to_text() for rr in m.answer for a in rr] == ["192.0.2.1"]
