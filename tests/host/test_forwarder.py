"""The caching forwarder end to end: the frozen host firmware (build/host/dnsbox) in resolver
mode in front of a fault-injecting fake upstream (tests/host/fakeupstream.py) on loopback.

Checked: correct answers, cache hits without upstream traffic, TTL expiry, in-flight
deduplication, failover, TCP fallback, poisoning attempts rejected (wrong ID, wrong question,
wrong source port, malformed bytes, out-of-bailiwick extras), SERVFAIL with EDE, REFUSED for
foreign clients, local names, config errors reported, fresh IDs and source ports.
"""
import os
import socket
import subprocess
import threading
import time

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from ports import free_port
from tests.host.fakeupstream import FakeUpstream

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
BINARY = os.path.join(BUILD, "host", "dnsbox")
READY_TIMEOUT_S = 10
Q_TIMEOUT_S = 4.0  # longer than the forwarder's whole failover budget for one upstream


class Resolver:
    """The firmware started with boot variables; stopped by PID."""

    def __init__(self, words):
        assert os.path.isfile(BINARY), "%s missing: run ./build.sh first" % BINARY
        self.port = free_port()
        self.proc = subprocess.Popen(
            [BINARY, "-m", "dnsbox.main", "--host", "port=%d" % self.port] + list(words),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if any("dnsbox ready" in x for x in self.lines):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError("resolver did not start:\n" + "\n".join(self.lines))

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def ask(self, name, rdtype="A", tcp=False, source="127.0.0.1", edns=0):
        q = dns.message.make_query(name, rdtype, use_edns=edns)
        if tcp:
            return dns.query.tcp(q, "127.0.0.1", timeout=Q_TIMEOUT_S, port=self.port)
        return dns.query.udp(q, "127.0.0.1", timeout=Q_TIMEOUT_S, port=self.port,
                             source=source, ignore_trailing=False)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(3)
        self._t.join(2)


@pytest.fixture
def up():
    u = FakeUpstream()
    yield u
    u.stop()


@pytest.fixture
def res(up):
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port])
    yield r
    r.stop()


def addrs(m):
    return sorted(rd.to_text() for rr in m.answer for rd in rr if rr.rdtype == 1)


def test_answer_then_cache_hit_without_upstream_traffic(res, up):
    m = res.ask("ok.example.")
    assert m.rcode() == 0 and addrs(m) == ["192.0.2.1"]
    assert m.flags & dns.flags.RA
    assert up.count("ok.example") == 1
    for _ in range(5):
        m = res.ask("ok.example.")
        assert addrs(m) == ["192.0.2.1"]
    m = res.ask("OK.Example.")  # other case: same cache entry, question echoed as asked
    assert m.question[0].name.to_text() == "OK.Example."
    assert up.count("ok.example") == 1  # no more upstream traffic
    m = res.ask("ok.example.", tcp=True)
    assert addrs(m) == ["192.0.2.1"] and up.count("ok.example") == 1


def test_ttl_expiry(res, up):
    m = res.ask("ok-ttl1.example.")
    assert m.answer[0].ttl == 1
    res.ask("ok-ttl1.example.")
    assert up.count("ok-ttl1.example") == 1
    time.sleep(1.1)
    res.ask("ok-ttl1.example.")
    assert up.count("ok-ttl1.example") == 2
    m = res.ask("ok-ttl0.example.")
    assert m.answer[0].ttl == 0
    res.ask("ok-ttl0.example.")
    assert up.count("ok-ttl0.example") == 2  # TTL 0: never served from the cache


