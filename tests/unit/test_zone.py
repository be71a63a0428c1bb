"""Master-file lexer, parser and zone checks (dnsbox.zone)."""

from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.zone import lexer, parser
from dnsbox.zone.compile import load_file, load_text
from dnsbox.zone.errors import ZoneError
from tests.unit.helpers import raises

HEAD = "$TTL 1h\n@ SOA ns1 hm 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n"
ORIGIN = "example.com."


def _here():
    f = __file__
    return f.rsplit("/", 1)[0] if "/" in f else "."


def recs(text, origin=ORIGIN):
    r, _w = parser.parse_text(text, Name.from_text(origin), "t.zone")
    return r


def lines(text):
    return [r.name.to_text() + " " + str(r.ttl) + " " + T.type_to_text(r.rtype) + " "
            + r.rdata.to_text() for r in recs(text)]


def test_lexer_tokens_parens_comments_quotes():
    text = 'a  IN TXT ( "x ; y" ; comment\n  "z\\"q" )\n\n  ; only comment\nb A 1.2.3.4\n'
    es = list(lexer.entries(text))
    assert len(es) == 2
    assert es[0].line == 1 and es[0].texts() == ["a", "IN", "TXT", '"x ; y"', '"z\\"q"']
    assert es[1].line == 5 and not es[1].blank_owner
    es = list(lexer.entries("  A 1.2.3.4\n"))
    assert es[0].blank_owner


def test_lexer_errors_have_lines():
    e = raises(ZoneError, list, lexer.entries("a A 1.2.3.4\nb TXT ( \"x\"\n", "f.zone"))
    assert e.file == "f.zone" and e.line == 2 and "(" in e.reason
    e = raises(ZoneError, list, lexer.entries('a TXT "open\n', "f.zone"))
    assert e.line == 1
    e = raises(ZoneError, list, lexer.entries("a A 1.2.3.4 )\n", "f.zone"))
    assert e.line == 1


def test_ttl_units():
    assert lexer.parse_ttl("3600") == 3600
    assert lexer.parse_ttl("1h30m") == 5400
    assert lexer.parse_ttl("1W2d") == 7 * 86400 + 2 * 86400
    assert lexer.parse_ttl("2147483648") is None
    assert lexer.parse_ttl("1x") is None and lexer.parse_ttl("h") is None


def test_owner_ttl_class_defaults():
    out = lines(
        "$TTL 300\n@ IN SOA ns hm 1 2 3 4 5\n  NS ns\nwww 60 IN A 192.0.2.1\n"
        "    IN 70 A 192.0.2.2\n    AAAA ::1\nrel.sub A 192.0.2.3\nabs.example.net. A 192.0.2.4\n"
    )
    assert out[1] == "example.com. 300 NS ns.example.com."
    assert out[2] == "www.example.com. 60 A 192.0.2.1"
    assert out[3] == "www.example.com. 70 A 192.0.2.2"
    assert out[4] == "www.example.com. 300 AAAA ::1"
    assert out[5] == "rel.sub.example.com. 300 A 192.0.2.3"
    assert out[6] == "abs.example.net. 300 A 192.0.2.4"


def test_no_ttl_uses_last_then_soa_minimum():
    out = lines("@ SOA ns hm 1 2 3 4 55\nwww 10 A 192.0.2.1\nftp A 192.0.2.2\n")
    assert out[0].startswith("example.com. 55 SOA")
    assert out[2] == "ftp.example.com. 10 A 192.0.2.2"


def test_origin_directive_and_escapes():
    out = lines('$TTL 1\n$ORIGIN sub.example.com.\nw A 192.0.2.1\n$ORIGIN example.com.\n'
                'a\\.b TXT "\\065\\066"\n')
    assert out[0] == "w.sub.example.com. 1 A 192.0.2.1"
    r = recs('$TTL 1\na\\.b TXT "\\065\\066"\n')[0]
    assert r.name.labels()[0] == b"a.b"
    assert r.rdata.to_text() == '"AB"'


def test_generate():
    out = lines("$TTL 1\n$GENERATE 1-3 host$ A 192.0.2.$\n$GENERATE 8-10/2 h${0,3,d} A 10.0.0.$\n")
    assert out == [
        "host1.example.com. 1 A 192.0.2.1",
        "host2.example.com. 1 A 192.0.2.2",
        "host3.example.com. 1 A 192.0.2.3",
        "h008.example.com. 1 A 10.0.0.8",
        "h010.example.com. 1 A 10.0.0.10",
    ]
    assert raises(ZoneError, recs, "$TTL 1\n$GENERATE 5-1 h$ A 1.2.3.4\n").line == 2


