"""The pinned vectors in tests/vectors/wire/ (both interpreters).

Each file: '# expect: ok' (decodes; the '# rr' lines are its records as dnspython prints them;
encode(decode(x)) == x), '# expect: partial N' (data ends early: decode raises ShortError and
decode(partial=True) keeps the N complete '# rr' records) or '# expect: error [OFFSET]'
(WireError, at OFFSET if given) or '# expect: any' (fuzz-found inputs: WireError, or decodes
and re-encodes to the same records)."""

import os

from dnsbox.wire import message as M
from dnsbox.wire.errors import ShortError, WireError
from tests.unit.helpers import raises, unhex


def _dir():
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    return here + "/../vectors/wire"


def _load(path):
    with open(path) as f:
        text = f.read()
    expect = None
    rrs = []
    for line in text.split("\n"):
        if line.startswith("# expect:"):
            expect = line[9:].split()
        elif line.startswith("# rr "):
            rrs.append(line[5:])
    return expect, rrs, unhex(text)


def _texts(m):
    out = []
    for tag, sec in (("an", m.answer), ("ns", m.authority), ("ar", m.additional)):
        for r in sec:
            out.append(tag + ": " + r.to_text())
    return out


def _files():
    d = _dir()
    return [d + "/" + f for f in sorted(os.listdir(d)) if f.endswith(".txt")]


def test_vectors_present():
    names = [p.rsplit("/", 1)[1] for p in _files()]
    for t in ("A", "NS", "SOA", "MX", "TXT", "AAAA", "SRV", "RRSIG", "NSEC3", "SVCB", "CAA"):
        assert "type-%s.txt" % t in names, t
    assert len(names) >= 29


def test_every_vector():
    n = 0
    for path in _files():
        expect, rrs, w = _load(path)
        if expect[0] == "ok":
            m = M.decode(w)
            assert _texts(m) == rrs, (path, _texts(m))
            assert M.encode(m) == w, path
            p = M.decode_question(w)
            assert p.id == m.id and (p.qname is None or p.qname == m.question[0].name)
        elif expect[0] == "partial":
            raises(ShortError, M.decode, w)
            m = M.decode(w, partial=True)
            assert m.partial and _texts(m) == rrs and len(rrs) == int(expect[1]), path
        elif expect[0] == "any":
            # fuzz-found: WireError or a message that re-encodes to the same content
            try:
                m = M.decode(w)
            except WireError:
                m = None
            if m is not None:
                m2 = M.decode(M.encode(m))
                assert [r.to_text().lower() for r in m2.answer + m2.authority + m2.additional] == [
                    r.to_text().lower() for r in m.answer + m.authority + m.additional
                ], path
        elif expect[0] == "error":
            e = raises(WireError, M.decode, w)
            if len(expect) > 1:
                assert e.offset == int(expect[1]), (path, e.offset)
        else:
            raise AssertionError("bad expect line in " + path)
        n += 1
    assert n == len(_files())
