"""The DHCP server end to end: the frozen host firmware in resolver mode in one network
namespace, busybox's udhcpc (a real client) in another, joined by a veth pair that the test makes
and deletes (addresses of TEST-NET-2, 198.51.100.0/24, that exist only inside them). Checked:
the lease and its options as the client received them, the client's host name and a dhcp-host
name answered by the appliance's DNS, a fixed address by MAC, the same address again on renewal,
and the name gone after the client releases its lease."""
import os
import random
import re
import shutil
import subprocess
import sys
import time

import pytest

from tests.host.test_forwarder import BINARY
from tests.host.test_recursive import stop

SERVER_IP = "198.51.100.1"
WAIT_S = 20  # the firmware's start, one DHCP exchange
FIXED_MAC = "02:00:00:00:00:77"
HTTP_PORT = 8080  # the status pages, read inside the server's namespace


def sh(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30, check=check)


SCRIPT = """#!/bin/sh
# udhcpc event script: record what the server gave, and configure the address
case "$1" in
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    {
        echo "ip=$ip"; echo "mask=$mask"; echo "router=$router"; echo "dns=$dns"
        echo "domain=$domain"; echo "lease=$lease"; echo "serverid=$serverid"
    } > "$OUT.$1"
    ;;
esac
exit 0
"""


@pytest.fixture
def net(tmp_path):
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.fail("needs root and iproute2 to make network namespaces")
    if not shutil.which("busybox"):
        pytest.fail("busybox missing (apt-get install busybox; build.sh installs it)")
    tag = "%06x" % random.randrange(1 << 24)
    srv, cli = "dbx-s-" + tag, "dbx-c-" + tag
    made = []
    try:
        for ns in (srv, cli):
            sh("ip", "netns", "add", ns)
            made.append(ns)
        sh("ip", "link", "add", "vs" + tag, "netns", srv, "type", "veth",
           "peer", "name", "vc" + tag, "netns", cli)
        sh("ip", "-n", srv, "addr", "add", SERVER_IP + "/24", "dev", "vs" + tag)
        for ns, dev in ((srv, "vs" + tag), (cli, "vc" + tag)):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "link", "set", dev, "up")
        script = tmp_path / "udhcpc.sh"
        script.write_text(SCRIPT)
        script.chmod(0o755)
        yield {"srv": srv, "cli": cli, "sdev": "vs" + tag, "cdev": "vc" + tag,
               "script": str(script), "out": str(tmp_path / "lease")}
    finally:
        for ns in made:
            sh("ip", "netns", "del", ns, check=False)


@pytest.fixture
def appliance(net):
    assert os.path.isfile(BINARY), "%s missing: run ./build.sh" % BINARY
    log = open(os.path.join(os.path.dirname(net["out"]), "firmware.log"), "w")
    words = ["ip=" + SERVER_IP, "netmask=255.255.255.0", "port=53", "mode=resolver", "dnssec=no",
             "iface=" + net["sdev"], "server=127.0.0.1#9", "local=/lan/",
             "dhcp-range=198.51.100.50,198.51.100.59,10m", "dhcp-option=option:domain-name,lan",
             "dhcp-option=option:router,198.51.100.254",
             "dhcp-host=%s,198.51.100.7,printer" % FIXED_MAC, "http-port=%d" % HTTP_PORT]
    p = subprocess.Popen(["ip", "netns", "exec", net["srv"], BINARY, "-m", "dnsbox.main",
                          "--host"] + words, stdout=log, stderr=subprocess.STDOUT)
    path = log.name
    end = time.monotonic() + WAIT_S
    while time.monotonic() < end and p.poll() is None:
        with open(path) as f:
            if "dnsbox ready" in f.read():
                break
        time.sleep(0.1)
    with open(path) as f:
        text = f.read()
    assert "dnsbox ready" in text and "DHCP: 198.51.100.50 - 198.51.100.59" in text, text
    yield net, path
    stop(p)
    log.close()


