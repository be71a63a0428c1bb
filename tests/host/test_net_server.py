"""The serving loop over real loopback sockets (CPython), with a small handler for the tests."""
import random
import socket
import struct
import threading
import time

import pytest

from dnsbox.net import server as net


def handler(q, proto):
    """Answers b'R' + proto + query; drops queries starting with b'drop'."""
    if bytes(q[:4]) == b"drop":
        return None
    if bytes(q[:4]) == b"boom":
        raise MemoryError("handler failure made by the test")
    return b"R" + bytes((48 + proto,)) + bytes(q)


@pytest.fixture
def srv(monkeypatch):
    monkeypatch.setattr(net, "TCP_IDLE_MS", 300)
    monkeypatch.setattr(net, "POLL_MS", 50)
    s, port = _server(handler)
    s.max_conns = s.max_per_addr = 4
    t = threading.Thread(target=s.serve, daemon=True)
    t.start()
    yield s, port
    s.stop()
    t.join(2)
    s.close()


def _server(h, peer=False):
    for port in range(random.randrange(20000, 60000), 65000, 7):  # a port free for UDP and TCP
        try:
            return net.Server(h, "127.0.0.1", port, peer=peer), port
        except OSError:
            continue
    raise AssertionError("no free port")


def tcp(port, source="127.0.0.1"):
    c = socket.create_connection(("127.0.0.1", port), timeout=2, source_address=(source, 0))
    return c


def tcp_ask(port, body):
    """One framed query on a new connection; its framed answer."""
    c = tcp(port)
    c.sendall(frame(body))
    r = read_frame(c)
    c.close()
    return r


def frame(b):
    return struct.pack("!H", len(b)) + b


def read_frame(c):
    hdr = b""
    while len(hdr) < 2:
        d = c.recv(2 - len(hdr))
        if not d:
            raise EOFError
        hdr += d
    n = struct.unpack("!H", hdr)[0]
    body = b""
    while len(body) < n:
        d = c.recv(n - len(body))
        if not d:
            raise EOFError
        body += d
    return body


def test_udp(srv):
    s, port = srv
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2)
    for i in range(20):
        u.sendto(b"q%d" % i, ("127.0.0.1", port))
        assert u.recvfrom(100)[0] == b"R0q%d" % i
    u.sendto(b"drop", ("127.0.0.1", port))
    u.sendto(b"after", ("127.0.0.1", port))
    assert u.recvfrom(100)[0] == b"R0after"  # the dropped one produced nothing


def test_events_see_other_opcodes_only_and_short_datagrams_pass(srv):
    # loop.events (dnsbox.net.watch's always-logged lines) gets UDP answers to other opcodes
    # than QUERY; a datagram too short to have an opcode is answered all the same
    s, port = srv
    seen = []
    s.events = lambda q, r, proto, client, kind: seen.append(bytes(q))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2)
    for q in (b"q", b"qq", b"\x00\x01\x00", b"\x00\x01\x28"):  # short, QUERY, UPDATE (5)
        u.sendto(q, ("127.0.0.1", port))
        assert u.recvfrom(100)[0] == b"R0" + q
    assert seen == [b"\x00\x01\x28"]


def test_tcp_pipelined_and_split(srv):
    s, port = srv
    c = tcp(port)
    c.sendall(frame(b"one") + frame(b"two") + frame(b"drop") + frame(b"three")[:3])
    assert read_frame(c) == b"R1one"
    assert read_frame(c) == b"R1two"
    time.sleep(0.05)
    c.sendall(frame(b"three")[3:])
    assert read_frame(c) == b"R1three"
    c.close()


def test_large_frames(srv):
    s, port = srv
    c = tcp(port)
    big = bytes(range(256)) * 200  # 51,200 bytes, many TCP segments
    c.sendall(frame(big) * 3)
    for _ in range(3):
        assert read_frame(c) == b"R1" + big
    c.close()