def test_generic_rdata_rfc3597():
    r = recs("$TTL 1\nx TYPE65534 \\# 3 010203\ny A \\# 4 C0000201\n")
    assert r[0].rtype == 65534 and r[0].rdata.to_wire() == b"\x01\x02\x03"
    assert r[1].rdata.to_text() == "192.0.2.1"


def test_include_with_origin():
    path = _here() + "/../zones/inc.example.com.zone"
    z, _w = load_file(path)
    names = sorted(r.name.to_text() for r in z.records())
    assert "host.part.inc.example.com." in names  # $INCLUDE with its own origin
    assert "after.inc.example.com." in names  # origin reverts after the include


def test_bad_rdata_and_unknown_type_stop_with_line():
    e = raises(ZoneError, recs, "$TTL 1\nok A 192.0.2.1\nbad A 300.1.2.3\n")
    assert e.line == 3 and e.file == "t.zone" and "A" in e.reason
    assert raises(ZoneError, recs, "$TTL 1\nx BOGUS 1\n").line == 2
    assert raises(ZoneError, recs, "x A 192.0.2.1\n").line == 1  # no TTL anywhere
    assert raises(ZoneError, recs, "$FOO bar\n").line == 1


def _check_error(text):
    return raises(ZoneError, load_text, text, ORIGIN, "c.zone")


def test_check_soa():
    assert "no SOA" in _check_error("$TTL 1\n@ NS ns1\nns1 A 192.0.2.1\n").reason
    e = _check_error(HEAD + "@ SOA ns2 hm 2 2 3 4 5\n")
    assert e.line == 5 and "second SOA" in e.reason
    e = _check_error(HEAD + "www SOA ns2 hm 2 2 3 4 5\n")
    assert e.line == 5


def test_check_cname_and_dname():
    e = _check_error(HEAD + "www CNAME a\nwww A 192.0.2.1\n")
    assert e.line == 6 and "CNAME and other data" in e.reason
    e = _check_error(HEAD + "www CNAME a\nwww CNAME b\n")
    assert e.line == 6
    e = _check_error(HEAD + "d DNAME example.net.\nx.d A 192.0.2.1\n")
    assert e.line == 6 and "DNAME" in e.reason


def test_check_out_of_zone_and_glue_and_occluded():
    e = _check_error(HEAD + "www.example.net. A 192.0.2.1\n")
    assert e.line == 5 and "outside" in e.reason
    e = _check_error(HEAD + "sub NS ns.sub\n")
    assert e.line == 5 and "glue" in e.reason
    e = _check_error(HEAD + "sub NS ns.sub\nns.sub A 192.0.2.9\nwww.sub A 192.0.2.8\n")
    assert e.line == 7 and "occluded" in e.reason
    e = _check_error(HEAD + "sub NS ns.example.net.\nsub MX 10 mail\n")
    assert e.line == 6 and "occluded" in e.reason
    e = _check_error(HEAD + "www IN A 192.0.2.1\nwww CH A 192.0.2.1\n")
    assert e.line == 6


def test_check_accepts_and_warns():
    z, w = load_text(HEAD + "www A 192.0.2.1\nwww A 192.0.2.1\nwww 5 A 192.0.2.2\n"
                     "sub NS ns.sub\nns.sub A 192.0.2.9\nsub DS 1 8 2 " + "ab" * 32 + "\n"
                     "m MX 10 c\nc CNAME www\n", ORIGIN, "c.zone")
    assert z.cuts and len(w) == 3  # duplicate, TTL mismatch, MX target is a CNAME
    assert [x for x in w if x.startswith("c.zone:6:") and "duplicate" in x]
    assert [r.ttl for r in z.rrset(Name.from_text("www.example.com."), T.A)] == [5, 5]


def test_include_loop_stops():
    path = _here() + "/../zones/loop.inc"
    e = raises(ZoneError, parser.parse_text, "$TTL 1\n$INCLUDE loop.inc\n",
               Name.from_text(ORIGIN), path)
    assert "nested too deep" in e.reason and e.file.endswith("loop.inc") and e.line == 2


def test_unwise_ttls_warn():
    z, w = load_text("$TTL 1h\n@ SOA ns1 hm 1 2 3 4 172800\n@ NS ns1\nns1 A 192.0.2.1\n"
                     "old 2000000 A 192.0.2.2\n", ORIGIN, "c.zone")
    assert [x for x in w if x.startswith("c.zone:2: warning: SOA minimum 172800")]
    assert [x for x in w if x.startswith("c.zone:5: warning: TTL 2000000")]