def udhcpc(net, *extra):
    """Run udhcpc once in the client namespace until it has a lease; the recorded values."""
    for ev in ("bound", "renew"):
        if os.path.exists(net["out"] + "." + ev):
            os.remove(net["out"] + "." + ev)
    env = dict(os.environ, OUT=net["out"])
    r = subprocess.run(["ip", "netns", "exec", net["cli"], "busybox", "udhcpc", "-i", net["cdev"],
                        "-f", "-q", "-n", "-t", "5", "-T", "1", "-s", net["script"]] + list(extra),
                       capture_output=True, text=True, timeout=WAIT_S, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    with open(net["out"] + ".bound") as f:
        return dict(line.strip().split("=", 1) for line in f if "=" in line)


def dig(net, *question):
    q = list(question) if len(question) > 1 else [question[0], "A"]
    r = sh("ip", "netns", "exec", net["cli"], "dig", "@" + SERVER_IP, *q, "+short",
           "+tries=1", "+time=3", check=False)
    return r.stdout.split()


def eventually(check, seconds=3):
    """True once check() is (the release and a DNS question may be served in either order)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return check()


def leases_metric(net):
    """dnsbox_dhcp_leases from /metrics, read inside the server's namespace (its own address)."""
    r = sh("ip", "netns", "exec", net["srv"], sys.executable, "-c",
           "import urllib.request; print(urllib.request.urlopen("
           "'http://%s:%d/metrics', timeout=5).read().decode())" % (SERVER_IP, HTTP_PORT))
    m = re.search(r"^dnsbox_dhcp_leases (\d+)", r.stdout, re.M)
    assert m, r.stdout
    return int(m.group(1))


def mac_of(net):
    out = sh("ip", "-n", net["cli"], "-o", "link", "show", net["cdev"]).stdout
    return re.search(r"link/ether ([0-9a-f:]{17})", out).group(1)


def test_lease_options_names_fixed_address_and_release(appliance):
    net, log = appliance
    mac = mac_of(net)
    got = udhcpc(net, "-x", "hostname:laptop")
    assert got["ip"] == "198.51.100.50", got
    assert got["mask"] == "24" or got["mask"] == "255.255.255.0", got
    assert (got["router"], got["dns"], got["domain"]) == ("198.51.100.254", SERVER_IP, "lan")
    assert (got["lease"], got["serverid"]) == ("600", SERVER_IP)
    assert leases_metric(net) == 1
    assert dig(net, "laptop.lan") == ["198.51.100.50"]
    assert dig(net, "laptop") == ["198.51.100.50"]
    assert dig(net, "printer.lan") == ["198.51.100.7"]  # dhcp-host's name, from the start
    assert dig(net, "-x", "198.51.100.50") == ["laptop.lan."]  # and the reverse
    # the same client again: the same address
    assert udhcpc(net, "-x", "hostname:laptop")["ip"] == "198.51.100.50"
    # a client that releases its lease when it stops (-R, then SIGTERM): the name goes too
    os.remove(net["out"] + ".bound")
    c = subprocess.Popen(["ip", "netns", "exec", net["cli"], "busybox", "udhcpc", "-i",
                          net["cdev"], "-f", "-R", "-t", "5", "-T", "1", "-s", net["script"],
                          "-x", "hostname:laptop"], env=dict(os.environ, OUT=net["out"]),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert eventually(lambda: os.path.exists(net["out"] + ".bound"), WAIT_S)
        assert dig(net, "laptop.lan") == ["198.51.100.50"]
    finally:
        c.terminate()
        c.wait(10)
    assert eventually(lambda: dig(net, "laptop.lan") == [])
    assert dig(net, "-x", "198.51.100.50") == []
    # another MAC: the fixed address and its name
    sh("ip", "-n", net["cli"], "link", "set", net["cdev"], "address", FIXED_MAC)
    got = udhcpc(net, "-x", "hostname:ignored")
    assert got["ip"] == "198.51.100.7", got
    assert dig(net, "printer.lan") == ["198.51.100.7"] and dig(net, "ignored.lan") == []
    with open(log) as f:
        text = f.read()
    assert "failed" not in text
    # the lease events on the console: what, the client's MAC, the address, the host name
    for what in ("offer", "ack", "release"):
        assert re.search(r"DHCP %s %s 198\.51\.100\.50 laptop$" % (what, mac), text, re.M), (
            what, text)
    assert re.search(r"DHCP ack %s 198\.51\.100\.7 printer$" % FIXED_MAC, text, re.M), text