def test_silent_client_does_not_stall_others(srv):
    s, port = srv
    slow = tcp(port)
    slow.sendall(b"\x00\x10abc")  # promises 16 bytes, sends 3, then nothing
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1)
    u.sendto(b"x", ("127.0.0.1", port))
    assert u.recvfrom(100)[0] == b"R0x"
    c = tcp(port)
    c.sendall(frame(b"y"))
    assert read_frame(c) == b"R1y"
    c.close()
    slow.close()


def test_idle_timeout_closes(srv):
    s, port = srv
    c = tcp(port)
    c.sendall(frame(b"hi"))
    assert read_frame(c) == b"R1hi"
    t0 = time.monotonic()
    with pytest.raises((EOFError, ConnectionResetError)):
        read_frame(c)  # the server closes the idle connection
    assert time.monotonic() - t0 < 1.9  # well before the client's own 2 s timeout
    assert not s.conns


def closed(c):
    """Whether the server closed c (EOF or reset) within the client's timeout."""
    try:
        return c.recv(10) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_full_slots_close_the_oldest_idle_connection(srv):
    # NSD and Knot close idle connections to admit new ones when all slots are taken; a new
    # client always gets in while some connection owes nothing.
    s, port = srv
    held = []
    for _ in range(net.TCP_MIN_PER_ADDRESS):
        held.append(tcp(port))
        time.sleep(0.03)  # accepted in this order: the first is the oldest
    assert tcp_ask(port, b"new") == b"R1new"
    assert closed(held[0])
    assert s.stats[3] >= 1 and len(s.conns) <= s.max_conns
    for h in held[1:]:
        h.sendall(frame(b"still"))
        assert read_frame(h) == b"R1still"  # the others were left alone
        h.close()


def test_one_address_cannot_take_every_slot(srv):
    s, port = srv
    s.max_per_addr = 2
    other = tcp(port, "127.0.0.2")
    time.sleep(0.03)
    mine = [tcp(port) for _ in range(2)]
    time.sleep(0.03)
    assert tcp_ask(port, b"third") == b"R1third"  # 127.0.0.1's oldest made room
    assert closed(mine[0])
    other.sendall(frame(b"o"))
    assert read_frame(other) == b"R1o"  # older, but another address: kept
    other.close()
    mine[1].close()


def test_refused_when_every_connection_is_owed_an_answer():
    s, port = _server(lambda q, proto, client: None, peer=True)  # answers come "later"
    s.max_conns = s.max_per_addr = 2
    t = threading.Thread(target=s.serve, daemon=True)
    t.start()
    try:
        held = [tcp(port) for _ in range(2)]
        for h in held:
            h.sendall(frame(b"wait"))
        time.sleep(0.2)
        extra = tcp(port)
        assert closed(extra)  # no slot could be freed: closed at once
        assert s.stats[2] >= 1 and s.stats[3] == 0
        for h in held:
            h.close()
    finally:
        s.stop()
        t.join(2)
        s.close()


def test_a_trickle_of_bytes_does_not_extend_the_query_deadline(srv, monkeypatch):
    # RFC 7766 6.2.3; Knot's tcp-io-timeout: a query must arrive whole in time.
    monkeypatch.setattr(net, "TCP_QUERY_MS", 400)
    s, port = srv
    c = tcp(port)
    c.sendall(b"\x00\x20")  # promises 32 bytes, then sends one every 100 ms
    t0 = time.monotonic()
    with pytest.raises((BrokenPipeError, ConnectionResetError, EOFError)):
        for _ in range(30):
            c.sendall(b"x")
            time.sleep(0.1)
        read_frame(c)
    assert time.monotonic() - t0 < 1.5  # closed soon after 400 ms, not after 3 s of bytes
    assert s.stats[4] >= 1
    assert tcp_ask(port, b"ok") == b"R1ok"


