"""DNS over TLS in the serving loop (CPython, real loopback sockets, a certificate made by
tools/tlscert.py with openssl): frames through TLS as through TCP, pipelining, big answers,
streams, the connection limit, and clients that do not speak TLS or stall the handshake."""
import socket
import ssl
import struct
import threading
import time

import pytest

import tlscert
from dnsbox.net import server as net
from dnsbox.net import tls
from ports import free_port
from tests.host.test_net_server import frame, handler, read_frame


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    cert_path, key_path = tlscert.self_signed(str(d))
    der, key, pin = tlscert.material(cert_path, key_path)
    return der, key, pin, cert_path


@pytest.fixture
def srv(cert, monkeypatch):
    monkeypatch.setattr(net, "TCP_IDLE_MS", 500)
    monkeypatch.setattr(net, "POLL_MS", 50)
    port = free_port()
    tport = free_port()
    s = net.Server(handler, "127.0.0.1", port)
    s.listen_tls("127.0.0.1", tport, tls.context(cert[0], cert[1]))
    t = threading.Thread(target=s.serve, daemon=True)
    t.start()
    yield s, port, tport
    s.stop()
    t.join(2)
    s.close()


def client(tport, cert_path):
    ctx = ssl.create_default_context(cafile=cert_path)
    raw = socket.create_connection(("127.0.0.1", tport), timeout=3)
    return ctx.wrap_socket(raw, server_hostname="dnsbox")


def test_frames_over_tls_verified_against_the_certificate(srv, cert):
    s, _port, tport = srv
    c = client(tport, cert[3])
    c.sendall(frame(b"one") + frame(b"two"))  # pipelined in one write
    assert read_frame(c) == b"R1one"  # handlers see TCP
    assert read_frame(c) == b"R1two"
    c.sendall(frame(b"x" * 60000))  # a frame over several TLS records, both ways
    assert read_frame(c) == b"R1" + b"x" * 60000
    c.close()


def test_pin_is_the_served_key(srv, cert):
    _s, _port, tport = srv
    c = client(tport, cert[3])
    der = c.getpeercert(binary_form=True)
    c.close()
    assert der == cert[0] and tlscert.spki_pin(der) == cert[2]


def test_stream_over_tls(srv, cert):
    s, _port, tport = srv

    def gen():
        for i in range(40):
            yield struct.pack("!I", i) + b"z" * 5000

    s.tcp_handler = lambda q, conn: gen() if bytes(q) == b"many" else handler(q, net.TCP)
    c = client(tport, cert[3])
    c.sendall(frame(b"many") + frame(b"after"))
    for i in range(40):
        assert struct.unpack("!I", read_frame(c)[:4])[0] == i
    assert read_frame(c) == b"R1after"
    c.close()


def test_plain_dns_to_the_tls_port_is_dropped_and_counted_nowhere(srv):
    s, port, tport = srv
    c = socket.create_connection(("127.0.0.1", tport), timeout=3)
    c.sendall(frame(b"\x12\x34" + b"\x00" * 20))  # not a TLS ClientHello
    c.settimeout(3)
    end = time.monotonic() + 3
    closed = False
    while time.monotonic() < end and not closed:  # an alert may come first, then the close
        try:
            closed = c.recv(4096) == b""
        except ConnectionResetError:
            closed = True
    assert closed
    c.close()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2)
    u.sendto(b"udp", ("127.0.0.1", port))
    assert u.recvfrom(100)[0] == b"R0udp"
    assert s.faults == 0 and s.tls_count == 0


def test_a_stalled_handshake_does_not_hold_up_others(srv, cert):
    s, port, tport = srv
    idle = socket.create_connection(("127.0.0.1", tport), timeout=3)  # never says hello
    c = client(tport, cert[3])
    c.sendall(frame(b"hi"))
    assert read_frame(c) == b"R1hi"
    c.close()
    time.sleep(1.2)  # past the (shortened) idle timeout: the silent one is closed
    idle.settimeout(2)
    assert idle.recv(10) == b""
    idle.close()


def test_tls_connection_limit(srv, cert, monkeypatch):
    s, port, tport = srv
    monkeypatch.setattr(net, "TLS_MAX_CONNS", 2)
    held = [client(tport, cert[3]) for _ in range(2)]
    for h in held:
        h.sendall(frame(b"q"))
        assert read_frame(h) == b"R1q"
    with pytest.raises((ssl.SSLError, OSError, EOFError)):
        extra = client(tport, cert[3])  # accepted and closed at once: the handshake fails
        extra.sendall(frame(b"q"))
        read_frame(extra)
    assert s.stats[2] >= 1
    for h in held:
        h.close()
