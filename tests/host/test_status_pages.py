"""The operator's view of the running firmware (dnsbox.net.watch): log-queries lines for zone,
cache and forwarded answers, the rate limit of those lines, /metrics read with Prometheus' own
text parser, and the status page loaded in a real headless browser (Debian's chromium)."""
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ports import free_port
from tests.host.fakeupstream import FakeUpstream
from tests.host.test_forwarder import Resolver

HTTP_TIMEOUT_S = 5
BROWSER_TIMEOUT_S = 60
FLOOD = 300  # queries sent at once to pass the log line limit (20 a second)


@pytest.fixture
def up():
    u = FakeUpstream()
    yield u
    u.stop()


@pytest.fixture
def box(up):
    http = free_port()
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port, "log-queries",
                  "http-port=%d" % http])
    r.http = http
    yield r
    r.stop()


def wait_line(r, pattern, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for x in list(r.lines):
            if re.search(pattern, x):
                return x
        time.sleep(0.05)
    raise AssertionError("no line matching %r in:\n%s" % (pattern, "\n".join(r.lines)))


def get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                timeout=HTTP_TIMEOUT_S) as f:
        return f.status, f.headers.get("Content-Type"), f.read().decode()


def metrics(port):
    _s, ctype, body = get(port, "/metrics")
    assert ctype.startswith("text/plain; version=0.0.4")
    out = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_query_lines_for_zone_cache_and_forwarded_answers(box):
    assert box.ask("www.example.com").rcode() == 0  # the compiled-in zone
    assert box.ask("ok.fwd.test").rcode() == 0  # asked upstream
    assert box.ask("ok.fwd.test").rcode() == 0  # then from the cache
    wait_line(box, r"query from 127\.0\.0\.1: www\.example\.com\. A -> NOERROR, auth, \d+ ms$")
    wait_line(box, r"query from 127\.0\.0\.1: ok\.fwd\.test\. A -> NOERROR, forwarded, \d+ ms$")
    wait_line(box, r"query from 127\.0\.0\.1: ok\.fwd\.test\. A -> NOERROR, cache, \d+ ms$")
    assert box.ask("nx.fwd.test", tcp=True).rcode() == 3
    wait_line(box, r"nx\.fwd\.test\. A -> NXDOMAIN, forwarded, \d+ ms \(tcp\)$")


def test_metrics_parse_and_count(box):
    box.ask("www.example.com")
    box.ask("ok.m.test")
    box.ask("ok.m.test")
    box.ask("ok.m.test", rdtype="AAAA")
    m = metrics(box.http)
    assert m[("dnsbox_info", (("mode", "resolver"),))] == 1
    assert m[("dnsbox_answers_total", (("how", "auth"),))] == 1
    assert m[("dnsbox_answers_total", (("how", "forwarded"),))] == 2
    assert m[("dnsbox_answers_total", (("how", "cache"),))] == 1
    assert m[("dnsbox_qtype_total", (("type", "A"),))] == 3
    assert m[("dnsbox_qtype_total", (("type", "AAAA"),))] == 1
    assert m[("dnsbox_rcode_total", (("rcode", "NOERROR"),))] == 4
    assert m[("dnsbox_zone_serial", (("zone", "example.com."),))] > 0
    assert m[("dnsbox_cache_entries", ())] >= 1
    assert m[("dnsbox_cache_hits_total", ())] >= 1
    up = (("server", "127.0.0.1#%d" % box_up_port(box)),)
    assert m[("dnsbox_upstream_up", up)] == 1
    assert 0 < m[("dnsbox_upstream_srtt_seconds", up)] < 1  # the forwarded answers' RTT
    assert m[("dnsbox_uptime_seconds", ())] > 0
    assert m[("dnsbox_udp_queries_total", ())] == 4


def test_metrics_without_extended_statistics_from_the_counters(up):
    # nothing runs per query: once a second the loop's and the cache's counters are read (zone
    # answers counted as local, no rcodes or types)
    http = free_port()
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port,
                  "http-port=%d" % http])
    try:
        r.ask("www.example.com")
        r.ask("ok.c.test")
        r.ask("ok.c.test")
        deadline = time.monotonic() + 5
        m = metrics(http)
        while (m.get(("dnsbox_answers_total", (("how", "cache"),))) != 1
               and time.monotonic() < deadline):
            time.sleep(0.2)
            m = metrics(http)
        assert m[("dnsbox_answers_total", (("how", "cache"),))] == 1
        assert m[("dnsbox_answers_total", (("how", "forwarded"),))] == 1
        assert m[("dnsbox_answers_total", (("how", "local"),))] == 1
        assert m.get(("dnsbox_rcode_total", (("rcode", "NOERROR"),)), 0) == 0
        assert not any("query from" in x for x in r.lines)  # no log-queries: no lines
    finally:
        r.stop()


def box_up_port(box):
    line = wait_line(box, r"forwarding to 127\.0\.0\.1#\d+")
    return int(re.search(r"forwarding to 127\.0\.0\.1#(\d+)", line).group(1))


def test_unknown_page_404_and_dns_not_on_the_http_port(box):
    with pytest.raises(urllib.error.HTTPError) as e:
        get(box.http, "/nothing")
    assert e.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as e:
        get(box.http, "/dns-query?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB")
    assert e.value.code == 404


def test_upstream_down_and_back_logged(up):
    dead = free_port()  # nothing listens there: refused at once
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % dead,
                  "server=127.0.0.1#%d" % up.port])
    try:
        r.ask("ok.a.test")
        wait_line(r, r"upstream 127\.0\.0\.1#%d down \(2 failures in a row\)" % dead)
    finally:
        r.stop()


def test_query_lines_rate_limited(box):
    import dns.message

    import socket

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    wire = dns.message.make_query("www.example.com", "A").to_wire()
    for _ in range(FLOOD):
        s.sendto(wire, ("127.0.0.1", box.port))
    got = 0
    try:
        for _ in range(FLOOD):
            s.recv(2048)
            got += 1
    except socket.timeout:
        pass
    s.close()
    line = wait_line(box, r"\d+ query lines not logged \(over 20 a second\)", 4)
    n = int(line.split("dnsbox: ")[1].split()[0])
    logged = len([x for x in box.lines if "query from" in x])
    assert 0 < logged < FLOOD and n > 0
    assert logged + n >= got  # every answer logged or counted as not logged


def test_busy_minute_summary_format():
    from dnsbox import stats

    s = stats.Stats(0)
    s.count(stats.CACHE, 0, 1)
    s.count(stats.FORWARDED, 3, 1)
    assert s.tick(60000) == "2 queries in the last minute: 1 cache, 1 forwarded; 1 NXDOMAIN"


def test_status_page_in_headless_chromium(box):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is needed (apt-get install chromium; ./build.sh installs it)"
    box.ask("www.example.com")
    box.ask("ok.page.test")
    with tempfile.TemporaryDirectory() as home:
        p = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--user-data-dir=" + os.path.join(home, "profile"), "--dump-dom",
             "http://127.0.0.1:%d/" % box.http],
            capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S,
            env=dict(os.environ, HOME=home))
    dom = p.stdout
    assert p.returncode == 0, p.stderr[-2000:]
    assert '<svg id="graph"' in dom and 'id="qps"' in dom and 'id="hitrate"' in dom
    assert "<th>mode</th><td>resolver</td>" in dom
    assert re.search(r"<th>answers: auth</th><td>1</td>", dom)
    assert re.search(r"<th>answers: forwarded</th><td>1</td>", dom)
    assert "<script" not in dom
    assert 'id="upstreams"' in dom and "up, 0 failures" in dom
