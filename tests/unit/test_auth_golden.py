"""The server on the committed golden blob (tests/zones/golden/example.com.blob, compiled from
example.com.zone there). Imports no zone compiler, so it also runs on the frozen firmware
binaries (host and armhf), which lack the compiler package: the blob reader and query paths are
checked on 32-bit ARM too."""

from dnsbox.auth import TCP, UDP
from dnsbox.wire import edns as E
from dnsbox.wire import message as M
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.zonedb import K_ANSWER, K_SYNTH
from tests.unit.helpers import golden_server


def srv():
    return golden_server("")


def ask(name, qtype, proto=UDP, edns=None, rd=True):
    q = M.encode_query(Name.from_text(name), qtype, T.CLASS_IN, 0x4242, rd, edns)
    return M.decode(srv().handle(q, proto))


def texts(rrs):
    return sorted(r.to_text().lower() for r in rrs)


def test_golden_header():
    db = srv().db
    assert db.zone_names() == ["example.com."] and db.record_count() == 32


def test_golden_answers():
    r = ask("www.example.com.", T.A)
    assert r.id == 0x4242 and r.aa and r.rd and r.rcode == 0
    assert texts(r.answer) == ["www.example.com. 300 in a 192.0.2.80",
                               "www.example.com. 300 in a 192.0.2.81"]
    r = ask("WWW.example.COM.", T.AAAA, edns=E.Edns(1232, do=True))
    assert r.question[0].name.wire == b"\x03WWW\x07example\x03COM\x00"
    assert r.edns.do and texts(r.answer) == ["www.example.com. 3600 in aaaa 2001:db8::80"]
    r = ask("ftp.example.com.", T.A, rd=False)
    assert not r.rd and [x.rtype for x in r.answer] == [T.CNAME, T.A, T.A]
    r = ask("example.com.", T.MX)
    assert texts(r.additional) == ["mail.example.com. 3600 in a 192.0.2.25"]


def test_golden_negative_and_referral():
    r = ask("a.b.nope.example.com.", T.A)
    assert r.rcode == 3 and r.aa and r.authority[0].rtype == T.SOA and r.authority[0].ttl == 300
    r = ask("www.example.com.", T.MX, edns=E.Edns(512))
    assert r.rcode == 0 and r.answer == [] and r.authority[0].rtype == T.SOA
    r = ask("deep.below.sub.example.com.", T.A)
    assert not r.aa and len(r.authority) == 2 and texts(r.additional) == [
        "ns.sub.example.com. 3600 in a 192.0.2.200"]
    r = ask("q.wild.example.com.", T.TXT)
    assert texts(r.answer) == ['q.wild.example.com. 3600 in txt "wild"']
    assert ask("example.org.", T.A).rcode == 5
    assert ask("big.example.com.", T.TXT).tc
    assert len(ask("big.example.com.", T.TXT, proto=TCP).answer) == 3


def test_golden_fast_paths_equal_general_path():
    s = srv()
    db = s.db
    n = 0
    for e in db.entries():
        if db.kind(e) in (K_ANSWER, K_SYNTH):
            q = b"\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + db.key(e)
            assert s.handle(q, UDP) == s.general.handle(q, UDP), db.key(e)
            n += 1
    assert n > 30