def test_cache_min_and_max_ttl(up):
    # Unbound's names, for forwarded answers too: positive TTLs raised to the minimum, every
    # TTL cut to the maximum; a negative answer is only cut
    base = ["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port]
    r = Resolver(base + ["cache-max-ttl=100"])
    try:
        assert r.ask("ok.example.").answer[0].ttl == 100  # 300 upstream
        assert r.ask("nx.example.").authority[0].ttl == 30
    finally:
        r.stop()
    r = Resolver(base + ["cache-min-ttl=600"])
    try:
        assert r.ask("ok-ttl1.example.").answer[0].ttl == 600
        time.sleep(1.1)
        m = r.ask("ok-ttl1.example.")
        assert 598 <= m.answer[0].ttl <= 600 and up.count("ok-ttl1.example") == 1  # cached
        assert r.ask("nx.example.").authority[0].ttl == 30  # not raised
    finally:
        r.stop()


def test_negative_answer_cached(res, up):
    m = res.ask("nx.example.")
    assert m.rcode() == dns.rcode.NXDOMAIN and m.authority[0].ttl == 30
    assert res.ask("nx.example.").rcode() == dns.rcode.NXDOMAIN
    assert up.count("nx.example") == 1


def test_identical_questions_in_flight_sent_once(res, up):
    socks = []
    q = dns.message.make_query("delay-dedup.example.", "A")
    for i in range(5):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(Q_TIMEOUT_S)
        q.id = 1000 + i
        s.sendto(q.to_wire(), ("127.0.0.1", res.port))
        socks.append(s)
    for i, s in enumerate(socks):
        m = dns.message.from_wire(s.recv(4096))
        assert m.id == 1000 + i and addrs(m) == ["192.0.2.1"]
        s.close()
    assert up.count("delay-dedup.example") == 1


def test_poisoning_attempts_rejected(res, up):
    for kind in ("wrongid", "wrongq", "wrongport", "junk"):
        m = res.ask("%s.example." % kind)
        assert m.rcode() == 0 and addrs(m) == ["192.0.2.1"], kind
        m = res.ask("%s.example." % kind)  # the cached answer is the right one too
        assert addrs(m) == ["192.0.2.1"], kind
    m = res.ask("poison.example.")
    assert [rr.name.to_text() for rr in m.answer] == ["poison.example."]
    assert m.authority == [] and m.additional == []
    # nothing of the extras was cached: www.bank.test goes upstream (and gets the fake's answer)
    before = up.total()
    assert addrs(res.ask("www.bank.test.")) != ["6.6.6.6"]
    assert up.total() == before + 1


def test_fresh_ids_and_source_ports(res, up):
    for i in range(20):
        res.ask("ok-%d.example." % i)
    assert len(set(up.ids)) >= 19  # random 16-bit IDs: a repeat among 20 is rare
    assert len(set(up.sources)) >= 19  # a fresh source port each time


def test_tcp_fallback_on_truncation(res, up):
    m = res.ask("tc.example.", "TXT", edns=0)
    assert m.rcode() == 0 and not m.flags & dns.flags.TC
    assert len(m.answer[0]) == 1 and len(m.answer[0][0].strings) == 5
    assert up.count("tc.example", "udp") == 1 and up.count("tc.example", "tcp") == 1
    m = res.ask("tc.example.", "TXT", edns=None)  # plain client: 512 bytes, so TC itself
    assert m.flags & dns.flags.TC
    m = res.ask("tc.example.", "TXT", tcp=True)
    assert len(m.answer) == 1 and up.count("tc.example", "tcp") == 1  # from the cache


def test_servfail_with_ede_when_upstream_fails(res, up):
    m = res.ask("servfail.example.")
    assert m.rcode() == dns.rcode.SERVFAIL
    ede = [o for o in m.options if o.otype == dns.edns.EDE]
    assert ede and ede[0].code == 22 and "SERVFAIL" in ede[0].text


def test_timeout_then_servfail_with_ede(up):
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port])
    try:
        t0 = time.monotonic()
        m = r.ask("drop.example.")
        took = time.monotonic() - t0
        assert m.rcode() == dns.rcode.SERVFAIL
        ede = [o for o in m.options if o.otype == dns.edns.EDE][0]
        assert ede.code == 22 and "timed out" in ede.text
        assert 1.5 < took < 3.5  # two tries of 1 s
        assert up.count("drop.example") == 2
    finally:
        r.stop()


def test_failover_to_second_upstream(up):
    dead = FakeUpstream()
    dead.stop()  # nothing listens there any more: its queries vanish
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % dead.port,
                  "server=127.0.0.1#%d" % up.port])
    try:
        m = r.ask("ok-failover.example.")
        assert addrs(m) == ["192.0.2.1"]
        assert up.count("ok-failover.example") == 1
        # the dead one is now known bad: the next question goes to the good one first
        t0 = time.monotonic()
        assert addrs(r.ask("ok-second.example.")) == ["192.0.2.1"]
        assert time.monotonic() - t0 < 0.5
    finally:
        r.stop()


