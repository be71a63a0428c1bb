"""Zone transfer out of the frozen host firmware (auth mode, its compiled-in example zone):
dnspython's transfer client and NSD (Debian's package) as a real secondary pulling the zone
from it; both must end up with exactly the records of zones/example.com.zone. Access rules
over real sockets: a source address outside auth-peer= is refused."""
import os
import shutil
import socket
import subprocess
import time

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rdatatype
import dns.rcode
import dns.zone
import pytest

from nsdconf import nsd_conf
from ports import free_port
from tests.host.test_forwarder import ROOT, Resolver

NSD = shutil.which("nsd") or "/usr/sbin/nsd"
ZONE_FILE = os.path.join(ROOT, "zones", "example.com.zone")
ORIGIN = "example.com."
SECONDARY_WAIT_S = 20  # NSD's transfer daemon asks at start; allow for a slow shared machine
Q_TIMEOUT_S = 3


def _zone_records(z):
    out = []
    for name, node in z.nodes.items():
        for rds in node.rdatasets:
            for rd in rds:
                out.append((name.derelativize(z.origin).to_text().lower(),
                            dns.rdatatype.to_text(rds.rdtype), rds.ttl, rd.to_text().lower()))
    return sorted(out)


def _expected():
    return _zone_records(dns.zone.from_file(ZONE_FILE, ORIGIN, relativize=False))


@pytest.fixture(scope="module")
def primary():
    r = Resolver(["mode=auth", "auth-peer=127.0.0.1"])
    yield r
    r.stop()


def test_dnspython_transfer_gets_the_zone(primary):
    z = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", ORIGIN, port=primary.port,
                                        timeout=Q_TIMEOUT_S, lifetime=10, relativize=False),
                          relativize=False)
    assert _zone_records(z) == _expected()
    assert any("zone transfers (AXFR, IXFR) over TCP for 127.0.0.1/32" in x
               for x in primary.lines)


def test_ixfr_from_an_old_serial_gets_the_zone(primary):
    z = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", ORIGIN, rdtype=dns.rdatatype.IXFR,
                                        serial=1, port=primary.port, timeout=Q_TIMEOUT_S,
                                        lifetime=10, relativize=False), relativize=False)
    assert _zone_records(z) == _expected()


def test_other_source_address_is_refused(primary):
    q = dns.message.make_query(ORIGIN, "AXFR")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(Q_TIMEOUT_S)
    s.bind(("127.0.0.2", 0))  # loopback, but not the allowed peer
    s.connect(("127.0.0.1", primary.port))
    try:
        dns.query.send_tcp(s, q)
        r, _ = dns.query.receive_tcp(s)
    finally:
        s.close()
    assert r.rcode() == dns.rcode.REFUSED and not r.answer
    # ordinary TCP queries from there are answered as before
    r = dns.query.tcp(dns.message.make_query("www.example.com.", "A"), "127.0.0.1",
                      port=primary.port, timeout=Q_TIMEOUT_S, source="127.0.0.2")
    assert r.rcode() == 0 and r.answer


def test_axfr_over_udp_is_notimp(primary):
    r = dns.query.udp(dns.message.make_query(ORIGIN, "AXFR"), "127.0.0.1", port=primary.port,
                      timeout=Q_TIMEOUT_S)
    assert r.rcode() == dns.rcode.NOTIMP


def test_nsd_as_secondary(primary, tmp_path):
    if not os.path.exists(NSD):
        pytest.fail("nsd missing (apt-get install nsd)")
    port = free_port()
    zone_opts = ["request-xfr: AXFR 127.0.0.1@%d NOKEY" % primary.port,
                 "allow-notify: 127.0.0.1 NOKEY", "provide-xfr: 127.0.0.1 NOKEY"]
    conf = nsd_conf(str(tmp_path), "127.0.0.1", port,
                    [("example.com", str(tmp_path / "example.com.zone"), zone_opts)])
    (tmp_path / "nsd.conf").write_text(conf)
    proc = subprocess.Popen([NSD, "-d", "-c", str(tmp_path / "nsd.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SECONDARY_WAIT_S
        soa = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                soa = dns.query.udp(dns.message.make_query(ORIGIN, "SOA"), "127.0.0.1",
                                    port=port, timeout=0.5)
                if soa.rcode() == 0 and soa.answer:
                    break
            except Exception:
                pass
            time.sleep(0.2)
        log = (tmp_path / "nsd.log").read_text() if (tmp_path / "nsd.log").exists() else ""
        assert soa is not None and soa.answer, "NSD did not load the zone:\n" + log[-2000:]
        # what the secondary now serves, transferred out of it again
        z = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", ORIGIN, port=port, timeout=Q_TIMEOUT_S,
                                            lifetime=10, relativize=False), relativize=False)
        assert _zone_records(z) == _expected()
        r = dns.query.udp(dns.message.make_query("www.example.com.", "A"), "127.0.0.1",
                          port=port, timeout=Q_TIMEOUT_S)
        assert sorted(rd.to_text() for rd in r.answer[0]) == ["192.0.2.80", "192.0.2.81"]
        # NOTIFY from another instance (also-notify=): NSD takes it (allow-notify) and says so
        other = Resolver(["mode=auth", "also-notify=127.0.0.1#%d" % port])
        try:
            end = time.monotonic() + 10
            while time.monotonic() < end and not any("NOTIFY" in x for x in other.lines):
                time.sleep(0.1)
            assert any(": answered" in x for x in other.lines if "NOTIFY" in x), other.lines
            log = (tmp_path / "nsd.log").read_text()
            assert "notify for example.com. from 127.0.0.1 serial 2026112501" in log, log
        finally:
            other.stop()
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(5)


def test_notify_at_start_is_resent_until_answered():
    """also-notify=: the firmware sends NOTIFY for its zone at start; this secondary drops the
    first one and answers the second (a new ID); the firmware logs the outcome and stops."""
    import socket
    import threading

    sec = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sec.bind(("127.0.0.1", 0))
    sec.settimeout(10)
    got = []

    def secondary():
        try:
            for _ in range(2):
                data, src = sec.recvfrom(4096)
                got.append((dns.message.from_wire(data), data, src))
            m, data, src = got[-1]
            r = dns.message.make_response(m)
            sec.sendto(r.to_wire(), src)
        except OSError:
            pass

    t = threading.Thread(target=secondary, daemon=True)
    t.start()
    fw = Resolver(["mode=auth", "also-notify=127.0.0.1#%d" % sec.getsockname()[1]])
    try:
        t.join(15)
        assert len(got) == 2
        for m, data, _src in got:
            assert m.opcode() == dns.opcode.NOTIFY and m.flags & dns.flags.AA
            assert m.question[0].name.to_text() == ORIGIN and m.question[0].rdtype == 6
            assert m.answer[0].rdtype == 6  # the SOA, with the serial
        assert got[0][0].id != got[1][0].id and got[0][2] == got[1][2]  # resent, one socket
        end = time.monotonic() + 5
        while time.monotonic() < end and not any("NOTIFY" in x for x in fw.lines):
            time.sleep(0.1)
        assert any("NOTIFY example.com. to 127.0.0.1#%d: answered" % sec.getsockname()[1] in x
                   for x in fw.lines), fw.lines
    finally:
        fw.stop()
        sec.close()
