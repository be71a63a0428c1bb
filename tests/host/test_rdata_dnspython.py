"""Every record type the codec knows, cross-checked against dnspython's presentation format:
the same texts give the same wire in both, each one's printed text parses in the other to that
wire, the canonical (DNSSEC) forms agree; and generated wire (mutations of those rdata) either
fails with WireError or survives decode -> text -> parse and agrees with dnspython's decoding."""

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnsbox.wire import name as N
from dnsbox.wire import rdata as R
from dnsbox.wire import types as T
from dnsbox.wire.errors import TextError, WireError
from tests.host.rdtexts import DNSPYTHON_LACKS, NO_TEXT, ODD, TEXTS

IN = dns.rdataclass.IN
CASES = [(m, t) for m in TEXTS for t in TEXTS[m] if m not in DNSPYTHON_LACKS]


def theirs(rtype, text):
    return dns.rdata.from_text(IN, rtype, text, relativize=False)


def test_every_type_is_covered():
    ours = set([T.type_to_text(t) for t in R.CLASSES])
    assert ours == set(TEXTS) | set(NO_TEXT)
    # every type dnspython has a presentation form for is one of ours, and the other way round
    # but for the four RFC 1035 types dnspython lacks
    for t in dns.rdatatype.RdataType:
        has = dns.rdata.get_rdata_class(IN, t) is not dns.rdata.GenericRdata
        name = T.type_to_text(int(t))
        if has:
            assert int(t) in R.CLASSES, name
        elif int(t) in R.CLASSES:
            assert name in DNSPYTHON_LACKS, name
    assert len(CASES) > 130


@pytest.mark.parametrize("mnemonic,text", CASES)
def test_same_wire_and_texts_cross_parse(mnemonic, text):
    rtype = T.type_from_text(mnemonic)
    ours = R.from_text(rtype, text, N.ROOT)
    d = theirs(rtype, text)
    w = ours.to_wire()
    assert w == d.to_wire()
    # each one's text parses in the other to the same wire
    assert theirs(rtype, ours.to_text()).to_wire() == w
    assert R.from_text(rtype, d.to_text(), N.ROOT).to_wire() == w
    # the canonical form of RFC 4034 6.2 (names lower-cased for the types it lists)
    assert ours.to_canonical() == d.to_digestable()
    # decode: the same rdata, whatever surrounds it in the buffer
    back = R.decode(rtype, b"\xc0" + w + b"\x00", 1, len(w))
    assert back == ours and back.to_wire() == w
    # RFC 3597 generic form
    assert R.from_text(rtype, "\\# %d %s" % (len(w), w.hex()), N.ROOT) == ours


def test_types_dnspython_lacks_are_refused_there():
    # if a dnspython release learns them, they move into the cross-check above
    for mnemonic in DNSPYTHON_LACKS:
        rtype = T.type_from_text(mnemonic)
        for text in TEXTS[mnemonic]:
            assert R.from_text(rtype, text, N.ROOT).to_text() == text
            with pytest.raises(dns.exception.SyntaxError):
                theirs(rtype, text)


@pytest.mark.parametrize("mnemonic,text,why", ODD)
def test_known_disagreements(mnemonic, text, why):
    rtype = T.type_from_text(mnemonic)
    ours = R.from_text(rtype, text, N.ROOT)
    assert R.from_text(rtype, ours.to_text(), N.ROOT).to_wire() == ours.to_wire()
    if mnemonic == "ISDN":
        assert theirs(rtype, text).to_wire() == ours.to_wire()[:-1]  # no empty subaddress
    elif mnemonic == "IPSECKEY":
        assert ours.to_text().startswith("\\#")
        assert theirs(rtype, ours.to_text()).to_wire() == ours.to_wire()
    else:
        assert theirs(rtype, text).to_wire() == ours.to_wire()


# --- generated wire -------------------------------------------------------------------------

SEEDS = []
for _m in TEXTS:
    for _t in TEXTS[_m]:
        _r = T.type_from_text(_m)
        SEEDS.append((_r, R.from_text(_r, _t, N.ROOT).to_wire()))


@st.composite
def mutated(draw):
    rtype, w = draw(st.sampled_from(SEEDS))
    b = bytearray(w)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.integers(0, 3))
        i = draw(st.integers(0, len(b)))
        if kind == 0 and i < len(b):
            b[i] = draw(st.integers(0, 255))
        elif kind == 1:
            del b[i : i + draw(st.integers(1, 4))]
        elif kind == 2:
            b[i:i] = draw(st.binary(min_size=1, max_size=4))
        else:
            b = b[:i]
    return rtype, bytes(b)


def _dnspython_decode(rtype, w):
    try:
        return dns.rdata.from_wire(IN, rtype, w, 0, len(w))
    except Exception:  # dnspython's own strictness: FormError, ValueError, struct errors...
        return None


@settings(max_examples=4000, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated())
def test_generated_wire_round_trips(case):
    rtype, w = case
    try:
        ours = R.decode(rtype, w, 0, len(w))
    except WireError:
        ours = None
    known = rtype != T.OPT and T.type_to_text(rtype) not in DNSPYTHON_LACKS
    d = _dnspython_decode(rtype, w) if known else None
    if ours is None:
        return
    assert ours.to_wire() == w or max(w) >= 0xC0  # a mutation may have made a pointer
    again = R.decode(rtype, ours.to_wire(), 0, len(ours.to_wire()))
    assert again == ours and again.to_wire() == ours.to_wire()
    if rtype != T.OPT:
        try:
            back = R.from_text(rtype, ours.to_text(), N.ROOT)
        except TextError as e:
            raise AssertionError("%s not parsed back: %s" % (ours.to_text(), e))
        assert back == ours and back.to_wire() == ours.to_wire()
    if d is not None:
        assert d.to_wire() == ours.to_wire()
        if " TYPE0" in " " + ours.to_text():
            return  # dnspython decodes a bitmap with type 0 but refuses it in text
        tw = theirs(rtype, ours.to_text()).to_wire()
        if rtype == T.LOC:  # dnspython reads the altitude through a float: 1 cm may go
            assert tw[:12] == ours.to_wire()[:12]
            assert abs(int.from_bytes(tw[12:], "big") - ours.altitude) <= 1
        else:
            assert tw == ours.to_wire()


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(sorted(R.CLASSES)), st.text(max_size=40))
def test_random_text_gives_text_error(rtype, text):
    try:
        rd = R.from_text(rtype, text, N.ROOT)
    except TextError:
        return
    w = rd.to_wire()
    assert R.decode(rtype, w, 0, len(w)) == rd
