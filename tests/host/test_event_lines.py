"""The event lines of the running host firmware (dnsbox.net.watch), without extended-statistics
or log-queries (events are always logged): a dynamic UPDATE by nsupdate with its rcode name,
AXFR and IXFR to an allowed peer (peer, zone, serial, then the stream's end), a refused
transfer, an IXFR answered in one message, a NOTIFY received, NOTIFY sent to also-notify=
peers answering NOERROR and REFUSED (names, not numbers), and an upstream marked down and back.
DHCP lease events are checked in tests/host/test_dhcp_netns.py (a real client in a netns)."""
import re
import socket
import subprocess
import threading
import time

import dns.message
import dns.query
import dns.rcode
import dns.zone
import pytest

from tests.host.fakeupstream import FakeUpstream
from tests.host.test_forwarder import Resolver

ZONE = "dyn.test."
LINE_WAIT_S = 5
NOTIFY_WAIT_S = 10  # the notifier's first send is at start; its answer read at once


class NotifyPeer:
    """A secondary on loopback UDP that answers every NOTIFY with one rcode (a thread)."""

    def __init__(self, rcode):
        self.rcode = rcode
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.s.settimeout(0.2)
        self.port = self.s.getsockname()[1]
        self.seen = []
        self.stopped = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stopped:
            try:
                data, peer = self.s.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            m = dns.message.from_wire(data)
            self.seen.append(m.question[0].name.to_text())
            r = dns.message.make_response(m)
            r.set_rcode(self.rcode)
            self.s.sendto(r.to_wire(), peer)

    def stop(self):
        self.stopped = True
        self.t.join(2)
        self.s.close()


@pytest.fixture(scope="module")
def peers():
    ok, no = NotifyPeer(dns.rcode.NOERROR), NotifyPeer(dns.rcode.REFUSED)
    yield ok, no
    ok.stop()
    no.stop()


@pytest.fixture(scope="module")
def fw(peers):
    ok, no = peers
    r = Resolver(["mode=auth", "update-zone=" + ZONE, "allow-update=127.0.0.1",
                  "auth-peer=127.0.0.1", "also-notify=127.0.0.1#%d,127.0.0.1#%d" % (
                      ok.port, no.port)])
    yield r
    r.stop()


def wait_line(r, pattern, timeout=LINE_WAIT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for x in list(r.lines):
            if re.search(pattern, x):
                return x
        time.sleep(0.05)
    raise AssertionError("no line matching %r in:\n%s" % (pattern, "\n".join(r.lines)))


def nsupdate(fw, lines, local=None):
    script = ["server 127.0.0.1 %d" % fw.port] + (["local " + local] if local else [])
    script += ["zone " + ZONE] + lines + ["send"]
    p = subprocess.run(["nsupdate", "-v", "-t", "5"], input="\n".join(script) + "\n",
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def serial(fw):
    return fw.ask(ZONE, "SOA").answer[0][0].serial


def test_update_lines_name_the_rcode(fw):
    assert nsupdate(fw, ["update add ev.dyn.test. 60 A 192.0.2.40"])[0] == 0
    wait_line(fw, r"UPDATE from 127\.0\.0\.1 for zone dyn\.test\.: NOERROR$")
    rc, out = nsupdate(fw, ["prereq nxdomain ev.dyn.test.", "update add ev.dyn.test. 60 A "
                            "192.0.2.41"])
    assert rc != 0 and "YXDOMAIN" in out
    wait_line(fw, r"UPDATE from 127\.0\.0\.1 for zone dyn\.test\.: YXDOMAIN$")
    rc, out = nsupdate(fw, ["update add ev2.dyn.test. 60 A 192.0.2.42"], local="127.0.0.2")
    assert rc != 0 and "REFUSED" in out
    wait_line(fw, r"UPDATE from 127\.0\.0\.2 for zone dyn\.test\.: REFUSED$")


def test_transfer_lines(fw):
    z = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", "example.com.", port=fw.port, timeout=5))
    s = z.get_soa().serial
    wait_line(fw, r"AXFR of example\.com\. to 127\.0\.0\.1: sending, serial %d$" % s)
    wait_line(fw, r"AXFR of example\.com\. to 127\.0\.0\.1: done, [1-9]\d* messages$")
    # an IXFR of the update zone from an older serial: a stream of differences
    s0 = serial(fw)
    assert nsupdate(fw, ["update add ix.dyn.test. 60 A 192.0.2.50"])[0] == 0
    q = dns.message.make_query(ZONE, "IXFR")
    q.authority = [dns.rrset.from_text(ZONE, 0, "IN", "SOA", ". . %d 0 0 0 0" % s0)]
    m = dns.query.tcp(q, "127.0.0.1", port=fw.port, timeout=5)
    assert m.rcode() == 0 and m.answer[0][0].serial == s0 + 1
    wait_line(fw, r"IXFR of dyn\.test\. to 127\.0\.0\.1: sending, serial %d$" % (s0 + 1))
    wait_line(fw, r"IXFR of dyn\.test\. to 127\.0\.0\.1: done, 1 messages$")
    # up to date: one SOA, no stream
    q.authority = [dns.rrset.from_text(ZONE, 0, "IN", "SOA", ". . %d 0 0 0 0" % (s0 + 1))]
    assert len(dns.query.tcp(q, "127.0.0.1", port=fw.port, timeout=5).answer) == 1
    wait_line(fw, r"IXFR of dyn\.test\. to 127\.0\.0\.1: answered in one message$")


def test_refused_transfer_line(fw):
    q = dns.message.make_query("example.com.", "AXFR")
    m = dns.query.tcp(q, "127.0.0.1", port=fw.port, timeout=5, source="127.0.0.2")
    assert m.rcode() == dns.rcode.REFUSED
    wait_line(fw, r"AXFR of example\.com\. to 127\.0\.0\.2: refused: REFUSED$")


def test_notify_received_line(fw):
    q = dns.message.make_query("example.com.", "SOA")
    q.set_opcode(dns.opcode.NOTIFY)
    m = dns.query.udp(q, "127.0.0.1", port=fw.port, timeout=5)
    name = dns.rcode.to_text(m.rcode())
    wait_line(fw, r"NOTIFY received from 127\.0\.0\.1 for zone example\.com\.: %s$" % name)


def test_notify_sent_lines_name_the_rcode(fw, peers):
    ok, no = peers
    wait_line(fw, r"NOTIFY example\.com\. to 127\.0\.0\.1#%d: answered$" % ok.port,
              NOTIFY_WAIT_S)
    wait_line(fw, r"NOTIFY example\.com\. to 127\.0\.0\.1#%d: answered REFUSED$" % no.port,
              NOTIFY_WAIT_S)
    wait_line(fw, r"NOTIFY dyn\.test\. to 127\.0\.0\.1#%d: answered REFUSED$" % no.port,
              NOTIFY_WAIT_S)
    assert not any(re.search(r"rcode \d", x) for x in fw.lines)


def test_upstream_down_and_back():
    up = FakeUpstream()
    r = None
    try:
        r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port])
        up.silent = True
        for i in range(3):
            assert r.ask("ok-ttl0.d%d.test" % i).rcode() == dns.rcode.SERVFAIL
        wait_line(r, r"upstream 127\.0\.0\.1#%d down \(2 failures in a row\)" % up.port)
        up.silent = False
        assert r.ask("ok.back.test").rcode() == 0
        wait_line(r, r"upstream 127\.0\.0\.1#%d answers again$" % up.port)
    finally:
        if r is not None:
            r.stop()
        up.stop()
