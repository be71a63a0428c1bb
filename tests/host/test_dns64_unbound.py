"""DNS64 differential: the frozen host firmware forwarding with dns64-prefix= vs Unbound's dns64
module, both in front of the same NSD (Debian's packages, loopback, stopped by PID). The rcode
and the answer RRsets (owner, type, rdata) must agree; TTLs are checked against RFC 6147 5.1.7
for ours (min of the A record's TTL and the SOA minimum of the AAAA NODATA)."""
import subprocess
import time

import dns.message
import dns.query
import dns.rcode
import pytest

from nsdconf import nsd_conf
from ports import free_port
from tests.host.test_forwarder import Resolver

PREFIX = "64:ff9b::/96"
ZONE = """$ORIGIN d64.test.
$TTL 600
@       SOA ns1 hostmaster 1 7200 900 86400 120
        NS  ns1
ns1     A   127.0.0.1
v4      A   192.0.2.33
v4      A   192.0.2.34
dual    A   192.0.2.1
dual    AAAA 2001:db8::1
alias   CNAME v4
far     CNAME v4.other.test.
txt     TXT "no address"
short 30 A  198.51.100.9
"""
OTHER = """$ORIGIN other.test.
$TTL 300
@       SOA ns1 hostmaster 1 7200 900 86400 60
        NS  ns1
ns1     A   127.0.0.1
v4      A   203.0.113.7
"""
QUESTIONS = ["v4.d64.test.", "dual.d64.test.", "alias.d64.test.", "far.d64.test.",
             "txt.d64.test.", "nothere.d64.test.", "short.d64.test.", "ns1.d64.test."]


def _wait(port, name):
    end = time.monotonic() + 15
    while time.monotonic() < end:
        try:
            dns.query.udp(dns.message.make_query(name, "SOA"), "127.0.0.1", port=port, timeout=0.5)
            return True
        except Exception:
            time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    d = tmp_path_factory.mktemp("dns64")
    (d / "d64.zone").write_text(ZONE)
    (d / "other.zone").write_text(OTHER)
    nport, uport = free_port(), free_port()
    (d / "nsd.conf").write_text(nsd_conf(str(d), "127.0.0.1", nport, [
        ("d64.test", str(d / "d64.zone")), ("other.test", str(d / "other.zone"))]))
    (d / "unbound.conf").write_text("\n".join([
        "server:", "  interface: 127.0.0.1", "  port: %d" % uport, "  do-ip6: no",
        "  num-threads: 1", '  username: ""', '  chroot: ""', '  directory: "%s"' % d,
        '  pidfile: "%s/unbound.pid"' % d, "  use-syslog: no", '  logfile: "%s/unbound.log"' % d,
        "  do-not-query-localhost: no", '  module-config: "dns64 iterator"',
        "  dns64-prefix: %s" % PREFIX, "  access-control: 127.0.0.0/8 allow",
        '  local-zone: "test." nodefault',
        "remote-control:", "  control-enable: no",
        "forward-zone:", '  name: "."', "  forward-addr: 127.0.0.1@%d" % nport, ""]))
    procs = []
    ours = None
    try:
        procs.append(subprocess.Popen(["nsd", "-d", "-c", str(d / "nsd.conf")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        assert _wait(nport, "d64.test."), "nsd did not start"
        procs.append(subprocess.Popen(["unbound", "-d", "-c", str(d / "unbound.conf")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        assert _wait(uport, "d64.test."), "unbound did not start"
        ours = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % nport,
                         "dns64-prefix=" + PREFIX])
        yield ours, uport
    finally:
        if ours is not None:
            ours.stop()
        for p in procs:
            p.terminate()
            p.wait(10)


def answers(m):
    return sorted((rr.name.to_text(), rr.rdtype, sorted(r.to_text() for r in rr))
                  for rr in m.answer)


def test_same_answers_as_unbound(servers):
    ours, uport = servers
    for name in QUESTIONS:
        a = ours.ask(name, "AAAA")
        b = dns.query.udp(dns.message.make_query(name, "AAAA"), "127.0.0.1", port=uport,
                          timeout=4)
        assert (dns.rcode.to_text(a.rcode()), answers(a)) == (
            dns.rcode.to_text(b.rcode()), answers(b)), name
    m = ours.ask("v4.d64.test.", "AAAA")
    assert sorted(r.to_text() for rr in m.answer for r in rr) == ["64:ff9b::c000:221",
                                                                  "64:ff9b::c000:222"]
    assert "DNS64" in "\n".join(ours.lines)


def test_ttls_follow_rfc6147(servers):
    ours, _u = servers
    m = ours.ask("short.d64.test.", "AAAA")
    assert [rr.ttl for rr in m.answer] == [30]  # the A record's TTL is the smaller
    m = ours.ask("alias.d64.test.", "AAAA")
    ttls = {rr.rdtype: rr.ttl for rr in m.answer}
    assert ttls[28] <= 120 and ttls[5] <= 600  # AAAA capped by the SOA minimum; CNAME as is
