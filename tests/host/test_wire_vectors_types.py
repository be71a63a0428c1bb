"""Pinned wire vectors for the record types added after the first set (tests/vectors/wire/
type-*.txt, made with dnspython as the oracle in the format of test_wire_vectors.py, which
tests/unit/test_wire_vectors.py checks on both interpreters and in the frozen binary).

`python3 -m tests.host.test_wire_vectors_types write` (re)writes them. The texts are the RFC
examples where there are some, chosen so that dnspython prints them as dnsbox does (the unit
test compares the records' text too)."""

import os
import sys

from tests.host.rdtexts import HIP_KEY, KEY64, Z48
from tests.host.test_wire_vectors import DIR, _response, render

EXAMPLES = [
    ("WKS", ["192.0.2.1 6 25 53 80"]),
    ("HINFO", ['"DEC-2060" "TOPS20"']),  # RFC 1035 3.3.2
    ("RP", ["louie.trantor.umd.edu. LAM1.people.umd.edu."]),  # RFC 1183
    ("AFSDB", ["1 bigbird.toaster.com.", "2 toaster.Example.com."]),  # RFC 1183
    ("X25", ["311061700956"]),  # RFC 1183
    ("ISDN", ['"150862028003217" "004"', '"150862028003217"']),  # RFC 1183
    ("RT", ["2 Relay.Prime.COM."]),  # RFC 1183
    ("NSAP", ["0x47.0005.80.005a00.0000.0001.e133.ffffff000161.00"]),  # RFC 1706
    ("NSAP-PTR", ["foo.example."]),
    ("SIG", ["A 5 2 3600 20300101000000 20290101000000 4242 example. AQID"]),
    ("KEY", ["256 3 8 AwEAAQ==", "NOKEY 3 1"]),
    ("PX", ["10 net2.it. PRMD-net2.ADMD-p400.C-it."]),  # RFC 2163
    ("GPOS", ["-32.6882 116.8652 10.0"]),  # RFC 1712
    ("LOC", ["42 21 54 N 71 06 18 W -24m 30m", "52 14 05 N 00 08 50 E 10m"]),  # RFC 1876
    ("KX", ["10 kx.example."]),
    ("CERT", ["PKIX 0 0 MIIC"]),
    ("APL", ["1:192.168.32.0/21 !1:192.168.38.0/28", "1:224.0.0.0/4 2:ff00::/8"]),  # RFC 3123
    ("IPSECKEY", ["10 1 2 192.0.2.38 " + KEY64, "10 3 2 mygateway.example.com. " + KEY64]),
    ("DHCID", ["AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA="]),  # RFC 4701
    ("SMIMEA", ["3 1 1 " + "0123456789abcdef" * 4]),
    ("HIP", ["2 200100107B1A74DF365639CC39F1D578 " + HIP_KEY + " rvs.example.com."]),
    ("NINFO", ['"hello"']),
    ("OPENPGPKEY", ["AQIDBAUG"]),
    ("CSYNC", ["66 3 A NS AAAA"]),  # RFC 7477
    ("ZONEMD", ["2018031900 1 1 " + Z48]),  # RFC 8976 A.1
    ("DSYNC", ["CDS NOTIFY 5359 ns.example."]),
    ("HHIT", ["aGVsbG8gd29ybGQ="]),
    ("BRID", ["AQID"]),
    ("SPF", ['"v=spf1 -all"']),
    ("NID", ["10 0014:4fff:ff20:ee64"]),  # RFC 6742
    ("L32", ["10 10.1.2.0"]),
    ("L64", ["10 2001:0db8:1140:1000"]),
    ("LP", ["10 l64-subnet1.example.com."]),
    ("EUI48", ["00-00-5e-00-53-2a"]),  # RFC 7043
    ("EUI64", ["00-00-5e-ef-10-00-00-2a"]),  # RFC 7043
    ("URI", ['10 1 "ftp://ftp1.example.com/public"']),  # RFC 7553
    ("AVC", ['"app-name:WOLFGANG|app-class:OAM|business=yes"']),
    ("AMTRELAY", ["10 0 1 203.0.113.15", "128 1 3 amtrelays.example.com."]),  # RFC 8777
    ("RESINFO", ["qnamemin exterr=15,16,17 infourl=https://resolver.example.com/guide"]),
    ("WALLET", ['"BTC" "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"']),
    ("DLV", ["60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"]),
]


def vectors():
    out = []
    for t, texts in EXAMPLES:
        m = _response("www.example.com.", t, texts)
        w = m.to_wire(want_shuffle=False)
        out.append(("type-%s.txt" % t, "%s response" % t, "ok", m, w))
    return out


def write():
    for v in vectors():
        with open(os.path.join(DIR, v[0]), "w") as f:
            f.write(render(*v))
        print("wrote", v[0])


def test_vectors_match_dnspython():
    """The committed files are what dnspython produces today (rerun `write` if this fails)."""
    names = set()
    for v in vectors():
        with open(os.path.join(DIR, v[0])) as f:
            assert f.read() == render(*v), v[0]
        names.add(v[0])
    assert len(names) == len(EXAMPLES)


if __name__ == "__main__" and sys.argv[1:] == ["write"]:
    write()
