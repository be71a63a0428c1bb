"""The transfer client (dnsbox.auth.xfrin) and the secondary zone's state (dnsbox.auth.secondary):
AXFR streams, IXFR differences, errors, TSIG, timers, the router's NOTIFY answers."""
from dnsbox.auth import secondary as S
from dnsbox.auth import tsig
from dnsbox.auth import xfrin as X
from dnsbox.wire import message as M
from dnsbox.wire import rdata
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.wire.rr import RR
from dnsbox.zone.errors import ZoneError
from tests.unit.helpers import raises

ZONE = Name.from_text("sec.test.")
QID = 0x1234


def rr(name, rtype, text, ttl=300):
    return RR(Name.from_text(name), rtype, T.CLASS_IN, ttl,
              rdata.from_text(rtype, text, ZONE))


def soa(serial):
    return rr("sec.test.", T.SOA, "ns1 hostmaster %d 60 10 30 60" % serial)


def msg(rrs, qid=QID, question=True, qtype=X.AXFR, rcode=0):
    m = M.Message(qid)
    m.qr = True
    m.aa = True
    m.rcode = rcode
    if question:
        m.question.append(M.Question(ZONE, qtype, T.CLASS_IN))
    m.answer = list(rrs)
    return M.encode(m, 65535)


BODY = [rr("sec.test.", T.NS, "ns1"), rr("ns1.sec.test.", T.A, "192.0.2.1"),
        rr("www.sec.test.", T.A, "192.0.2.2")]


def test_axfr_in_two_messages():
    r = X.Reader(QID, ZONE, X.AXFR)
    r.feed(msg([soa(5)] + BODY[:2]))
    assert not r.done
    r.feed(msg(BODY[2:] + [soa(5)], question=False))
    assert r.done and r.result[0] == "axfr"
    recs = r.result[1]
    assert X.expand(recs[0]).rdata.serial == 5 and len(recs) == 4
    assert X.soa_serial(recs[0]) == 5 and recs[1] == X.compact(BODY[0])  # compact records
    assert raises(X.XfrError, r.feed, msg([soa(5)]))  # nothing after the end


def test_axfr_errors():
    bad = [
        ([BODY[0], soa(5)], {}, "first record"),
        ([soa(5), BODY[0]], {"qid": 9}, "ID"),
        ([soa(5), rr("other.test.", T.A, "192.0.2.9"), soa(5)], {}, "outside"),
        ([soa(5), soa(6)], {}, "another serial"),
        ([], {"rcode": 5}, "rcode 5"),
        ([soa(5)], {"qtype": X.IXFR}, "question"),
    ]
    for rrs, kw, why in bad:
        r = X.Reader(QID, ZONE, X.AXFR)
        e = raises(X.XfrError, r.feed, msg(rrs, **kw))
        assert why in str(e), (why, str(e))
    r = X.Reader(QID, ZONE, X.AXFR)
    w = msg([soa(5)] + BODY + [soa(5)])
    assert "malformed" in str(raises(X.XfrError, r.feed, w[:-3]))
    assert "trailing" in str(raises(X.XfrError, X.Reader(QID, ZONE, X.AXFR).feed, w + b"\0"))


def test_record_limit():
    r = X.Reader(QID, ZONE, X.AXFR)
    r.count = X.MAX_RECORDS - 1
    r.feed(msg([soa(5), BODY[0]]))
    assert "more than" in str(raises(X.XfrError, r.feed, msg([BODY[1]], question=False)))


def test_ixfr_request_carries_our_soa():
    q, mac = X.request(QID, ZONE, X.IXFR, soa(5))
    m = M.decode(q)
    assert mac == b"" and m.question[0].qtype == X.IXFR
    assert m.authority[0].rtype == T.SOA and m.authority[0].rdata.serial == 5


def test_ixfr_differences_applied():
    old = [soa(5)] + BODY
    add = rr("new.sec.test.", T.A, "192.0.2.7")
    stream = [soa(7), soa(5), BODY[2], soa(6), add, soa(6), add, soa(7),
              rr("www.sec.test.", T.A, "192.0.2.8"), soa(7)]
    r = X.Reader(QID, ZONE, X.IXFR, 5)
    r.feed(msg(stream[:4], qtype=X.IXFR))
    r.feed(msg(stream[4:], qtype=X.IXFR, question=False))
    assert r.done and r.result[0] == "ixfr" and len(r.result[2]) == 2
    new = [X.expand(x) for x in X.apply(_c(old), 5, r.result[2])]
    assert new[0].rdata.serial == 7
    texts = sorted(x.name.to_text() + " " + x.rdata.to_text() for x in new[1:])
    assert texts == ["ns1.sec.test. 192.0.2.1", "sec.test. ns1.sec.test.",
                     "www.sec.test. 192.0.2.8"]
    # a difference deleting a record we do not hold: refused
    e = raises(X.XfrError, X.apply, _c(old), 5, [_c((soa(5), [add], soa(6), []))][0])
    assert "does not hold" in str(e)
    e = raises(X.XfrError, X.apply, _c(old), 4, [_c((soa(5), [], soa(6), []))][0])
    assert "from serial 5" in str(e)


