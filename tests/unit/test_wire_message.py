"""Messages: hand-made packets decoded, encoding with compression, EDNS, truncation, strictness."""

from dnsbox.wire import edns as E
from dnsbox.wire import message as M
from dnsbox.wire import name as N
from dnsbox.wire import rcode as RC
from dnsbox.wire import rdata as R
from dnsbox.wire import types as T
from dnsbox.wire.errors import ShortError, WireError
from dnsbox.wire.rr import RR, Question
from tests.unit.helpers import raises, unhex

# A query for www.example.com. A with EDNS (payload 1232, DO) and a client cookie.
QUERY = """
    1234 0120 0001 0000 0000 0001   # id 0x1234, RD AD, QD=1 AN=0 NS=0 AR=1
    03 777777 07 6578616d706c65 03 636f6d 00 0001 0001   # www.example.com. A IN
    00 0029 04d0 00008000 000c      # OPT: root, type 41, payload 1232, DO, rdlen 12
    000a 0008 0102030405060708      # COOKIE, 8-byte client cookie
"""


def nm(t):
    return N.from_text(t)


def test_decode_query():
    m = M.decode(unhex(QUERY))
    assert m.id == 0x1234 and not m.qr and m.rd and m.ad and not m.cd and m.opcode == 0
    assert m.question == [Question(nm("www.example.com."), T.A, T.CLASS_IN)]
    assert m.answer == [] and m.authority == [] and m.additional == []
    assert m.edns.payload == 1232 and m.edns.do and m.edns.version == 0
    c = m.edns.option(E.COOKIE)
    assert c.client == unhex("0102030405060708") and c.server == b""
    assert M.encode(m) == unhex(QUERY)


def test_peek_query():
    p = M.decode_question(unhex(QUERY))
    assert p.id == 0x1234 and p.flags == 0x0120 and p.qdcount == 1 and p.arcount == 1
    assert p.qname == nm("www.example.com.") and p.qtype == T.A and p.qclass == T.CLASS_IN
    assert p.question_end == 33 and p.opt_off == 33 and p.tsig_off == -1
    assert p.edns.payload == 1232 and p.edns.do


def _response():
    q = M.decode(unhex(QUERY))
    r = M.make_response(q)
    r.aa = True
    o = nm("example.com.")
    www = nm("www.example.com.")
    for a in ("192.0.2.1", "192.0.2.2"):
        r.answer.append(RR(www, T.A, T.CLASS_IN, 300, R.from_text(T.A, a, o)))
    r.authority.append(RR(o, T.NS, T.CLASS_IN, 3600, R.from_text(T.NS, "ns1", o)))
    r.additional.append(
        RR(nm("ns1.example.com."), T.A, T.CLASS_IN, 3600, R.from_text(T.A, "192.0.2.53", o))
    )
    r.edns = E.Edns(1232)
    return r


def test_encode_compresses_names():
    w = M.encode(_response())
    # question name at 12; answers point to it (c00c); NS owner points to example.com. (c010);
    # the NS target is "ns1" + pointer to c010; the glue owner points at that target.
    want = unhex(
        """
        1234 8500 0001 0002 0001 0002      # QR AA RD, counts
        03 777777 07 6578616d706c65 03 636f6d 00 0001 0001
        c00c 0001 0001 0000012c 0004 c0000201
        c00c 0001 0001 0000012c 0004 c0000202
        c010 0002 0001 00000e10 0006 03 6e7331 c010   # at 65; its rdata "ns1" starts at 77
        c04d 0001 0001 00000e10 0004 c0000235          # owner: pointer to 77 (0x4d)
        00 0029 04d0 00000000 0000
        """
    )
    assert w == want
    m = M.decode(w)
    assert (
        m.aa and m.qr and len(m.answer) == 2 and m.answer[1].rdata.address == b"\xc0\x00\x02\x02"
    )
    assert m.authority[0].rdata.target == nm("ns1.example.com.")


def test_no_compression_inside_new_types():
    r = M.Message(1)
    o = nm("example.com.")
    r.question.append(Question(o, T.SRV))
    r.answer.append(RR(o, T.SRV, 1, 60, R.from_text(T.SRV, "0 0 1 example.com.", None)))
    w = M.encode(r)
    # the SRV target stays uncompressed (RFC 2782, RFC 3597 4)
    assert w.endswith(unhex("0000 0000 0001 07 6578616d706c65 03 636f6d 00"))


def test_extended_rcode_through_opt():
    r = _response()
    r.rcode = RC.BADVERS
    w = M.encode(r)
    assert w[3] & 0xF == 0  # 16 = 0x10: header bits 0, ext_rcode 1
    m = M.decode(w)
    assert m.rcode == RC.BADVERS and m.edns.ext_rcode == 1
    r.edns = None
    raises(ValueError, M.encode, r)


def test_truncation_at_rrset_boundary():
    r = _response()
    full = M.encode(r)
    # room for everything but the glue: the additional RRset goes, TC stays clear (RFC 2181 9)
    w = M.encode(r, len(full) - 1)
    m = M.decode(w)
    assert not m.tc and len(m.answer) == 2 and len(m.authority) == 1 and m.additional == []
    assert m.edns is not None
    assert M.decode(M.encode(r, len(full) - 1, tc_if_additional=True)).tc
    # room for the question and one of the two A records: the whole answer RRset goes
    w = M.encode(r, 12 + 21 + 16 + 11)
    m = M.decode(w)
    assert m.tc and m.answer == [] and m.authority == [] and m.edns is not None
    assert len(w) <= 12 + 21 + 16 + 11


def test_decode_partial_keeps_complete_records():
    w = M.encode(_response())
    cut = w[:-20]  # ends inside the glue A record
    raises(ShortError, M.decode, cut)
    m = M.decode(cut, partial=True)
    assert m.partial and len(m.answer) == 2 and len(m.authority) == 1 and m.additional == []


def test_strict_qdcount():
    # QDCOUNT 2 (RFC 9619): rejected at the count, offset 4
    e = raises(WireError, M.decode, unhex("0000 0000 0002 0000 0000 0000"))
    assert e.offset == 4
    # QDCOUNT 0 is allowed (e.g. a cookie-only query, RFC 7873 5.4)
    assert M.decode(unhex("0000 0000 0000 0000 0000 0000")).question == []


def test_strict_trailing_bytes():
    e = raises(WireError, M.decode, unhex("0000 0000 0000 0000 0000 0000 ff"))
    assert e.offset == 12 and "trailing" in e.reason
    raises(WireError, M.decode_question, unhex("0000 0000 0000 0000 0000 0000 ff"))


def test_strict_short_header():
    e = raises(WireError, M.decode, unhex("0000 0000 0000"))
    assert e.offset == 0


def test_bytearray_and_memoryview_input():
    w = unhex(QUERY)
    for b in (bytearray(w), memoryview(w), memoryview(bytearray(w))[0:]):
        m = M.decode(b)
        assert (
            m.question[0].name == nm("www.example.com.") and type(m.question[0].name.wire) is bytes
        )
        p = M.decode_question(b)
        assert p.qname == nm("www.example.com.") and p.id == 0x1234 and p.edns.payload == 1232
