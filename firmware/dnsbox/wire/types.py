"""Record types and classes: constants and their mnemonics (RFC 1035 3.2, RFC 3597 5).

Opcodes are in wire.opcode, rcodes in wire.rcode.
"""

from dnsbox.compat import const
from dnsbox.wire.errors import TextError

A = const(1)
NS = const(2)
CNAME = const(5)
SOA = const(6)
MB = const(7)
MG = const(8)
MR = const(9)
WKS = const(11)
PTR = const(12)
HINFO = const(13)
MINFO = const(14)
MX = const(15)
TXT = const(16)
RP = const(17)
AFSDB = const(18)
X25 = const(19)
ISDN = const(20)
RT = const(21)
NSAP = const(22)
NSAP_PTR = const(23)
SIG = const(24)
KEY = const(25)
PX = const(26)
GPOS = const(27)
AAAA = const(28)
LOC = const(29)
SRV = const(33)
NAPTR = const(35)
KX = const(36)
CERT = const(37)
DNAME = const(39)
OPT = const(41)
APL = const(42)
DS = const(43)
SSHFP = const(44)
IPSECKEY = const(45)
RRSIG = const(46)
NSEC = const(47)
DNSKEY = const(48)
DHCID = const(49)
NSEC3 = const(50)
NSEC3PARAM = const(51)
TLSA = const(52)
SMIMEA = const(53)
HIP = const(55)
NINFO = const(56)
CDS = const(59)
CDNSKEY = const(60)
OPENPGPKEY = const(61)
CSYNC = const(62)
ZONEMD = const(63)
SVCB = const(64)
HTTPS = const(65)
DSYNC = const(66)
HHIT = const(67)
BRID = const(68)
SPF = const(99)
NID = const(104)
L32 = const(105)
L64 = const(106)
LP = const(107)
EUI48 = const(108)
EUI64 = const(109)
TKEY = const(249)
TSIG = const(250)
IXFR = const(251)
AXFR = const(252)
ANY = const(255)
URI = const(256)
CAA = const(257)
AVC = const(258)
AMTRELAY = const(260)
RESINFO = const(261)
WALLET = const(262)
DLV = const(32769)

CLASS_IN = const(1)
CLASS_CH = const(3)
CLASS_HS = const(4)
CLASS_NONE = const(254)
CLASS_ANY = const(255)

# Meta types (RFC 6895 3.1): never stored in a zone; OPT and TSIG live outside the sections.
META_TYPES = (OPT, TKEY, TSIG, IXFR, AXFR, ANY)

_TYPE_TEXT = {
    A: "A",
    NS: "NS",
    CNAME: "CNAME",
    SOA: "SOA",
    PTR: "PTR",
    MX: "MX",
    TXT: "TXT",
    AAAA: "AAAA",
    SRV: "SRV",
    NAPTR: "NAPTR",
    DNAME: "DNAME",
    OPT: "OPT",
    DS: "DS",
    SSHFP: "SSHFP",
    RRSIG: "RRSIG",
    NSEC: "NSEC",
    DNSKEY: "DNSKEY",
    NSEC3: "NSEC3",
    NSEC3PARAM: "NSEC3PARAM",
    TLSA: "TLSA",
    CDS: "CDS",
    CDNSKEY: "CDNSKEY",
    SVCB: "SVCB",
    HTTPS: "HTTPS",
    TSIG: "TSIG",
    IXFR: "IXFR",
    AXFR: "AXFR",
    ANY: "ANY",
    CAA: "CAA",
}
# Mnemonics of other registered types (IANA "Resource Record (RR) TYPEs"): text only; their
# rdata is handled as RFC 3597 generic data.
_OTHER = (
    "3 MD 4 MF 7 MB 8 MG 9 MR 10 NULL 11 WKS 13 HINFO 14 MINFO 17 RP 18 AFSDB 19 X25 20 ISDN "
    "21 RT 22 NSAP 23 NSAP-PTR 24 SIG 25 KEY 26 PX 27 GPOS 29 LOC 30 NXT 36 KX 37 CERT 38 A6 "
    "42 APL 45 IPSECKEY 49 DHCID 53 SMIMEA 55 HIP 56 NINFO 61 OPENPGPKEY 62 CSYNC 63 ZONEMD "
    "66 DSYNC 67 HHIT 68 BRID 99 SPF 103 UNSPEC 104 NID 105 L32 106 L64 107 LP 108 EUI48 "
    "109 EUI64 128 NXNAME 249 TKEY 253 MAILB 254 MAILA 256 URI 258 AVC 260 AMTRELAY "
    "261 RESINFO 262 WALLET 32768 TA 32769 DLV"
).split()
for _i in range(0, len(_OTHER), 2):
    _TYPE_TEXT[int(_OTHER[_i])] = _OTHER[_i + 1]
_TYPE_VALUE = {}
for _k in _TYPE_TEXT:
    _TYPE_VALUE[_TYPE_TEXT[_k]] = _k

_CLASS_TEXT = {
    CLASS_IN: "IN",
    CLASS_CH: "CH",
    CLASS_HS: "HS",
    CLASS_NONE: "NONE",
    CLASS_ANY: "ANY",
}
_CLASS_VALUE = {"IN": CLASS_IN, "CH": CLASS_CH, "CHAOS": CLASS_CH, "HS": CLASS_HS}
_CLASS_VALUE["HESIOD"] = CLASS_HS
_CLASS_VALUE["NONE"] = CLASS_NONE
_CLASS_VALUE["ANY"] = CLASS_ANY


def _generic(text, prefix, what):
    # "TYPE65534" / "CLASS3" (RFC 3597 5): decimal digits only, 0..65535
    digits = text[len(prefix) :]
    if not digits or not digits.isdigit() or len(digits) > 5:
        raise TextError("unknown %s %r" % (what, text))
    value = int(digits)
    if value > 65535:
        raise TextError("%s number out of range: %r" % (what, text))
    return value


def type_to_text(rtype):
    """Mnemonic of a record type, or TYPEnnn (RFC 3597 5)."""
    t = _TYPE_TEXT.get(rtype)
    return t if t is not None else "TYPE%d" % rtype


def type_from_text(text):
    """Record type number from its mnemonic or TYPEnnn; raises TextError."""
    up = text.upper()
    v = _TYPE_VALUE.get(up)
    if v is not None:
        return v
    if up.startswith("TYPE"):
        return _generic(up, "TYPE", "type")
    raise TextError("unknown record type %r" % text)


def class_to_text(rclass):
    """Mnemonic of a class, or CLASSnnn (RFC 3597 5)."""
    t = _CLASS_TEXT.get(rclass)
    return t if t is not None else "CLASS%d" % rclass


def class_from_text(text):
    """Class number from its mnemonic or CLASSnnn; raises TextError."""
    up = text.upper()
    v = _CLASS_VALUE.get(up)
    if v is not None:
        return v
    if up.startswith("CLASS"):
        return _generic(up, "CLASS", "class")
    raise TextError("unknown class %r" % text)


def is_type_text(text):
    """True if text names a record type (the zone parser tells TTL/class/type apart)."""
    try:
        type_from_text(text)
    except TextError:
        return False
    return True
