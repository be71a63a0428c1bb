"""The server on the committed signed golden blob (tests/zones/golden/signed/: example.com.
signed by dnssec-signzone with NSEC3, salt c0ffee, 1 iteration). Imports no zone compiler, so it
also runs in the frozen firmware binaries, host and armhf: DO answers, the NSEC3 hashes of the
proofs (dnscrypto on ARM) and the fast paths are checked on 32-bit ARM too."""

from dnsbox.auth import TCP, UDP, expiry
from dnsbox.wire import edns as E
from dnsbox.wire import message as M
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.zonedb import DO_CLASS_KEY, K_ANSWER, K_NODE, K_SYNTH
from tests.unit.helpers import golden_server

RRSIG = 46
NSEC3 = 50


def srv():
    return golden_server("signed/")


def ask(name, qtype, do=True, proto=UDP, payload=1232):
    q = M.encode_query(Name.from_text(name), qtype, T.CLASS_IN, 0x4242, False,
                       E.Edns(payload, do=do))
    return M.decode(srv().handle(q, proto))


def types(rrs):
    return sorted((r.name.to_text().lower(), r.rtype) for r in rrs)


def covered(rrs):
    return sorted(r.rdata.type_covered for r in rrs if r.rtype == RRSIG)


def test_signed_zone_header():
    db = srv().db
    assert db.zone_names() == ["example.com."] and db.signed == (True,)
    assert db.sig_expiry(0) == 2398377600  # 2046-01-01, as dnssec-signzone was told


def test_do_answers_carry_signatures():
    r = ask("www.example.com.", T.A)
    assert r.aa and r.rcode == 0 and r.edns.do
    assert covered(r.answer) == [T.A] and len([x for x in r.answer if x.rtype == T.A]) == 2
    r = ask("WWW.Example.com.", T.AAAA)
    assert r.question[0].name.wire == b"\x03WWW\x07Example\x03com\x00"
    assert covered(r.answer) == [T.AAAA]
    r = ask("example.com.", T.DNSKEY)
    assert set(covered(r.answer)) == {T.DNSKEY}  # signed by the KSK (and the ZSK)
    assert len([x for x in r.answer if x.rtype == T.DNSKEY]) == 2
    r = ask("www.example.com.", T.A, do=False)  # DO clear: as before, no signatures
    assert covered(r.answer) == [] and len(r.answer) == 2


def test_nxdomain_nodata_and_referral_proofs():
    r = ask("nope.example.com.", T.A)
    assert r.rcode == 3 and r.aa
    n3 = [x for x in r.authority if x.rtype == NSEC3]  # one NSEC3 may serve two roles
    assert 2 <= len(n3) <= 3 and covered(r.authority) == sorted([T.SOA] + [NSEC3] * len(n3))
    r = ask("www.example.com.", T.MX)  # NODATA: the NSEC3 matching the name
    n3 = [x for x in r.authority if x.rtype == NSEC3]
    assert r.rcode == 0 and len(n3) == 1 and T.A in n3[0].rdata.types
    assert T.MX not in n3[0].rdata.types
    r = ask("deep.below.sub.example.com.", T.A)  # referral to an unsigned child: no DS proof
    assert not r.aa and [x.rtype for x in r.authority if x.rtype in (T.NS, 43, NSEC3)] in (
        [T.NS, NSEC3], [T.NS, T.NS, NSEC3])


def test_wildcard_answer_and_its_proof():
    r = ask("q.wild.example.com.", T.TXT)
    assert [x.rtype for x in r.answer] == [T.TXT, RRSIG]
    assert r.answer[1].name == Name.from_text("q.wild.example.com.")
    assert r.answer[1].rdata.labels == 3  # signed as *.wild.example.com.
    assert len([x for x in r.authority if x.rtype == NSEC3]) == 1  # the next closer's cover


