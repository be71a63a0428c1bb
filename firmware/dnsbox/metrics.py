"""What the HTTP pages show, pure: Prometheus text format (exposition format 0.0.4) for
/metrics and a plain HTML status page with an inline SVG graph (no JavaScript).

Both are made from a snapshot dict the glue (dnsbox.net.watch) fills:
  uptime (s), mode, stats (a dnsbox.stats.Stats), zones [(name, serial, signature expiry: wall
  seconds or 0)], wall (s, for the expiry), cache (entries, bytes, hits, misses) or None,
  upstreams [(server text, up 0/1, recent failures, smoothed RTT ms or 0)], servers [(ip, srtt ms, held 0/1)] (the
  recursion's), leases (DHCP leases or None), rrl {name: n} or None, loop {name: n}.
"""
from dnsbox.stats import HOW, OTHER_QTYPE

GRAPH_W = 600  # the SVG graph's size (user units; one minute is GRAPH_W // RING_MINUTES)
GRAPH_H = 160
CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"


def label(v):
    """A label value, escaped as the text format wants (backslash, quote, newline)."""
    return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _family(out, name, kind, text, rows):
    """One metric family: HELP, TYPE and its samples [(labels text or "", value)]."""
    out.append("# HELP %s %s\n# TYPE %s %s\n" % (name, text, name, kind))
    for labels, v in rows:
        out.append("%s%s %s\n" % (name, "{%s}" % labels if labels else "", _num(v)))


def _num(v):
    if isinstance(v, float):
        return "%.3f" % v
    return "%d" % v


def _type_text(t):
    if t == OTHER_QTYPE:
        return "other"
    from dnsbox.wire import types as _t

    return _t.type_to_text(t)


def prometheus(s):
    """The /metrics body (str)."""
    from dnsbox.wire import rcode as _rc

    st = s["stats"]
    out = []
    _family(out, "dnsbox_uptime_seconds", "gauge", "Seconds since the firmware started.",
            [("", float(s["uptime"]))])
    _family(out, "dnsbox_info", "gauge", "The serving mode.",
            [('mode="%s"' % label(s["mode"]), 1)])
    _family(out, "dnsbox_answers_total", "counter", "Answers by how they were made.",
            [('how="%s"' % HOW[i], st.how[i]) for i in range(len(HOW))])
    _family(out, "dnsbox_rcode_total", "counter", "Answers by header rcode.",
            [('rcode="%s"' % _rc.to_text(i), st.rcodes[i]) for i in range(16)
             if st.rcodes[i] or i in (0, 2, 3, 5)])
    _family(out, "dnsbox_qtype_total", "counter", "Answers by query type.",
            [('type="%s"' % label(_type_text(t)), st.qtypes[t]) for t in sorted(st.qtypes)])
    zones = s.get("zones") or []
    _family(out, "dnsbox_zone_serial", "gauge", "SOA serial of each zone served.",
            [('zone="%s"' % label(z[0]), z[1]) for z in zones])
    signed = [z for z in zones if z[2]]
    if signed:
        _family(out, "dnsbox_zone_signature_expiry_seconds", "gauge",
                "Seconds until the zone's earliest signature expires (negative: expired).",
                [('zone="%s"' % label(z[0]), z[2] - s["wall"]) for z in signed])
    c = s.get("cache")
    if c is not None:
        _family(out, "dnsbox_cache_entries", "gauge", "Answers in the cache.", [("", c[0])])
        _family(out, "dnsbox_cache_bytes", "gauge", "Bytes the cache's entries take.",
                [("", c[1])])
        _family(out, "dnsbox_cache_hits_total", "counter", "Answers found in the cache.",
                [("", c[2])])
        _family(out, "dnsbox_cache_misses_total", "counter", "Cache lookups that missed.",
                [("", c[3])])
    ups = s.get("upstreams") or []
    if ups:
        _family(out, "dnsbox_upstream_up", "gauge",
                "1 when the server= upstream answers, 0 while it is held back.",
                [('server="%s"' % label(u[0]), u[1]) for u in ups])
        _family(out, "dnsbox_upstream_failures", "gauge",
                "Failures of the server= upstream since its last answer.",
                [('server="%s"' % label(u[0]), u[2]) for u in ups])
        _family(out, "dnsbox_upstream_srtt_seconds", "gauge",
                "Smoothed round-trip time of the server= upstream (absent before an answer).",
                [('server="%s"' % label(u[0]), u[3] / 1000) for u in ups if u[3]])
    srv = s.get("servers") or []
    if srv:
        _family(out, "dnsbox_server_srtt_seconds", "gauge",
                "Smoothed round-trip time of the name servers asked most recently.",
                [('server="%s"' % label(v[0]), v[1] / 1000) for v in srv])
        _family(out, "dnsbox_server_held", "gauge",
                "1 while the name server is held back after timeouts.",
                [('server="%s"' % label(v[0]), v[2]) for v in srv])
    if s.get("leases") is not None:
        _family(out, "dnsbox_dhcp_leases", "gauge", "DHCP leases held.", [("", s["leases"])])
    for group, prefix in (("rrl", "dnsbox_"), ("loop", "dnsbox_")):
        d = s.get(group) or {}
        for k in sorted(d):
            _family(out, prefix + k, "gauge", "Counter %s of the %s." % (
                k, "rate limiter" if group == "rrl" else "serving loop"), [("", d[k])])
    return "".join(out)


