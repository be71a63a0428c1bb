"""Zone transfer out of the frozen host firmware (auth mode, its compiled-in example zone):
dnspython's transfer client and NSD (Debian's package) as a real secondary pulling the zone
from it; both must end up with exactly the records of zones/example.com.zone. Access rules
over real sockets: a source address outside auth-peer= is refused."""
import os
import shutil
import socket
import subprocess
import time

import dns.message
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
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(5)
