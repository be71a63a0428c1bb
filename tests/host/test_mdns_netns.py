"""The .local bridge (mdns-bridge) end to end: the frozen host firmware in resolver mode in one
network namespace, a multicast DNS responder (tests/host/mdns_responder.py) in another, joined by
a veth pair the test makes (TEST-NET-2 addresses that exist only inside them). A .local question
to the appliance goes out as a one-shot multicast query and the responder's unicast answer comes
back to the client; an unknown .local name is NXDOMAIN once nobody answered; answers are cached
for their TTL. Both when forwarding (server=) and when recursing (hints=, no server=)."""
import os
import subprocess
import sys
import time

import pytest

from tests.host.test_dhcp_netns import SERVER_IP, eventually, sh
from tests.host.test_dhcp_netns import net as netns  # noqa: F401 (the fixture, used by name)
from tests.host.test_forwarder import BINARY

PEER_IP = "198.51.100.2"
HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(params=["server=127.0.0.1#9", "hints=127.0.0.1#9"], ids=["forwarding",
                                                                        "recursing"])
def bridge(netns, request):  # noqa: F811 (pytest passes the imported fixture by its name)
    net = netns
    sh("ip", "-n", net["cli"], "addr", "add", PEER_IP + "/24", "dev", net["cdev"])
    qlog = os.path.join(os.path.dirname(net["out"]), "mdns-questions.log")
    open(qlog, "w").close()
    resp = subprocess.Popen(["ip", "netns", "exec", net["cli"], sys.executable,
                             os.path.join(HERE, "mdns_responder.py"), PEER_IP, qlog,
                             "printer.local.=" + PEER_IP], stdout=subprocess.PIPE, text=True)
    assert resp.stdout.readline().strip() == "ready"
    flog = open(os.path.join(os.path.dirname(net["out"]), "firmware.log"), "w")
    fw = subprocess.Popen(["ip", "netns", "exec", net["srv"], BINARY, "-m", "dnsbox.main",
                           "--host", "ip=" + SERVER_IP, "netmask=255.255.255.0", "port=53",
                           "mode=resolver", "dnssec=no", request.param, "mdns-bridge"],
                          stdout=flog, stderr=subprocess.STDOUT)
    try:
        assert eventually(lambda: "dnsbox ready" in open(flog.name).read(), 15), open(
            flog.name).read()
        assert ".local by multicast DNS" in open(flog.name).read()
        yield net, qlog
    finally:
        for p in (fw, resp):
            p.terminate()
            p.wait(10)
        flog.close()


def ask(net, name):
    r = sh("ip", "netns", "exec", net["srv"], "dig", "@" + SERVER_IP, name, "A", "+tries=1",
           "+time=5", "+noall", "+comments", "+answer", check=False)
    status = r.stdout.split("status: ", 1)[1].split(",", 1)[0] if "status: " in r.stdout else None
    addrs = [line.split()[-1] for line in r.stdout.splitlines()
             if line and not line.startswith(";") and " A " in line.replace("\t", " ")]
    return status, addrs


def test_local_names_through_multicast_dns(bridge):
    net, qlog = bridge
    assert ask(net, "printer.local") == ("NOERROR", [PEER_IP])
    lines = open(qlog).read().splitlines()
    assert lines == ["printer.local. A rd=0 from=%s:%s" % (SERVER_IP, lines[0].rsplit(":", 1)[1])]
    assert ask(net, "Printer.LOCAL") == ("NOERROR", [PEER_IP])  # from the cache (TTL 10)
    assert len(open(qlog).read().splitlines()) == 1
    t = time.monotonic()
    assert ask(net, "nobody.local") == ("NXDOMAIN", [])
    assert time.monotonic() - t > 0.8  # it waited for two one-shot queries of half a second
    asked = [x for x in open(qlog).read().splitlines() if x.startswith("nobody.local.")]
    assert len(asked) == 2
