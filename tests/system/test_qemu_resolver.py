"""System tests of resolver and client mode: the armhf image booted in qemu-system-arm (virt,
TCG) with a fault-injecting upstream (tests/host/fakeupstream.py) on the host's loopback,
which the guest reaches as 10.0.2.2 through qemu's user network.

Resolver mode: forwarded answers, cache hits without upstream traffic, the compiled-in zone
answered first, SERVFAIL with an Extended DNS Error, TCP, and REFUSED when the host is not in
the allowed networks. Client mode: the dig-style transcript on the console, and qemu exits
(the firmware returns, /init powers off). qemu is started and stopped by PID; every wait is
bounded; qemu listens on a free high loopback port.
"""

import time

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from tests.host.fakeupstream import FakeUpstream
from tests.system.test_qemu_boot import boot

EXIT_TIMEOUT_S = 90  # client mode: boot, one query, power off
QUERY_TIMEOUT_S = 5.0  # one query through the guest (it may wait ~1 s for the upstream)
HOST = "10.0.2.2"  # the host's loopback as the guest sees it (qemu user network)
HOST6 = "fec0::2"  # the host's ::1 as the guest sees it (qemu user network's IPv6 prefix)
SLAAC_WAIT_S = 30  # the guest's address from qemu's router advertisements comes this soon


def start(words, log_name, wait="dnsbox ready"):
    return boot(words, log_name, wait)


@pytest.fixture(scope="module")
def up():
    u = FakeUpstream()
    yield u
    u.stop()


@pytest.fixture(scope="module")
def resolver(up):
    g, port = start(["mode=resolver", "dnssec=no", "server=%s#%d" % (HOST, up.port)],
                    "qemu-resolver.log")
    yield g, port
    g.stop()


def ask(port, name, rdtype="A", tcp=False, edns=None):
    q = dns.message.make_query(name, rdtype, use_edns=edns)
    if tcp:
        return dns.query.tcp(q, "127.0.0.1", timeout=QUERY_TIMEOUT_S, port=port)
    return dns.query.udp(q, "127.0.0.1", timeout=QUERY_TIMEOUT_S, port=port)


def addrs(m):
    return sorted(rd.to_text() for rr in m.answer for rd in rr if rr.rdtype == 1)


def test_resolver_boot_log(resolver, up):
    g, port = resolver
    log = g.console()
    assert "config: mode=resolver" in log
    assert "resolver: forwarding to %s#%d" % (HOST, up.port) in log
    assert "recursion for 127.0.0.0/8, ::1/128, fe80::/10, 10.0.2.0/24" in log  # never an open resolver
    assert "dnsbox ready: mode=resolver, 1 zones, 1 upstreams" in log


def test_forwarded_and_cached(resolver, up):
    g, port = resolver
    m = ask(port, "ok-vm.example.")
    assert m.rcode() == 0 and addrs(m) == ["192.0.2.1"] and m.flags & dns.flags.RA
    for _ in range(3):
        assert addrs(ask(port, "ok-vm.example.")) == ["192.0.2.1"]
    assert up.count("ok-vm.example") == 1  # the rest came from the guest's cache
    m = ask(port, "ok-vm.example.", tcp=True)
    assert addrs(m) == ["192.0.2.1"] and up.count("ok-vm.example") == 1
    m = ask(port, "wrongid-vm.example.")  # a spoofed ID first: ignored
    assert addrs(m) == ["192.0.2.1"]


def test_zone_answered_first(resolver, up):
    g, port = resolver
    before = up.total()
    m = ask(port, "www.example.com.")
    assert m.rcode() == 0 and m.flags & dns.flags.AA and len(m.answer[0]) == 2
    assert up.total() == before


def test_servfail_with_ede(resolver, up):
    g, port = resolver
    m = ask(port, "servfail-vm.example.", edns=0)
    assert m.rcode() == dns.rcode.SERVFAIL
    ede = [o for o in m.options if o.otype == dns.edns.EDE][0]
    assert ede.code == 22 and "%s#%d answered SERVFAIL" % (HOST, up.port) in ede.text