def test_source_text_writes_other_bytes_as_ddd():
    st = lexer.source_text
    plain = "a TXT \"x\" ; comment\n"
    assert st(plain) == plain and st(plain.encode()) == plain  # ASCII: as it is
    assert st(b'a TXT "caf\xe9"\n') == 'a TXT "caf\\233"\n'  # Latin-1
    assert st(b'a TXT "caf\xc3\xa9"\n') == 'a TXT "caf\\195\\169"\n'  # UTF-8: its bytes
    assert st("caf\u00e9") == "caf\\195\\169"  # a str stands for its UTF-8 bytes
    assert st(b"\\\xe9") == "\\233"  # an escaped byte: the byte
    assert st(b"\\\\\xe9") == "\\\\\\233"  # an escaped backslash, then the byte
    assert st(b"x\x00\ry\\") == "x\x00\ry\\"  # control bytes and a last backslash stay
    assert st(b"\xff\n\xfe") == "\\255\n\\254"  # line breaks stay where they were


def _txt(body):
    r = recs(b"$TTL 1\n" + body + b"\n")
    return list(r[0].rdata.strings)


def test_txt_strings_are_bytes():
    assert _txt(b'a TXT "caf\xe9"') == [b"caf\xe9"]
    assert _txt(b"a TXT caf\xe9") == [b"caf\xe9"]
    assert _txt(b'a TXT "caf\xc3\xa9" "\xff\xfe"') == [b"caf\xc3\xa9", b"\xff\xfe"]
    assert _txt(b'a TXT "\\\xe9\\233"') == [b"\xe9\xe9"]
    assert _txt(b'a TXT "x\x00y" "x\ry"') == [b"x\x00y", b"x\ry"]
    r = recs(b'$TTL 1\na TXT "caf\xe9"\n')[0]
    assert r.rdata.to_text() == '"caf\\233"'  # printed as \DDD
    r = recs('$TTL 1\na TXT "caf\u00e9"\n')[0]  # a str: its UTF-8 bytes
    assert list(r.rdata.strings) == [b"caf\xc3\xa9"]


def test_names_with_other_bytes_keep_them():
    # as NSD: the bytes of a label are data (nsd-checkzone prints caf\233 and \255\254)
    r = recs(b"$TTL 1\ncaf\xe9 A 192.0.2.1\n\xff\xfe MX 10 m\xe9\n")
    assert r[0].name.labels()[0] == b"caf\xe9"
    assert r[0].name.to_text() == "caf\\233.example.com."
    assert r[1].name.labels()[0] == b"\xff\xfe"
    assert r[1].rdata.to_text() == "10 m\\233.example.com."


def test_other_bytes_elsewhere_stop_with_line():
    e = raises(ZoneError, recs, b"$TTL 1\nok A 192.0.2.1\na A 192.0.2.1\xe9\n")
    assert e.line == 3 and e.file == "t.zone" and "A rdata" in e.reason
    e = raises(ZoneError, recs, b"$TTL 1\na 36\xe900 A 192.0.2.1\n")
    assert e.line == 2 and "TTL" in e.reason
    e = raises(ZoneError, recs, b"$TTL 1\na A\xe9 192.0.2.1\n")
    assert e.line == 2 and "type" in e.reason
    e = raises(ZoneError, recs, b"$TTL 1\na TXT \"x\n\"\n")
    assert e.line == 2
    e = raises(ZoneError, recs, b"$TTL 1\n$INCLUDE a\\9\n")
    assert e.line == 2 and "$INCLUDE" in e.reason


def test_long_numbers_stop_with_line():
    # CPython's int() refuses 4,300 digits: such numbers must be refused before it sees them
    many = "9" * 5000
    assert lexer.parse_ttl(many) is None
    assert raises(ZoneError, recs, "$TTL 1\na %s A 192.0.2.1\n" % many).line == 2
    assert raises(ZoneError, recs, "$TTL %s\n" % many).line == 1
    e = raises(ZoneError, recs, "$TTL 1\n$GENERATE 1-%s h$ A 192.0.2.1\n" % many)
    assert e.line == 2 and "range" in e.reason
    e = raises(ZoneError, recs, "$TTL 1\n$GENERATE 1-2/%s h$ A 192.0.2.1\n" % many)
    assert e.line == 2
    e = raises(ZoneError, recs, "$TTL 1\n$GENERATE 1-2 h${%s} A 192.0.2.1\n" % many)
    assert e.line == 2 and "modifier" in e.reason
    e = raises(ZoneError, recs, "$TTL 1\n$GENERATE 1-2 h${0,1000000} A 192.0.2.1\n")
    assert e.line == 2 and "modifier" in e.reason
    e = raises(ZoneError, recs, "$TTL 1\na MX %s mail\n" % many)
    assert e.line == 2 and "MX" in e.reason
