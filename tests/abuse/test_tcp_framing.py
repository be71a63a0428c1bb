"""TCP framing abuse (RFC 7766, RFC 1035 4.2.2: a 2-byte length, then the message) against the
running firmware (the frozen host binary) in both modes, authoritative (its compiled-in zone)
and resolver (forwarding to a fake upstream), and against NSD 4.6, Knot 3.2 (the same zone
file) and Unbound 1.17 (forwarding to the same fake), started here. What each server does is
listed per case and checked, the references included, so the list stays true.

- byte by byte: two pipelined queries sent one byte per segment: both answered, in order, by
  every server.
- a zero-length frame, then a query: dnsbox answers nothing for the empty frame (no header to
  answer to) and answers the query on the same connection; NSD, Knot and Unbound close the
  connection instead.
- a huge length: a frame announcing 65535 bytes, the first 100 of them sent, the rest a second
  later: meanwhile every server answers other clients (UDP and TCP); then dnsbox, NSD and
  Unbound answer the whole 65535-byte (padded) query. Knot has closed the connection: it
  allows 500 ms for a whole request (its tcp-io-timeout); dnsbox allows a silent connection its
  idle timeout (dnsbox.net.server.TCP_IDLE_MS), counted from the last byte.
- half-closed: a query, then the client shuts its sending side (FIN): the answer still comes,
  then the server closes; in resolver mode for a name that must be asked upstream too. Every
  reference does so; dnsbox's resolver dropped the answer before (fixed with this test).
- reset: a query, then the client resets the connection before the answer: nothing breaks, the
  answer that comes back from upstream later is cached and dropped, and the server goes on
  serving (dnsbox's resolver and Unbound).
"""
import socket
import struct
import time

import dns.message
import pytest

from tests.abuse import raw, refs
from tests.host.fakeupstream import FakeUpstream

SERVERS = ("auth", "resolver", "nsd", "knot", "unbound")
BYTE_GAP_S = 0.001  # between the single-byte segments (Knot allows 500 ms per request)
MAX_MESSAGE = 65535


@pytest.fixture(scope="module")
def servers():
    up = FakeUpstream()
    started = []
    try:
        for name, make in (
                ("auth", lambda: refs.dnsbox(["mode=auth"])),
                ("resolver", lambda: refs.dnsbox(["mode=resolver", "dnssec=no",
                                                  "server=127.0.0.1#%d" % up.port])),
                ("nsd", lambda: refs.nsd([("example.com.", refs.EXAMPLE_ZONE)])),
                ("knot", lambda: refs.knot([("example.com.", refs.EXAMPLE_ZONE)])),
                ("unbound", lambda: refs.unbound([
                    'local-data: "www.example.com. 300 A 192.0.2.80"',
                    "forward-zone:", '  name: "."', "  forward-addr: 127.0.0.1@%d" % up.port]))):
            p = make()
            p.name = name
            started.append(p)
        yield dict((p.name, p.port) for p in started), up
    finally:
        refs.stop(*started)
        up.stop()


def _answered(c, qid):
    r = raw.read_frame(c)
    return r is not None and r[:2] == struct.pack("!H", qid) and raw.rcode_text(r) == "NOERROR"


def test_byte_by_byte(servers):
    ports, _up = servers
    for who in SERVERS:
        c = raw.tcp_connect("127.0.0.1", ports[who], timeout=3)
        data = raw.frame(raw.query(qid=1)) + raw.frame(raw.query(qid=2))
        for i in range(len(data)):
            c.send(data[i : i + 1])
            time.sleep(BYTE_GAP_S)
        assert _answered(c, 1) and _answered(c, 2), who
        c.close()


# zero-length frame, then a query on the same connection
ZERO_LENGTH = {"auth": "-", "resolver": "-", "nsd": "closed (query not answered)",
               "knot": "closed (query not answered)", "unbound": "closed (query not answered)"}


def test_zero_length_frame(servers):
    ports, _up = servers
    got = {}
    for who in SERVERS:
        got[who] = raw.tcp_then_good("127.0.0.1", ports[who], b"")
    assert got["auth"] == got["resolver"] == ("-", True), got
    assert dict((k, v[0] + ("" if v[1] else " (query not answered)")) for k, v in got.items()) \
        == ZERO_LENGTH


