"""IPv6 on loopback (::1) with the frozen host firmware: it listens on 127.0.0.1 and ::1 (UDP,
TCP, DNS over TLS), forwards to an IPv6 upstream (NSD on ::1, dnsmasq's server=::1#PORT),
applies IPv6 prefixes in allow= and auth-peer=, and the dig-like client asks over IPv6. A
port taken on ::1 costs only the IPv6 listener."""
import os
import shutil
import socket
import ssl
import subprocess
import time

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.zone
import pytest

from nsdconf import nsd_conf
from ports import free_port
from tests.host.test_forwarder import BINARY, BUILD, Resolver

NSD = shutil.which("nsd") or "/usr/sbin/nsd"
START_TIMEOUT_S = 10
Q_TIMEOUT_S = 4
CERT = os.path.join(BUILD, "tls", "dnsbox.crt")
ZONE = """$ORIGIN six.test.
$TTL 300
@       SOA ns1 hostmaster 1 7200 900 86400 60
        NS  ns1
ns1     AAAA ::1
www     A   192.0.2.80
        AAAA 2001:db8::80
"""


def ask(where, port, name="www.example.com.", rdtype="A", tcp=False):
    q = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(q, where, timeout=Q_TIMEOUT_S, port=port)
    return dns.query.udp(q, where, timeout=Q_TIMEOUT_S, port=port)


def addrs(m):
    return sorted(rd.to_text() for rr in m.answer for rd in rr)


