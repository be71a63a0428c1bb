"""The frozen host firmware in resolver mode in front of a real upstream: NSD (Debian's package)
started by the test on a free loopback port, with its own config, zone, pid and database files
in a temporary directory, stopped by PID. Answers are compared with NSD's own."""
import os
import shutil
import subprocess
import time

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from nsdconf import nsd_conf
from ports import free_port
from tests.host.test_forwarder import Resolver

NSD = shutil.which("nsd") or "/usr/sbin/nsd"
START_TIMEOUT_S = 10

ZONE = """$ORIGIN nsd.test.
$TTL 300
@       SOA ns1 hostmaster 1 7200 900 86400 60
        NS  ns1
ns1     A   127.0.0.1
www     A   192.0.2.80
        A   192.0.2.81
        AAAA 2001:db8::80
alias   CNAME www
mail    MX  10 www
big     TXT "%s" "%s" "%s" "%s" "%s" "%s" "%s"
""" % tuple(c * 250 for c in "abcdefg")


@pytest.fixture(scope="module")
def nsd(tmp_path_factory):
    if not os.path.exists(NSD):
        pytest.fail("nsd missing (apt-get install nsd)")
    d = tmp_path_factory.mktemp("nsd")
    port = free_port()
    (d / "nsd.test.zone").write_text(ZONE)
    (d / "nsd.conf").write_text(nsd_conf(str(d), "127.0.0.1", port,
                                         [("nsd.test", str(d / "nsd.test.zone"))]))
    proc = subprocess.Popen([NSD, "-d", "-c", str(d / "nsd.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT_S
    ok = False
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            dns.query.udp(dns.message.make_query("www.nsd.test.", "A"), "127.0.0.1", timeout=0.3,
                          port=port)
            ok = True
            break
        except Exception:
            time.sleep(0.1)
    assert ok, "nsd did not start: %s" % (d / "nsd.log").read_text() if (d / "nsd.log").exists() \
        else "nsd did not start"
    yield port, proc
    if proc.poll() is None:
        proc.terminate()
        proc.wait(5)


def direct(port, name, rdtype):
    q = dns.message.make_query(name, rdtype)
    return dns.query.udp(q, "127.0.0.1", timeout=3, port=port)


def rrsets(m):
    return sorted((rr.name.to_text(), rr.rdtype, sorted(r.to_text() for r in rr)) for rr in m.answer)


def test_answers_match_nsd_and_come_from_the_cache(nsd):
    port, proc = nsd
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % port])
    try:
        for name, t in (("www.nsd.test.", "A"), ("www.nsd.test.", "AAAA"),
                        ("alias.nsd.test.", "A"), ("mail.nsd.test.", "MX"),
                        ("nsd.test.", "NS"), ("nsd.test.", "SOA")):
            mine = r.ask(name, t)
            theirs = direct(port, name, t)
            assert mine.rcode() == theirs.rcode() == 0, name
            assert rrsets(mine) == rrsets(theirs), (name, t)
            assert mine.flags & dns.flags.RA and not mine.flags & dns.flags.AA
        m = r.ask("nothere.nsd.test.")
        assert m.rcode() == dns.rcode.NXDOMAIN and m.authority[0].ttl == 60
        m = r.ask("www.nsd.test.", "TXT")
        assert m.rcode() == 0 and not m.answer and m.authority[0].rdtype == 6  # NODATA + SOA
        # TC from NSD (1750 bytes of TXT over a 1232-byte EDNS limit): asked again over TCP
        m = r.ask("big.nsd.test.", "TXT", tcp=True)
        assert rrsets(m) == rrsets(dns.query.tcp(dns.message.make_query("big.nsd.test.", "TXT"),
                                                 "127.0.0.1", timeout=3, port=port))
        time.sleep(1.1)
        m = r.ask("www.nsd.test.", "A")
        assert m.answer[0].ttl in (298, 299)  # counted down from 300
    finally:
        r.stop()


def test_0x20_towards_nsd(nsd):
    """do-0x20-encode: NSD echoes the random case, so every answer is accepted (a mismatch would
    be ignored and end in SERVFAIL after the retries), and no random case reaches the client."""
    port, proc = nsd
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % port, "do-0x20-encode"])
    try:
        for name, t in (("www.nsd.test.", "A"), ("alias.nsd.test.", "A"),
                        ("mail.nsd.test.", "MX"), ("nothere.nsd.test.", "A")):
            mine = r.ask(name, t)
            theirs = direct(port, name, t)
            assert mine.rcode() == theirs.rcode(), name
            assert rrsets(mine) == rrsets(theirs), (name, t)
            assert all(n == n.lower() for n, _t, _r in rrsets(mine)), name
        m = r.ask("big.nsd.test.", "TXT", tcp=True)  # TC, then TCP with a fresh case
        assert m.rcode() == 0 and len(m.answer[0]) == 1
    finally:
        r.stop()


def test_cached_answers_survive_the_upstream(nsd, tmp_path):
    port, proc = nsd
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % port])
    try:
        assert r.ask("www.nsd.test.").rcode() == 0
        assert r.ask("nothere.nsd.test.").rcode() == dns.rcode.NXDOMAIN
        proc.terminate()  # the upstream is gone (stopped by its PID)
        proc.wait(5)
        assert rrsets(r.ask("www.nsd.test.")) and r.ask("www.nsd.test.").rcode() == 0
        assert r.ask("nothere.nsd.test.").rcode() == dns.rcode.NXDOMAIN
        t0 = time.time()
        m = r.ask("mail.nsd.test.", "MX")  # not cached: every upstream fails
        assert m.rcode() == dns.rcode.SERVFAIL
        # the closed port answers each ask with ICMP port unreachable (the ask's socket is
        # connected): Network Error, every ask failed at once, not after its timeout
        ede = [o for o in m.options if o.otype == dns.edns.EDE][0]
        assert ede.code == 23 and ("127.0.0.1#%d network error" % port) in ede.text
        assert time.time() - t0 < 1.0
    finally:
        r.stop()
