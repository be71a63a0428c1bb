"""Denial of existence (dnsbox.dnssec.denial) on small NSEC and NSEC3 chains, and the caps of
the validator (KeyTrap key-tag collisions, NSEC3 hashes, questions per validation). Pure: both
interpreters."""
from dnsbox.dnssec import crypto
from dnsbox.dnssec import denial as D
from dnsbox.dnssec import sig as S
from dnsbox.dnssec import validator as V
from dnsbox.resolver.ask import Result
from dnsbox.wire import rd_sec
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.wire.rr import RR
from tests.unit.test_dnssec_sig import P256_KEYS, P256_SIG, P256_SOA, P256_WHEN, rr


def n(text):
    return Name.from_text(text)


def nsec(owner, nxt, types):
    return RR(n(owner), T.NSEC, 1, 300, rd_sec.NSEC(n(nxt), types))


# example.: the apex, a., c.d. (d. an empty non-terminal), *.w., z.
CHAIN = [nsec("example.", "a.example.", [T.SOA, T.NS, T.NSEC, T.RRSIG]),
         nsec("a.example.", "c.d.example.", [T.A, T.NSEC, T.RRSIG]),
         nsec("c.d.example.", "*.w.example.", [T.TXT, T.NSEC, T.RRSIG]),
         nsec("*.w.example.", "z.example.", [T.A, T.NSEC, T.RRSIG]),
         nsec("z.example.", "example.", [T.MX, T.NSEC, T.RRSIG])]


def test_nsec_covers_and_wraps():
    assert D.nsec_covers(n("a.example."), n("c.d.example."), n("b.example."))
    assert not D.nsec_covers(n("a.example."), n("c.d.example."), n("a.example."))
    assert D.nsec_covers(n("z.example."), n("example."), n("zz.example."))  # the wrap
    assert not D.nsec_covers(n("z.example."), n("example."), n("b.example."))


def test_nsec_nxdomain_needs_the_wildcard_proof():
    out, ce = D.nsec_nxdomain(CHAIN, n("b.example."))
    assert out == D.PROVEN and ce == n("example.")
    # b.w.example. is covered, but *.w.example. exists: no NXDOMAIN (a wildcard answer)
    assert D.nsec_nxdomain(CHAIN, n("b.w.example."))[0] == D.NOT_PROVEN
    assert D.nsec_nxdomain(CHAIN[1:2], n("b.example."))[0] == D.NOT_PROVEN  # no *. proof


def test_nsec_nodata():
    assert D.nsec_nodata(CHAIN, n("a.example."), T.MX) == D.PROVEN
    assert D.nsec_nodata(CHAIN, n("a.example."), T.A) == D.NOT_PROVEN
    assert D.nsec_nodata(CHAIN, n("example."), T.DS) == D.NOT_PROVEN  # the apex' own NSEC
    assert D.nsec_nodata(CHAIN, n("b.example."), T.A) == D.NOT_PROVEN


def nsec3_chain(names, zone, iterations=0, optout=(), types=None):
    """NSEC3 RRs for names of zone (hashed with our own hash), in hash order."""
    z = n(zone)
    hs = sorted((crypto.nsec3(n(x).lc, b"", iterations), x) for x in names)
    out = []
    for i in range(len(hs)):
        h, name = hs[i]
        nxt = hs[(i + 1) % len(hs)][0]
        flags = 1 if name in optout else 0
        ts = (types or {}).get(name, [T.A, T.RRSIG])
        owner = Name(bytes((32,)) + D.b32hex(h) + z.wire)
        out.append(RR(owner, T.NSEC3, 1, 300, rd_sec.NSEC3(1, flags, iterations, b"", nxt, ts)))
    return out


