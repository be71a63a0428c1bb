"""Cross-checks against dnspython: presentation format, rdata wire, and whole messages in both
directions (our encode -> dnspython decode, dnspython encode -> our decode), on generated data."""

import dns.message
import dns.rdata
import dns.rdataclass
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnsbox.wire import message as M
from dnsbox.wire import name as N
from dnsbox.wire import rdata as R
from tests.host.test_wire_gen import KNOWN, UNKNOWN, message, rdata_of

IN = dns.rdataclass.IN
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("rtype", KNOWN + UNKNOWN)
@SETTINGS
@given(data=st.data())
def test_rdata_text_and_wire_match_dnspython(rtype, data):
    d = data.draw(rdata_of(rtype))
    w = d.to_wire()
    ours = R.decode(rtype, b"\xff" + w + b"\xff", 1, len(w))
    assert ours.rtype == rtype
    assert ours.to_wire() == w
    # dnspython prints empty generic rdata as "\\# 0 " (trailing space); we print "\\# 0"
    assert ours.to_text() == d.to_text().rstrip(" ")
    back = R.from_text(rtype, d.to_text(), N.ROOT)
    assert back == ours and back.to_wire() == w
    assert dns.rdata.from_text(IN, rtype, ours.to_text()) == d
    # RFC 3597 generic form of a known type gives the same rdata
    g = R.from_text(rtype, "\\# %d %s" % (len(w), w.hex()), N.ROOT)
    assert g == ours


def _group(rows):
    # RRsets as (name, type, class, ttl, sorted rdata texts): dnspython shuffles the
    # records of an RRset when it encodes
    out = []
    for name, t, c, ttl, text in rows:
        if out and out[-1][:3] == (name, t, c):
            out[-1][4].append(text)
            out[-1][4].sort()
        else:
            out.append((name, t, c, ttl, [text]))
    return out


def flat_dnspython(d):
    out = []
    for sec in (d.answer, d.authority, d.additional):
        rows = []
        for rs in sec:
            for rd in rs:
                text = rd.to_text().rstrip(" ")  # see above: "\\# 0 "
                rows.append((rs.name.to_text(), int(rs.rdtype), int(rs.rdclass), rs.ttl, text))
        out.append(_group(rows))
    return out


def flat_ours(m):
    out = []
    for sec in (m.answer, m.authority, m.additional):
        rows = [(r.name.to_text(), r.rtype, r.rclass, r.ttl, r.rdata.to_text()) for r in sec]
        out.append(_group(rows))
    return out


def same_message(m, d, fold=False):
    """m (ours) and d (dnspython) hold the same content. fold: compare names case-folded
    (compression points a name at an earlier one that may differ in case, RFC 4343)."""
    f = (lambda x: x.lower()) if fold else (lambda x: x)
    assert m.id == d.id
    assert m.flags() == d.flags
    assert m.rcode == d.rcode()
    assert [(f(q.name.to_text()), q.qtype, q.qclass) for q in m.question] == [
        (f(q.name.to_text()), q.rdtype, q.rdclass) for q in d.question
    ]
    ours, theirs = flat_ours(m), flat_dnspython(d)
    if fold:
        ours = [
            [(f(a), b, c, e, sorted(f(x) for x in t)) for a, b, c, e, t in sec] for sec in ours
        ]
        theirs = [
            [(f(a), b, c, e, sorted(f(x) for x in t)) for a, b, c, e, t in sec] for sec in theirs
        ]
    assert ours == theirs
    if d.edns < 0:
        assert m.edns is None
    else:
        e = m.edns
        assert e.payload == d.payload and e.version == d.edns
        assert e.ttl() & 0xFFFF == d.ednsflags & 0xFFFF
        assert [(o.code, o.data) for o in e.options] == [
            (int(o.otype), o.to_wire()) for o in d.options
        ]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message())
def test_dnspython_encode_our_decode_and_back(d):
    w = d.to_wire(max_size=65535)
    m = M.decode(w)
    same_message(m, dns.message.from_wire(w))  # exact, case included
    same_message(m, d, fold=True)
    w2 = M.encode(m)
    same_message(m, dns.message.from_wire(w2), fold=True)
    assert M.encode(M.decode(w2)) == w2
    assert len(w2) <= len(w)  # we compress at least as well as dnspython
    p = M.decode_question(w)
    assert p.id == d.id and p.flags == d.flags
    assert (p.ancount, p.nscount) == (len(m.answer), len(m.authority))
    if m.question:
        q = m.question[0]
        assert (p.qname, p.qtype, p.qclass) == (q.name, q.qtype, q.qclass)
    assert (p.edns is None) == (m.edns is None) and p.rcode() == m.rcode


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message(), st.integers(12, 1500))
def test_truncated_encoding_is_a_prefix_of_whole_rrsets(d, limit):
    m = M.decode(d.to_wire(max_size=65535))
    full = M.encode(m)
    try:
        w = M.encode(m, limit)
    except ValueError:
        # only when the header, question, OPT and TSIG alone do not fit
        assert limit < 12 + sum(len(q.name.wire) + 4 for q in m.question) + (
            m.edns.wire_size() if m.edns else 0
        )
        return
    assert len(w) <= limit
    d2 = dns.message.from_wire(w)
    got = flat_dnspython(d2)
    want = flat_ours(m)
    dropped = False
    for s in range(3):
        assert got[s] == want[s][: len(got[s])]
        if len(got[s]) < len(want[s]):
            # cut only at an RRset boundary
            nxt = want[s][len(got[s])]
            if got[s]:
                assert got[s][-1][:3] != nxt[:3]
            if s < 2:
                dropped = True
    if len(full) <= limit:
        assert w == full
    assert bool(d2.flags & 0x0200) == (dropped or m.tc)