def test_truncation_keeps_sets_with_their_signatures():
    r = ask("nope.example.com.", T.A, payload=512)
    assert r.tc
    for i, x in enumerate(r.authority):  # every record set is followed by its signatures
        if x.rtype != RRSIG and (i + 1 == len(r.authority) or r.authority[i + 1].rtype !=
                                 x.rtype):
            assert r.authority[i + 1].rtype == RRSIG
    full = ask("nope.example.com.", T.A, proto=TCP).authority
    assert not r.authority or len(r.authority) < len(full)
    assert len(full) == 2 + 2 * len([x for x in full if x.rtype == NSEC3])


def test_fast_paths_equal_general_path_for_do():
    s = srv()
    db = s.db
    n = 0
    for e in db.entries():
        if db.kind(e) not in (K_ANSWER, K_SYNTH):
            continue
        key = db.key(e)
        do = key[-2:] == DO_CLASS_KEY
        q = (b"\xab\xcd\x00\x00\x00\x01\x00\x00\x00\x00\x00\x01" + key[:-2] + b"\x00\x01" +
             (E.DO_OPT if do else E.PLAIN_OPT))
        assert s.handle(q, UDP) == s.general.handle(q, UDP), key
        n += do
    assert n > 20


def _same(a, b):
    """Same flags, rcode and records per section (the name compression may differ)."""
    x = M.decode(a)
    y = M.decode(b)
    return (x.flags() == y.flags() and x.rcode == y.rcode and
            [sorted(r.to_text() for r in sec) for sec in (x.answer, x.authority, x.additional)]
            == [sorted(r.to_text() for r in sec) for sec in (y.answer, y.authority, y.additional)])


def test_fast_do_negatives_equal_general_path():
    """DO referrals (precomputed blocks) and NODATA / NXDOMAIN with proofs assembled from the
    blob's bytes give the general path's answer, for every name of the zone and names below
    it, with several types and cases; only wildcards and the like reach the general path."""
    s = srv()
    db = s.db
    general = s.general.handle
    calls = []

    def counting(*a):
        calls.append(1)
        return general(*a)

    n = 0
    try:
        s.general.handle = counting
        for e in db.entries():
            if db.kind(e) != K_NODE:
                continue
            lname = db.key(e)[:-4]
            for name in (lname, b"\x01x" + lname, b"\x02Ab\x01c" + lname):
                for t in (T.A, T.MX, T.TXT, T.NS, 43, 999):
                    q = (b"\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x01" + name +
                         bytes((t >> 8, t & 255)) + b"\x00\x01" + E.DO_OPT)
                    for proto in (UDP, TCP):
                        fast = s.handle(q, proto)
                        assert _same(fast, general(q, proto)), (name, t)
                        n += 1
    finally:
        s.general.handle = general
    assert n > 300 and len(calls) < n // 4, (n, len(calls))


class _Db:
    """What expiry.lines reads of a blob: a zone that expires at `exp`."""

    nzones = 2
    signed = (True, False)

    def __init__(self, exp):
        self.exp = exp

    def sig_expiry(self, i):
        return self.exp if i == 0 else 0

    def zone_names(self):
        return ["signed.example.", "plain.example."]


def test_expiry_lines():
    day = 86400
    now = 1800000000
    ok = expiry.lines(_Db(now + 30 * day), now, True)
    assert len(ok) == 1 and "signed.example." in ok[0] and "(30 days)" in ok[0]
    assert expiry.lines(_Db(now + 30 * day), now, False) == []  # quiet after the first look
    soon = expiry.lines(_Db(now + 3 * day + 5), now, False)
    assert len(soon) == 1 and soon[0].startswith("WARNING") and "in 3 days" in soon[0]
    gone = expiry.lines(_Db(now - day), now, False)
    assert len(gone) == 1 and "expired" in gone[0]
    wrapped = expiry.lines(_Db((now + 10 * day) & 0xFFFFFFFF), now, True)  # RFC 1982 order
    assert "(10 days)" in wrapped[0]
