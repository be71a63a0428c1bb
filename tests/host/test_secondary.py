"""Secondary zones of the frozen host firmware (secondary=): NSD as the hidden primary with two
firmware secondaries (the README's fleet), AXFR at boot, answers the same as NSD's, NOTIFY after
a change reaching both (the time printed), AXFR onward to auth-peer=, TSIG-signed transfers; a
fake primary in Python for what NSD will not do: go away (retry, expire: SERVFAIL), send a
malformed or oversized transfer (the old copy serves on)."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest

import proctree
from nsdconf import nsd_conf
from ports import free_port
from tests.host.test_forwarder import BINARY

NSD = shutil.which("nsd") or "/usr/sbin/nsd"
ORIGIN = "sec.test."
READY_S = 20
WAIT_S = 10  # the generous bound on a change reaching a secondary
Q_TIMEOUT_S = 2
CHUNK = 400  # RRsets per message of the fake primary
KEY_NAME = "xfr.key."
KEY_SECRET = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

ZONE = """$ORIGIN sec.test.
$TTL 300
@ IN SOA ns1 hostmaster %(serial)d %(refresh)d %(retry)d %(expire)d 60
@ NS ns1
@ MX 10 mail
ns1 A 127.0.0.1
www A 192.0.2.%(last)d
mail A 192.0.2.25
* TXT "wild"
alias CNAME www
far CNAME www.example.net.
sub NS ns.sub
ns.sub A 192.0.2.53
d DNAME other.test.
txt.deep TXT "x"
"""


def zone_text(serial, last=1, refresh=3600, retry=600, expire=86400):
    return ZONE % dict(serial=serial, last=last, refresh=refresh, retry=retry, expire=expire)


class Firmware:
    """build/host/dnsbox on a given port (ip6: on ::1 too); stopped by PID."""

    def __init__(self, port, words, ip6=False):
        assert os.path.isfile(BINARY), "%s missing: run ./build.sh host" % BINARY
        self.port = port
        self.proc = subprocess.Popen(
            [BINARY, "-m", "dnsbox.main", "--host", "mode=auth", "port=%d" % port]
            + ([] if ip6 else ["ip6=off"]) + words, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_line(self, text, timeout=READY_S):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in x for x in self.lines):
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError("no %r in:\n%s" % (text, "\n".join(self.lines)))

    def ask(self, name, rdtype="A", tcp=False):
        return ask(self.port, name, rdtype, tcp)

    def stop(self):
        proctree.stop(self.proc, 3)
        self._t.join(2)


def ask(port, name, rdtype="A", tcp=False):
    q = dns.message.make_query(name, rdtype, use_edns=False)
    q.flags &= ~0x0100  # no RD
    if tcp:
        return dns.query.tcp(q, "127.0.0.1", timeout=Q_TIMEOUT_S, port=port)
    return dns.query.udp(q, "127.0.0.1", timeout=Q_TIMEOUT_S, port=port)


def serial_of(port):
    try:
        r = ask(port, ORIGIN, "SOA")
    except dns.exception.Timeout:
        return None
    for rrset in r.answer:
        return rrset[0].serial
    return None


class Primary:
    """NSD serving sec.test. with provide-xfr to loopback and NOTIFY to the given ports."""

    def __init__(self, notify_ports, key=False):
        self.dir = tempfile.mkdtemp(prefix="dnsbox-sec-")
        self.port = free_port()
        self.zone = os.path.join(self.dir, "sec.test.zone")
        self.write(zone_text(1))
        acl = KEY_NAME if key else "NOKEY"
        opts = ["provide-xfr: 127.0.0.0/8 %s" % acl]
        opts += ["notify: 127.0.0.1@%d %s" % (p, acl) for p in notify_ports]
        conf = nsd_conf(self.dir, "127.0.0.1", self.port, [(ORIGIN, self.zone, opts)],
                        ["minimal-responses: yes"])  # as tests/host/test_auth_nsd.py
        if key:
            conf += "key:\n  name: %s\n  algorithm: hmac-sha256\n  secret: \"%s\"\n" % (
                KEY_NAME, KEY_SECRET)
        with open(os.path.join(self.dir, "nsd.conf"), "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen([NSD, "-d", "-c", os.path.join(self.dir, "nsd.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + READY_S
        while serial_of(self.port) != 1:
            assert time.monotonic() < deadline and self.proc.poll() is None, "NSD did not start"
            time.sleep(0.1)

    def write(self, text):
        with open(self.zone + ".tmp", "w") as f:
            f.write(text)
        os.rename(self.zone + ".tmp", self.zone)

    def reload(self):
        self.proc.send_signal(1)  # SIGHUP: NSD rereads its zone files, then NOTIFYs

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def fleet():
    ports = [free_port(), free_port()]
    nsd = Primary(ports)
    secs = [Firmware(p, ["secondary=%s@127.0.0.1#%d" % (ORIGIN, nsd.port),
                         "auth-peer=127.0.0.1"]) for p in ports]
    try:
        for s in secs:
            s.wait_line("serial 1 by AXFR")
        yield nsd, secs
    finally:
        for s in secs:
            s.stop()
        nsd.stop()


QUESTIONS = [("www.sec.test.", "A"), ("WWW.Sec.Test.", "A"), ("sec.test.", "MX"),
             ("sec.test.", "NS"), ("nothing.sec.test.", "A"), ("x.y.sec.test.", "TXT"),
             ("x.y.sec.test.", "A"), ("alias.sec.test.", "A"), ("far.sec.test.", "A"),
             ("a.sub.sec.test.", "A"), ("sub.sec.test.", "NS"), ("ns.sub.sec.test.", "A"),
             ("q.d.sec.test.", "A"), ("deep.sec.test.", "TXT"), ("www.sec.test.", "AAAA"),
             ("sec.test.", "SOA"), ("alias.sec.test.", "CNAME"), ("mail.sec.test.", "ANY")]


def _view(r):
    def sec(s):
        return sorted(rr.to_text().lower() for rr in s)

    return (dns.rcode.to_text(r.rcode()), bool(r.flags & 0x0400), sec(r.answer),
            sec(r.authority))


def test_axfr_at_boot_answers_as_nsd(fleet):
    nsd, secs = fleet
    for name, t in QUESTIONS:
        want = _view(ask(nsd.port, name, t))
        for s in secs:
            got = _view(s.ask(name, t))
            if name == "mail.sec.test." and t == "ANY":  # RFC 8482: both may shorten ANY
                assert got[0] == want[0] and got[2]
                continue
            assert got == want, (name, t, got, want)
    assert any("secondary sec.test. from 127.0.0.1#%d" % nsd.port in x for x in secs[0].lines)


def test_transfer_onward_by_axfr(fleet):
    nsd, secs = fleet
    want = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", ORIGIN, port=nsd.port, lifetime=10))
    got = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", ORIGIN, port=secs[0].port, lifetime=10))
    assert got == want


def test_notify_brings_a_change_to_both(fleet):
    nsd, secs = fleet
    before = serial_of(secs[0].port)
    new = before + 1
    nsd.write(zone_text(new, last=9))
    t0 = time.monotonic()
    nsd.reload()
    took = {}
    deadline = t0 + WAIT_S
    while len(took) < len(secs) and time.monotonic() < deadline:
        for i, s in enumerate(secs):
            if i not in took and serial_of(s.port) == new:
                took[i] = time.monotonic() - t0
        time.sleep(0.005)
    sys.stdout.write("\nNOTIFY to answer: %s\n" % ", ".join(
        "secondary %d %.0f ms" % (i + 1, took[i] * 1000) for i in sorted(took)))
    assert len(took) == len(secs), "not every secondary has serial %d: %r" % (new, took)
    for s in secs:
        assert [x.to_text() for x in s.ask("www.sec.test.").answer[0]] == ["192.0.2.9"]


def test_tsig_signed_transfers():
    port = free_port()
    nsd = Primary([port], key=True)
    good = Firmware(port, ["secondary=%s@127.0.0.1#%d,key=%s:%s" % (
        ORIGIN, nsd.port, KEY_NAME, KEY_SECRET), "auth-peer=127.0.0.1"])
    unsigned = Firmware(free_port(), ["secondary=%s@127.0.0.1#%d" % (ORIGIN, nsd.port)])
    try:
        good.wait_line("serial 1 by AXFR")
        assert good.ask("www.sec.test.").answer
        unsigned.wait_line("transfer failed")
        assert unsigned.ask("www.sec.test.").rcode() == dns.rcode.SERVFAIL
        nsd.write(zone_text(2))
        nsd.reload()  # the NOTIFY is signed too; the IXFR that follows
        good.wait_line("serial 2 by", WAIT_S)
    finally:
        good.stop()
        unsigned.stop()
        nsd.stop()


class FakePrimary:
    """A TCP primary in Python: answers AXFR/IXFR with self.mode ("good": the zone, "bad": a
    malformed stream, "big": a stream past the record limit, "gone": closes at once)."""

    def __init__(self, text):
        self.zone = dns.zone.from_text(text, ORIGIN, relativize=False)
        self.mode = "good"
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(4)
        self.s.settimeout(0.2)
        self.port = self.s.getsockname()[1]
        self.asked = 0
        self.stopped = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stopped:
            try:
                c, _ = self.s.accept()
            except OSError:
                continue
            try:
                self._serve(c)
            except OSError:
                pass
            finally:
                c.close()

    def _serve(self, c):
        c.settimeout(2)
        q, _ = dns.query.receive_tcp(c)
        self.asked += 1
        if self.mode == "gone":
            return
        soa = self.zone.find_rrset(ORIGIN, "SOA")
        rrsets = [soa]
        for name, node in self.zone.nodes.items():
            for rds in node.rdatasets:
                if rds.rdtype != dns.rdatatype.SOA:
                    rrsets.append(dns.rrset.from_rdata_list(name, rds.ttl, list(rds)))
        rrsets.append(soa)
        out = b""
        for i in range(0, len(rrsets), CHUNK):  # several messages for a large zone
            r = dns.message.make_response(q)
            r.flags |= 0x0400
            if i:
                r.question = []
            r.answer = rrsets[i : i + CHUNK]
            w = r.to_wire()
            if self.mode == "bad" and i + CHUNK >= len(rrsets):
                w = w[:-7]  # cut inside the closing SOA
            out += len(w).to_bytes(2, "big") + w
        c.sendall(out)

    def stop(self):
        self.stopped = True
        self.t.join(2)
        self.s.close()


def test_primary_goes_away_retry_then_expire():
    fake = FakePrimary(zone_text(1, refresh=1, retry=1, expire=4))
    s = Firmware(free_port(), ["secondary=%s@127.0.0.1#%d" % (ORIGIN, fake.port)])
    try:
        s.wait_line("serial 1 by AXFR")
        assert s.ask("www.sec.test.").answer
        fake.mode = "gone"
        s.wait_line("transfer failed", 5)
        assert s.ask("www.sec.test.").answer  # within expire: served
        asked = fake.asked
        s.wait_line("expired", 8)
        assert s.ask("www.sec.test.").rcode() == dns.rcode.SERVFAIL
        assert fake.asked > asked  # retried on the SOA retry timer
        fake.mode = "good"  # the primary is back: the zone is served again
        deadline = time.monotonic() + 5
        while s.ask("www.sec.test.").rcode() != dns.rcode.NOERROR:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        s.stop()
        fake.stop()


def test_malformed_transfer_keeps_the_old_copy():
    fake = FakePrimary(zone_text(1, refresh=1, retry=1))
    s = Firmware(free_port(), ["secondary=%s@127.0.0.1#%d" % (ORIGIN, fake.port)])
    try:
        s.wait_line("serial 1 by AXFR")
        fake.zone = dns.zone.from_text(zone_text(2, last=7, refresh=1, retry=1), ORIGIN,
                                       relativize=False)
        fake.mode = "bad"
        s.wait_line("malformed", 5)
        r = s.ask("www.sec.test.")
        assert [x.to_text() for x in r.answer[0]] == ["192.0.2.1"]  # the old copy
        assert serial_of(s.port) == 1
        fake.mode = "good"
        s.wait_line("serial 2 by", 5)
        assert [x.to_text() for x in s.ask("www.sec.test.").answer[0]] == ["192.0.2.7"]
    finally:
        s.stop()
        fake.stop()


def test_oversized_transfer_keeps_the_old_copy():
    fake = FakePrimary(zone_text(1, refresh=1, retry=1))
    s = Firmware(free_port(), ["secondary=%s@127.0.0.1#%d" % (ORIGIN, fake.port)])
    try:
        s.wait_line("serial 1 by AXFR")
        big = zone_text(2, refresh=1, retry=1) + "".join(
            "h%d A 10.0.%d.%d\n" % (i, i // 250, i % 250) for i in range(20001))
        fake.zone = dns.zone.from_text(big, ORIGIN, relativize=False)
        s.wait_line("serial 1 serves on", 15)  # over the record limit, or out of heap first
        assert serial_of(s.port) == 1 and s.ask("www.sec.test.").answer
    finally:
        s.stop()
        fake.stop()
