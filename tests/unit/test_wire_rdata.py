"""Rdata: presentation form <-> wire form for each type, pinned bytes, errors."""

from dnsbox.wire import name as N
from dnsbox.wire import rdata as R
from dnsbox.wire import types as T
from dnsbox.wire.errors import TextError, WireError
from tests.unit.helpers import raises, unhex

ORIGIN = N.from_text("example.com.")

# (type, text in, canonical text out (None: same), wire hex with comments)
CASES = [
    (T.A, "192.0.2.1", None, "c0000201"),
    (T.AAAA, "2001:db8::1", None, "20010db8 00000000 00000000 00000001"),
    (T.AAAA, "::ffff:192.0.2.1", None, "00000000 00000000 0000ffff c0000201"),
    (
        T.AAAA,
        "2001:DB8:0:0:1:0:0:1",
        "2001:db8::1:0:0:1",
        "20010db8 0000 0000 0001 0000 0000 0001",
    ),
    (T.NS, "ns1", "ns1.example.com.", "03 6e7331 07 6578616d706c65 03 636f6d 00"),
    (T.CNAME, "@", "example.com.", "07 6578616d706c65 03 636f6d 00"),
    (T.PTR, "host.example.", None, "04 686f7374 07 6578616d706c65 00"),
    (T.DNAME, "x.", None, "01 78 00"),
    (T.MX, "10 mail.example.", None, "000a 04 6d61696c 07 6578616d706c65 00"),
    (
        T.SOA,
        "ns. host. 2024010101 3600 900 1209600 300",
        None,
        """02 6e73 00  04 686f7374 00   # mname ns., rname host.
        78a3f175 00000e10 00000384 00127500 0000012c  # serial refresh retry expire minimum""",
    ),
    (T.SOA, "ns. host. 1 1h 15m 2w 5m", "ns. host. 1 3600 900 1209600 300", None),
    (T.TXT, '"hello world" x', '"hello world" "x"', "0b 68656c6c6f20776f726c64 01 78"),
    (T.TXT, '"a\\"b\\\\c\\010"', None, "06 61 22 62 5c 63 0a"),
    (T.TXT, '""', None, "00"),
    (T.SRV, "0 5 5060 sip.example.", None, "0000 0005 13c4 03 736970 07 6578616d706c65 00"),
    (
        T.NAPTR,
        '100 10 "S" "SIP+D2U" "" _sip._udp.example.',
        None,
        "0064 000a 01 53 07 5349502b443255 00 04 5f736970 04 5f756470 07 6578616d706c65 00",
    ),
    (T.CAA, '0 issue "ca.example.net"', None, "00 05 6973737565 63612e6578616d706c652e6e6574"),
    (T.CAA, '128 tbs ""', None, "80 03 746273"),
    (
        T.DS,
        "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
        "60485 5 1 2bb183af5f22588179a53b0a98631fad1a292118",
        "ec45 05 01 2bb183af5f22588179a53b0a98631fad1a292118",
    ),
    (T.CDS, "0 0 0 00", None, "0000 00 00 00"),
    (T.DNSKEY, "256 3 ECDSAP256SHA256 AQID BA==", "256 3 13 AQIDBA==", "0100 03 0d 01020304"),
    (T.CDNSKEY, "0 3 0 AA==", None, "0000 03 00 00"),
    (
        T.RRSIG,
        "A 13 2 3600 20300101000000 20290101000000 4242 example. AQID",
        None,
        """0001 0d 02 00000e10     # type covered A, alg 13, labels 2, original TTL 3600
        70dbd880 6efaa500 1092    # expiration 2030-01-01, inception 2029-01-01, key tag 4242
        07 6578616d706c65 00 010203  # signer example., signature""",
    ),
    (
        T.NSEC,
        "host.example.com. A MX RRSIG NSEC TYPE1234",
        None,
        """04 686f7374 07 6578616d706c65 03 636f6d 00
        00 06 40 01 00 00 00 03   # window 0: A(1) MX(15) RRSIG(46) NSEC(47)
        04 1b 00000000 00000000 00000000 00000000 00000000 00000000 000020  # window 4: 1234""",
    ),
    (
        T.NSEC3,
        "1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr A RRSIG",
        None,
        """01 01 000c 04 aabbccdd 14 17 4e b2 40 9f e2 8b cb 48 87 a1 83 6f 95 7f 0a 84 25 e2 7b
        00 06 40 00 00 00 00 02""",
    ),
    (T.NSEC3PARAM, "1 0 0 -", None, "01 00 0000 00"),
    (T.TLSA, "3 1 1 " + "0123456789abcdef" * 4, None, "03 01 01" + " 0123456789abcdef" * 4),
    (T.TLSA, "3 1 0 0102", None, "03 01 00 0102"),  # full certificate: any length
    (T.SSHFP, "4 1 " + "ABCDEF0123" * 4, "4 1 " + "abcdef0123" * 4, "04 01" + " abcdef0123" * 4),
    (T.SSHFP, "4 9 AB", "4 9 ab", "04 09 ab"),  # unknown type: any length
    (65534, "\\# 3 abcdef", None, "abcdef"),
    (65534, "\\# 0", None, ""),
    (T.A, "\\# 4 c0000201", "192.0.2.1", "c0000201"),
]


