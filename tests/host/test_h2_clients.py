"""DNS over HTTPS over HTTP/2 (RFC 8484, RFC 9113) and the JSON API on the frozen host firmware,
with real clients: dig +https / +https-get, kdig +https and +tls (ALPN h2 and dot), curl
--http2 / --http1.1 (--doh-url and the JSON API), nghttp, dnspython's DoH client over HTTP/2,
and a raw HTTP/2 client (the h2 package) for many streams on one connection, late answers out
of order, PING, and malformed frames (GOAWAY, the server goes on). Also: the Huffman code
lengths frozen in dnsbox.h2.huffman against RFC 7541's table (the hpack package's copy), and a
TLS handshake left half done does not stall other clients."""
import base64
import json
import os
import random
import shutil
import socket
import ssl
import subprocess
import time

import dns.message
import dns.query
import dns.rdatatype
import pytest

from ports import free_port
from tests.host.fakeupstream import FakeUpstream
from tests.host.test_forwarder import BUILD, Resolver
from tests.host.test_tls_firmware import NAMES, _curl_resolves_through_doh

CERT = os.path.join(BUILD, "tls", "dnsbox.crt")
Q_TIMEOUT_S = 5
FUZZ_ROUNDS = 40  # malformed-frame connections tried (bounded)


@pytest.fixture(scope="module")
def auth():
    tport, hport = free_port(), free_port()
    r = Resolver(["mode=auth", "tls-port=%d" % tport, "https-port=%d" % hport,
                  "auth-peer=127.0.0.1"])
    r.tls_port, r.https_port = tport, hport
    yield r
    r.stop()


def _ctx(alpn=("h2",)):
    ctx = ssl.create_default_context(cafile=CERT)
    ctx.set_alpn_protocols(list(alpn))
    return ctx


def _tls(port, alpn=("h2",)):
    raw = socket.create_connection(("127.0.0.1", port), timeout=Q_TIMEOUT_S)
    return _ctx(alpn).wrap_socket(raw, server_hostname="dnsbox")


def _rdatas(m):
    return sorted(rd.to_text() for rrset in m.answer for rd in rrset)


def _run(args):
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


def test_alpn_offers_h2_http11_and_dot(auth):
    for port, offer, chosen in ((auth.https_port, ("h2", "http/1.1"), "h2"),
                                (auth.https_port, ("http/1.1",), "http/1.1"),
                                (auth.tls_port, ("dot",), "dot")):
        s = _tls(port, offer)
        assert s.selected_alpn_protocol() == chosen
        s.close()
    # DoT offers only dot: the handshake ends in no_application_protocol (RFC 7301 3.2), not a
    # connection left open (a timeout would be an OSError too: not accepted here)
    with pytest.raises(ssl.SSLError, match="no application protocol"):
        _tls(auth.tls_port, ("h2",)).recv(1)


def test_dig_https_post_and_get(auth):
    for mode in ("+https", "+https-get"):
        for name, t in NAMES:
            out = _run(["dig", mode, "+tls-ca=%s" % CERT, "+tls-hostname=dnsbox", "@127.0.0.1",
                        "-p", str(auth.https_port), name, t, "+short", "+tries=1", "+time=5"])
            want = _run(["dig", "@127.0.0.1", "-p", str(auth.port), name, t, "+short"])
            assert out.returncode == 0, out.stderr
            assert sorted(out.stdout.split("\n")) == sorted(want.stdout.split("\n")), name


def test_kdig_https_and_tls(auth):
    for args in (["+https", "-p", str(auth.https_port)], ["+tls", "-p", str(auth.tls_port)]):
        out = _run(["kdig"] + args + ["+tls-ca=%s" % CERT, "+tls-hostname=dnsbox",
                                      "@127.0.0.1", "www.example.com", "A", "+short"])
        assert sorted(out.stdout.split()) == ["192.0.2.80", "192.0.2.81"], out.stdout + out.stderr


def _curl(auth, http, url, extra=()):
    out = _run(["curl", "-s", "-m", "10", http, "--cacert", CERT, "--resolve",
                "dnsbox:%d:127.0.0.1" % auth.https_port, "-w", "\n%{http_version}"] + list(extra)
               + ["https://dnsbox:%d%s" % (auth.https_port, url)])
    body, _nl, version = out.stdout.rpartition("\n")
    return body, version


def test_json_api_over_http2_and_http11_equals_wire(auth):
    for http, version in (("--http2", "2"), ("--http1.1", "1.1")):
        for name, t in NAMES:
            for url, extra in (("/resolve?name=%s&type=%s" % (name, t), ()),
                               ("/dns-query?name=%s&type=%s" % (name, t),
                                ("-H", "accept: application/dns-json"))):
                body, v = _curl(auth, http, url, extra)
                assert v == version
                j = json.loads(body)
                w = auth.ask(name, t)
                assert j["Status"] == w.rcode()
                assert j["Question"] == [{"name": name, "type": dns.rdatatype.from_text(t)}]
                got = sorted(a["data"] for a in j.get("Answer", []))
                assert got == _rdatas(w), (name, t, body)
                assert j["RD"] is True and j["TC"] is False
    body, _v = _curl(auth, "--http2", "/resolve?type=A")  # no name: 400
    assert "Bad Request" in body


