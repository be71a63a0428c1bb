"""(No tests here.) Presentation texts of every record type the codec knows, for the host
cross-checks against dnspython (test_rdata_dnspython) and BIND (test_zone_every_type).

TEXTS: mnemonic -> texts that dnspython, BIND and dnsbox all take, to the same wire. Names are
absolute; the RFC examples are taken where the RFCs give them.
ODD: texts where the three disagree on purpose (see the reason given with each)."""

Z48 = (
    "c68090d90a7aed716bc459f9340e3d7c1370d4d24b7e2fc3"
    "a1ddc0b9a87153b9a9713b3c9ae5cc27777f98b8e730044c"
)
KEY64 = "AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=="  # RFC 4025's example key
HIP_KEY = (
    "AwEAAbdxyhNuSutc5EMzxTs9LBPCIkOFH8cIvM4p9+LrV4e19WzK00+CI6zBCQTdtWsuxKbWIy87UOoJTwkUs7lB"
    "u+Upr1gsNrut79ryra+bSRGQb1slImA8YVJyuIDsj7kwzG7jnERNqnWxZ48AWkskmdHaVDP4BcelrTI3rMXdXF5D"
)  # RFC 8005's example

TEXTS = {
    "A": ["192.0.2.1", "0.0.0.0"],
    "NS": ["ns.Example.", "."],
    "CNAME": ["target.example.com."],
    "SOA": ["ns.example. admin.example. 2024010101 3600 900 1209600 300"],
    "MB": ["Mail.example.", "."],
    "MG": ["mg.example."],
    "MR": ["mr.Example."],
    "WKS": ["192.0.2.1 tcp smtp domain 80", "10.0.0.1 6 0 1 2 65535", "1.2.3.4 udp 53"],
    "PTR": ["host.example."],
    "HINFO": ['"DEC-2060" "TOPS20"', "x86 linux", '"" ""', '"a\\"b" "\\255"'],
    "MINFO": ["rm.Example. em.example.", ". ."],
    "MX": ["10 mail.example.", "0 ."],
    "TXT": ['"hello world" x', '"\\000\\255"'],
    "RP": ["louie.trantor.umd.edu. LAM1.people.umd.edu.", ". ."],
    "AFSDB": ["1 bigbird.toaster.com.", "65535 x."],
    "X25": ["311061700956"],
    "ISDN": ["150862028003217", '"150862028003217" "004"'],
    "RT": ["2 Relay.Prime.COM.", "0 x."],
    "NSAP": ["0x47.0005.80.005a00.0000.0001.e133.ffffff000161.00", "0x4700"],
    "NSAP-PTR": ["Foo.example."],
    "SIG": ["A 5 2 3600 20300101000000 20290101000000 4242 Example. AQID"],
    "KEY": ["256 3 8 AwEAAQ==", "NOCONF|ZONE 3 1 AQID", "513 3 RSASHA256 AQID"],
    "PX": ["10 net2.it. PRMD-net2.ADMD-p400.C-it."],
    "GPOS": ["-32.6882 116.8652 10.0", "+1.5 -0 0", "90 180 -5.", "-90.000 .5 3"],
    "AAAA": ["2001:db8::1", "::ffff:192.0.2.1"],
    "LOC": [
        "42 21 54 N 71 06 18 W -24m 30m",
        "42 21 43.952 N 71 5 6.344 W -24m 1m 200m",
        "52 14 05 N 00 08 50 E 10m",
        "32 7 19 S 116 2 25 E 10m",
        "42 21 28.764 N 71 00 51.617 W -44m 2000m",
        "0 N 0 E 0m",
        "90 S 180 W -100000.00m 0m 0m 0m",
        "1 2 3.4 N 5 6 7.89 E 42849672.95m 90000000m 1.5m 0.01m",
        "60 9 N 24 39 E 10 20 2000 20",
    ],
    "SRV": ["0 5 5060 sip.example."],
    "NAPTR": ['100 10 "S" "SIP+D2U" "" _sip._udp.example.'],
    "KX": ["10 kx.Example."],
    "CERT": [
        "PKIX 0 0 MIIC",
        "1 12345 8 AQID",
        "URI 1 RSASHA256 aGVsbG8=",
        "65535 65535 255 AQID",
    ],
    "DNAME": ["example.net."],
    "APL": [
        "1:192.168.32.0/21 !1:192.168.38.0/28",
        "1:224.0.0.0/4 2:FF00:0:0:0:0:0:0:0/8",
        "1:127.0.0.1/32 1:172.16.64.0/22",
        "1:0.0.0.0/0 2:::/0",
    ],
    "DS": ["60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"],
    "SSHFP": ["2 1 123456789abcdef67890123456789abcdef67890"],
    "IPSECKEY": [
        "10 1 2 192.0.2.38 " + KEY64,
        "10 0 2 . " + KEY64,
        "10 3 2 mygateway.example.com. " + KEY64,
        "10 2 2 2001:0DB8:0:8002::2000:1 " + KEY64,
    ],
    "RRSIG": ["A 13 2 3600 20300101000000 20290101000000 4242 example. AQID"],
    "NSEC": ["host.example.com. A MX RRSIG NSEC TYPE1234"],
    "DNSKEY": ["256 3 13 AQIDBA=="],
    "DHCID": [
        "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
        "AAEBOSD+XR3Os/0LozeXVqcNc7FwCfQdWL3b/NaiUDlW2No=",
        "AAABxLmlskllE0MVjd57zHcWmEH3pCQ6VytcKD//7es/deY=",
    ],
    "NSEC3": ["1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr A RRSIG"],
    "NSEC3PARAM": ["1 0 12 aabbccdd", "1 0 0 -"],
    "TLSA": ["3 1 1 " + "0123456789abcdef" * 4],
    "SMIMEA": ["3 1 1 " + "0123456789abcdef" * 4, "0 0 0 0102"],
    "HIP": [
        "2 200100107B1A74DF365639CC39F1D578 " + HIP_KEY,
        "2 200100107B1A74DF365639CC39F1D578 AQID rvs1.example.com. rvs2.Example.com.",
    ],
    "NINFO": ['"hello" "world"'],
    "CDS": ["0 0 0 00"],
    "CDNSKEY": ["0 3 0 AA=="],
    "OPENPGPKEY": ["AQIDBAUG"],
    "CSYNC": ["66 3 A NS AAAA", "0 0", "4294967295 65535 TYPE1234"],
    "ZONEMD": ["2018031900 1 1 " + Z48, "1 1 2 " + "ab" * 64, "1 240 255 " + "00" * 12],
    "SVCB": [
        "0 foo.example.com.",
        "1 .",
        "16 foo.example.com. port=53",
        "1 foo.example.com. key667=hello",
        '1 foo.example.com. key667="hello\\210qoo"',
        '1 foo.example.com. ipv6hint="2001:db8::1,2001:db8::53:1"',
        '1 example.com. ipv6hint="2001:db8:122:344::192.0.2.33"',
        "16 foo.example.org. alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1",
        '16 foo.example.org. alpn="f\\\\\\\\oo\\\\,bar,h2"',
        "16 foo.example.org. alpn=f\\\\\\092oo\\092,bar,h2",
        '1 . alpn="h3,h2" ipv4hint="192.0.2.1,192.0.2.2" ech="AAQBAgME" port="853"',
        '1 . alpn=h2 no-default-alpn dohpath="/dns-query{?dns}" key65000="a b"',
    ],
    "HTTPS": [
        "0 svc.example.net.",
        '1 . alpn="h3" no-default-alpn ipv6hint="2001:db8::1"',
        '1 . mandatory="port" port="8443" key7="/q{?dns}"',
    ],
    "DSYNC": ["CDS NOTIFY 5359 ns.example.", "CSYNC 1 53 .", "TYPE1234 2 0 x."],
    "HHIT": ["AQID", "aGVsbG8gd29ybGQ="],
    "BRID": ["AQID"],
    "SPF": ['"v=spf1 -all"', "a b"],
    "NID": ["10 0014:4fff:ff20:ee64", "0 FFFF:0000:0000:0001"],
    "L32": ["10 10.1.2.0"],
    "L64": ["10 2001:0db8:1140:1000"],
    "LP": ["10 l64-subnet1.Example.com."],
    "EUI48": ["00-00-5e-00-53-2a", "FF-FF-FF-FF-FF-FF"],
    "EUI64": ["00-00-5e-ef-10-00-00-2a"],
    "TKEY": ["gss-tsig. 1 2 3 0 AQID", 'hmac-md5.sig-alg.reg.int. 0 4294967295 65535 23 "" AQID'],
    "TSIG": ["hmac-sha256. 1700000000 300 4 AQIDBA== 4321 NOERROR 0", 'x. 1 2 0 "" 3 BADSIG 0'],
    "URI": ['10 1 "ftp://ftp1.example.com/public"', '1 0 "http://www.example.com/path"'],
    "CAA": ['0 issue "ca.example.net"', '128 tbs ""'],
    "AVC": ['"app-name:WOLFGANG|app-class:OAM|business=yes"'],
    "AMTRELAY": [
        "10 0 1 203.0.113.15",
        "10 0 2 2001:db8::15",
        "128 1 3 amtrelays.example.com.",
        "0 0 0 .",
    ],
    "RESINFO": ["qnamemin exterr=15,16,17 infourl=https://resolver.example.com/guide"],
    "WALLET": ['"BTC" "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"'],
    "DLV": ["60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"],
}

# Types without a presentation form of their own: OPT lives in the EDNS pseudo-section.
NO_TEXT = ("OPT",)
# Types dnspython 2.9 does not know (RFC 1035's mail types): checked against BIND instead.
DNSPYTHON_LACKS = ("MB", "MG", "MR", "MINFO")
# Meta types BIND refuses in a zone (RFC 2930, RFC 8945).
NOT_IN_ZONES = ("TKEY", "TSIG")

# (type, text, why the other implementations disagree with dnsbox)
ODD = [
    ("ISDN", '"1" ""', "dnspython drops an empty subaddress; dnsbox and BIND keep it"),
    ("IPSECKEY", "10 0 0 .", "no key: BIND and dnspython want one; dnsbox prints \\# form"),
    ("X25", '"a b"', "BIND wants digits (RFC 1183); dnspython and dnsbox take any string"),
]
