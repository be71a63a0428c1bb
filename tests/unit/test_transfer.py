"""Zone transfer out (AXFR, IXFR) from compiled blobs: every record of the zone file exactly
once, SOA first and last, the access rules and the answers NSD gives to the odd requests."""

from dnsbox.auth import transfer as X
from dnsbox.auth.server import Server
from dnsbox.wire import rd_std
from dnsbox.wire.rr import RR
from dnsbox.zone.compile import compile_zones, load_text
from dnsbox.zonedb import open_blob
from tests.unit.authhelp import TCP, UDP, ZONE, E, M, Name, T, query

LOOP = [(0x7F000000, 0xFF000000)]
HOME = 0x7F000001
STRANGER = 0x0A000001

PARENT = """
$ORIGIN example.org.
$TTL 600
@       SOA ns hostmaster 5 3600 600 86400 60
        NS  ns
ns      A   192.0.2.1
kid     NS  ns.kid
kid     NS  ns.elsewhere.net.
kid     DS  12345 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.kid  A   192.0.2.9
plain   NS  ns.plain
ns.plain A  192.0.2.10
"""
CHILD = """
$ORIGIN kid.example.org.
$TTL 300
@       SOA ns hostmaster 7 3600 600 86400 60
        NS  ns
        NS  ns.elsewhere.net.
ns      A   192.0.2.19
www     A   192.0.2.20
"""

_made = {}


def _server(zones, peers=LOOP, keep=True):
    """A server over the zones [(text, origin)], compiled once (keep: False for big zones: the
    unit tests also run in the appliance's 8 MB MicroPython heap)."""
    key = (tuple(zones), tuple(peers))
    s = _made.get(key)
    if s is None:
        loaded = [load_text(t, o)[0] for t, o in zones]
        s = Server(open_blob(compile_zones(loaded)), peers=peers)
        if keep:
            _made[key] = s
    return s


def _example(peers=LOOP):
    return _server([(ZONE, "example.com.")], peers)


def _nested():
    return _server([(PARENT, "example.org."), (CHILD, "kid.example.org.")])


def _ixfr(zone, serial, id=0x1234, edns=None):
    m = M.decode(query(zone, T.IXFR, edns=edns, id=id))
    n = Name.from_text(zone)
    m.authority = [RR(n, T.SOA, T.CLASS_IN, 0, rd_std.SOA(n, n, serial, 0, 0, 0, 0))]
    return M.encode(m)


def _transfer(srv, q, ip=HOME):
    """The messages of a transfer, decoded (the handler must return a generator)."""
    r = srv.handle_tcp(q, ip)
    assert not isinstance(r, (bytes, bytearray)), M.decode(r).rcode
    return [M.decode(w) for w in r]


def _one(srv, q, proto=TCP, ip=HOME):
    if proto == TCP:
        r = srv.handle_tcp(q, ip)
    else:
        r = srv.handle(q, UDP)
    assert isinstance(r, (bytes, bytearray))
    return M.decode(r)


def _texts(rrs):
    return sorted(r.to_text().lower() for r in rrs)


def _zone_texts(text, origin):
    z = load_text(text, origin)[0]
    return _texts(RR(r.name, r.rtype, r.rclass, r.ttl, r.rdata) for r in z.records())


def _records(msgs):
    out = []
    for m in msgs:
        out.extend(m.answer)
    return out


def test_axfr_has_every_record_once_soa_first_and_last():
    msgs = _transfer(_example(), query("example.com.", T.AXFR, id=0x5151))
    rrs = _records(msgs)
    assert rrs[0].rtype == T.SOA and rrs[-1].rtype == T.SOA
    assert rrs[0].to_text() == rrs[-1].to_text()
    assert [r.rtype for r in rrs].count(T.SOA) == 2
    assert _texts(rrs[:-1]) == _zone_texts(ZONE, "example.com.")
    for i, m in enumerate(msgs):
        assert m.id == 0x5151 and m.qr and m.aa and m.rcode == 0 and not m.tc
        assert m.authority == [] and m.additional == []
        assert len(m.question) == (1 if i == 0 else 0)
    assert msgs[0].question[0].qtype == T.AXFR


def test_axfr_case_of_question_kept():
    msgs = _transfer(_example(), query("ExAmPlE.CoM.", T.AXFR))
    assert msgs[0].question[0].name.wire == b"\x07ExAmPlE\x03CoM\x00"


def test_axfr_of_big_zone_spans_messages():
    lines = ["$ORIGIN big.test.", "$TTL 60", "@ SOA ns h 1 1 1 1 1", "@ NS ns", "ns A 192.0.2.1"]
    for i in range(200):
        lines.append("host%d A 10.%d.%d.1" % (i, i >> 8, i & 255))
        lines.append('host%d TXT "%s"' % (i, "x" * 100))
    text = "\n".join(lines) + "\n"
    msgs = _transfer(_server([(text, "big.test.")], keep=False), query("big.test.", T.AXFR))
    assert len(msgs) >= 2
    sizes = [len(M.encode(m)) for m in msgs]
    assert max(sizes) <= X.XFR_MESSAGE
    rrs = _records(msgs)
    assert len(rrs) == 403 + 1
    assert _texts(rrs[:-1]) == _zone_texts(text, "big.test.")