def test_json_api_do_and_cd_flags(auth):
    body, _v = _curl(auth, "--http2", "/resolve?name=example.com&type=SOA&do=1&cd=1")
    j = json.loads(body)
    assert j["CD"] is True and j["Status"] == 0 and j["Answer"][0]["type"] == 6


def test_nghttp_get(auth):
    if shutil.which("nghttp") is None:
        pytest.skip("nghttp (nghttp2-client) not installed")
    w = dns.message.make_query("www.example.com.", "A").to_wire()
    url = "https://127.0.0.1:%d/dns-query?dns=%s" % (
        auth.https_port, base64.urlsafe_b64encode(w).decode().rstrip("="))
    out = subprocess.run(["nghttp", "-nv", url], capture_output=True, timeout=30)
    text = out.stdout.decode("latin-1")
    assert ":status: 200" in text and "content-type: application/dns-message" in text
    assert "cache-control: max-age=300" in text


def test_dnspython_doh_http2(auth):
    if not dns.query.have_doh:
        pytest.skip("dnspython's doh extra is not installed")
    for name, t in NAMES:
        q = dns.message.make_query(name, t)
        r = dns.query.https(q, "https://dnsbox:%d/dns-query" % auth.https_port,
                            bootstrap_address="127.0.0.1", verify=_ctx(("h2", "http/1.1")),
                            timeout=Q_TIMEOUT_S, http_version=dns.query.HTTPVersion.H2)
        assert _rdatas(r) == _rdatas(auth.ask(name, t)), name


class _H2:
    """A raw HTTP/2 client (the h2 package) on one TLS connection."""

    def __init__(self, port):
        import h2.config
        import h2.connection

        self.s = _tls(port)
        assert self.s.selected_alpn_protocol() == "h2"
        self.c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.c.initiate_connection()
        self.flush()
        self.bodies = {}
        self.ended = {}
        self.events = []

    def flush(self):
        self.s.sendall(self.c.data_to_send())

    def get(self, name, rdtype="A"):
        w = dns.message.make_query(name, rdtype).to_wire()
        sid = self.c.get_next_available_stream_id()
        path = "/dns-query?dns=" + base64.urlsafe_b64encode(w).decode().rstrip("=")
        self.c.send_headers(sid, [(":method", "GET"), (":scheme", "https"), (":path", path),
                                  (":authority", "dnsbox")], end_stream=True)
        return sid

    def post(self, name, rdtype="A"):
        w = dns.message.make_query(name, rdtype).to_wire()
        sid = self.c.get_next_available_stream_id()
        self.c.send_headers(sid, [(":method", "POST"), (":scheme", "https"),
                                  (":path", "/dns-query"), (":authority", "dnsbox"),
                                  ("content-type", "application/dns-message"),
                                  ("content-length", str(len(w)))])
        self.c.send_data(sid, w, end_stream=True)
        return sid

    def wait(self, sids):
        import h2.events

        order = []
        deadline = time.monotonic() + Q_TIMEOUT_S
        while not all(s in self.ended for s in sids) and time.monotonic() < deadline:
            data = self.s.recv(65536)
            if not data:
                break
            for ev in self.c.receive_data(data):
                self.events.append(ev)
                if isinstance(ev, h2.events.DataReceived):
                    self.bodies[ev.stream_id] = self.bodies.get(ev.stream_id, b"") + ev.data
                    self.c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    self.ended[ev.stream_id] = True
                    order.append(ev.stream_id)
            self.flush()
        return order


def test_many_streams_on_one_connection(auth):
    c = _H2(auth.https_port)
    want = {}
    for i in range(16):  # SETTINGS_MAX_CONCURRENT_STREAMS
        name, t = NAMES[i % len(NAMES)]
        sid = c.get(name, t) if i % 2 else c.post(name, t)
        want[sid] = (name, t)
    c.flush()
    c.wait(list(want))
    for sid, (name, t) in want.items():
        r = dns.message.from_wire(c.bodies[sid])
        assert _rdatas(r) == _rdatas(auth.ask(name, t)), name
    c.c.ping(b"dnsbox!!")
    sid = c.get("www.example.com.")
    c.flush()
    c.wait([sid])
    import h2.events

    assert any(isinstance(e, h2.events.PingAckReceived) for e in c.events)
    c.s.close()


def test_late_answers_go_to_their_streams_out_of_order():
    up = FakeUpstream()
    hport = free_port()
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port,
                  "https-port=%d" % hport, "host-record=doh.test,127.0.0.1"])
    try:
        c = _H2(hport)
        slow = c.get("delay-ttl7.example.")
        fast = c.get("doh.test.")
        c.flush()
        order = c.wait([slow, fast])
        assert order == [fast, slow]  # the later answer did not hold the other stream back
        assert _rdatas(dns.message.from_wire(c.bodies[slow])) == ["192.0.2.1"]
        assert _rdatas(dns.message.from_wire(c.bodies[fast])) == ["127.0.0.1"]
        c.s.close()
        _curl_resolves_through_doh(hport, "--http2")  # (curl 7.88's DoH offers h2 always)
    finally:
        r.stop()
        up.stop()