def _esc(v):
    return str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rows(pairs):
    return "".join("<tr><th>%s</th><td>%s</td></tr>" % (_esc(k), _esc(v)) for k, v in pairs)


def graph(hist):
    """An SVG graph of queries per second (line) and the cache hit rate (dashed, 0..100 %) of
    the minutes in hist [(queries, cache answers, upstream answers)], oldest first."""
    from dnsbox.stats import RING_MINUTES

    step = GRAPH_W // RING_MINUTES
    top = 1
    for q, _h, _u in hist:
        if q > top:
            top = q
    qps = []
    hit = []
    x0 = GRAPH_W - step * len(hist)
    for i in range(len(hist)):
        q, h, u = hist[i]
        x = x0 + i * step
        qps.append("%d,%d" % (x, GRAPH_H - q * GRAPH_H // top))
        if h + u:
            hit.append("%d,%d" % (x, GRAPH_H - h * GRAPH_H // (h + u)))
    return "".join((
        '<svg id="graph" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
        'viewBox="0 0 %d %d" role="img">' % (GRAPH_W, GRAPH_H + 20, GRAPH_W, GRAPH_H + 20),
        "<title>queries per second and cache hit rate, last hour</title>",
        '<rect x="0" y="0" width="%d" height="%d" fill="#f8f8f8" stroke="#999"/>' % (
            GRAPH_W, GRAPH_H),
        '<polyline id="qps" fill="none" stroke="#1f5fbf" stroke-width="2" points="%s"/>' %
        " ".join(qps),
        '<polyline id="hitrate" fill="none" stroke="#2a8a2a" stroke-dasharray="4 3" '
        'points="%s"/>' % " ".join(hit),
        '<text x="4" y="%d" font-size="12">peak %.1f queries/s; dashed: cache hit rate '
        '(0-100 %%); %d minutes</text>' % (GRAPH_H + 16, top / 60, len(hist)),
        "</svg>"))


def status_html(s):
    """The status page (str): plain HTML, an inline SVG graph, no script."""
    st = s["stats"]
    up = int(s["uptime"])
    main = [("mode", s["mode"]), ("uptime", "%dd %02d:%02d:%02d" % (
        up // 86400, up // 3600 % 24, up // 60 % 60, up % 60)), ("answers", st.total())]
    main += [("answers: " + HOW[i], st.how[i]) for i in range(len(HOW))]
    c = s.get("cache")
    if c is not None:
        main += [("cache entries", c[0]), ("cache bytes", c[1]), ("cache hits", c[2]),
                 ("cache misses", c[3])]
    if s.get("leases") is not None:
        main.append(("DHCP leases", s["leases"]))
    parts = ["<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>dnsbox</title>"
             "<meta http-equiv=\"refresh\" content=\"60\"></head><body><h1>dnsbox</h1>",
             '<table id="summary">', _rows(main), "</table><h2>Last hour</h2>",
             graph(st.history())]
    zones = s.get("zones") or []
    if zones:
        parts.append('<h2>Zones</h2><table id="zones">')
        parts.append(_rows([(z[0], "serial %d%s" % (z[1], ", signed" if z[2] else ""))
                            for z in zones]))
        parts.append("</table>")
    ups = s.get("upstreams") or []
    if ups:
        parts.append('<h2>Upstreams</h2><table id="upstreams">')
        parts.append(_rows([(u[0], ("up" if u[1] else "down") + ", %d failures" % u[2] +
                             (", RTT %d ms" % u[3] if u[3] else "")) for u in ups]))
        parts.append("</table>")
    from dnsbox.wire import rcode as _rc

    codes = [(_rc.to_text(i), st.rcodes[i]) for i in range(16) if st.rcodes[i]]
    if codes:
        parts.append('<h2>Rcodes</h2><table id="rcodes">%s</table>' % _rows(codes))
    parts.append('<p><a href="/metrics">/metrics</a> (Prometheus)</p></body></html>\n')
    return "".join(parts)
