"""SVCB and HTTPS presentation form: RFC 9460 appendix D's test vectors (text -> wire, and the
failure cases that must be refused), appendix A's value-list escapes, quoted values."""

from dnsbox.wire import name as N
from dnsbox.wire import rdata as R
from dnsbox.wire import text as TX
from dnsbox.wire import types as T
from dnsbox.wire.errors import TextError, WireError
from tests.unit.helpers import raises, unhex

FOO_COM = "03 666f6f 07 6578616d706c65 03 636f6d 00"  # foo.example.com.
FOO_ORG = "03 666f6f 07 6578616d706c65 03 6f7267 00"  # foo.example.org.

# RFC 9460 appendix D: (presentation texts, wire with the RFC's comments)
VECTORS = [
    # D.1 AliasMode
    (["0 foo.example.com."], "0000 " + FOO_COM),
    # D.2 ServiceMode: the simple "use the owner name" form
    (["1 ."], "0001 00"),
    # only a port
    (["16 foo.example.com. port=53"], "0010 " + FOO_COM + " 0003 0002 0035"),
    # an unregistered key, value unquoted
    (["1 foo.example.com. key667=hello"], "0001 " + FOO_COM + " 029b 0005 68656c6c6f"),
    # an unregistered key, value quoted with a decimal escape
    (
        ['1 foo.example.com. key667="hello\\210qoo"'],
        "0001 " + FOO_COM + " 029b 0009 68656c6c6fd2716f6f",
    ),
    # two IPv6 hints, quoted
    (
        ['1 foo.example.com. ipv6hint="2001:db8::1,2001:db8::53:1"'],
        "0001 " + FOO_COM + " 0006 0020 20010db8000000000000000000000001"
        " 20010db8000000000000000000530001",
    ),
    # one IPv6 hint in IPv4-mapped form
    (
        ['1 example.com. ipv6hint="2001:db8:122:344::192.0.2.33"'],
        "0001 07 6578616d706c65 03 636f6d 00 0006 0010 20010db8012203440000 0000c0000221",
    ),
    # neither the params nor the mandatory keys sorted in text: sorted on the wire
    (
        ["16 foo.example.org. alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1"],
        "0010 "
        + FOO_ORG
        + """
     0000 0004 0001 0004     # mandatory: alpn, ipv4hint
     0001 0009 02 6832 05 68332d3139   # alpn: h2, h3-19
     0004 0004 c0000201      # ipv4hint 192.0.2.1""",
    ),
    # an alpn value with an escaped comma and an escaped backslash, in two forms
    (
        [
            '16 foo.example.org. alpn="f\\\\\\\\oo\\\\,bar,h2"',
            "16 foo.example.org. alpn=f\\\\\\092oo\\092,bar,h2",
        ],
        "0010 " + FOO_ORG + " 0001 000c 08 665c6f6f2c626172 02 6832",
    ),
]

# RFC 9460 D.3: text that must be refused
FAILURES = [
    "1 foo.example.com. key123=abc key123=def",  # the same key twice
    "1 foo.example.com. mandatory",  # keys that need a value
    "1 foo.example.com. alpn",
    "1 foo.example.com. port",
    "1 foo.example.com. ipv4hint",
    "1 foo.example.com. ipv6hint",
    "1 foo.example.com. no-default-alpn=abc",  # its value must be empty
    "1 foo.example.com. mandatory=key123",  # a mandatory key missing
    "1 foo.example.com. mandatory=mandatory",  # mandatory lists itself
    "1 foo.example.com. mandatory=key123,key123 key123=abc",  # a key twice in the list
]


def test_rfc_9460_vectors():
    for rtype in (T.SVCB, T.HTTPS):
        for texts, wire_hex in VECTORS:
            want = unhex(wire_hex)
            for text in texts:
                rd = R.from_text(rtype, text, None)
                assert rd.to_wire() == want, (text, rd.to_wire())
                # what we print parses back to the same wire, and so does the wire
                assert R.from_text(rtype, rd.to_text(), None).to_wire() == want
                back = R.decode(rtype, want, 0, len(want))
                assert back == rd and back.to_text() == rd.to_text()


def test_rfc_9460_printed_forms():
    alpn = R.from_text(T.SVCB, VECTORS[-1][0][1], None)
    assert alpn.to_text() == '16 foo.example.org. alpn="f\\\\\\\\oo\\\\,bar,h2"'
    m = R.from_text(T.HTTPS, VECTORS[-2][0][0], None)
    assert m.to_text() == (
        '16 foo.example.org. mandatory="alpn,ipv4hint" alpn="h2,h3-19" ipv4hint="192.0.2.1"'
    )
    assert R.from_text(T.SVCB, VECTORS[4][0][0], None).to_text() == (
        '1 foo.example.com. key667="hello\\210qoo"'
    )


def test_rfc_9460_failure_cases():
    for rtype in (T.SVCB, T.HTTPS):
        for text in FAILURES:
            e = raises(TextError, R.from_text, rtype, text, None)
            assert str(e), text


