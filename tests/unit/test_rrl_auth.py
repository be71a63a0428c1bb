"""Response rate limiting (dnsbox.auth.rrl) on the auth server's real responses: the class and
bucket name of each kind of answer it makes (as NSD's RRL classifies them), the wildcard hint
the general path leaves and the limiter clears, the truncated reply of a real answer."""
from dnsbox.auth import rrl
from tests.unit.authhelp import TCP, UDP, E, T, query, server
from tests.unit.test_rrl import APEX, WWW, limiter, v4


# --- the truncated reply -----------------------------------------------------------------
def test_truncated_is_header_and_question_with_tc():
    q = query("www.example.com.", T.A, edns=E.Edns(1232))
    r = server().handle(q, UDP)
    t = rrl.truncated(r)
    assert t[:2] == q[:2] and t[2] & 0x82 == 0x82  # QR and TC
    assert t[4:12] == b"\x00\x01" + bytes(6)
    assert t[12:] == q[12:12 + len(WWW) + 4]  # the question as asked
    assert len(t) < len(q)  # never longer than the query (its OPT is not echoed)


# --- the auth server's responses --------------------------------------------------------------
def test_auth_answers_are_classed_as_nsd_does():
    srv = server()
    g = srv.general
    g.wild = None  # what earlier tests left: nobody read it

    def cls(name, qtype, proto=UDP):
        r = srv.handle(query(name, qtype), proto)
        w = g.wild
        g.wild = None
        return rrl.classify(r, w)

    assert cls("www.example.com.", T.A) == (rrl.POSITIVE, WWW)
    assert cls("nothere.example.com.", T.A) == (rrl.NXDOMAIN, APEX)
    assert cls("www.example.com.", T.MX) == (rrl.NODATA, APEX)
    assert cls("x.sub.example.com.", T.A) == (rrl.REFERRAL, b"\x03sub" + APEX)
    assert cls("www.example.org.", T.A) == (rrl.ERROR, b"")  # REFUSED
    assert cls("a.wild.example.com.", T.A) == (rrl.WILDCARD, b"\x01*\x04wild" + APEX)
    assert cls("b.wild.example.com.", T.MX) == (rrl.WILDCARD, b"\x01*\x04wild" + APEX)
    assert cls("a.wild.example.com.", T.A, TCP)[0] == rrl.POSITIVE  # TCP: no hint left


def test_the_limiter_reads_and_clears_the_hint():
    srv = server()
    srv.general.wild = None
    lim = limiter(rate=1, hint=srv.general)
    peer = v4("192.0.2.1")
    for i in range(3):  # three names under one wildcard: one bucket
        r = srv.handle(query("n%d.wild.example.com." % i, T.A), UDP)
        out = lim.limit(r, peer, 0)
        assert (out == r) == (i == 0)
    assert srv.general.wild is None
    r = srv.handle(query("www.example.com.", T.A), UDP)
    assert lim.limit(r, peer, 0) == r