def test_nsec3_nxdomain_nodata_and_opt_out():
    names = ["example.", "a.example.", "b.example.", "x.b.example."]
    chain = nsec3_chain(names, "example.")
    n3 = D.Nsec3(chain, n("example."), [64])
    assert D.nsec3_nxdomain(n3, n("nx.a.example.")) == D.PROVEN
    assert D.nsec3_nxdomain(n3, n("a.example.")) == D.NOT_PROVEN  # it exists
    assert D.nsec3_nodata(D.Nsec3(chain, n("example."), [64]), n("a.example."), T.MX) == D.PROVEN
    assert D.nsec3_nodata(D.Nsec3(chain, n("example."), [64]), n("a.example."), T.A) == \
        D.NOT_PROVEN
    # opt-out: the span covering an unsigned delegation's name
    chain = nsec3_chain(names, "example.", optout=names)
    n3 = D.Nsec3(chain, n("example."), [64])
    assert D.nsec3_nxdomain(n3, n("nx.a.example.")) == D.OPT_OUT
    assert D.nsec3_nodata(D.Nsec3(chain, n("example."), [64]), n("deleg.example."), T.DS) == \
        D.OPT_OUT


def test_nsec3_costs():
    names = ["example.", "a.example."]
    many = nsec3_chain(names, "example.", iterations=D.MAX_ITERATIONS + 1)
    assert D.nsec3_nxdomain(D.Nsec3(many, n("example."), [64]), n("q.example.")) == \
        D.TOO_COSTLY  # RFC 9276: over 150 iterations, insecure
    chain = nsec3_chain(names, "example.")
    # a deep name needs a hash per label: a budget of 2 is spent before the proof is done
    out = D.nsec3_nxdomain(D.Nsec3(chain, n("example."), [2]), n("a.b.c.d.example."))
    assert out == D.TOO_COSTLY


def test_key_tag_collisions_are_capped():
    """KeyTrap: keys sharing the signature's key tag are tried MAX_KEY_COLLISIONS times past
    the first, no more."""
    real = S.key_tag
    fakes = [RR(P256_KEYS[0].name, T.DNSKEY, 1, 86400,
                rd_sec.DNSKEY(256, 3, 13, bytes([i + 1]) * 64)) for i in range(8)]
    S.key_tag = lambda k: 7460  # every key collides with the signing key's tag
    try:
        keys = fakes + P256_KEYS  # the right key last: after 8 wrong ones
        st, code, text = S.check(P256_SOA, P256_SIG, keys, P256_WHEN,
                                 [V.MAX_SIG_CHECKS, V.MAX_KEY_COLLISIONS])
        assert st == S.BOGUS and "too many" in text
        keys = P256_KEYS + fakes  # the right key first
        st, code, text = S.check(P256_SOA, P256_SIG, keys, P256_WHEN,
                                 [V.MAX_SIG_CHECKS, V.MAX_KEY_COLLISIONS])
        assert st == S.SECURE
    finally:
        S.key_tag = real


def test_questions_per_validation_are_capped():
    anchors = {b"\x00": []}
    trust = V.Trust(anchors, [], lambda: 0)
    res = Result(0, [rr("www.example.", 300, T.A, "192.0.2.1")], [])
    v = V.Validation(trust, n("www.example."), T.A, res, 0)
    v.needs = V.MAX_NEEDS  # the budget already spent
    verdict = v.start()
    assert verdict.state == V.BOGUS and verdict.ede[0] == 0 and "key questions" in verdict.ede[1]


def test_negative_anchor_and_no_anchor_are_insecure():
    trust = V.Trust({b"\x07example\x00": []}, [n("lab.example.").lc], lambda: 0)
    res = Result(0, [rr("www.other.", 300, T.A, "192.0.2.1")], [])
    assert V.Validation(trust, n("www.other."), T.A, res, 0).start().state == V.INSECURE
    res = Result(0, [rr("x.lab.example.", 300, T.A, "192.0.2.1")], [])
    assert V.Validation(trust, n("x.lab.example."), T.A, res, 0).start().state == V.INSECURE
    res = Result(0, [rr("www.example.", 300, T.A, "192.0.2.1")], [])
    need = V.Validation(trust, n("www.example."), T.A, res, 0).start()
    assert isinstance(need, V.Need) and need.qtype == T.DNSKEY  # the anchor's keys first