def test_quoted_values():
    cases = [
        ('1 . alpn="h3,h2"', "0001 00 0001 0006 026833 026832"),
        ("1 . alpn=h3,h2", "0001 00 0001 0006 026833 026832"),
        ('1 . alpn="h2" no-default-alpn', "0001 00 0001 0003 026832 0002 0000"),
        ('1 . mandatory="port" port="853"', "0001 00 0000 0002 0003 0003 0002 0355"),
        ('1 . ipv4hint="192.0.2.1,192.0.2.2"', "0001 00 0004 0008 c0000201 c0000202"),
        ('1 . ech="AAQBAgME"', "0001 00 0005 0006 0004 01020304"),
        ('1 . dohpath="/dns-query{?dns}"', "0001 00 0007 0010 2f646e732d71756572797b3f646e737d"),
        ("1 . ohttp", "0001 00 0008 0000"),
        ('1 . key65000="a b"', "0001 00 fde8 0003 612062"),  # a blank inside the quotes
        ('1 . key65000=""', "0001 00 fde8 0000"),
        ("1 . key65000", "0001 00 fde8 0000"),
        ('1 . docpath="a,b\\\\,c"', "0001 00 000a 0006 0161 03622c63"),  # ids a and b,c
        ("1 . docpath", "0001 00 000a 0000"),
        ('1 . key1="\\002h2"', "0001 00 0001 0003 026832"),  # a known key in generic form
    ]
    for text, wire_hex in cases:
        rd = R.from_text(T.HTTPS, text, None)
        assert rd.to_wire() == unhex(wire_hex), (text, rd.to_wire())
        assert R.from_text(T.HTTPS, rd.to_text(), None) == rd


def test_bad_svcb_text():
    for text in (
        '1 . alpn= "h2"',  # a blank between "=" and the quoted value
        '1 . "alpn=h2"',  # the whole parameter quoted
        '1 . alpn=h2"x"',  # a quote in the middle of a value
        "1 . =h2",
        "1 . Alpn=h2",  # keys are lower case
        "1 . key01=x",  # no leading zero
        "1 . key65536=x",
        "1 . al\\pn=h2",  # no escape in a key
        '1 . alpn="a,,b"',  # an empty alpn id
        '1 . port="53\\0"',
        "1 . port=65536",
        "1 . ipv4hint=192.0.2.1,",
        "1 . ipv6hint=::1,1.2.3.4",
        "1 . ech=!!!!",
        "1 . ech=AAEB",  # an ECHConfigList shorter than its length says
        "1 . ohttp=x",
        '1 . alpn="a\\\\b"',  # after unescaping, '\\' must escape ',' or '\\' (A.1)
        "1 . no-default-alpn",  # no-default-alpn needs alpn
        "0 . alpn=h2",  # no parameters in AliasMode
        '1 . key667="unterminated',
    ):
        e = raises(TextError, R.from_text, T.SVCB, text, None)
        assert str(e), text


def test_bad_svcb_wire():
    for wire_hex in (
        "0000 00 0003 0002 0035",  # parameters in AliasMode
        "0001 00 0003 0002 0035 0001 0003 026832",  # keys out of order
        "0001 00 0003 0002 0035 0003 0002 0035",  # a key twice
        "0001 00 0003 0001 35",  # port of one byte
        "0001 00 0001 0000",  # empty alpn
        "0001 00 0001 0003 036832",  # alpn id past its value
        "0001 00 0000 0002 0003",  # mandatory port, port missing
        "0001 00 0002 0000",  # no-default-alpn without alpn
        "0001 00 0004 0005 c000020100",  # ipv4hint not a multiple of 4
        "0001 00 0003 0004 0035",  # value past the rdata
        "0001 00 00",  # half a key
    ):
        data = unhex(wire_hex)
        e = raises(WireError, R.decode, T.SVCB, data, 0, len(data))
        assert e.reason, wire_hex


def test_tokens_know_what_is_glued():
    # key="value": the quoted value follows the key directly; elsewhere a quote starts a
    # token of its own (TXT a"b" is two strings, as in BIND and dnspython)
    assert TX.tokenize('alpn="h2" x "y"z') == [
        ("alpn=", False, False),
        ("h2", True, True),
        ("x", False, False),
        ("y", True, False),
        ("z", False, True),
    ]
    txt = R.from_text(T.TXT, 'a"b c"', None)
    assert txt.strings == (b"a", b"b c")
    assert R.from_text(T.TXT, '"a\\"b"', None).strings == (b'a"b',)
    raises(TextError, R.from_text, T.TXT, '"a', None)


def test_hints_print_in_canonical_form():
    rd = R.from_text(T.SVCB, '1 x. ipv6hint="2001:DB8:0:0:0:0:0:1"', N.ROOT)
    assert rd.to_text() == '1 x. ipv6hint="2001:db8::1"'
