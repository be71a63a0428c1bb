"""Rdata of the types added after the common ones (rd_info, rd_loc, rd_key, TKEY): presentation
form <-> wire form with bytes derived by hand (RFC examples where the RFCs give them), errors
for bad text and malformed wire, canonical form and compression."""

import binascii

from dnsbox.wire import name as N
from dnsbox.wire import rdata as R
from dnsbox.wire import types as T
from dnsbox.wire.errors import TextError, WireError
from tests.unit.helpers import raises, unhex

ORIGIN = N.from_text("example.")
EX = "07 6578616d706c65 00"  # example.
Z48 = (
    "c68090d90a7aed716bc459f9340e3d7c1370d4d24b7e2fc3"
    "a1ddc0b9a87153b9a9713b3c9ae5cc27777f98b8e730044c"
)

# (type, text in, canonical text out (None: same), wire hex with comments)
CASES = [
    (T.MB, "Mail.example.", None, "04 4d61696c " + EX),
    (T.MG, "mg", "mg.example.", "02 6d67 " + EX),
    (T.MR, "@", "example.", EX),
    (T.MINFO, "rm em.", "rm.example. em.", "02 726d " + EX + " 02 656d 00"),
    # RFC 1035 3.3.2's example host
    (T.HINFO, '"DEC-2060" "TOPS20"', None, "08 4445432d32303630 06 544f50533230"),
    (T.HINFO, 'x86 "a b"', '"x86" "a b"', "03 783836 03 612062"),
    # RFC 1183's examples (RP, AFSDB, X25, ISDN, RT)
    (
        T.RP,
        "mbox txt.example.",
        "mbox.example. txt.example.",
        "04 6d626f78 " + EX + " 03 747874 " + EX,
    ),
    (T.RP, ". .", None, "00 00"),
    (
        T.AFSDB,
        "1 bigbird.toaster.com.",
        None,
        "0001 07 62696762697264 07 746f6173746572 03 636f6d 00",
    ),
    (T.X25, "311061700956", '"311061700956"', "0c 333131303631373030393536"),
    (T.ISDN, '"150862028003217" "004"', None, "0f 313530383632303238303033323137 03 303034"),
    (T.ISDN, "150862028003217", '"150862028003217"', "0f 313530383632303238303033323137"),
    (T.ISDN, '"1" ""', None, "01 31 00"),  # an empty subaddress is kept
    (T.RT, "2 Relay.Prime.COM.", None, "0002 05 52656c6179 05 5072696d65 03 434f4d 00"),
    (T.KX, "10 kx", "10 kx.example.", "000a 02 6b78 " + EX),
    (
        T.PX,
        "10 net2.it. PRMD-net2.ADMD-p400.C-it.",
        None,
        "000a 04 6e657432 02 6974 00  09 50524d442d6e657432 09 41444d442d70343030 04 432d6974 00",
    ),
    (T.NSAP_PTR, "Foo.", None, "03 466f6f 00"),
    (
        T.LP,
        "10 l64-subnet1.example.com.",
        None,
        "000a 0b 6c36342d7375626e657431 07 6578616d706c65 03 636f6d 00",
    ),
    # ILNP records as RFC 6742 writes them
    (T.NID, "10 0014:4fff:ff20:ee64", None, "000a 00144fffff20ee64"),
    (T.NID, "10 14:4FFF:FF20:EE64", "10 0014:4fff:ff20:ee64", "000a 00144fffff20ee64"),
    (T.L32, "10 10.1.2.0", None, "000a 0a010200"),
    (T.L64, "10 2001:0DB8:1140:1000", "10 2001:0db8:1140:1000", "000a 20010db811401000"),
    # RFC 7043's examples
    (T.EUI48, "00-00-5E-00-53-2A", "00-00-5e-00-53-2a", "00005e00532a"),
    (T.EUI64, "00-00-5e-ef-10-00-00-2a", None, "00005eef1000002a"),
    # RFC 7553's example: priority 10, weight 1, the target without a length octet
    (
        T.URI,
        '10 1 "ftp://ftp1.example.com/public"',
        None,
        "000a 0001 6674703a2f2f667470312e6578616d706c652e636f6d2f7075626c6963",
    ),
    (T.URI, '1 0 "\\"q\\""', None, "0001 0000 227122"),
    # RFC 7477's example: serial 66, flags 3 (immediate, soaminimum), A NS AAAA
    (T.CSYNC, "66 3 A NS AAAA", None, "00000042 0003  00 04 60 00 00 08"),
    (T.CSYNC, "0 0", None, "00000000 0000"),
    # RFC 8976 A.1: serial 2018031900 (0x7848b91c), scheme 1 SIMPLE, hash 1 SHA-384
    (T.ZONEMD, "2018031900 1 1 " + Z48, None, "7848b91c 01 01 " + Z48),
    (T.DSYNC, "CDS NOTIFY 5359 ns.example.", None, "003b 01 14ef 02 6e73 " + EX),
    (T.DSYNC, "TYPE1234 2 0 .", None, "04d2 02 0000 00"),
    (T.SPF, '"v=spf1 -all"', None, "0b 763d73706631202d616c6c"),
    (T.AVC, 'a "b c"', '"a" "b c"', "01 61 03 622063"),
    (T.NINFO, '"x"', None, "01 78"),
    # RFC 9606 example: three strings
    (
        T.RESINFO,
        "qnamemin exterr=15,16,17 infourl=https://resolver.example.com/guide",
        '"qnamemin" "exterr=15,16,17" "infourl=https://resolver.example.com/guide"',
        "08 716e616d656d696e 0f 6578746572723d31352c31362c3137 "
        "2a 696e666f75726c3d68747470733a2f2f7265736f6c7665722e6578616d706c652e636f6d2f6775696465",
    ),
    (T.WALLET, '"BTC" "bc1q"', None, "03 425443 04 62633171"),
    # LOC, RFC 1876's sample master file entries: version 0, size, horizontal and vertical
    # precision as base<<4|exponent in cm, latitude and longitude in 1/1000" offset by 2^31,
    # altitude in cm offset by 10^7
    (
        T.LOC,
        "42 21 54 N 71 06 18 W -24m 30m",
        "42 21 54.000 N 71 6 18.000 W -24.00m 30.00m 10000.00m 10.00m",
        """00 33 16 13   # 30 m = 3e3 cm; defaults 1e6 cm, 1e3 cm
     89172dd0       # 2^31 + (42*3600 + 21*60 + 54) * 1000 = 2299997648
     70be15f0       # 2^31 - (71*3600 + 6*60 + 18) * 1000 = 1891505648
     00988d20       # 10^7 - 2400 = 9997600""",
    ),
    (
        T.LOC,
        "42 21 43.952 N 71 5 6.344 W -24m 1m 200m",
        "42 21 43.952 N 71 5 6.344 W -24.00m 1.00m 200.00m 10.00m",
        """00 12 24 13   # 1 m = 1e2 cm, 200 m = 2e4 cm, default 1e3 cm
     89170690       # 2^31 + (42*3600 + 21*60 + 43) * 1000 + 952
     70bf2dd8       # 2^31 - ((71*3600 + 5*60 + 6) * 1000 + 344)
     00988d20""",
    ),
    (T.LOC, "52 14 05 N 00 08 50 E 10m", "52 14 5.000 N 0 8 50.000 E 10.00m", None),
    (
        T.LOC,
        "90 S 180 W -100000m 0 0 0",
        "90 0 0.000 S 180 0 0.000 W -100000.00m 0.00m 0.00m 0.00m",
        """00 00 00 00   # sizes 0: base 0, exponent 0
     6cb02700       # 2^31 - 90 * 3600000
     59604e00       # 2^31 - 180 * 3600000
     00000000       # -100000 m: the lowest altitude""",
    ),
    (
        T.LOC,
        "0 N 0 E 42849672.95m 90000000m 1.5m 0.01m",
        "0 0 0.000 N 0 0 0.000 E 42849672.95m 90000000.00m 1.00m 0.01m",
        "00 99 12 10  80000000 80000000 ffffffff  # 1.5 m keeps one digit: 1e2 cm",
    ),
    # GPOS, RFC 1712's example
    (
        T.GPOS,
        "-32.6882 116.8652 10.0",
        None,
        "08 2d33322e36383832 08 3131362e38363532 04 31302e30",
    ),
    (T.GPOS, '"+90" -180. .5', "+90 -180. .5", "03 2b3930 05 2d3138302e 02 2e35"),
    # APL, RFC 3123's examples: family, prefix, N|AFD length, address without trailing zeros
    (T.APL, "1:192.168.32.0/21 !1:192.168.38.0/28", None, "0001 15 03 c0a820  0001 1c 83 c0a826"),
    (
        T.APL,
        "1:224.0.0.0/4 2:FF00:0:0:0:0:0:0:0/8",
        "1:224.0.0.0/4 2:ff00::/8",
        "0001 04 01 e0  0002 08 01 ff",
    ),
    (T.APL, "", None, ""),
    (T.APL, "1:0.0.0.0/0 3:0a0b/16", None, "0001 00 00  0003 10 02 0a0b"),
    # WKS (RFC 1035 3.4.2): port 25 is bit 1 of octet 3, port 53 bit 5 of octet 6
    (T.WKS, "192.0.2.1 tcp smtp 53", "192.0.2.1 6 25 53", "c0000201 06 00000040000004"),
    (T.WKS, "192.0.2.1 17", None, "c0000201 11"),
    (T.WKS, "\\# 6 c000020106 00", "\\# 6 c00002010600", "c0000201 06 00"),  # trailing zero
    # NSAP, RFC 1706's example
    (
        T.NSAP,
        "0x47.0005.80.005a00.0000.0001.e133.ffffff000161.00",
        "0x47000580005a0000000001e133ffffff00016100",
        "47000580005a0000000001e133ffffff00016100",
    ),
    # keys and certificates
    (T.KEY, "NOCONF|ZONE 3 1 AQID", "16640 3 1 AQID", "4100 03 01 010203"),
    (T.KEY, "NOKEY DNSSEC 3", "49152 3 3", "c000 03 03"),
    (T.KEY, "SIG5|HOST EMAIL RSASHA256 AQID", "517 2 8 AQID", "0205 02 08 010203"),
    (
        T.SIG,
        "A 13 2 3600 20300101000000 20290101000000 4242 Example. AQID",
        None,
        "0001 0d 02 00000e10 70dbd880 6efaa500 1092 " + "07 4578616d706c65 00 010203",
    ),
    (
        T.DLV,
        "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
        "60485 5 1 2bb183af5f22588179a53b0a98631fad1a292118",
        "ec45 05 01 2bb183af5f22588179a53b0a98631fad1a292118",
    ),
    (T.SMIMEA, "0 0 1 " + "ab" * 32, None, "00 00 01" + " ab" * 32),
    (T.CERT, "PGP 0 0 AQID", None, "0003 0000 00 010203"),
    (T.CERT, "1 65535 RSASHA256 AQID", "PKIX 65535 8 AQID", "0001 ffff 08 010203"),
    (T.CERT, "65000 1 255 AQID", None, "fde8 0001 ff 010203"),
    # RFC 4701's first example, printed in groups of 32 characters as dnspython does
    (
        T.DHCID,
        "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
        "AAIBY2/AuCccgoJbsaxcQc9TUapptP69 lOjxfNuVAA2kjEA=",
        "000201636fc0b8271c82825bb1ac5c41cf5351aa69b4febd94e8f17cdb95000da48c40",
    ),
    (T.OPENPGPKEY, "AQID BA==", "AQIDBA==", "01020304"),
    (T.HHIT, "AQID", None, "010203"),
    (T.BRID, "AQID", None, "010203"),
    # IPSECKEY, RFC 4025's examples: precedence, gateway type, algorithm, gateway, key
    (
        T.IPSECKEY,
        "10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==",
        "10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtu gbo6BSGvgqt4AQ==",
        "0a 01 02 c0000226 010351537986ed35533b6064478eeeb27b5bd74dae149b6e81ba3a0521af82ab7801",
    ),
    (T.IPSECKEY, "10 0 2 . AQID", None, "0a 00 02 010203"),
    (
        T.IPSECKEY,
        "10 2 2 2001:0DB8:0:8002::2000:1 AQID",
        "10 2 2 2001:db8:0:8002::2000:1 AQID",
        "0a 02 02 20010db8000080020000000020000001 010203",
    ),
    (
        T.IPSECKEY,
        "10 3 2 gw AQID",
        "10 3 2 gw.example. AQID",
        "0a 03 02 02 6777 " + EX + " 010203",
    ),
    (T.IPSECKEY, "10 0 0 .", "\\# 3 0a0000", "0a 00 00"),  # no key: printed in RFC 3597 form
    # AMTRELAY, RFC 8777's examples: the D bit is the top bit of the type octet
    (T.AMTRELAY, "10 0 1 203.0.113.15", None, "0a 01 cb00710f"),
    (T.AMTRELAY, "10 0 2 2001:db8::15", None, "0a 02 20010db8000000000000000000000015"),
    (
        T.AMTRELAY,
        "128 1 3 amtrelays.example.com.",
        None,
        "80 83 09 616d7472656c617973 07 6578616d706c65 03 636f6d 00",
    ),
    (T.AMTRELAY, "0 0 0 .", None, "00 00"),
    # HIP (RFC 8005 5): HIT length, algorithm, key length, HIT, key, rendezvous servers
    (
        T.HIP,
        "2 200100107B1A74DF365639CC39F1D578 AQID rvs Rvs2.",
        "2 200100107b1a74df365639cc39f1d578 AQID rvs.example. Rvs2.",
        "10 02 0003 200100107b1a74df365639cc39f1d578 010203 03 727673 " + EX + " 04 52767332 00",
    ),
    (
        T.TKEY,
        "gss-tsig. 1 2 3 0 AQID",
        None,
        "08 6773732d74736967 00  00000001 00000002 0003 0000  0003 010203  0000",
    ),
    (
        T.TKEY,
        'gss-tsig. 1 2 3 17 "" AQID',
        None,
        "08 6773732d74736967 00  00000001 00000002 0003 0011  0000  0003 010203",
    ),
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
        assert back == rd and back.to_text() == want and back.to_wire() == w
        assert R.from_text(rtype, want, ORIGIN).to_wire() == w
        # RFC 3597 generic form of a known type gives the same rdata
        # (binascii, not bytes.hex: MicroPython gives "b''" for an empty bytes' hex())
        generic = "\\# %d %s" % (len(w), binascii.hexlify(w).decode())
        assert R.from_text(rtype, generic, ORIGIN) == rd


def test_every_new_type_is_registered_and_has_a_case():
    have = set([c[0] for c in CASES])
    for rtype in (
        T.MB,
        T.MG,
        T.MR,
        T.MINFO,
        T.HINFO,
        T.RP,
        T.AFSDB,
        T.X25,
        T.ISDN,
        T.RT,
        T.KX,
        T.PX,
        T.NSAP_PTR,
        T.LP,
        T.NID,
        T.L32,
        T.L64,
        T.EUI48,
        T.EUI64,
        T.URI,
        T.CSYNC,
        T.ZONEMD,
        T.DSYNC,
        T.SPF,
        T.AVC,
        T.NINFO,
        T.RESINFO,
        T.WALLET,
        T.LOC,
        T.GPOS,
        T.APL,
        T.WKS,
        T.NSAP,
        T.KEY,
        T.SIG,
        T.DLV,
        T.SMIMEA,
        T.CERT,
        T.DHCID,
        T.OPENPGPKEY,
        T.HHIT,
        T.BRID,
        T.IPSECKEY,
        T.AMTRELAY,
        T.HIP,
        T.TKEY,
    ):
        assert rtype in R.CLASSES and R.CLASSES[rtype].rtype == rtype, rtype
        assert rtype in have, T.type_to_text(rtype)
        assert T.type_from_text(T.type_to_text(rtype)) == rtype
    # NULL (RFC 1035 3.3.10) has no presentation form: it stays RFC 3597 generic data
    null = T.type_from_text("NULL")
    assert null not in R.CLASSES
    assert R.from_text(null, "\\# 2 abcd", None).to_text() == "\\# 2 abcd"
    raises(TextError, R.from_text, null, "abcd", None)
    assert T.TKEY in T.META_TYPES


def test_attributes():
    loc = R.from_text(T.LOC, "42 21 54 N 71 06 18 W -24m 30m", ORIGIN)
    assert (loc.latitude, loc.longitude, loc.altitude) == (2299997648, 1891505648, 9997600)
    assert (loc.size, loc.hprec, loc.vprec) == (0x33, 0x16, 0x13)
    apl = R.from_text(T.APL, "!1:192.168.38.0/28", ORIGIN)
    assert apl.items == ((1, True, 28, b"\xc0\xa8\x26"),)
    rp = R.from_text(T.RP, "a b", ORIGIN)
    assert rp.mbox.to_text() == "a.example." and rp.txt.to_text() == "b.example."
    assert rp.names() == (rp.mbox, rp.txt)
    isdn = R.from_text(T.ISDN, "123", ORIGIN)
    assert isdn.address == b"123" and isdn.subaddress is None
    wks = R.from_text(T.WKS, "10.0.0.1 udp domain 0 65535", ORIGIN)
    assert wks.protocol == 17 and wks.ports() == [0, 53, 65535] and len(wks.bitmap) == 8192
    z = R.from_text(T.ZONEMD, "1 1 2 " + "00" * 64, ORIGIN)
    assert (z.serial, z.scheme, z.hash_algorithm, len(z.digest)) == (1, 1, 2, 64)
    gw = R.from_text(T.IPSECKEY, "1 3 2 gw. AQID", ORIGIN)
    assert gw.names() == (N.from_text("gw."),)


def test_canonical_form_lowercases_the_rfc_4034_types_only():
    # RFC 4034 6.2 (as RFC 6840 5.1 leaves it): names in these rdata are lower-cased
    lower = [
        (T.MB, "A.Example."),
        (T.MG, "A.Example."),
        (T.MR, "A.Example."),
        (T.MINFO, "A.Example. B.Example."),
        (T.RP, "A.Example. B.Example."),
        (T.AFSDB, "1 A.Example."),
        (T.RT, "1 A.Example."),
        (T.KX, "1 A.Example."),
        (T.PX, "1 A.Example. B.Example."),
        (T.SIG, "A 13 2 3600 20300101000000 20290101000000 4242 A.Example. AQID"),
    ]
    for rtype, text in lower:
        rd = R.from_text(rtype, text, None)
        w = rd.to_wire()
        assert b"Example" in w and rd.to_canonical() == w.lower(), rtype
        low = text.replace("A.Example.", "a.example.").replace("B.Example.", "b.example.")
        assert rd == R.from_text(rtype, low, None)  # equality compares canonical forms
    # not in the list: the case stays (NSAP-PTR, LP, and the newer types' names)
    kept = [
        (T.NSAP_PTR, "A.Example."),
        (T.LP, "1 A.Example."),
        (T.DSYNC, "CDS 1 53 A.Example."),
        (T.IPSECKEY, "1 3 2 A.Example. AQID"),
        (T.AMTRELAY, "1 0 3 A.Example."),
        (T.HIP, "2 00 AQID A.Example."),
        (T.TKEY, "A.Example. 1 2 3 0 AQID"),
    ]
    for rtype, text in kept:
        rd = R.from_text(rtype, text, None)
        assert b"Example" in rd.to_canonical() and rd.to_canonical() == rd.to_wire(), rtype
        assert rd != R.from_text(rtype, text.replace("A.Example.", "a.example."), None)


def test_names_are_never_compressed():
    # a compression table that knows example. at offset 12: NS may point at it (RFC 1035),
    # the types after RFC 1035 must not (RFC 3597 4), nor MB/MINFO (dnsbox keeps it simple)
    for rtype, text in (
        (T.RP, "a.example. b.example."),
        (T.AFSDB, "1 a.example."),
        (T.PX, "1 a.example. b.example."),
        (T.MB, "a.example."),
        (T.MINFO, "a.example. b.example."),
        (T.NSAP_PTR, "a.example."),
        (T.LP, "1 a.example."),
        (T.HIP, "2 00 AQID a.example."),
    ):
        rd = R.from_text(rtype, text, None)
        out = bytearray(20)
        rd.encode(out, {unhex(EX): 12})
        assert bytes(out[20:]) == rd.to_wire(), rtype
    ns = R.from_text(T.NS, "a.example.", None)
    out = bytearray(20)
    ns.encode(out, {unhex(EX): 12})
    assert bytes(out[20:]) == unhex("01 61 c00c")


def test_compressed_names_in_rdata_are_read():
    # RP whose names point back at "example." at offset 12 (after a 12-byte header)
    buf = bytes(12) + unhex(EX + " 01 61 c00c 01 62 c00c")
    rd = R.decode(T.RP, buf, 21, 8)
    assert rd.to_text() == "a.example. b.example."
    assert rd.to_wire() == unhex("01 61 " + EX + " 01 62 " + EX)


def test_text_errors():
    bad = [
        (T.MINFO, "a."),
        (T.HINFO, '"only-one"'),
        (T.HINFO, '"a" "b" "c"'),
        (T.X25, '"' + "1" * 256 + '"'),
        (T.AFSDB, "65536 a."),
        (T.NID, "10 0014:4fff:ff20"),
        (T.NID, "10 00144:fff:ff20:ee64"),
        (T.L64, "10 2001:db8::1"),
        (T.L32, "10 10.1.2"),
        (T.EUI48, "00-00-5e-00-53"),
        (T.EUI48, "00:00:5e:00:53:2a"),
        (T.EUI48, "00-00-5e-00-53-zz"),
        (T.EUI64, "00-00-5e-00-53-2a"),
        (T.URI, '1 1 ""'),
        (T.URI, "1 1"),
        (T.CSYNC, "1 2 BOGUS"),
        (T.CSYNC, "4294967296 0"),
        (T.ZONEMD, "1 0 1 " + Z48),  # scheme 0 reserved
        (T.ZONEMD, "1 1 0 " + Z48),  # hash algorithm 0 reserved
        (T.ZONEMD, "1 1 1 " + Z48[:-2]),  # SHA-384 is 48 octets
        (T.ZONEMD, "1 1 9 " + "00" * 11),  # at least 12 octets
        (T.DSYNC, "CDS BOGUS 53 a."),
        (T.DSYNC, "CDS 1 65536 a."),
        (T.DSYNC, "BOGUS 1 53 a."),
        (T.LOC, "91 N 0 E 0m"),
        (T.LOC, "90 0 1 N 0 E 0m"),  # over 90 degrees
        (T.LOC, "42 60 N 0 E 0m"),  # minutes
        (T.LOC, "42 1 60 N 0 E 0m"),  # seconds
        (T.LOC, "42 N 181 E 0m"),
        (T.LOC, "42 X 0 E 0m"),
        (T.LOC, "42 N 0 E"),
        (T.LOC, "1 2 3.4567 N 1 E 0m"),  # thousandths at most
        (T.LOC, "1 N 1 E 1.234m"),  # centimetres at most
        (T.LOC, "1 N 1 E -100000.01m"),
        (T.LOC, "1 N 1 E 42849672.96m"),
        (T.LOC, "1 N 1 E 0m 100000000m"),
        (T.LOC, "1 N 1 E 0m 1m 1m 1m 1m"),
        (T.LOC, "1 N 1 E 0m -1m"),
        (T.GPOS, "91 0 0"),
        (T.GPOS, "90.1 0 0"),
        (T.GPOS, "0 -180.5 0"),
        (T.GPOS, "1.2.3 0 0"),
        (T.GPOS, "a 0 0"),
        (T.GPOS, "0 0 ."),
        (T.APL, "1:192.168.0.0/33"),
        (T.APL, "2:1::/129"),
        (T.APL, "1:1.2.3.4"),
        (T.APL, "x:1.2.3.4/8"),
        (T.APL, "3:zz/8"),
        (T.APL, "1:1.2.3/8"),
        (T.WKS, "1.2.3.4 foo 25"),
        (T.WKS, "1.2.3.4 6 65536"),
        (T.WKS, "1.2.3.4 6 nosuchservice"),
        (T.WKS, "1.2.3.4 256"),
        (T.NSAP, "47.0005"),
        (T.NSAP, "0x4"),
        (T.KEY, "BOGUS 3 1 AQID"),
        (T.KEY, "SIG16 3 1 AQID"),
        (T.KEY, "256 BOGUS 1 AQID"),
        (T.KEY, "256 3 BOGUS AQID"),
        (T.CERT, "BOGUS 1 1 AQID"),
        (T.CERT, "1 70000 1 AQID"),
        (T.CERT, "1 1 1 !!!!"),
        (T.DLV, "1 2 2 abcd"),
        (T.SMIMEA, "3 1 1 abcd"),
        (T.IPSECKEY, "10 4 2 x AQID"),
        (T.IPSECKEY, "10 0 2 1.2.3.4 AQID"),
        (T.IPSECKEY, "10 1 2 1.2.3 AQID"),
        (T.IPSECKEY, "10 2 2 1.2.3.4 AQID"),
        (T.AMTRELAY, "10 2 1 1.2.3.4"),
        (T.AMTRELAY, "10 0 128 ."),
        (T.AMTRELAY, "10 0 4 x."),
        (T.AMTRELAY, "10 0 0 x."),
        (T.HIP, "2 zz AQID"),
        (T.HIP, "2 0011 !!"),
        (T.HIP, "2 0011"),
        (T.TKEY, "alg. 1 2 3 0"),
        (T.TKEY, "alg. 1 2 65536 0 AQID"),
        (T.SPF, ""),
    ]
    for rtype, text in bad:
        e = raises(TextError, R.from_text, rtype, text, ORIGIN)
        assert str(e), (rtype, text)


def test_malformed_wire_is_a_wire_error():
    bad = [
        (T.LOC, "01 12 16 13 80000000 80000000 00989680"),  # version 1
        (T.LOC, "00 a2 16 13 80000000 80000000 00989680"),  # size base 10
        (T.LOC, "00 1a 16 13 80000000 80000000 00989680"),  # size exponent 10
        (T.LOC, "00 02 16 13 80000000 80000000 00989680"),  # zero base with an exponent
        (T.LOC, "00 12 16 13 ffffffff 80000000 00989680"),  # latitude over 90 degrees
        (T.LOC, "00 12 16 13 80000000 00000000 00989680"),  # longitude over 180 degrees
        (T.LOC, "00 12 16 13 80000000 80000000 009896"),  # short
        (T.APL, "0001 15 03 c0a800"),  # trailing zero octet
        (T.APL, "0001 15 05 c0a8"),  # address runs past the rdata
        (T.APL, "0001 20 05 0102030405"),  # IPv4 address of 5 octets
        (T.APL, "0001 21 01 01"),  # IPv4 prefix 33
        (T.APL, "0001 15"),
        (T.EUI48, "00005e0053"),
        (T.EUI64, "00005e00532a"),
        (T.NID, "000a 00144fffff20ee"),
        (T.L32, "000a 0a0102"),
        (T.ZONEMD, "00000001 01 01 00"),  # digest too short
        (T.ZONEMD, "00000001 00 01 " + Z48),  # scheme 0
        (T.URI, "000a 0001"),  # empty target
        (T.CSYNC, "00000001 0000 00 02 40 00"),  # bitmap ends in a zero octet
        (T.CSYNC, "00000001 00"),
        (T.HINFO, "03 616263"),  # one string
        (T.HINFO, "03 616263 05 6465"),  # second string past the end
        (T.GPOS, "01 78 01 30 01 30"),  # latitude "x"
        (T.AFSDB, "0001 00 ff"),  # a byte after the name
        (T.MINFO, "00"),
        (T.WKS, "c0000201"),
        (T.IPSECKEY, "0a 04 02 010203"),  # gateway type 4
        (T.IPSECKEY, "0a 01 02 c000"),  # IPv4 gateway cut short
        (T.IPSECKEY, "0a 03 02 03 6162"),  # gateway name past the end
        (T.AMTRELAY, "0a 05 00"),  # relay type 5
        (T.AMTRELAY, "0a 01 cb0071"),
        (T.AMTRELAY, "0a 00 00"),  # type 0 with data after
        (T.HIP, "00 02 0003 010203"),  # HIT length 0
        (T.HIP, "01 02 0009 aa 010203"),  # key past the end
        (T.HIP, "01 02 0000 aa"),  # no key
        (T.TKEY, "00 00000001 00000002 0003 0000 0000 0005 01"),  # other data past the end
        (T.TKEY, "00 00000001 00000002 0003 0000 0000"),  # no other length
        (T.TKEY, "00 00000001 00000002 0003 0000 0000 0000 ff"),  # a byte too many
        (T.DLV, "0001 05 02 0102"),  # SHA-256 digest of 2 octets
        (T.SIG, "0001 0d 02 00000e10"),
        (T.CERT, "0001 0001"),
        (T.DSYNC, "003b 01 14"),
        (T.ISDN, "01 31 01 32 00"),  # a third string
    ]
    for rtype, hexs in bad:
        data = unhex(hexs)
        e = raises(WireError, R.decode, rtype, data + b"\xff\xff", 0, len(data))
        assert e.reason, (rtype, hexs)