def test_foreign_client_refused(up):
    g, port = start(["mode=resolver", "dnssec=no", "server=%s#%d" % (HOST, up.port),
                     "allow=192.168.77.0/24"],
                    "qemu-resolver-refused.log")
    try:
        m = ask(port, "ok-refused.example.")
        assert m.rcode() == dns.rcode.REFUSED and not m.answer
        assert up.count("ok-refused.example") == 0
        m = ask(port, "www.example.com.")
        assert m.rcode() == 0 and m.flags & dns.flags.AA  # the zone stays public
    finally:
        g.stop()


def test_ipv6_by_slaac_and_an_ipv6_upstream():
    # the guest takes its IPv6 address from qemu's router advertisements (ip6=auto, the
    # default) and forwards to an upstream on the host's ::1 over IPv6; qemu cannot forward a
    # host port to the guest over IPv6, so clients ask over IPv4
    up6 = FakeUpstream(ip="::1")
    g, port = start(["mode=resolver", "dnssec=no", "server=%s#%d" % (HOST6, up6.port)],
                    "qemu-resolver-ipv6.log")
    try:
        assert "network: IPv6 by SLAAC" in g.console()
        deadline = time.monotonic() + SLAAC_WAIT_S
        m = None
        while time.monotonic() < deadline:  # until the address is there (SERVFAIL before)
            m = ask(port, "ok-v6.example.")
            if m.rcode() == 0:
                break
            time.sleep(1)
        assert m.rcode() == 0 and addrs(m) == ["192.0.2.1"]
        assert up6.count("ok-v6.example") >= 1 and up6.sources  # it came over IPv6
    finally:
        g.stop()
        up6.stop()


def test_client_mode_prints_dig_output_and_powers_off(up):
    g, _ = start(["mode=client", "domain=ok-client-vm.example", "server=%s" % HOST,
                  "port=%d" % up.port, "type=A"], "qemu-client.log", wait=None)
    try:
        assert g.wait_for("init: firmware exited", EXIT_TIMEOUT_S), g.console()[-3000:]
        g.proc.wait(EXIT_TIMEOUT_S)  # poweroff: qemu exits by itself (-no-reboot)
        log = g.console()
        assert ";; ->>HEADER<<- opcode: QUERY, status: NOERROR" in log
        assert ";; flags: qr rd ra; QUERY: 1, ANSWER: 1" in log
        assert "ok-client-vm.example.\t300\tIN\tA\t192.0.2.1" in log
        assert ";; SERVER: %s#%d(%s) (UDP)" % (HOST, up.port, HOST) in log
        assert ";; Query time:" in log
        assert "firmware exited (status 0)" in log
        assert up.count("ok-client-vm.example") == 1
    finally:
        g.stop()


def test_client_mode_errors_print_and_power_off(up):
    g, _ = start(["mode=client", "domain=drop-vm.example", "server=%s" % HOST,
                  "port=%d" % up.port], "qemu-client-timeout.log", wait=None)
    try:
        assert g.wait_for("init: firmware exited", EXIT_TIMEOUT_S), g.console()[-3000:]
        g.proc.wait(EXIT_TIMEOUT_S)
        log = g.console()
        assert log.count(";; communications error to %s#%d: timed out" % (HOST, up.port)) == 3
        assert ";; no servers could be reached" in log
        assert "firmware exited (status 9)" in log
    finally:
        g.stop()
    g, _ = start(["mode=client", "domain=bad..name", "server=%s" % HOST], "qemu-client-bad.log",
                 wait=None)
    try:
        assert g.wait_for("init: firmware exited", EXIT_TIMEOUT_S), g.console()[-3000:]
        g.proc.wait(EXIT_TIMEOUT_S)
        log = g.console()
        assert "boot variable domain=bad..name" in log
        assert "client mode needs domain=NAME and server=IP" in log
    finally:
        g.stop()