def test_an_unsent_query_is_not_an_idle_connection(srv, monkeypatch):
    monkeypatch.setattr(net, "TCP_QUERY_MS", 300)
    s, port = srv
    c = tcp(port)  # connects, says nothing: its first query is due within TCP_QUERY_MS
    assert closed(c)
    assert s.stats[4] >= 1


def test_bytes_of_unfinished_queries_are_bounded(srv):
    s, port = srv
    s.max_input = 20000
    c = tcp(port)
    c.sendall(b"\xff\xff")  # a 65535-byte query, sent in part
    with pytest.raises((BrokenPipeError, ConnectionResetError, EOFError)):
        for _ in range(20):
            c.sendall(b"y" * 4000)
            time.sleep(0.02)
        read_frame(c)
    assert s.stats[4] >= 1
    assert tcp_ask(port, b"ok") == b"R1ok"


def test_shutdown_closes_listeners_and_lets_answers_out():
    s, port = _server(handler)
    idle = tcp(port)
    busy = tcp(port)
    busy.sendall(frame(b"q"))
    for _ in range(20):
        s.serve(1)
        if len(s.conns) == 2 and s.stats[1] == 1:
            break
    assert s.shutdown(300) == 0
    assert read_frame(busy) == b"R1q"  # its answer went out before the close
    assert closed(idle) and closed(busy)
    with pytest.raises(OSError):
        tcp(port)  # the listener is gone


def test_client_that_never_reads(srv):
    s, port = srv
    c = tcp(port)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    q = frame(b"x" * 4000)
    for _ in range(200):  # 800 KB of answers it never reads: the server must not block
        try:
            c.send(q)
        except (BlockingIOError, socket.timeout):
            break
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1)
    u.sendto(b"still", ("127.0.0.1", port))
    assert u.recvfrom(100)[0] == b"R0still"
    c.close()


def test_handler_failure_drops_one_datagram(srv):
    s, port = srv
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2)
    u.sendto(b"boom", ("127.0.0.1", port))
    u.sendto(b"next", ("127.0.0.1", port))
    assert u.recvfrom(100)[0] == b"R0next"  # the loop lives on; the failing one got nothing
    assert s.faults == 1


class StarvedSocket:
    """The loop's UDP socket, whose next recvfrom fails as MicroPython's does when the heap has
    no free run as long as the read buffer (MemoryError); later calls go through."""

    def __init__(self, sock):
        self.sock = sock
        self.failures = 1

    def fileno(self):
        return self.sock.fileno()

    def recvfrom(self, n):
        if self.failures:
            self.failures -= 1
            raise MemoryError("memory allocation failed, allocating %d bytes" % n)
        return self.sock.recvfrom(n)

    def sendto(self, data, peer):
        return self.sock.sendto(data, peer)

    def close(self):
        self.sock.close()


def test_memory_error_in_the_socket_layer_does_not_stop_the_loop(srv):
    s, port = srv
    s.udp = StarvedSocket(s.udp)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2)
    u.sendto(b"first", ("127.0.0.1", port))
    # the failed read left the datagram queued: the next round answers it
    assert u.recvfrom(100)[0] == b"R0first"
    assert s.faults == 1 and s.udp.failures == 0
    assert tcp_ask(port, b"tcp") == b"R1tcp"  # TCP is still served too


def test_a_failing_tcp_handler_drops_its_connection_only(srv):
    s, port = srv
    c = tcp(port)
    c.sendall(frame(b"boom"))
    c.settimeout(2)
    assert c.recv(10) == b""  # closed: its state is not trusted after the failure
    c.close()
    assert s.faults == 1
    assert tcp_ask(port, b"again") == b"R1again"


def test_protocol_numbers_agree_with_the_handlers():
    from dnsbox import auth
    from dnsbox.resolver import ask
    from dnsbox.wire import reply

    # main.py hands Server.handle to the loop as it is: the numbering is one, wire.reply's
    assert (auth.UDP, auth.TCP) == (net.UDP, net.TCP) == (ask.UDP, ask.TCP) == (
        reply.UDP, reply.TCP) and reply.UDP != reply.TCP