def test_ixfr_answered_with_a_full_zone_or_current():
    r = X.Reader(QID, ZONE, X.IXFR, 5)
    r.feed(msg([soa(6)] + BODY + [soa(6)], qtype=X.IXFR))
    assert r.result[0] == "axfr" and len(r.result[1]) == 4  # the AXFR fallback (RFC 1995 4)
    r = X.Reader(QID, ZONE, X.IXFR, 5)
    r.feed(msg([soa(5)], qtype=X.IXFR))
    assert r.result[0] == "current"
    r = X.Reader(QID, ZONE, X.IXFR, 5)  # the same serial, as a full zone: taken as a copy
    r.feed(msg([soa(5)] + BODY + [soa(5)], qtype=X.IXFR))
    assert r.result[0] == "axfr"
    r = X.Reader(QID, ZONE, X.IXFR, 5)
    r.feed(msg([soa(0x80000000 + 10)], qtype=X.IXFR))  # older in serial arithmetic
    assert r.result[0] == "current"


KEY = tsig.Key("xfr.key.", b"0123456789abcdef0123456789abcdef")


def _signed_stream(msgs, q, start, key, now):
    """The messages signed as a primary does: the first over the request's MAC, each later one
    chained to the one before (RFC 8945 5.3.1)."""
    f = tsig.find(q, start)
    w, mac = tsig.sign_mac(msgs[0], key, f, f.mac, now)
    out = [w]
    for m in msgs[1:]:
        w, mac = tsig.sign_next(m, key, f, mac, now)
        out.append(w)
    return out


def test_tsig_signed_transfer():
    now = 1700000000
    q, mac = X.request(QID, ZONE, X.AXFR, None, KEY, now)
    assert len(mac) == 32
    start = len(X.request(QID, ZONE, X.AXFR)[0])  # the TSIG record follows the query
    assert tsig.check(q, tsig.find(q, start), KEY, now) == (0, mac)  # as a primary checks it
    parts = [msg([soa(5)] + BODY[:1]), msg(BODY[1:] + [soa(5)], question=False)]
    signed = _signed_stream(parts, q, start, KEY, now)
    r = X.Reader(QID, ZONE, X.AXFR, None, KEY, mac, now)
    for w in signed:
        r.feed(w)
    assert r.done and r.result[0] == "axfr"
    # a flipped byte in the second message's records: the MAC fails
    r = X.Reader(QID, ZONE, X.AXFR, None, KEY, mac, now)
    r.feed(signed[0])
    bad = bytearray(signed[1])
    bad[-80] ^= 1
    assert raises(X.XfrError, r.feed, bytes(bad))
    # unsigned answer to a signed request
    r = X.Reader(QID, ZONE, X.AXFR, None, KEY, mac, now)
    assert "TSIG missing" in str(raises(X.XfrError, r.feed, parts[0]))
    # another key's signature
    other = tsig.Key("xfr.key.", b"fedcba9876543210fedcba9876543210")
    r = X.Reader(QID, ZONE, X.AXFR, None, other, mac, now)
    assert "verify" in str(raises(X.XfrError, r.feed, signed[0]))
    # time outside the fudge
    r = X.Reader(QID, ZONE, X.AXFR, None, KEY, mac, now + 1000)
    assert "time" in str(raises(X.XfrError, r.feed, signed[0]))


def _c(x):
    """Compact records (dnsbox.auth.xfrin.compact) of RRs, lists and difference tuples."""
    if isinstance(x, RR):
        return X.compact(x)
    if isinstance(x, tuple) and len(x) == 4 and isinstance(x[0], RR):
        return [(_c(x[0]), _c(x[1]), _c(x[2]), _c(x[3]))]
    return [_c(r) for r in x]


def _take(z, result, now):
    """Zone.take, the build stepped to its end, install: True if the serial changed."""
    b = z.take(result, now)
    if b is None:
        return False
    n = 0
    while not b.step():
        n += 1
        assert n < 100000
    return z.install(b, now, _server(b.blob))


def _server(blob):
    from dnsbox.auth.server import Server
    from dnsbox.zonedb import open_blob

    return Server(open_blob(blob))


