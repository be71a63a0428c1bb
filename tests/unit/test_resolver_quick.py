"""The quick path for the most common answer (dnsbox.resolver.ask.quick): the image it makes is
the one the general path makes (decode, scrub, encode), and everything it does not take goes to
the general path (None)."""
from dnsbox.resolver import scrub as S
from dnsbox.resolver.ask import Ask, match, question, quick
from dnsbox.resolver.driver import _image
from dnsbox.wire import message as M
from dnsbox.wire import rd_std
from dnsbox.wire import types as T
from dnsbox.wire.edns import PLAIN_OPT
from dnsbox.wire.name import Name
from dnsbox.wire.rr import RR

DAY = 86400


def ask(name="www.example.test.", qtype=T.A, exact=False):
    n = Name.from_text(name)
    rng = iter(range(1, 1000))
    wire, sent = question(n, qtype, b"\x12\x34", True, exact, lambda k: bytes(
        [next(rng) & 255 for _ in range(k)]), PLAIN_OPT)
    return Ask("192.0.2.1", 53, wire, 0, 1000, sent, qtype, exact)


def answer(a, records, authority=(), additional=(), rcode=0, tc=False, qname=None):
    q = M.decode(a.wire)
    r = M.make_response(q)
    r.aa = True
    r.rcode = rcode
    r.tc = tc
    if qname is not None:
        r.question = [M.Question(Name.from_text(qname), a.qtype)]
    r.answer = list(records)
    r.authority = list(authority)
    r.additional = list(additional)
    return M.encode(r)


def rr(name, rtype, ttl, text):
    from dnsbox.wire.rdata import from_text

    return RR(Name.from_text(name), rtype, T.CLASS_IN, ttl, from_text(rtype, text, None))


def general(a, data):
    """The general path's image and life for the same answer."""
    m = match(a, data)
    s = S.scrub(m, Name(a.qname.lc, a.qname.lc), a.qtype, 1, Name(b"\x00"), DAY, 10800)
    return _image(Name(a.qname.lc, a.qname.lc), a.qtype, s.rcode, s.answer, s.authority), s.life


def test_same_image_as_the_general_path():
    cases = [
        (T.A, [rr("www.example.test.", T.A, 300, "192.0.2.1")]),
        (T.A, [rr("www.example.test.", T.A, 300, "192.0.2.1"),
               rr("www.example.test.", T.A, 60, "192.0.2.2")]),
        (T.AAAA, [rr("www.example.test.", T.AAAA, 3600, "2001:db8::1")]),
        (T.A, [rr("www.example.test.", T.A, 999999, "192.0.2.9")]),  # over a day: cut
    ]
    ns = [rr("example.test.", T.NS, 3600, "ns1.example.test.")]
    glue = [rr("ns1.example.test.", T.A, 3600, "192.0.2.53")]
    for exact in (False, True):
        for qtype, recs in cases:
            a = ask(qtype=qtype, exact=exact)
            data = answer(a, recs, ns, glue)
            q = quick(a, data, DAY)
            assert q is not None, (qtype, recs)
            img, pairs, life = q
            gimg, glife = general(a, data)
            assert img == gimg and life == glife, (qtype, recs)
            m = M.decode(b"\x00\x00" + img)
            assert [r.ttl for r in m.answer] == [pairs[i] for i in range(1, len(pairs), 2)]
            assert m.authority == [] and m.additional == []


def test_top_bit_ttl_is_zero():
    a = ask()
    data = bytearray(answer(a, [rr("www.example.test.", T.A, 300, "192.0.2.1")]))
    i = len(data) - 4 - 2 - 4  # the record's TTL: before rdlength and the 4 address bytes
    data[i] |= 0x80
    img, pairs, life = quick(a, bytes(data), DAY)
    assert life == 0 and pairs[1] == 0 and M.decode(b"\x00\x00" + img).answer[0].ttl == 0


def test_what_goes_to_the_general_path():
    a = ask()
    good = [rr("www.example.test.", T.A, 300, "192.0.2.1")]
    other = [
        answer(a, [rr("www.example.test.", T.CNAME, 300, "x.example.test."),
                   rr("x.example.test.", T.A, 300, "192.0.2.1")]),  # a chain
        answer(a, []),  # NODATA
        answer(a, good, rcode=3),  # NXDOMAIN
        answer(a, good, tc=True),  # truncated
        answer(a, good, qname="www.example.org."),  # another question
        answer(a, good)[:-1],  # cut
        answer(a, good) + b"\x00",  # trailing byte
        answer(a, [rr("other.example.test.", T.A, 300, "192.0.2.1")]),  # another owner
        b"\x12\x35" + answer(a, good)[2:],  # another ID
    ]
    for data in other:
        assert quick(a, data, DAY) is None, data
    assert quick(a, answer(a, good), DAY) is not None
    mx = ask(qtype=T.MX)  # a type whose rdata holds a name
    assert quick(mx, answer(mx, [rr("www.example.test.", T.MX, 300, "10 mail.example.test.")]),
                 DAY) is None


def test_0x20_case_must_be_echoed_when_exact():
    a = ask(exact=True)
    assert a.qname.wire != a.qname.lc
    good = [rr("www.example.test.", T.A, 300, "192.0.2.1")]
    assert quick(a, answer(a, good), DAY) is not None
    assert quick(a, answer(a, good, qname="www.example.test."), DAY) is None
    b = ask(exact=False)
    assert quick(b, answer(b, good, qname="WWW.example.TEST."), DAY) is not None
