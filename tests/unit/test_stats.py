"""dnsbox.stats (counters, the per-minute ring, the line limit) and dnsbox.metrics (Prometheus
text, the status page) as pure functions."""
from dnsbox import metrics, stats

# www.example.com. A query, no EDNS: header, 3www7example3com0, type 1, class 1
Q = bytes.fromhex("123401000001000000000000") + b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"


def test_qtype_of():
    assert stats.qtype_of(Q) == 1
    assert stats.qtype_of(Q[:-4] + b"\x00\x1c\x00\x01") == 28
    assert stats.qtype_of(Q[:-3]) == stats.OTHER_QTYPE  # cut in the type
    assert stats.qtype_of(Q[:12]) == stats.OTHER_QTYPE
    no_q = Q[:4] + b"\x00\x00" + Q[6:]
    assert stats.qtype_of(no_q) == stats.OTHER_QTYPE
    assert stats.qtype_of(Q[:12] + b"\x3f" * 200) == stats.OTHER_QTYPE  # runs past the end


def test_count_and_qtype_table_bounded():
    s = stats.Stats(0)
    for t in range(stats.MAX_QTYPES + 10):
        s.count(stats.AUTH, 0, t)
    assert len(s.qtypes) == stats.MAX_QTYPES + 1  # the others in one key
    assert s.qtypes[stats.OTHER_QTYPE] == 10
    assert s.total() == stats.MAX_QTYPES + 10
    assert s.rcodes[0] == stats.MAX_QTYPES + 10


def test_minute_summary_only_when_busy():
    s = stats.Stats(1000)
    assert s.tick(60999) is None  # the minute is not over
    s.count(stats.CACHE, 0, 1)
    s.count(stats.CACHE, 0, 1)
    s.count(stats.RECURSED, 2, 28)
    assert s.tick(61000) == ("3 queries in the last minute: 2 cache, 1 recursed; 1 SERVFAIL")
    assert s.tick(121000) is None  # a quiet minute: no line
    assert s.history() == [(3, 2, 1), (0, 0, 0)]


def test_ring_keeps_the_last_hour():
    s = stats.Stats(0)
    now = 0
    for m in range(stats.RING_MINUTES + 5):
        s.count(stats.AUTH, 0, 1)
        now += stats.MINUTE_MS
        s.tick(now)
    h = s.history()
    assert len(h) == stats.RING_MINUTES
    assert h[0] == (1, 0, 0) and h[-1] == (1, 0, 0)
    s.tick(now + 10 * 24 * 3600 * 1000)  # idle for days: one ring of empty minutes, no more
    assert s.history() == [(0, 0, 0)] * stats.RING_MINUTES


def test_line_limit():
    lim = stats.LineLimit(3)
    assert [lim.take(5000) for _ in range(5)] == [True, True, True, False, False]
    assert lim.report(5999) == 0  # the second is not over yet
    assert lim.take(6000)
    assert lim.report(6000) == 2
    assert lim.report(7000) == 0


def snapshot():
    s = stats.Stats(0)
    s.count(stats.AUTH, 0, 1)
    s.count(stats.CACHE, 3, 28)
    s.count(stats.FORWARDED, 0, 1)
    s.tick(60000)
    return {"uptime": 90.5, "mode": "resolver", "stats": s, "wall": 1000,
            "zones": [("example.com.", 2024010101, 0), ('we"ird.', 7, 4600)],
            "cache": (4, 900, 10, 3), "upstreams": [("192.0.2.1#53", 1, 0, 35), ("192.0.2.2#53", 0, 4, 0)],
            "servers": [("192.0.2.9", 120, 0)], "leases": 2, "rrl": {"rrl_dropped": 5},
            "loop": {"udp_queries_total": 3}}


def test_prometheus_text():
    text = metrics.prometheus(snapshot())
    lines = text.split("\n")
    assert "# TYPE dnsbox_answers_total counter" in lines
    assert 'dnsbox_answers_total{how="cache"} 1' in lines
    assert 'dnsbox_rcode_total{rcode="NXDOMAIN"} 1' in lines
    assert 'dnsbox_qtype_total{type="AAAA"} 1' in lines
    assert 'dnsbox_zone_serial{zone="example.com."} 2024010101' in lines
    assert 'dnsbox_zone_serial{zone="we\\"ird."} 7' in lines  # a quote escaped
    assert 'dnsbox_zone_signature_expiry_seconds{zone="we\\"ird."} 3600' in lines
    assert "dnsbox_cache_hits_total 10" in lines
    assert 'dnsbox_upstream_up{server="192.0.2.1#53"} 1' in lines
    assert 'dnsbox_upstream_srtt_seconds{server="192.0.2.1#53"} 0.035' in lines
    assert not [x for x in lines if x.startswith('dnsbox_upstream_srtt_seconds{server="192.0.2.2')]
    assert 'dnsbox_server_srtt_seconds{server="192.0.2.9"} 0.120' in lines
    assert "dnsbox_dhcp_leases 2" in lines
    assert "dnsbox_rrl_dropped 5" in lines
    assert "dnsbox_uptime_seconds 90.500" in lines
    assert text.endswith("\n")


def test_status_page():
    page = metrics.status_html(snapshot())
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert "<th>mode</th><td>resolver</td>" in page
    assert "<th>uptime</th><td>0d 00:01:30</td>" in page
    assert '<svg id="graph"' in page
    assert "we&quot;ird." in page or 'we"ird.' in page
    # one closed minute: one point of each line at the right edge
    assert 'id="qps" fill="none" stroke="#1f5fbf" stroke-width="2" points="590,0"' in page
    assert 'points="590,80"' in page  # hit rate 1 of 2 (cache vs forwarded): half height


def test_graph_empty_history():
    g = metrics.graph([])
    assert g.startswith('<svg id="graph"') and g.endswith("</svg>")
