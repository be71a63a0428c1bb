"""Master files with the record types added to the codec, and SVCB's quoted values as the
lexer and the parser hand them over (RFC 9460 2.1: key="value", the value may hold blanks,
';' and parentheses)."""

from dnsbox.wire import rdata as R
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.zone import lexer, parser
from dnsbox.zone.compile import load_text
from dnsbox.zone.errors import ZoneError
from tests.unit.helpers import raises, unhex

HEAD = "$TTL 1h\n@ SOA ns1 hm 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n"
ORIGIN = Name.from_text("example.com.")

ZONE = r"""
svc   HTTPS 1 . ( alpn="h3,h2" ; the ALPN ids
                  ipv4hint="192.0.2.1,192.0.2.2"
                  key65000="a ; b ( c )" )
svc2  SVCB  16 foo.example.org. alpn="f\\\\oo\\,bar,h2"
loc   LOC   ( 42 21 43.952 N 71 5 6.344 W
              -24m 1m 200m )
txt   TXT   a"b c"
hinfo HINFO "PC" "Linux"
rp    RP    admin txt
uri   URI   10 1 "ftp://ftp1.example.com/public"
apl   APL   1:192.168.32.0/21 !1:192.168.38.0/28
"""


def _records():
    recs, _w = parser.parse_text(HEAD + ZONE, ORIGIN, "t.zone")
    out = {}
    for r in recs:
        out[r.name.to_text().split(".")[0]] = r
    return out


def test_lexer_keeps_key_and_quoted_value_together():
    es = list(lexer.entries('a HTTPS 1 . alpn="h3,h2" key65000="x y" port=53\n'))
    assert es[0].texts() == ["a", "HTTPS", "1", ".", 'alpn="h3,h2"', 'key65000="x y"', "port=53"]
    assert not es[0].tokens[4].quoted
    # a quoted string of its own stays a quoted token
    es = list(lexer.entries('a TXT "x y" z\n'))
    assert es[0].texts() == ["a", "TXT", '"x y"', "z"] and es[0].tokens[2].quoted
    e = raises(ZoneError, list, lexer.entries('a HTTPS 1 . alpn="h3\n'))
    assert e.line == 1


def test_quoted_svcb_values_in_a_zone():
    r = _records()
    https = r["svc"].rdata
    assert https.to_wire() == unhex(
        """0001 00
        0001 0006 026833 026832                # alpn h3, h2
        0004 0008 c0000201 c0000202           # ipv4hint
        fde8 000b 61203b2062202820632029      # key65000 "a ; b ( c )"
        """
    )
    assert https.to_text() == (
        '1 . alpn="h3,h2" ipv4hint="192.0.2.1,192.0.2.2" key65000="a ; b ( c )"'
    )
    # RFC 9460 D.2's escaped comma and backslash
    assert r["svc2"].rdata.param(1) == unhex("08 665c6f6f2c626172 02 6832")


def test_other_types_in_a_zone():
    r = _records()
    assert r["loc"].rdata.to_text() == "42 21 43.952 N 71 5 6.344 W -24.00m 1.00m 200.00m 10.00m"
    assert r["txt"].rdata.strings == (b"a", b"b c")  # a"b c" is two strings, as in BIND
    assert r["hinfo"].rdata.to_wire() == unhex("02 5043 05 4c696e7578")
    assert r["rp"].rdata.to_text() == "admin.example.com. txt.example.com."
    assert r["uri"].rdata.target == b"ftp://ftp1.example.com/public"
    assert r["apl"].rdata.to_wire() == unhex("0001 15 03 c0a820  0001 1c 83 c0a826")
    for rr in r.values():
        assert R.from_text(rr.rtype, rr.rdata.to_text(), None) == rr.rdata


def test_the_checked_zone_keeps_them():
    z, _w = load_text(HEAD + ZONE, "example.com.")
    got = set([(r.rtype, r.rdata.to_wire()) for r in z.records()])
    for rr in _records().values():
        assert (rr.rtype, rr.rdata.to_wire()) in got, T.type_to_text(rr.rtype)


def test_bad_rdata_names_the_line():
    e = raises(ZoneError, parser.parse_text, HEAD + 'x HTTPS 1 . alpn= "h2"\n', ORIGIN, "t.zone")
    assert e.line == 5 and "blank" in str(e)
    e = raises(ZoneError, parser.parse_text, HEAD + "x LOC 91 N 0 E 0m\n", ORIGIN, "t.zone")
    assert e.line == 5 and "LOC" in str(e)
    e = raises(ZoneError, parser.parse_text, HEAD + "x HTTPS 1 . mandatory\n", ORIGIN, "t.zone")
    assert "needs a value" in str(e)