def _padded_query(size):
    """A query for www.example.com. A of exactly size bytes (EDNS padding, RFC 7830)."""
    base = raw.query(qid=3, edns=0)  # ends with a bare OPT (rdlength 0)
    pad = size - len(base) - 4
    q = bytearray(base[:-2]) + struct.pack("!H", 4 + pad) + struct.pack("!HH", 12, pad)
    return bytes(q) + bytes(pad)


# the whole 65535-byte query, its first 100 bytes sent STALL_S before the rest
HUGE = {"auth": "NOERROR", "resolver": "NOERROR", "nsd": "NOERROR", "knot": "closed",
        "unbound": "NOERROR"}
STALL_S = 1.0  # longer than Knot's tcp-io-timeout (500 ms for a whole request)


def test_huge_length_sent_slowly(servers):
    ports, _up = servers
    q = _padded_query(MAX_MESSAGE)
    assert len(q) == MAX_MESSAGE and dns.message.from_wire(q).id == 3
    conns = {}
    for who in SERVERS:
        c = raw.tcp_connect("127.0.0.1", ports[who], timeout=3)
        c.sendall(raw.frame(q)[:100])
        conns[who] = c
    t0 = time.monotonic()
    for who in SERVERS:  # others are served meanwhile, over UDP and TCP
        s = raw.udp_socket()
        s.sendto(raw.query(qid=4), ("127.0.0.1", ports[who]))
        assert s.recv(4096)[:2] == b"\x00\x04", who
        s.close()
        assert raw.tcp_then_good("127.0.0.1", ports[who], raw.query(qid=5))[1], who
    time.sleep(max(0, STALL_S - (time.monotonic() - t0)))
    got = {}
    for who, c in conns.items():
        try:
            c.sendall(raw.frame(q)[100:])
            r = raw.read_frame(c)
            got[who] = "no answer" if r is None else raw.reply_outcome(q, r)
        except (EOFError, BrokenPipeError, ConnectionResetError):
            got[who] = "closed"
        c.close()
    assert got == HUGE


# a query, then FIN from the client; "answered" means the answer came before the close
HALF_CLOSED = {"auth": "answered", "resolver": "answered", "nsd": "answered",
               "knot": "answered", "unbound": "answered"}


def test_half_closed_client_gets_its_answer(servers):
    ports, up = servers
    got = {}
    for who in SERVERS:
        # the resolvers must ask upstream for this one (the fake answers after 0.3 s)
        name = "www.example.com." if who in ("auth", "nsd", "knot") else "delay-hc-%s." % who
        c = raw.tcp_connect("127.0.0.1", ports[who], timeout=3)
        c.sendall(raw.frame(raw.query(name, qid=6)))
        c.shutdown(socket.SHUT_WR)
        try:
            got[who] = "answered" if _answered(c, 6) else "no answer"
        except EOFError:
            got[who] = "closed without an answer"
        c.close()
    assert got == HALF_CLOSED


def test_reset_before_the_answer(servers):
    ports, up = servers
    for who in ("resolver", "unbound"):
        name = "delay-rst-%s." % who
        c = raw.tcp_connect("127.0.0.1", ports[who], timeout=3)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.sendall(raw.frame(raw.query(name, qid=7)))
        time.sleep(0.05)
        c.close()  # RST: linger 0
        time.sleep(0.5)  # the upstream's answer (after 0.3 s) comes back to nobody
        assert up.count(name.rstrip(".")) == 1, who
        # the answer was cached; both transports still served
        s = raw.udp_socket()
        s.sendto(raw.query(name, qid=8), ("127.0.0.1", ports[who]))
        r = s.recv(4096)
        assert r[:2] == b"\x00\x08" and raw.rcode_text(r) == "NOERROR", who
        s.close()
        assert raw.tcp_then_good("127.0.0.1", ports[who], raw.query(name, qid=9))[1], who
        assert up.count(name.rstrip(".")) == 1, who