def test_text_wire_pairs():
    for rtype, text, out, wire_hex in CASES:
        rd = R.from_text(rtype, text, ORIGIN)
        assert rd.rtype == rtype
        want = text if out is None else out
        assert rd.to_text() == want, (rtype, rd.to_text(), want)
        w = rd.to_wire()
        if wire_hex is not None:
            assert w == unhex(wire_hex), (rtype, text, w)
        back = R.decode(rtype, b"xx" + w + b"yy", 2, len(w))
        assert back == rd and back.to_text() == want
        assert R.from_text(rtype, want, ORIGIN) == rd


def test_attributes_used_by_other_components():
    soa = R.from_text(T.SOA, "ns1 admin 1 2 3 4 55", ORIGIN)
    assert (
        soa.mname.to_text() == "ns1.example.com." and soa.rname.to_text() == "admin.example.com."
    )
    assert (soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum) == (1, 2, 3, 4, 55)
    mx = R.from_text(T.MX, "5 mx", ORIGIN)
    assert mx.preference == 5 and mx.exchange == N.from_text("MX.example.com.")
    assert R.from_text(T.SRV, "1 2 3 t", ORIGIN).target.to_text() == "t.example.com."
    assert R.from_text(T.NS, "ns", ORIGIN).target.to_text() == "ns.example.com."
    assert R.from_text(T.A, "10.0.0.1", ORIGIN).address == b"\x0a\x00\x00\x01"
    assert R.from_text(T.AAAA, "::1", ORIGIN).address == bytes(15) + b"\x01"


def test_equality_is_case_insensitive_for_names():
    a = R.from_text(T.MX, "10 MAIL.example.", None)
    b = R.from_text(T.MX, "10 mail.EXAMPLE.", None)
    assert a == b and hash(a) == hash(b)
    assert a.to_wire() != b.to_wire()  # case preserved on the wire
    assert R.from_text(T.MX, "11 mail.example.", None) != a
    assert R.from_text(T.A, "1.2.3.4", None) != R.from_text(T.AAAA, "::1", None)


def test_text_errors():
    bad = [
        (T.A, "1.2.3"),
        (T.A, "1.2.3.256"),
        (T.A, "01.2.3.4"),
        (T.A, "1.2.3.4 5"),
        (T.AAAA, "1::2::3"),
        (T.AAAA, "12345::"),
        (T.MX, "65536 a."),
        (T.MX, "10"),
        (T.SOA, "a. b. 1 2 3 4"),
        (T.TXT, ""),
        (T.TXT, '"unterminated'),
        (T.TXT, '"' + "x" * 256 + '"'),
        (T.CAA, '0 is-sue "x"'),
        (T.DS, "1 2 3 abc"),
        (T.DS, "1 2 2 abcd"),  # SHA-256 digest must be 32 bytes
        (T.DS, "1 2 0 00"),  # digest type 0 is reserved (but CDS delete, RFC 8078)
        (T.TLSA, "3 1 1 abcd"),
        (T.SSHFP, "1 2 abcd"),
        (T.DNSKEY, "256 3 13 !!!!"),
        (T.RRSIG, "A 13 2 3600 20301301000000 20290101000000 1 e. AA=="),
        (65534, "\\# 2 abcdef"),
        (65534, "abcdef"),
        (T.A, "\\# 3 abcdef"),
    ]
    for rtype, text in bad:
        e = raises(TextError, R.from_text, rtype, text, ORIGIN)
        assert str(e), (rtype, text)


def test_decode_must_consume_rdlength():
    # MX with one byte after the name: rdlength 5, fields use 4
    e = raises(WireError, R.decode, T.MX, unhex("000a 00 ff"), 0, 4)
    assert "left" in e.reason and e.offset == 3
    # A with rdlength 5
    raises(WireError, R.decode, T.A, unhex("0102030405"), 0, 5)
    # SOA cut short: the numbers need 20 bytes, only 4 given
    raises(WireError, R.decode, T.SOA, unhex("00 00 00000001"), 0, 6)
    # TXT string longer than the rdata
    raises(WireError, R.decode, T.TXT, unhex("05 6162"), 0, 3)
    # rdata past the end of the buffer
    raises(WireError, R.decode, T.A, unhex("010203"), 0, 4)
    # a name inside rdata that runs past rdlength
    raises(WireError, R.decode, T.NS, unhex("03 616263 00"), 0, 3)


def test_unknown_type_is_generic():
    rd = R.decode(4000, b"\x01\x02", 0, 2)
    assert rd.rtype == 4000 and rd.to_text() == "\\# 2 0102" and rd.to_wire() == b"\x01\x02"


def test_type_and_class_text():
    assert T.type_to_text(T.AAAA) == "AAAA" and T.type_to_text(65534) == "TYPE65534"
    assert T.type_from_text("aaaa") == T.AAAA and T.type_from_text("TYPE65534") == 65534
    assert T.type_from_text("TYPE1") == T.A
    for bad in ("TYPE65536", "TYPE", "TYPEx", "BOGUS"):
        raises(TextError, T.type_from_text, bad)
    assert T.class_from_text("in") == T.CLASS_IN and T.class_to_text(T.CLASS_CH) == "CH"
    assert T.class_from_text("CLASS7") == 7 and T.class_to_text(7) == "CLASS7"
