"""The resolver over IPv6 in the IPv6 mini-Internet (tools/testnet.py TestNet6: the test zones on
NSD at fd00:53::101-111 inside a network namespace this test creates, AAAA glue). The frozen
host firmware runs inside the namespace (listening on 127.0.0.1 and ::1 there), dig asks it
there too; every process is stopped by PID and the namespace deleted.

Forwarding to IPv6 servers; recursion over IPv6 only (AAAA glue) and falling back from the
dead IPv4 addresses of A glue to IPv6 (the address family chosen by what answers)."""
import os
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import proctree  # noqa: E402
import testnet  # noqa: E402
from tests.host.test_recursive import EXPECT  # noqa: E402

BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
MPY = os.path.join(BUILD, "host", "dnsbox")
PORT = 5300  # the firmware's port inside the namespace (nothing else listens there)
SERVE_MAX_S = 120  # the firmware exits by itself after this long
READY_S = 10
DIG_TIMEOUT_S = 15
NAMES = [("www.example.test.", "A"), ("www.example.test.", "AAAA"), ("www.oob.test.", "A"),
         ("www.sib.test.", "A"), ("alias.example.test.", "A"), ("www.x.y.two.deep.test.", "A"),
         ("nx.example.test.", "A"), ("www.lame.test.", "A"), ("www.victim.test.", "A")]


def _net(glue):
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    net = testnet.TestNet6(glue).start()
    return net


@pytest.fixture(scope="module")
def net6():
    net = _net("v6")
    yield net
    net.stop()


@pytest.fixture(scope="module")
def net_both():
    net = _net("both")
    yield net
    net.stop()


class Firmware:
    """The host firmware inside the namespace; stopped by PID."""

    def __init__(self, net, words):
        assert os.path.isfile(MPY), "%s missing: run ./build.sh host" % MPY
        self.net = net
        self.log = os.path.join(net.run_dir, "firmware-%d.log" % len(os.listdir(net.run_dir)))
        self.out = open(self.log, "w")
        self.proc = subprocess.Popen(
            net.cmd([MPY, "-m", "dnsbox.main", "--host", "port=%d" % PORT, "dnssec=no",
                     "--max-s=%d" % SERVE_MAX_S] + words), stdout=self.out,
            stderr=subprocess.STDOUT)
        end = time.time() + READY_S
        while time.time() < end and self.proc.poll() is None:
            if "dnsbox ready" in self.text():
                return
            time.sleep(0.05)
        self.stop()
        raise AssertionError("firmware did not start:\n" + self.text())

    def text(self):
        with open(self.log) as f:
            return f.read()

    def ask(self, name, rdtype, where="::1"):
        """(rcode text, sorted 'owner TYPE rdata' lines) as dig inside the namespace saw them."""
        out = subprocess.run(self.net.cmd(["dig", "@" + where, "-p", str(PORT), name, rdtype,
                                           "+noall", "+comments", "+answer", "+time=12",
                                           "+tries=1"]),
                             capture_output=True, text=True, timeout=DIG_TIMEOUT_S).stdout
        rcode = None
        ans = []
        for line in out.splitlines():
            if "status:" in line:
                rcode = line.split("status:")[1].split(",")[0].strip()
            elif line and not line.startswith(";"):
                f = line.split(None, 4)
                ans.append("%s %s %s" % (f[0].lower(), f[3], f[4]))
        return rcode, sorted(ans)

    def stop(self):
        proctree.stop(self.proc, 5)
        self.out.close()


def test_forwarding_to_ipv6_servers_in_the_namespace(net6):
    fw = Firmware(net6, ["mode=resolver", "server=/example.test/fd00:53::105",
                         "server=fd00:53::106#53"])
    try:
        assert fw.ask("www.example.test.", "A") == EXPECT[("www.example.test.", "A")]
        assert fw.ask("www.example.test.", "AAAA", "127.0.0.1") == \
            EXPECT[("www.example.test.", "AAAA")]
        assert fw.ask("nx.example.test.", "A")[0] == "NXDOMAIN"
        assert fw.ask("www.oob.test.", "A") == EXPECT[("www.oob.test.", "A")]
    finally:
        fw.stop()


def test_the_box_has_ipv6_in_the_namespace(net6):
    fw = Firmware(net6, ["mode=resolver", "hints=" + net6.hints])
    try:
        assert "recursion over IPv4 and IPv6" in fw.text()
        assert "root hints (fd00:53::101#53)" in fw.text()
    finally:
        fw.stop()


def test_recursion_over_ipv6_only(net6):
    """AAAA glue only: every answer the IPv4 mini-Internet gives, over IPv6."""
    fw = Firmware(net6, ["mode=resolver", "hints=" + net6.hints])
    try:
        for name, t in NAMES:
            assert fw.ask(name, t) == EXPECT[(name, t)], (name, t)
    finally:
        fw.stop()


def test_recursion_falls_back_to_ipv6(net_both):
    """A and AAAA glue, the IPv4 addresses dead (nothing listens in the namespace): the asks
    over IPv4 fail at once and the IPv6 addresses answer."""
    fw = Firmware(net_both, ["mode=resolver", "hints=%s,127.0.0.101" % net_both.hints])
    try:
        for name, t in NAMES[:4]:
            assert fw.ask(name, t) == EXPECT[(name, t)], (name, t)
    finally:
        fw.stop()
