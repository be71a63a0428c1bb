"""DNS over TLS (RFC 7858) and over HTTPS (RFC 8484, HTTP/1.1) on the frozen host firmware
(MicroPython's tls module, mbedTLS) with the certificate build.sh froze in
(build/tls/dnsbox.crt): clients that verify it (dnspython, dig +tls, Python's http.client,
curl --doh-url), answers equal to the UDP ones, the pin printed at boot, a zone transfer over
TLS, the resolver mode's late answers over both, HTTP errors and keep-alive, the connection
limit, and a client that is not TLS."""
import base64
import http.client
import http.server
import os
import socket
import ssl
import subprocess

import dns.message
import dns.query
import dns.rcode
import pytest

import tlscert
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
    tport, hport = free_port(), free_port()
    r = Resolver(["mode=auth", "tls-port=%d" % tport, "https-port=%d" % hport,
                  "auth-peer=127.0.0.1"])
    r.tls_port, r.https_port = tport, hport
    yield r
    r.stop()


def _tls(r, name, rdtype):
    q = dns.message.make_query(name, rdtype, want_dnssec=False)
    return dns.query.tls(q, "127.0.0.1", port=r.tls_port, timeout=Q_TIMEOUT_S,
                         ssl_context=_ctx(), server_hostname="dnsbox")


def _tls_socket(port, source="127.0.0.1"):
    raw = socket.create_connection(("127.0.0.1", port), timeout=Q_TIMEOUT_S,
                                   source_address=(source, 0))
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
    assert "certificate SPKI pin sha256/%s" % tlscert.spki_pin(der) in lines


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
        for i in range(16):  # TLS_MAX_CONNS in dnsbox.net.server; from 16 addresses, as one
            s = _tls_socket(auth.tls_port, "127.0.0.%d" % (i + 2))  # address has fewer slots
            s.sendall(frame(dns.message.make_query("www.example.com.", "A").to_wire()))
            read_frame(s)
            held.append(s)
        with pytest.raises((ssl.SSLError, OSError, EOFError)):
            extra = _tls_socket(auth.tls_port, "127.0.0.30")
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


def test_resolver_mode_answers_later_over_tls_and_https():
    up = FakeUpstream()
    tport, hport = free_port(), free_port()
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port,
                  "tls-port=%d" % tport,
                  "https-port=%d" % hport, "host-record=doh.test,127.0.0.1"])
    r.tls_port, r.https_port = tport, hport
    try:
        m = _tls(r, "delay.example.", "A")  # answered after the upstream's delay
        assert m.rcode() == dns.rcode.NOERROR
        assert [rd.to_text() for rrset in m.answer for rd in rrset] == ["192.0.2.1"]
        assert _tls(r, "delay.example.", "A").rcode() == 0  # from the cache
        # DoH: a late answer, and a request pipelined behind it answered after it, in order
        s = _tls_socket(hport)
        s.sendall(_get("delay-ttl7.example.") + _get("doh.test."))
        rd = _Reader(s)
        first, second = rd.response(), rd.response()
        s.close()
        assert first[0] == second[0] == 200
        a = dns.message.from_wire(first[2])
        assert a.question[0].name.to_text() == "delay-ttl7.example."
        assert [rd.to_text() for rrset in a.answer for rd in rrset] == ["192.0.2.1"]
        assert first[1][b"cache-control"] == b"max-age=7"
        b = dns.message.from_wire(second[2])
        assert [rd.to_text() for rrset in b.answer for rd in rrset] == ["127.0.0.1"]
        _curl_resolves_through_doh(hport)
    finally:
        r.stop()
        up.stop()


# ---------------------------------------------------------------- DNS over HTTPS


def _get(name, rdtype="A", path="/dns-query", extra=b""):
    w = dns.message.make_query(name, rdtype).to_wire()
    q = base64.urlsafe_b64encode(w).rstrip(b"=")
    return (b"GET " + path.encode() + b"?dns=" + q + b" HTTP/1.1\r\nHost: dnsbox\r\n"
            b"Accept: application/dns-message\r\n" + extra + b"\r\n")


class _Reader:
    """Responses read one by one from a socket (several may arrive in one recv)."""

    def __init__(self, s):
        self.s = s
        self.buf = b""

    def _more(self, what):
        d = self.s.recv(4096)
        if not d:
            raise EOFError("closed before " + what)
        self.buf += d

    def response(self):
        """(status, headers with lower-case names, body) of the next response."""
        while b"\r\n\r\n" not in self.buf:
            self._more("a response head")
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        hdrs = {}
        for line in lines[1:]:
            k, _s, v = line.partition(b":")
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs[b"content-length"])
        while len(rest) < n:
            self._more("the end of a body")
            head, rest = self.buf.split(b"\r\n\r\n", 1)
        self.buf = rest[n:]
        return int(lines[0].split(b" ")[1]), hdrs, rest[:n]