def _frame(ftype, flags, sid, payload):
    n = len(payload)
    return n.to_bytes(3, "big") + bytes((ftype, flags)) + sid.to_bytes(4, "big") + payload


def _goaway(s):
    """The error code of the GOAWAY the server sends before it closes, or None."""
    buf = b""
    deadline = time.monotonic() + Q_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            d = s.recv(4096)
        except (OSError, ssl.SSLError):
            break
        if not d:
            break
        buf += d
    off = 0
    while off + 9 <= len(buf):
        n = int.from_bytes(buf[off : off + 3], "big")
        if buf[off + 3] == 7:
            return int.from_bytes(buf[off + 13 : off + 17], "big")
        off += 9 + n
    return None


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def test_malformed_frames_get_goaway_and_the_server_goes_on(auth):
    cases = ((_frame(1, 4, 1, b"\x80"), 9),  # HPACK index 0: COMPRESSION_ERROR
             (_frame(6, 0, 0, b"1234"), 6),  # a short PING: FRAME_SIZE_ERROR
             (_frame(0, 0, 0, b"x"), 1),  # DATA on stream 0: PROTOCOL_ERROR
             (_frame(8, 0, 0, b"\x7f\xff\xff\xff"), 3))  # window overflow: FLOW_CONTROL_ERROR
    for data, code in cases:
        s = _tls(auth.https_port)
        s.sendall(PREFACE + _frame(4, 0, 0, b"") + data)
        assert _goaway(s) == code
        s.close()
    rnd = random.Random(14)
    for _ in range(FUZZ_ROUNDS):
        s = _tls(auth.https_port)
        junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200)))
        s.sendall(PREFACE + _frame(4, 0, 0, b"") + _frame(rnd.randrange(10), rnd.randrange(256),
                                                          rnd.randrange(4), junk))
        s.settimeout(0.2)
        try:
            s.recv(4096)
        except (OSError, ssl.SSLError):
            pass
        s.close()
    assert auth.ask("www.example.com.", "A").rcode() == 0
    c = _H2(auth.https_port)  # and HTTP/2 still works
    sid = c.get("www.example.com.")
    c.flush()
    c.wait([sid])
    assert _rdatas(dns.message.from_wire(c.bodies[sid])) == ["192.0.2.80", "192.0.2.81"]


def test_half_done_handshake_does_not_stall_others(auth):
    """A client that sends its ClientHello and stops: UDP, DoT and DoH clients are served
    meanwhile (the handshake runs across loop turns, never waiting for the peer)."""
    ctx = _ctx()
    inc, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outb, server_hostname="dnsbox")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    stalled = [socket.create_connection(("127.0.0.1", p), timeout=Q_TIMEOUT_S)
               for p in (auth.https_port, auth.tls_port)]
    hello = outb.read()
    for s in stalled:
        s.sendall(hello)
    try:
        assert auth.ask("www.example.com.", "A").rcode() == 0
        c = _H2(auth.https_port)
        sid = c.get("www.example.com.")
        c.flush()
        c.wait([sid])
        assert dns.message.from_wire(c.bodies[sid]).rcode() == 0
        c.s.close()
        q = dns.message.make_query("www.example.com.", "A")
        r = dns.query.tls(q, "127.0.0.1", port=auth.tls_port, timeout=Q_TIMEOUT_S,
                          ssl_context=_ctx(("dot",)), server_hostname="dnsbox")
        assert r.rcode() == 0
    finally:
        for s in stalled:
            s.close()


def test_huffman_lengths_are_rfc7541s():
    hc = pytest.importorskip("hpack.huffman_constants")
    from dnsbox.h2 import huffman

    assert list(huffman.LENGTHS) == list(hc.REQUEST_CODES_LENGTH)
    # the canonical codes made from the lengths are the RFC's codes: each RFC code walked down
    # the tree made from the lengths ends at its symbol
    child = huffman._tree()
    for sym in range(257):
        code, n = hc.REQUEST_CODES[sym], hc.REQUEST_CODES_LENGTH[sym]
        node = 0
        for k in range(n - 1, -1, -1):
            c = child[2 * node + ((code >> k) & 1)]
            assert (c < 0) == (k == 0), (sym, k)
            node = c
        assert node == -1 - sym


def test_huffman_decodes_what_hpack_encodes():
    """The nibble automaton against the hpack package's encoder: every byte value, and random
    strings of 0..64 bytes (seeded)."""
    hh = pytest.importorskip("hpack.huffman")
    hc = pytest.importorskip("hpack.huffman_constants")
    import random

    from dnsbox.h2 import huffman

    enc = hh.HuffmanEncoder(hc.REQUEST_CODES, hc.REQUEST_CODES_LENGTH)
    rng = random.Random(7)
    cases = [bytes([b]) for b in range(256)] + [b""]
    cases += [bytes(rng.randrange(256) for _ in range(rng.randrange(65))) for _ in range(2000)]
    for s in cases:
        assert huffman.decode(enc.encode(s)) == s, s