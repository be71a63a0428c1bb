"""The open-resolver check from an outside address: the frozen host firmware in resolver mode
in one network namespace (ip=198.51.100.1/24, no allow=: recursion for its own subnet and
loopback only), forwarding to a fake upstream inside that namespace; clients in another
namespace, joined by a veth pair, one on the LAN (198.51.100.2) and one outside it
(203.0.113.7, routed over the same link). Addresses of TEST-NET-2 and -3 that exist only
inside the namespaces this test makes and deletes.

From outside: every recursive question is REFUSED over UDP and TCP (a name never asked, and
one the LAN client has just put in the cache: the cache is not served to outsiders either),
the counters (CH TXT stats.dnsbox.) are REFUSED, nothing goes upstream; the compiled-in zone is
public (authoritative answer, no RA). From the LAN: answered, with RA.

Reference: Unbound 1.17 in the same namespace on port 54 with the same policy (access-control:
198.51.100.0/24 allow; its default refuses everyone else) gives the outside client REFUSED and
the LAN client its answer (checked here).
"""
import json
import os
import random
import shutil
import subprocess
import sys
import time

import pytest

from testnet import stop_all
from tests.abuse import refs

SERVER_IP = "198.51.100.1"
LAN_IP = "198.51.100.2"
OUTSIDE_IP = "203.0.113.7"
UNBOUND_PORT = 54
WAIT_S = 15  # the firmware's start
HERE = os.path.dirname(os.path.abspath(__file__))
NSRUN = os.path.join(HERE, "nsrun.py")


def sh(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30, check=check)


@pytest.fixture(scope="module")
def netns():
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("network namespaces need root and iproute2 (ip)")
    tag = "%06x" % random.randrange(1 << 24)
    srv, cli = "dbx-as-" + tag, "dbx-ac-" + tag
    made = []
    try:
        for ns in (srv, cli):
            r = sh("ip", "netns", "add", ns, check=False)
            if r.returncode:
                pytest.skip("cannot make a network namespace here: " + r.stderr.strip())
            made.append(ns)
        vs, vc = "vs" + tag, "vc" + tag
        sh("ip", "link", "add", vs, "netns", srv, "type", "veth", "peer", "name", vc, "netns",
           cli)
        sh("ip", "-n", srv, "addr", "add", SERVER_IP + "/24", "dev", vs)
        sh("ip", "-n", cli, "addr", "add", LAN_IP + "/24", "dev", vc)
        sh("ip", "-n", cli, "addr", "add", OUTSIDE_IP + "/32", "dev", vc)
        for ns, dev in ((srv, vs), (cli, vc)):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", srv, "route", "add", OUTSIDE_IP + "/32", "dev", vs)
        yield srv, cli
    finally:
        for ns in made:
            sh("ip", "netns", "del", ns, check=False)


@pytest.fixture(scope="module")
def appliance(netns, tmp_path_factory):
    srv, cli = netns
    env = dict(os.environ, PYTHONPATH=refs.ROOT)
    up = subprocess.Popen(["ip", "netns", "exec", srv, sys.executable, NSRUN, "upstream"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    fw = ub = None
    try:
        line = up.stdout.readline().split()
        assert line[:1] == ["ready"], line
        port = int(line[1])
        assert os.path.isfile(refs.BINARY), "%s missing: run ./build.sh" % refs.BINARY
        log = tmp_path_factory.mktemp("fw") / "firmware.log"
        logf = open(log, "w")
        fw = subprocess.Popen(["ip", "netns", "exec", srv, refs.BINARY, "-m", "dnsbox.main",
                               "--host", "--max-s=%d" % refs.RUN_MAX_S, "ip=" + SERVER_IP,
                               "netmask=255.255.255.0", "port=53", "mode=resolver",
                               "dnssec=no", "server=127.0.0.1#%d" % port],
                              stdout=logf, stderr=subprocess.STDOUT)
        end = time.monotonic() + WAIT_S
        while time.monotonic() < end and "dnsbox ready" not in log.read_text():
            time.sleep(0.1)
        text = log.read_text()
        assert "recursion for 127.0.0.0/8, ::1/128, fe80::/10, 198.51.100.0/24" in text, text
        ub = refs.unbound(["access-control: 198.51.100.0/24 allow", "forward-zone:",
                           '  name: "."', "  forward-addr: 127.0.0.1@%d" % port],
                          ip=SERVER_IP, port=UNBOUND_PORT, netns=srv)
        yield cli, up
    finally:
        if fw is not None:
            stop_all([fw])
            logf.close()
        refs.stop(ub)
        up.stdin.close()
        up.wait(10)


def ask(cli, source, name, rdtype="A", rdclass="IN", tcp=False, port=53):
    r = sh("ip", "netns", "exec", cli, sys.executable, NSRUN, "ask", SERVER_IP, str(port),
           source, name, rdtype, rdclass, "tcp" if tcp else "udp")
    return json.loads(r.stdout)


def upstream_queries(up):
    up.stdin.write("count\n")
    up.stdin.flush()
    return int(up.stdout.readline())


def test_outside_client_is_refused(appliance):
    cli, up = appliance
    refused = {"rcode": "REFUSED", "aa": False, "ra": False, "answer": []}  # as from Unbound
    for tcp in (False, True):
        got = ask(cli, OUTSIDE_IP, "ok-never.example.", tcp=tcp)
        assert got == refused, (tcp, got)
    assert ask(cli, OUTSIDE_IP, "stats.dnsbox.", "TXT", "CH")["rcode"] == "REFUSED"
    assert upstream_queries(up) == 0
    # the compiled-in zone is public: answered with authority, without RA
    got = ask(cli, OUTSIDE_IP, "www.example.com.")
    assert got["rcode"] == "NOERROR" and got["aa"] and not got["ra"] and got["answer"], got
    # the LAN client gets recursion; the outsider is refused even what is now cached
    got = ask(cli, LAN_IP, "ok-lan.example.")
    assert got["answer"] == ["ok-lan.example. A 192.0.2.1"] and got["ra"], got
    n = upstream_queries(up)
    assert n == 1
    for tcp in (False, True):
        assert ask(cli, OUTSIDE_IP, "ok-lan.example.", tcp=tcp) == refused
    assert upstream_queries(up) == n


def test_unbound_with_the_same_policy(appliance):
    cli, up = appliance
    n = upstream_queries(up)
    got = ask(cli, OUTSIDE_IP, "ok-ub-out.example.", port=UNBOUND_PORT)
    assert got == {"rcode": "REFUSED", "aa": False, "ra": False, "answer": []}, got
    assert upstream_queries(up) == n
    got = ask(cli, LAN_IP, "ok-ub-lan.example.", port=UNBOUND_PORT)
    assert got["answer"] == ["ok-ub-lan.example. A 192.0.2.1"], got