def _https(r):
    return http.client.HTTPSConnection("127.0.0.1", r.https_port, timeout=Q_TIMEOUT_S,
                                       context=_tls_ctx_for_ip())


def _tls_ctx_for_ip():
    ctx = _ctx()
    ctx.check_hostname = False  # the certificate names "dnsbox"; the chain is still verified
    return ctx


def test_doh_get_and_post_equal_udp(auth):
    c = _https(auth)
    for name, t in NAMES:  # one keep-alive connection for all of them
        w = dns.message.make_query(name, t).to_wire()
        c.request("GET", "/dns-query?dns=" + base64.urlsafe_b64encode(w).decode().rstrip("="),
                  headers={"Accept": "application/dns-message"})
        g = c.getresponse()
        gbody = g.read()
        c.request("POST", "/dns-query", body=w,
                  headers={"Content-Type": "application/dns-message"})
        p = c.getresponse()
        pbody = p.read()
        assert g.status == p.status == 200
        assert g.getheader("Content-Type") == "application/dns-message"
        u = auth.ask(name, t)
        for body in (gbody, pbody):
            m = dns.message.from_wire(body)
            assert m.rcode() == u.rcode() and sorted(map(str, m.answer)) == sorted(
                map(str, u.answer)), name
        ttls = [rr.ttl for rr in (u.answer or u.authority)]
        assert g.getheader("Cache-Control") == "max-age=%d" % (min(ttls) if ttls else 0)
    c.close()


def test_doh_errors_keep_the_connection(auth):
    c = _https(auth)
    for method, path, body, headers, status in (
            ("GET", "/elsewhere", None, {}, 404),
            ("DELETE", "/dns-query", None, {}, 405),
            ("POST", "/dns-query", b"x" * 20, {"Content-Type": "text/plain"}, 415),
            ("GET", "/dns-query?dns=%%%", None, {}, 400)):
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        r.read()
        assert r.status == status, (method, path)
        if status == 405:
            assert r.getheader("Allow") == "GET, POST"
    c.request("GET", "/dns-query?dns=" + base64.urlsafe_b64encode(
        dns.message.make_query("www.example.com.", "A").to_wire()).decode())
    r = c.getresponse()
    assert r.status == 200 and dns.message.from_wire(r.read()).answer  # same connection
    c.close()


def test_doh_http10_closes_after_the_answer(auth):
    s = _tls_socket(auth.https_port)
    s.sendall(_get("www.example.com.").replace(b"HTTP/1.1", b"HTTP/1.0"))
    st, hdrs, body = _Reader(s).response()
    assert st == 200 and hdrs.get(b"connection") == b"close"
    assert s.recv(10) == b""
    s.close()


def test_doh_pipelined_requests_in_order(auth):
    s = _tls_socket(auth.https_port)
    names = ["www.example.com.", "mail.example.com.", "nothere.example.com.", "ftp.example.com."]
    s.sendall(b"".join(_get(n) for n in names))
    rd = _Reader(s)
    for n in names:
        st, _h, body = rd.response()
        assert st == 200 and dns.message.from_wire(body).question[0].name.to_text() == n
    s.close()


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def _curl_resolves_through_doh(hport, version=None):
    """curl resolves doh.test (a host-record: 127.0.0.1) through our DoH endpoint, then fetches
    a page from a server the test runs there; version: curl's --http2 or --http1.1."""
    import threading

    web = http.server.HTTPServer(("127.0.0.1", 0), _Hello)
    t = threading.Thread(target=web.serve_forever, daemon=True)
    t.start()
    try:
        out = subprocess.run(
            ["curl", "-s", "-m", "10"] + ([version] if version else []) +
            ["--cacert", CERT, "--resolve", "dnsbox:%d:127.0.0.1" % hport,
             "--doh-url", "https://dnsbox:%d/dns-query" % hport,
             "-w", " %{remote_ip}", "http://doh.test:%d/" % web.server_address[1]],
            capture_output=True, text=True, timeout=30)
        assert out.stdout == "ok 127.0.0.1", (out.returncode, out.stdout, out.stderr)
    finally:
        web.shutdown()
        web.server_close()
