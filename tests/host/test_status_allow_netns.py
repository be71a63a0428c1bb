"""Who may read the status page and /metrics (http-allow=, and its default), from real client
addresses: the frozen host firmware in one network namespace (198.51.100.1/24 and
2001:db8:1::1/64), clients in another joined by a veth pair that the test makes and deletes.
Client addresses: 198.51.100.2 and 2001:db8:1::2 (inside both the own subnets and the
http-allow= below), 198.51.100.100 (own subnet, outside http-allow=), 203.0.113.7 and
2001:db8:2::7 (routed over the same link: outside everything). Addresses of TEST-NET-2, -3 and
the IPv6 documentation prefix that exist only inside those namespaces.

Three firmwares at once, each on its own DNS and HTTP port:
  resolver mode with http-allow=198.51.100.0/28,2001:db8:1::/64: the list replaces the default
  resolver mode without http-allow=: its allowed clients (own subnets of both families)
  auth mode without http-allow=: the own subnets of both families
Inside: 200 and the page (and /metrics parsed); outside: 403 on both paths, over IPv4 and IPv6.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import time

import pytest

from tests.host.test_forwarder import BINARY
from tests.host.test_recursive import stop

SERVER4 = "198.51.100.1"
SERVER6 = "2001:db8:1::1"
IN4, EDGE4, OUT4 = "198.51.100.2", "198.51.100.100", "203.0.113.7"
IN6, OUT6 = "2001:db8:1::2", "2001:db8:2::7"
WAIT_S = 15  # the firmware's start
HTTP_TIMEOUT_S = 5

# One GET from a given source address, run in the client namespace: prints
# {"status": N, "ctype": "...", "body": "..."} (an HTTP error status is an answer too)
GET = r"""
import http.client, json, sys
host, port, src, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
c = http.client.HTTPConnection(host, port, timeout=%d, source_address=(src, 0))
c.request("GET", path)
r = c.getresponse()
print(json.dumps({"status": r.status, "ctype": r.getheader("Content-Type") or "",
                  "body": r.read().decode("utf-8", "replace")}))
""" % HTTP_TIMEOUT_S


def sh(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30, check=check)


@pytest.fixture(scope="module")
def netns():
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.fail("needs root and iproute2 to make network namespaces")
    tag = "%06x" % random.randrange(1 << 24)
    srv, cli = "dbx-hs-" + tag, "dbx-hc-" + tag
    vs, vc = "vs" + tag, "vc" + tag
    made = []
    try:
        for ns in (srv, cli):
            sh("ip", "netns", "add", ns)
            made.append(ns)
        sh("ip", "link", "add", vs, "netns", srv, "type", "veth", "peer", "name", vc, "netns",
           cli)
        sh("ip", "-n", srv, "addr", "add", SERVER4 + "/24", "dev", vs)
        sh("ip", "-n", srv, "addr", "add", SERVER6 + "/64", "dev", vs, "nodad")
        sh("ip", "-n", cli, "addr", "add", IN4 + "/24", "dev", vc)
        for a in (EDGE4, OUT4):
            sh("ip", "-n", cli, "addr", "add", a + "/32", "dev", vc)
        sh("ip", "-n", cli, "addr", "add", IN6 + "/64", "dev", vc, "nodad")
        sh("ip", "-n", cli, "addr", "add", OUT6 + "/128", "dev", vc, "nodad")
        for ns, dev in ((srv, vs), (cli, vc)):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", srv, "route", "add", OUT4 + "/32", "dev", vs)
        sh("ip", "-n", srv, "-6", "route", "add", OUT6 + "/128", "dev", vs)
        yield srv, cli
    finally:
        for ns in made:
            sh("ip", "netns", "del", ns, check=False)


def start(srv, log, words):
    f = open(log, "w")
    p = subprocess.Popen(["ip", "netns", "exec", srv, BINARY, "-m", "dnsbox.main", "--host",
                          "ip=" + SERVER4, "netmask=255.255.255.0", "ip6=%s/64" % SERVER6,
                          "dnssec=no"] + words, stdout=f, stderr=subprocess.STDOUT)
    end = time.monotonic() + WAIT_S
    while time.monotonic() < end and p.poll() is None:
        with open(log) as g:
            if "dnsbox ready" in g.read():
                break
        time.sleep(0.1)
    with open(log) as g:
        text = g.read()
    return p, f, text


@pytest.fixture(scope="module")
def boxes(netns, tmp_path_factory):
    """{"listed" | "default" | "auth": (http port, boot log text)}"""
    assert os.path.isfile(BINARY), "%s missing: run ./build.sh" % BINARY
    srv, cli = netns
    tmp = tmp_path_factory.mktemp("fw")
    runs = {"listed": (5301, 8081, ["mode=resolver", "server=127.0.0.1#9",
                                    "http-allow=198.51.100.0/28,2001:db8:1::/64"]),
            "default": (5302, 8082, ["mode=resolver", "server=127.0.0.1#9"]),
            "auth": (5303, 8083, ["mode=auth"])}
    procs = []
    out = {}
    try:
        for name, (dns, http, words) in runs.items():
            p, f, text = start(srv, str(tmp / (name + ".log")), words + [
                "port=%d" % dns, "http-port=%d" % http])
            procs.append((p, f))
            assert "dnsbox ready" in text and "listening on %s and %s" % (
                SERVER4, SERVER6) in text, text
            out[name] = (http, text)
        yield cli, out
    finally:
        for p, f in procs:
            stop(p)
            f.close()


def get(cli, server, port, source, path):
    r = sh("ip", "netns", "exec", cli, sys.executable, "-c", GET, server, str(port), source,
           path)
    return json.loads(r.stdout)


def check(cli, port, source, allowed):
    server = SERVER6 if ":" in source else SERVER4
    page = get(cli, server, port, source, "/")
    metrics = get(cli, server, port, source, "/metrics")
    if not allowed:
        assert (page["status"], metrics["status"]) == (403, 403), (source, page, metrics)
        assert "dnsbox_uptime_seconds" not in metrics["body"] and "<svg" not in page["body"]
        return
    assert page["status"] == 200 and page["ctype"].startswith("text/html"), (source, page)
    assert '<svg id="graph"' in page["body"]
    assert metrics["status"] == 200, (source, metrics)
    from prometheus_client.parser import text_string_to_metric_families

    names = [s.name for fam in text_string_to_metric_families(metrics["body"])
             for s in fam.samples]
    assert "dnsbox_uptime_seconds" in names and "dnsbox_info" in names


def test_http_allow_list_replaces_the_default(boxes):
    cli, out = boxes
    port, text = out["listed"]
    assert "status page and /metrics on http port %d for 198.51.100.0/28, 2001:db8:1::/64 " \
           "and loopback" % port in text, text
    check(cli, port, IN4, True)
    check(cli, port, IN6, True)
    check(cli, port, EDGE4, False)  # the own subnet, not in the list
    check(cli, port, OUT4, False)
    check(cli, port, OUT6, False)


def test_resolver_default_is_its_clients(boxes):
    cli, out = boxes
    port, _text = out["default"]
    check(cli, port, IN4, True)
    check(cli, port, EDGE4, True)
    check(cli, port, IN6, True)
    check(cli, port, OUT4, False)
    check(cli, port, OUT6, False)


def test_auth_default_is_the_own_subnets(boxes):
    cli, out = boxes
    port, _text = out["auth"]
    check(cli, port, EDGE4, True)
    check(cli, port, IN6, True)  # the ip6= prefix is the own subnet too
    check(cli, port, OUT4, False)
    check(cli, port, OUT6, False)
