"""DNS over TLS (RFC 7858) on the frozen host firmware (MicroPython's tls module, mbedTLS) with
the certificate build.sh froze in (build/tls/dnsbox.crt): clients that verify it (dnspython,
dig +tls), answers equal to the UDP ones, the pin printed at boot, a zone transfer over TLS, the
resolver mode's late answers over TLS, the connection limit, and a client that is not TLS."""
import base64
import hashlib
import os
import socket
import ssl
import subprocess

import dns.message
import dns.query
import dns.rcode
import pytest

from ports import free_port
from tests.host.fakeupstream import FakeUpstream
from tests.host.test_forwarder import BUILD, Resolver
from tests.host.test_net_server import frame, read_frame

CERT = os.path.join(BUILD, "tls", "dnsbox.crt")
Q_TIMEOUT_S = 5
NAMES = [("www.example.com.", "A"), ("example.com.", "MX"), ("text.example.com.", "TXT"),
         ("nothere.example.com.", "A"), ("x.sub2.example.com.", "A"), ("example.com.", "SOA")]


def _ctx():
    assert os.path.exists(CERT), "%s missing: run ./build.sh" % CERT
    return ssl.create_default_context(cafile=CERT)


@pytest.fixture(scope="module")
def auth():
    tport = free_port()
    r = Resolver(["mode=auth", "tls-port=%d" % tport, "auth-peer=127.0.0.1"])
    r.tls_port = tport
    yield r
    r.stop()


def _tls(r, name, rdtype):
    q = dns.message.make_query(name, rdtype, want_dnssec=False)
    return dns.query.tls(q, "127.0.0.1", port=r.tls_port, timeout=Q_TIMEOUT_S,
                         ssl_context=_ctx(), server_hostname="dnsbox")


def _tls_socket(port):
    raw = socket.create_connection(("127.0.0.1", port), timeout=Q_TIMEOUT_S)
    return _ctx().wrap_socket(raw, server_hostname="dnsbox")


def test_answers_over_tls_equal_udp(auth):
    for name, t in NAMES:
        a = _tls(auth, name, t)
        b = auth.ask(name, t)
        assert a.rcode() == b.rcode() and a.flags == b.flags, name
        assert sorted(map(str, a.answer)) == sorted(map(str, b.answer)), name
        assert sorted(map(str, a.authority)) == sorted(map(str, b.authority)), name


def test_ready_line_and_pin(auth):
    lines = "\n".join(auth.lines)
    assert "port %d (tls)" % auth.tls_port in lines
    s = _tls_socket(auth.tls_port)
    der = s.getpeercert(binary_form=True)
    s.close()
    pem = subprocess.run(["openssl", "x509", "-inform", "DER", "-pubkey", "-noout"], input=der,
                         capture_output=True, check=True).stdout
    spki = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pem,
                          capture_output=True, check=True).stdout
    pin = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    assert "certificate SPKI pin sha256/%s" % pin in lines


def test_dig_tls(auth):
    out = subprocess.run(["dig", "+tls", "+tls-ca=%s" % CERT, "+tls-hostname=dnsbox",
                          "@127.0.0.1", "-p", str(auth.tls_port), "www.example.com", "A",
                          "+short", "+tries=1", "+time=5"],
                         capture_output=True, text=True, timeout=30)
    assert sorted(out.stdout.split()) == ["192.0.2.80", "192.0.2.81"], out.stdout + out.stderr


def test_pipelined_queries_and_a_transfer_over_one_connection(auth):
    s = _tls_socket(auth.tls_port)
    qs = [dns.message.make_query(n, t) for n, t in NAMES]
    s.sendall(b"".join(frame(q.to_wire()) for q in qs))
    for q in qs:
        r = dns.message.from_wire(read_frame(s))
        assert r.id == q.id
    x = dns.message.make_query("example.com.", "AXFR")
    s.sendall(frame(x.to_wire()))
    soas = records = 0
    while soas < 2:
        m = dns.message.from_wire(read_frame(s), one_rr_per_rrset=True)  # both SOAs kept
        assert m.id == x.id and m.rcode() == 0
        for rrset in m.answer:
            records += len(rrset)
            soas += rrset.rdtype == 6
    assert records == 28  # the example zone's 27 records and the closing SOA
    s.close()


def test_not_tls_is_closed_and_the_server_goes_on(auth):
    c = socket.create_connection(("127.0.0.1", auth.tls_port), timeout=Q_TIMEOUT_S)
    c.sendall(frame(dns.message.make_query("www.example.com.", "A").to_wire()))
    closed = False
    for _ in range(10):  # an alert may come first, then the close
        try:
            if c.recv(4096) == b"":
                closed = True
                break
        except ConnectionResetError:
            closed = True
            break
    c.close()
    assert closed
    assert _tls(auth, "www.example.com.", "A").rcode() == 0


def test_connection_limit_then_recovery(auth):
    held = []
    try:
        for _ in range(16):  # TLS_MAX_CONNS in dnsbox.net.server
            s = _tls_socket(auth.tls_port)
            s.sendall(frame(dns.message.make_query("www.example.com.", "A").to_wire()))
            read_frame(s)
            held.append(s)
        with pytest.raises((ssl.SSLError, OSError, EOFError)):
            extra = _tls_socket(auth.tls_port)
            extra.sendall(frame(dns.message.make_query("www.example.com.", "A").to_wire()))
            read_frame(extra)
        assert auth.ask("www.example.com.", "A").rcode() == 0  # UDP is still served
    finally:
        for s in held:
            s.close()
    for _ in range(50):  # the closed ones are noticed at the next poll round
        try:
            assert _tls(auth, "www.example.com.", "A").rcode() == 0
            break
        except (ssl.SSLError, OSError, EOFError):
            continue
    else:
        raise AssertionError("no TLS connection accepted after the others closed")


def test_resolver_mode_answers_later_over_tls():
    up = FakeUpstream()
    tport = free_port()
    r = Resolver(["mode=resolver", "server=127.0.0.1#%d" % up.port, "tls-port=%d" % tport])
    r.tls_port = tport
    try:
        m = _tls(r, "delay.example.", "A")  # answered after the upstream's delay
        assert m.rcode() == dns.rcode.NOERROR
        assert [rd.to_text() for rrset in m.answer for rd in rrset] == ["192.0.2.1"]
        assert _tls(r, "delay.example.", "A").rcode() == 0  # from the cache
    finally:
        r.stop()
        up.stop()
