"""Signals to the firmware (host build, auth mode): SIGTERM and SIGINT close the listeners, let
open connections take their answers, log one line and exit 0; SIGHUP and SIGUSR1 are logged and
serving goes on (SIGUSR1: the counters). Reference: NSD and Unbound exit 0 on SIGTERM after
closing their sockets; NSD reloads on SIGHUP (dnsbox has no zone files to re-read: logged and
ignored); Unbound and dnsmasq log statistics on SIGUSR1-like signals."""
import signal
import socket
import struct
import time

import dns.message
import dns.query
import pytest

from tests.host.test_forwarder import Resolver as Firmware

EXIT_S = 5  # SHUTDOWN_MS (2 s) + one poll round + slack


@pytest.fixture
def fw():
    f = Firmware(["mode=auth"])
    yield f
    f.stop()


def _ask_udp(fw):
    q = dns.message.make_query("www.example.com", "A")
    return dns.query.udp(q, "127.0.0.1", port=fw.port, timeout=2)


def _wait_line(fw, text, timeout=3.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for x in fw.lines:
            if text in x:
                return x
        time.sleep(0.05)
    raise AssertionError("no line with %r in:\n%s" % (text, "\n".join(fw.lines)))


@pytest.mark.parametrize("sig,name", [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")])
def test_term_and_int_exit_cleanly(fw, sig, name):
    assert _ask_udp(fw).rcode() == 0
    c = socket.create_connection(("127.0.0.1", fw.port), timeout=3)
    q = dns.message.make_query("www.example.com", "A").to_wire()
    c.sendall(struct.pack("!H", len(q)) + q)
    assert len(c.recv(4096)) > 2  # answered: the connection stays open, idle
    fw.proc.send_signal(sig)
    assert fw.proc.wait(EXIT_S) == 0
    line = _wait_line(fw, "stopped (%s)" % name)
    assert "1 tcp queries" in line and "1 udp" in line
    assert c.recv(10) == b""  # closed with a FIN, not a reset
    c.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", fw.port), timeout=1)


def test_hup_and_usr1_are_logged_and_serving_goes_on(fw):
    assert _ask_udp(fw).rcode() == 0
    fw.proc.send_signal(signal.SIGUSR1)
    line = _wait_line(fw, "counters:")
    assert "1 udp and 0 tcp queries" in line
    fw.proc.send_signal(signal.SIGHUP)
    _wait_line(fw, "SIGHUP ignored")
    assert fw.proc.poll() is None
    assert _ask_udp(fw).rcode() == 0


def test_resolver_mode_stops_cleanly_and_reports_its_counters():
    f = Firmware(["mode=resolver", "dnssec=no", "server=127.0.0.1#9"])  # discard: no answer
    try:
        f.proc.send_signal(signal.SIGUSR1)
        line = _wait_line(f, "counters:")
        assert "cache 0" in line and "inflight 0" in line
        f.proc.send_signal(signal.SIGTERM)
        assert f.proc.wait(EXIT_S) == 0
        _wait_line(f, "stopped (SIGTERM)")
    finally:
        f.stop()