def test_zone_timers_expire_and_failed_copy_kept():
    z = S.Zone("sec.test", ("127.0.0.1", 53))
    assert z.due(0) and not z.serving(0)
    z.busy = True
    assert _take(z, ("axfr", _c([soa(5)] + BODY)), 1000)
    assert z.serving(1000) and z.next_ms == 61000 and z.expire_ms == 31000
    assert not z.serving(31000)  # past the SOA expire: SERVFAIL
    z.busy = True
    z.failed(2000, "connect failed")
    assert z.next_ms == 12000 and z.serial() == 5  # retry; the copy serves on
    # a copy the zone checks refuse (CNAME and other data) leaves the old one
    bad = [soa(6), rr("www.sec.test.", T.CNAME, "ns1")] + BODY
    e = raises(ZoneError, _take, z, ("axfr", _c(bad)), 3000)
    assert "CNAME and other data" in str(e) and z.serial() == 5
    assert _take(z, ("ixfr", _c(soa(6)), _c((soa(5), [BODY[2]], soa(6), []))), 4000)
    assert z.serial() == 6 and len(z.records) == 3
    assert z.differences(5)[0][2].rdata.serial == 6 and z.differences(4) is None
    assert z.differences(5)[0][1][0].name.to_text() == "www.sec.test."


class _Main:
    def handle(self, q, proto):
        return b"main"

    def handle_tcp(self, q, ip):
        return b"main tcp"


def _query(name, qtype=T.A, opcode=0):
    m = M.Message(7)
    m.opcode = opcode
    m.question.append(M.Question(Name.from_text(name), qtype, T.CLASS_IN))
    return M.encode(m)


def test_router_notify_and_servfail():
    z = S.Zone("sec.test", ("127.0.0.1", 53))
    woke = []
    r = S.Router(_Main(), [z], lambda: 500, lambda: woke.append(1))
    assert r.handle(_query("www.other.test."), 0) == b"main"
    sf = r.handle(_query("www.SEC.test."), 0)
    assert sf[3] & 0xF == 2  # no copy yet: SERVFAIL
    n = r.handle(_query("sec.test.", T.SOA, 4), 0, ("127.0.0.1", 5300))
    assert (n[2] >> 3) & 0xF == 4 and n[2] & 0x84 == 0x84 and n[3] & 0xF == 0  # QR, AA
    assert woke and z.next_ms == 500
    n = r.handle(_query("sec.test.", T.SOA, 4), 0, ("127.0.0.2", 5300))
    assert n[3] & 0xF == 5  # REFUSED from another address
    _take(z, ("axfr", _c([soa(5)] + BODY)), 500)
    a = M.decode(r.handle(_query("www.sec.test."), 0))
    assert a.aa and a.answer[0].rdata.to_text() == "192.0.2.2"


def _signed_notify(key, now, qid=9):
    q = _query("sec.test.", T.SOA, 4)
    q = bytes([qid >> 8, qid & 255]) + q[2:]
    f = tsig.Fields(0, key.name, tsig.ALGORITHM, now, tsig.FUDGE, b"", qid, 0, b"")
    mac = tsig.hmac_sha256(key.secret, q + tsig._variables(f, now, 0, b""))
    return tsig._append(q, f, now, mac, 0, b""), len(q)


def test_router_signed_notify():
    # RFC 8945: a NOTIFY signed with the zone's key is answered signed; a bad signature or
    # another key gets NOTAUTH and wakes nothing
    now = 1700000000
    z = S.Zone("sec.test", ("127.0.0.1", 53), KEY)
    woke = []
    r = S.Router(_Main(), [z], lambda: 500, lambda: woke.append(1), lambda: now)
    q, start = _signed_notify(KEY, now)
    n = r.handle(q, 0, ("127.0.0.1", 5300))
    assert n[3] & 0xF == 0 and woke and n[11] == 1  # NOERROR with a TSIG record
    at = 12 + len(Name.from_text("sec.test.").wire) + 4  # the TSIG record after the question
    f = tsig.find(n, at)
    assert f.keyname == KEY.name and f.error == 0 and len(f.mac) == 32
    woke.clear()
    other = tsig.Key("xfr.key.", b"fedcba9876543210fedcba9876543210")
    q, _s = _signed_notify(other, now)
    n = r.handle(q, 0, ("127.0.0.1", 5300))
    assert n[3] & 0xF == 9 and not woke  # NOTAUTH (BADSIG): nothing done
    assert tsig.find(n, at).error == tsig.BADSIG
    q, _s = _signed_notify(tsig.Key("nokey.", b"0123456789abcdef0123456789abcdef"), now)
    n = r.handle(q, 0, ("127.0.0.1", 5300))
    assert n[3] & 0xF == 9 and not woke and n[11] == 1  # NOTAUTH, the TSIG record without a MAC
    f = tsig.find(n, at)
    assert f.error == tsig.BADKEY and f.mac == b""
