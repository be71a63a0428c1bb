"""dnsmasq's statistics names in class CH (CHAOS), type TXT: cachesize.bind, insertions.bind,
evictions.bind, misses.bind, hits.bind, auth.bind, servers.bind, answered from the resolver's
own counters (the front stages answer them to allowed clients only: dnsbox.resolver.front).

Each is one TXT record of one string, a decimal number, as dnsmasq answers; servers.bind has one
string per server= upstream, "IP#PORT QUERIES FAILED" (asks sent to it, asks that timed out or
failed). The counters: the response cache's (entries it may hold, evictions, hits of the fast
path and the front stage, misses of the front stage), the queries answered from the compiled-in
zones (stats["auth"]), the upstreams' (dnsbox.resolver.forward.Upstreams)."""
from dnsbox.wire import types as _t
from dnsbox.wire.rd_std import TXT
from dnsbox.wire.rr import RR

_BIND = b"\x04bind\x00"
NAMES = (b"cachesize", b"insertions", b"evictions", b"misses", b"hits", b"auth", b"servers")


def is_stats_name(lname):
    """True for one of NAMES under bind. (lower-case wire)."""
    n = lname[0]
    return lname[n + 1 :] == _BIND and lname[1 : n + 1] in NAMES


def strings(r, label):
    """The TXT strings of NAMES' label for front r (its .cache, .stats, .ups)."""
    c = r.cache
    if label == b"servers":
        ups = r.ups
        if ups is None:
            return []
        return [("%s#%d %d %d" % (ups.ups[i][0], ups.ups[i][1], ups.sent[i], ups.lost[i])
                 ).encode() for i in range(len(ups.ups))]
    if label == b"cachesize":
        v = c.size
    elif label == b"insertions":
        v = c.insertions
    elif label == b"evictions":
        v = c.evictions
    elif label == b"misses":
        v = c.misses
    elif label == b"hits":
        v = c.hits
    else:
        v = r.stats.get("auth", 0)
    return [str(v).encode()]


def records(r, qname, qtype):
    """The answer records for a stats name qname (a Name, is_stats_name) and qtype: [] for a
    type other than TXT and ANY, or when there is nothing to list."""
    got = strings(r, qname.lc[1 : qname.lc[0] + 1])
    if (qtype != _t.TXT and qtype != _t.ANY) or not got:
        return []
    return [RR(qname, _t.TXT, _t.CLASS_CH, 0, TXT(got))]
