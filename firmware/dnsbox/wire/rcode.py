"""DNS response codes, 12 bits with EDNS (RFC 6895 2.3), and TSIG error codes (RFC 8945)."""

from dnsbox.compat import const

NOERROR = const(0)
FORMERR = const(1)
SERVFAIL = const(2)
NXDOMAIN = const(3)
NOTIMP = const(4)
REFUSED = const(5)
YXDOMAIN = const(6)
YXRRSET = const(7)
NXRRSET = const(8)
NOTAUTH = const(9)
NOTZONE = const(10)
DSOTYPENI = const(11)
BADVERS = const(16)  # in OPT (RFC 6891)
BADSIG = const(16)  # same value, in a TSIG record's error field (RFC 8945)
BADKEY = const(17)
BADTIME = const(18)
BADMODE = const(19)
BADNAME = const(20)
BADALG = const(21)
BADTRUNC = const(22)
BADCOOKIE = const(23)

MAX = const(4095)  # 12 bits: 4 in the header, 8 in OPT

_TEXT = {
    NOERROR: "NOERROR",
    FORMERR: "FORMERR",
    SERVFAIL: "SERVFAIL",
    NXDOMAIN: "NXDOMAIN",
    NOTIMP: "NOTIMP",
    REFUSED: "REFUSED",
    YXDOMAIN: "YXDOMAIN",
    YXRRSET: "YXRRSET",
    NXRRSET: "NXRRSET",
    NOTAUTH: "NOTAUTH",
    NOTZONE: "NOTZONE",
    DSOTYPENI: "DSOTYPENI",
    BADVERS: "BADVERS",
    BADKEY: "BADKEY",
    BADTIME: "BADTIME",
    BADMODE: "BADMODE",
    BADNAME: "BADNAME",
    BADALG: "BADALG",
    BADTRUNC: "BADTRUNC",
    BADCOOKIE: "BADCOOKIE",
}


def to_text(value, tsig=False):
    """Mnemonic of an rcode (tsig=True: 16 is BADSIG), or its number as text."""
    if tsig and value == BADSIG:
        return "BADSIG"
    t = _TEXT.get(value)
    return t if t is not None else str(value)


def from_text(text):
    """Rcode from a mnemonic or a number 0..4095; raises ValueError."""
    up = text.upper()
    if up == "BADSIG":
        return BADSIG
    for k in _TEXT:
        if _TEXT[k] == up:
            return k
    if up.isdigit() and int(up) <= MAX:
        return int(up)
    raise ValueError("unknown rcode %r" % text)