def test_axfr_with_edns_has_opt_in_every_message():
    lines = ["$ORIGIN e.test.", "@ 60 SOA ns h 1 1 1 1 1", "@ 60 NS ns", "ns 60 A 192.0.2.1"]
    lines += ['t%d 60 TXT "%s"' % (i, "y" * 250) for i in range(160)]
    msgs = _transfer(_server([("\n".join(lines) + "\n", "e.test.")], keep=False),
                     query("e.test.", T.AXFR, edns=E.Edns(4096)))
    assert len(msgs) > 1
    assert all(m.edns is not None and m.edns.payload == 1232 for m in msgs)


def test_nested_zones_parent_carries_delegation_and_ds():
    srv = _nested()
    parent = _records(_transfer(srv, query("example.org.", T.AXFR)))
    got = _texts(parent[:-1])
    # the child's NS RRset stands for the delegation (the parent's copy is not in the blob),
    # with the child's address of its in-child server as glue; DS stays the parent's
    expected = [t for t in _zone_texts(PARENT, "example.org.")
                if not t.startswith("kid.example.org. 600 in ns")
                and not t.startswith("ns.kid.example.org.")]
    expected += [
        "kid.example.org. 300 in ns ns.elsewhere.net.",
        "kid.example.org. 300 in ns ns.kid.example.org.",
        "ns.kid.example.org. 300 in a 192.0.2.19",
    ]
    assert got == sorted(expected)
    child = _records(_transfer(srv, query("kid.example.org.", T.AXFR)))
    assert _texts(child[:-1]) == _zone_texts(CHILD, "kid.example.org.")


def test_refused_without_peers_or_from_others():
    q = query("example.com.", T.AXFR)
    assert _one(_example(peers=[]), q).rcode == 5
    assert _one(_example(), q, ip=STRANGER).rcode == 5
    assert _one(_example(peers=[]), _ixfr("example.com.", 1), UDP).rcode == 5
    r = M.decode(_example().handle(q, TCP))  # no address known: refused
    assert r.rcode == 5 and r.answer == []


def test_axfr_over_udp_is_notimp():
    r = _one(_example(), query("example.com.", T.AXFR), UDP)
    assert r.rcode == 4 and r.answer == [] and r.question[0].qtype == T.AXFR


def test_not_a_zone_apex_is_notauth():
    for name in ("www.example.com.", "example.net.", "com."):
        r = _one(_example(), query(name, T.AXFR))
        assert r.rcode == 9 and not r.aa and r.answer == []


def test_ixfr_without_soa_is_formerr():
    assert _one(_example(), query("example.com.", T.IXFR)).rcode == 1


def test_ixfr_up_to_date_gets_one_soa():
    ours = 2026112501
    for serial in (ours, ours + 1, (ours + 0x7FFFFFFF) & 0xFFFFFFFF):
        r = _one(_example(), _ixfr("example.com.", serial))
        assert r.rcode == 0 and r.aa
        assert [x.rtype for x in r.answer] == [T.SOA]
        assert r.answer[0].rdata.serial == ours


def test_ixfr_from_older_serial_gets_whole_zone():
    msgs = _transfer(_example(), _ixfr("example.com.", 2026112400, id=77))
    rrs = _records(msgs)
    assert msgs[0].id == 77 and msgs[0].question[0].qtype == T.IXFR
    assert _texts(rrs[:-1]) == _zone_texts(ZONE, "example.com.")


def test_ixfr_over_udp_gets_soa_only():
    r = _one(_example(), _ixfr("example.com.", 1), UDP)
    assert r.rcode == 0 and [x.rtype for x in r.answer] == [T.SOA]


def test_serial_arithmetic():
    assert X.newer(2, 1) and not X.newer(1, 2) and not X.newer(5, 5)
    assert X.newer(3, 0xFFFFFFF0)  # wrapped around (RFC 1982)
    assert not X.newer(0xFFFFFFF0, 3)
    assert not X.newer(0x80000000, 0)  # exactly half way: undefined, not newer


def test_ordinary_tcp_queries_unchanged():
    srv = _example()
    for name, t in (("www.example.com.", T.A), ("nothere.example.com.", T.A),
                    ("sub.example.com.", T.NS), ("example.com.", T.SOA)):
        q = query(name, t)
        assert srv.handle_tcp(q, STRANGER) == srv.handle(q, TCP)
    assert srv.handle_tcp(b"\x00\x01", HOME) is None  # too short: dropped as by handle()