@pytest.fixture(scope="module")
def nsd6(tmp_path_factory):
    """NSD on ::1 only (do-ip4: no), stopped by PID."""
    if not os.path.exists(NSD):
        pytest.fail("nsd missing (apt-get install nsd)")
    d = tmp_path_factory.mktemp("nsd6")
    port = free_port("::1")
    (d / "six.test.zone").write_text(ZONE)
    (d / "nsd.conf").write_text(nsd_conf(str(d), "::1", port,
                                         [("six.test", str(d / "six.test.zone"))]))
    proc = subprocess.Popen([NSD, "-d", "-c", str(d / "nsd.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            ask("::1", port, "www.six.test.")
            break
        except Exception:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("nsd on ::1 did not start")
    yield port
    proc.terminate()
    proc.wait(5)


def test_auth_listens_on_both_families():
    r = Resolver(["mode=auth"])
    try:
        assert any("listening on 127.0.0.1 and ::1 port %d" % r.port in x for x in r.lines)
        for where in ("127.0.0.1", "::1"):
            for tcp in (False, True):
                m = ask(where, r.port, tcp=tcp)
                assert m.rcode() == 0 and addrs(m) == ["192.0.2.80", "192.0.2.81"], (where, tcp)
    finally:
        r.stop()


def test_ip6_off_listens_on_ipv4_only():
    r = Resolver(["mode=auth", "ip6=off"])
    try:
        assert ask("127.0.0.1", r.port).rcode() == 0
        with pytest.raises(dns.exception.Timeout):
            ask("::1", r.port)  # nothing listens there (the port was free on ::1 too)
    finally:
        r.stop()


def test_a_taken_ipv6_port_costs_only_ipv6():
    port = free_port()
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::1", port))
    proc = subprocess.Popen([BINARY, "-m", "dnsbox.main", "--host", "port=%d" % port,
                             "--max-s=3"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        time.sleep(0.5)
        assert ask("127.0.0.1", port).rcode() == 0
        out = proc.communicate(timeout=10)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(3)
        s.close()
    assert "IPv6: not listening (udp ::1: " in out and "IPv4 only" in out, out
    assert "listening on 127.0.0.1 port %d" % port in out


def test_forwarding_to_an_ipv6_upstream(nsd6):
    r = Resolver(["mode=resolver", "dnssec=no", "server=::1#%d" % nsd6])
    try:
        for where in ("127.0.0.1", "::1"):
            for t in ("A", "AAAA"):
                mine = ask(where, r.port, "www.six.test.", t)
                theirs = ask("::1", nsd6, "www.six.test.", t)
                assert mine.rcode() == 0 and addrs(mine) == addrs(theirs), (where, t)
        m = ask("::1", r.port, "www.six.test.", "A", tcp=True)
        assert addrs(m) == ["192.0.2.80"]
        assert ask("::1", r.port, "nothere.six.test.").rcode() == dns.rcode.NXDOMAIN
    finally:
        r.stop()


def test_forwarding_by_domain_to_ipv6(nsd6):
    r = Resolver(["mode=resolver", "dnssec=no", "server=/six.test/::1#%d" % nsd6,
                  "server=127.0.0.1#9"])  # the default upstream is not asked for six.test
    try:
        assert addrs(ask("::1", r.port, "www.six.test.", "AAAA")) == ["2001:db8::80"]
    finally:
        r.stop()


def test_unreachable_ipv6_upstream_fails_fast():
    """A closed port on ::1 as the only upstream: the ICMPv6 port unreachable fails the ask
    at once (SERVFAIL without waiting for a timeout), and the loop goes on answering."""
    port = free_port("::1")
    r = Resolver(["mode=resolver", "dnssec=no", "server=::1#%d" % port])
    try:
        t0 = time.monotonic()
        m = ask("127.0.0.1", r.port, "www.six.test.")
        assert m.rcode() == dns.rcode.SERVFAIL
        assert time.monotonic() - t0 < 2.0  # ICMP port unreachable: a failed ask at once
        assert ask("::1", r.port, "example.com.", "SOA").rcode() == 0  # still answering
    finally:
        r.stop()


def test_allow_with_ipv6_prefix(nsd6):
    """allow= with IPv4 only refuses the ::1 client; with ::1 it answers it (the cache's fast
    path too: the second ask) and refuses 127.0.0.1."""
    r = Resolver(["mode=resolver", "dnssec=no", "server=::1#%d" % nsd6, "allow=127.0.0.0/8"])
    try:
        assert ask("127.0.0.1", r.port, "www.six.test.").rcode() == 0
        assert ask("::1", r.port, "www.six.test.").rcode() == dns.rcode.REFUSED
        assert ask("::1", r.port, "www.six.test.", tcp=True).rcode() == dns.rcode.REFUSED
    finally:
        r.stop()
    r = Resolver(["mode=resolver", "dnssec=no", "server=::1#%d" % nsd6, "allow=::1/128"])
    try:
        for _ in range(2):  # the second is a cache hit (the fast path checks allow= itself)
            m = ask("::1", r.port, "www.six.test.")
            assert m.rcode() == 0 and addrs(m) == ["192.0.2.80"]
        assert ask("127.0.0.1", r.port, "www.six.test.").rcode() == dns.rcode.REFUSED
        assert any("recursion for ::1/128" in x for x in r.lines)
    finally:
        r.stop()


def test_auth_peer_with_ipv6_prefix():
    r = Resolver(["mode=auth", "auth-peer=2001:db8::/32,::1"])
    try:
        z = dns.zone.from_xfr(dns.query.xfr("::1", "example.com.", port=r.port,
                                            timeout=Q_TIMEOUT_S))
        assert z.get_rdataset("www", "A") is not None
        m = dns.query.tcp(dns.message.make_query("example.com.", "AXFR"), "127.0.0.1",
                          timeout=Q_TIMEOUT_S, port=r.port)
        assert m.rcode() == dns.rcode.REFUSED  # 127.0.0.1 is not in auth-peer=
    finally:
        r.stop()


def test_dig_client_over_ipv6():
    r = Resolver(["mode=auth"])
    try:
        for server, extra in (("@::1", []), ("@[::1]", ["+tcp"])):
            out = subprocess.run([BINARY, "-m", "dnsbox.client.dig", "www.example.com", server,
                                  "-p", str(r.port)] + extra, capture_output=True, text=True,
                                 timeout=10)
            assert out.returncode == 0, out.stdout + out.stderr
            assert "192.0.2.80" in out.stdout and "SERVER: ::1#%d" % r.port in out.stdout
        out = subprocess.run([BINARY, "-m", "dnsbox.main", "--host", "mode=client",
                              "domain=www.example.com", "type=AAAA", "server=::1#%d" % r.port],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 0 and "2001:db8::80" in out.stdout, out.stdout
        out = subprocess.run([BINARY, "-m", "dnsbox.client.dig", "www.example.com", "@::1::2"],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 1 and "not an IPv4 or IPv6 address" in out.stdout
    finally:
        r.stop()


def test_dot_and_doh_over_ipv6():
    tport, hport = free_port(), free_port()
    r = Resolver(["mode=auth", "tls-port=%d" % tport, "https-port=%d" % hport])
    try:
        ctx = ssl.create_default_context(cafile=CERT)
        q = dns.message.make_query("www.example.com.", "A")
        m = dns.query.tls(q, "::1", port=tport, timeout=Q_TIMEOUT_S, ssl_context=ctx,
                          server_hostname="dnsbox")
        assert addrs(m) == ["192.0.2.80", "192.0.2.81"]
        import http.client

        c = http.client.HTTPSConnection("::1", hport, timeout=Q_TIMEOUT_S, context=ctx)
        ctx.check_hostname = False  # the URL names [::1], the certificate "dnsbox"
        c.request("POST", "/dns-query", q.to_wire(),
                  {"Content-Type": "application/dns-message", "Host": "[::1]"})
        resp = c.getresponse()
        assert resp.status == 200
        assert addrs(dns.message.from_wire(resp.read())) == ["192.0.2.80", "192.0.2.81"]
        c.close()
    finally:
        r.stop()
