"""System test of recursion: the armhf image booted in qemu-system-arm (virt, TCG) in resolver
mode with no server= and hints= pointing at a test root on the host.

The guest reaches only the host's 127.0.0.1 (as 10.0.2.2, qemu's user network), so the test
root here is one NSD on 127.0.0.1:PORT serving the root and the zones below it from
tests/testnet/ (it answers every name it holds authoritatively: the guest iterates from the
root, follows the CNAME into another zone and back to the same server). qemu and NSD are
started and stopped by PID; every wait is bounded.
"""
import os
import subprocess
import sys
import time

import dns.message
import dns.query
import dns.rcode
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from test_qemu_resolver import HOST, QUERY_TIMEOUT_S, start  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tools"))
import testnet  # noqa: E402
from ports import free_port  # noqa: E402

ZONES = ["root.zone", "test.zone", "example.test.zone", "oob.test.zone", "net.zone"]


@pytest.fixture(scope="module")
def root():
    port = free_port()
    d = os.path.join(testnet.RUN, "system")
    os.makedirs(d, exist_ok=True)
    conf = ["server:", "  ip-address: 127.0.0.1", "  port: %d" % port, "  do-ip6: no",
            "  server-count: 1", "  reuseport: no", '  username: ""', '  chroot: ""',
            '  zonesdir: ""', '  database: ""', '  zonelistfile: "%s/zone.list"' % d,
            '  xfrdfile: "%s/xfrd.state"' % d, '  xfrdir: "%s"' % d,
            '  pidfile: "%s/nsd.pid"' % d, '  logfile: "%s/nsd.log"' % d,
            "  rrl-ratelimit: 0", "remote-control:", "  control-enable: no"]
    for fn in ZONES:
        origin = "." if fn == "root.zone" else fn[: -len("zone")]
        conf += ["zone:", '  name: "%s"' % origin,
                 '  zonefile: "%s"' % os.path.join(testnet.ZONES, fn)]
    with open(os.path.join(d, "nsd.conf"), "w") as f:
        f.write("\n".join(conf) + "\n")
    p = subprocess.Popen(["/usr/sbin/nsd", "-d", "-c", os.path.join(d, "nsd.conf")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.time() + 20
    while time.time() < end and not testnet.answers("127.0.0.1", ".", port):
        time.sleep(0.1)
    yield port
    p.terminate()
    p.wait(10)


@pytest.fixture(scope="module")
def guest(root):
    g, port = start(["mode=resolver", "dnssec=no", "hints=%s#%d" % (HOST, root)],
                    "qemu-recursive.log")
    yield g, port
    g.stop()


def ask(port, name, rdtype="A"):
    q = dns.message.make_query(name, rdtype)
    return dns.query.udp(q, "127.0.0.1", timeout=QUERY_TIMEOUT_S, port=port)


def sets(m):
    return sorted("%s %s" % (rr.name, rd) for rr in m.answer for rd in rr)


def test_boot_log_names_recursion(guest, root):
    g, _port = guest
    log = g.console()
    assert "resolver: recursion from 1 root hints (%s#%d)" % (HOST, root) in log
    assert "recursion for 127.0.0.0/8, ::1/128, fe80::/10, 10.0.2.0/24" in log  # never an open resolver
    assert "dnsbox ready: mode=resolver (recursive)" in log


def test_resolves_from_the_test_root(guest):
    _g, port = guest
    r = ask(port, "www.example.test.")
    assert r.rcode() == dns.rcode.NOERROR and sets(r) == ["www.example.test. 192.0.2.1"]
    r = ask(port, "alias.example.test.")
    assert sets(r) == ["alias.example.test. www.oob.test.", "www.oob.test. 192.0.2.2"]
    r = ask(port, "nx.example.test.")
    assert r.rcode() == dns.rcode.NXDOMAIN


def test_second_answer_from_the_cache(guest):
    _g, port = guest
    ask(port, "x.dn.example.test.")
    t0 = time.time()
    r = ask(port, "x.dn.example.test.")
    assert r.rcode() == dns.rcode.NOERROR and len(r.answer) == 3
    assert time.time() - t0 < QUERY_TIMEOUT_S