def _streaming(n, size, fail_after=-1):
    """A tcp_handler: b'many' starts a stream of n responses of `size` bytes (index first);
    other frames get the plain handler's TCP answer. Records the peers it saw."""
    peers = []

    def gen():
        for i in range(n):
            if i == fail_after:
                raise ValueError("stream failure made by the test")
            yield struct.pack("!I", i) + bytes((i & 255,)) * (size - 4)

    def tcp_handler(q, conn):
        peers.append(conn.peer)
        if bytes(q[:4]) == b"many":
            return gen()
        return handler(q, net.TCP)

    return tcp_handler, peers


def test_stream_is_sent_in_order_then_the_next_query(srv):
    s, port = srv
    n, size = 300, 6000  # 1.8 MB: many times the bytes the loop keeps pending per connection
    s.tcp_handler, peers = _streaming(n, size)
    c = tcp(port)
    c.sendall(frame(b"many") + frame(b"after"))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2)
    for i in range(n):
        body = read_frame(c)
        assert len(body) == size and struct.unpack("!I", body[:4])[0] == i
        assert body[4:] == bytes((i & 255,)) * (size - 4)
        if i == 10:  # a slow reader mid-stream does not hold up other clients
            u.sendto(b"udp", ("127.0.0.1", port))
            assert u.recvfrom(100)[0] == b"R0udp"
    assert read_frame(c) == b"R1after"  # the pipelined query waited for the stream's end
    assert tcp_ask(port, b"fresh") == b"R1fresh"
    c.close()
    assert peers and all(p[0] == "127.0.0.1" for p in peers)


def test_a_failing_stream_closes_its_connection_only(srv):
    s, port = srv
    s.tcp_handler, _ = _streaming(50, 100, fail_after=3)
    c = tcp(port)
    c.sendall(frame(b"many"))
    for i in range(3):
        assert struct.unpack("!I", read_frame(c)[:4])[0] == i
    with pytest.raises(EOFError):  # closed: the client sees a transfer cut short, never a gap
        read_frame(c)
    c.close()
    assert s.faults == 1
    assert tcp_ask(port, b"again") == b"R1again"


def test_periodic_tasks_run_and_may_remove_themselves(srv):
    s, port = srv
    calls = []

    def once():
        calls.append("once")
        s.periodic.remove(once)

    def always():
        calls.append("always")

    def boom():
        calls.append("boom")
        raise ValueError("periodic failure made by the test")

    s.periodic.extend([once, always, boom])
    time.sleep(0.5)  # POLL_MS is 50 ms in these tests: several rounds
    # the task after the one that removed itself still ran in that round
    assert calls[:5] == ["once", "always", "boom", "always", "boom"]
    assert s.faults >= 2  # a failing task is counted each round; the loop goes on
    assert tcp_ask(port, b"alive") == b"R1alive"


def test_half_closed_client_gets_a_later_answer(srv):
    """A handler (peer=True) that answers later through respond(): a client that shut its
    sending side after the query still gets the answer, then the connection is closed."""
    s, port = srv
    waiting = []

    def later(q, proto, client):
        waiting.append((proto, client, b"L" + bytes(q)))
        return None

    def answer():
        while waiting:
            s.respond(*waiting.pop(0))

    s.handler, s.with_peer = later, True
    s.periodic.append(answer)  # runs in the loop's thread, every POLL_MS (50 ms here)
    c = tcp(port)
    c.sendall(frame(b"one") + frame(b"two"))
    c.shutdown(socket.SHUT_WR)
    assert read_frame(c) == b"Lone" and read_frame(c) == b"Ltwo"
    with pytest.raises(EOFError):
        read_frame(c)  # closed once both are out
    c.close()
    time.sleep(0.1)
    assert not s.conns