def test_per_domain_upstream_and_local_names(up):
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#1",
                  "server=/corp.test/127.0.0.1#%d" % up.port,
                  "host-record=router.lan,192.168.1.1", "address=/ads.test/0.0.0.0",
                  "local=/lan/", "domain-needed"])
    try:
        assert addrs(r.ask("ok.corp.test.")) == ["192.0.2.1"]
        m = r.ask("router.lan.")
        assert addrs(m) == ["192.168.1.1"] and m.flags & dns.flags.AA
        assert addrs(r.ask("x.ads.test.")) == ["0.0.0.0"]
        assert r.ask("printer.lan.").rcode() == dns.rcode.NXDOMAIN
        assert r.ask("plain.").rcode() == dns.rcode.NXDOMAIN
        assert up.total() == 1
    finally:
        r.stop()


def test_foreign_clients_refused(up):
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port,
                  "allow=127.0.0.2"])
    try:
        m = r.ask("ok.example.", source="127.0.0.1")
        assert m.rcode() == dns.rcode.REFUSED and not m.answer
        assert up.total() == 0
        m = r.ask("ok.example.", source="127.0.0.2")
        assert addrs(m) == ["192.0.2.1"]
        m = r.ask("ok.example.", source="127.0.0.1")  # a cache hit is refused just the same
        assert m.rcode() == dns.rcode.REFUSED
        m = r.ask("www.example.com.", source="127.0.0.1")  # the compiled-in zone is public
        assert m.rcode() == 0 and m.flags & dns.flags.AA and not m.flags & dns.flags.RA
    finally:
        r.stop()


def test_default_is_not_an_open_resolver(up):
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port, "ip=127.0.0.1",
                  "netmask=255.255.255.255"])
    try:
        assert "recursion for 127.0.0.0/8" in "\n".join(r.lines)
    finally:
        r.stop()


def test_config_errors_reported(up):
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port, "server=1.2.3",
                  "dhcp-boot=pxelinux.0", "colour=blue", "cache-size=lots"])
    try:
        log = "\n".join(r.lines)
        assert "boot variable server=1.2.3: not an IPv4 or IPv6 address" in log
        assert "boot variable dhcp-boot=pxelinux.0: dnsmasq option not implemented" in log
        assert "boot variable colour=blue: unknown option" in log
        assert "boot variable cache-size=lots: not a number of entries" in log
        assert addrs(r.ask("ok.example.")) == ["192.0.2.1"]  # still serves with the rest
    finally:
        r.stop()


def test_config_file(up, tmp_path):
    conf = tmp_path / "dnsbox.conf"
    conf.write_text("# test\nmode=resolver\ndnssec=no\nserver=127.0.0.1#1\n"
                    "host-record=nas.lan,10.9.9.9\n"
                    "log-async\n")
    r = Resolver(["conf-file=%s" % conf, "server=127.0.0.1#%d" % up.port])
    try:
        log = "\n".join(r.lines)
        assert "dnsbox.conf line 6: log-async: dnsmasq option not implemented" in log
        assert addrs(r.ask("nas.lan.")) == ["10.9.9.9"]
        assert addrs(r.ask("ok.example.")) == ["192.0.2.1"]  # boot variable replaced server=
    finally:
        r.stop()


def test_client_mode_on_the_host(res, up):
    """`dnsbox -m dnsbox.client` (the frozen firmware) asks the resolver, prints dig's format."""
    out = subprocess.run([BINARY, "-m", "dnsbox.client", "ok-client.example", "A", "@127.0.0.1",
                          "-p", str(res.port)], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: " in text
    assert ";; flags: qr rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1" in text
    assert "ok-client.example.\t300\tIN\tA\t192.0.2.1" in text
    assert ";; SERVER: 127.0.0.1#%d(127.0.0.1) (UDP)" % res.port in text
    out = subprocess.run([BINARY, "-m", "dnsbox.client", "servfail.example", "@127.0.0.1",
                          "-p", str(res.port)], capture_output=True, text=True, timeout=20)
    assert "status: SERVFAIL" in out.stdout and "; EDE: 22 (No Reachable Authority)" in out.stdout
    port = up.port  # a port where nobody answers "drop": timeouts, exit status 9
    out = subprocess.run([BINARY, "-m", "dnsbox.client", "drop.example", "@127.0.0.1",
                          "-p", str(port)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 9
    assert out.stdout.count("timed out") == 3 and ";; no servers could be reached" in out.stdout
