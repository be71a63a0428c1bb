"""MemoryError at each allocation site of the serving loop's paths: the loop survives, answers,
and leaves no table or socket inconsistent (CPython, in process, real loopback sockets).

The serving loop (dnsbox.net.server) and the resolver glue (dnsbox.net.upstream) call the test
hook net.fault(site) where they allocate; here it raises MemoryError the first FAULTS times a
site is reached. The resolver is the firmware's (dnsbox.main.make_driver) with a compiled zone
and a fake upstream (tests/host/fakeupstream.py). For each site the same traffic runs: UDP
misses and cache hits, a zone name, TCP, a truncated answer fetched over TCP; then every
question must be answerable again, and once quiet: nothing in flight, no client counted, no ask
socket left open or watched.
"""
import socket
import struct
import threading
import time

import dns.message
import dns.query
import dns.rcode
import pytest

from dnsbox import config, main
from dnsbox.net import server as net
from dnsbox.net import upstream
from dnsbox.resolver import budget
from ports import free_port
from tests.host.fakeupstream import FakeUpstream
from tests.unit import authhelp

SITES = ["udp query", "resolver query", "respond", "ask open", "watch", "upstream read",
         "tcp accept", "tcp read"]
FAULTS = 3  # MemoryErrors raised at the site before it is let through


class Rig:
    def __init__(self, up):
        cfg = config.parse(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port], True)
        lim = budget.Limits(budget.BOARD_HEAP, 1000)
        zones = [b"\x07example\x03com\x00"]
        self.drv = main.make_driver(cfg, [(0x7F000000, 0xFF000000)], authhelp.server(), zones,
                                    lim)
        self.port = free_port()
        self.loop, self.glue = upstream.serve(self.drv, "127.0.0.1", self.port)
        self.t = threading.Thread(target=self.loop.serve, daemon=True)
        self.t.start()

    def ask(self, name, rdtype="A", tcp=False, timeout=3.0):
        q = dns.message.make_query(name, rdtype)
        f = dns.query.tcp if tcp else dns.query.udp
        return f(q, "127.0.0.1", port=self.port, timeout=timeout)

    def ask_retrying(self, name, rdtype="A", tcp=False):
        """A client retries once a query was lost (as stub resolvers do)."""
        for _ in range(FAULTS + 2):
            try:
                return self.ask(name, rdtype, tcp, timeout=1.0)
            except (dns.exception.Timeout, ConnectionError, EOFError, OSError):
                continue
        raise AssertionError("%s %s never answered" % (name, rdtype))

    def stop(self):
        self.loop.stop()
        self.t.join(3)
        self.glue.close()
        self.loop.close()


@pytest.fixture
def up():
    u = FakeUpstream()
    yield u
    u.stop()


@pytest.fixture(autouse=True)
def fast_loop(monkeypatch):
    monkeypatch.setattr(net, "POLL_MS", 50)  # idle sweeps and the reaper run often
    yield
    net.fault = None


@pytest.mark.parametrize("site", SITES)
def test_memory_error_at_each_site_is_survived(up, site):
    hits = {"n": 0}

    def fault(where):
        if where == site and hits["n"] < FAULTS:
            hits["n"] += 1
            raise MemoryError("made by the test at %s" % where)

    rig = Rig(up)
    try:
        rig.ask("ok.warm.test.")  # cached before the faults start
        net.fault = fault
        answers = {}
        for name, rdtype, tcp in [("ok.miss.test.", "A", False), ("ok.warm.test.", "A", False),
                                  ("www.example.com.", "A", False),
                                  ("ok.tcp.test.", "A", True), ("tc.big.test.", "TXT", False),
                                  ("ok.more.test.", "A", False)]:
            r = rig.ask_retrying(name, rdtype, tcp)
            answers[name] = r
        net.fault = None
        assert hits["n"] >= 1, "the traffic never reached %s" % site
        for name, r in answers.items():
            assert r.rcode() in (dns.rcode.NOERROR, dns.rcode.SERVFAIL), (name, r)
        # afterwards everything answers correctly (a SERVFAIL remembered at most briefly)
        time.sleep(1.1)
        for name, rdtype, tcp in [("ok.miss.test.", "A", False), ("ok.fresh.test.", "A", False),
                                  ("www.example.com.", "A", True), ("tc.big.test.", "TXT", True)]:
            r = rig.ask(name, rdtype, tcp)
            assert r.rcode() == dns.rcode.NOERROR and r.answer, (site, name, r)
        time.sleep(0.3)  # quiet: the reaper's round
        drv, glue = rig.drv, rig.glue
        assert not drv.inflight and not drv.tokens and not drv.clients
        assert not glue.asks
        assert not [fd for fd in rig.loop.extra]  # no ask socket left in the poll
    finally:
        rig.stop()


def test_a_failing_job_ends_its_question_only(up, monkeypatch):
    """A MemoryError inside the core (a job's reply) fails that question with SERVFAIL; the
    tables stay whole and the next question resolves."""
    from dnsbox.resolver import forward

    rig = Rig(up)
    real = forward.ForwardJob.reply
    calls = {"n": 0}

    def boom(self, ask, data, src, now):
        calls["n"] += 1
        if calls["n"] == 1:
            raise MemoryError("made by the test")
        return real(self, ask, data, src, now)

    monkeypatch.setattr(forward.ForwardJob, "reply", boom)
    try:
        r = rig.ask("ok.first.test.")
        assert r.rcode() == dns.rcode.SERVFAIL
        assert rig.ask("ok.second.test.").rcode() == dns.rcode.NOERROR
        assert rig.drv.stats["faults"] == 1 and not rig.drv.inflight and not rig.drv.clients
    finally:
        rig.stop()


def test_udp_handler_failure_is_answered_servfail(up):
    rig = Rig(up)

    def fault(where):
        if where == "resolver query":
            raise MemoryError("made by the test")

    try:
        net.fault = fault
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        q = dns.message.make_query("ok.x.test.", "A")
        s.sendto(q.to_wire(), ("127.0.0.1", rig.port))
        r = dns.message.from_wire(s.recv(512))
        assert r.id == q.id and r.rcode() == dns.rcode.SERVFAIL
        assert r.question[0].name == q.question[0].name
        s.sendto(struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"\xff", ("127.0.0.1", rig.port))
        r = s.recv(512)  # a question that does not parse: the header alone
        assert r[:2] == b"\x00\x07" and r[3] & 15 == dns.rcode.SERVFAIL and r[5] == 0
        s.close()
    finally:
        net.fault = None
        rig.stop()
