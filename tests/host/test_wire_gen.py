"""(No tests here.) Hypothesis strategies shared by the wire host tests: dnspython rdata and
messages of every type the codec knows, with names that share suffixes (so compression gets
exercised)."""

import base64
import struct

import dns.edns
import dns.flags
import dns.ipv6
import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.CAA
import dns.rdtypes.ANY.TXT
import dns.rdtypes.IN.NAPTR
import dns.rrset
from hypothesis import strategies as st

# A small pool of label bytes: shared suffixes compress; odd bytes test escapes.
LABELS = [b"example", b"com", b"Www", b"mail", b"a", b"\x00", b"x.y", b'q"\\', b"*", b"\xc3\xa9"]
label = st.one_of(st.sampled_from(LABELS), st.binary(min_size=1, max_size=63)).filter(
    lambda b: 0 < len(b) <= 63
)


@st.composite
def dname(draw, max_labels=4):
    labs = draw(st.lists(label, max_size=max_labels))
    total = sum(len(x) + 1 for x in labs) + 1
    while total > 255:
        total -= len(labs.pop()) + 1
    return dns.name.Name(labs + [b""])


def _n(draw):
    return draw(dname()).to_text()


u8 = st.integers(0, 255)
u16 = st.integers(0, 65535)
u32 = st.integers(0, 0xFFFFFFFF)


def _str(draw, max_size=40):
    return draw(st.binary(max_size=max_size))


def _b64(b):
    return base64.b64encode(b).decode()


IN = dns.rdataclass.IN


def _mk(t, text):
    return dns.rdata.from_text(IN, t, text)


def _bitmap(draw):
    types = draw(
        st.lists(
            st.one_of(
                st.sampled_from([1, 2, 5, 6, 15, 16, 28, 46, 47, 48, 50, 257]),
                st.integers(1, 65535),
            ),
            max_size=6,
        )
    )
    return " ".join(sorted({dns.rdatatype.to_text(x) for x in types if x not in (0,)}))


def _alpn_text(item):
    # list escaping (RFC 9460 A.1) then character-string escaping of the backslashes
    e = item.replace("\\", "\\\\").replace(",", "\\,")
    return e.replace("\\", "\\\\")


@st.composite
def rdata_of(draw, t):
    """A dnspython rdata object of type t."""
    T = dns.rdatatype
    if t == T.A:
        return _mk(t, ".".join(str(x) for x in draw(st.binary(min_size=4, max_size=4))))
    if t == T.AAAA:
        b = draw(
            st.one_of(
                st.binary(min_size=16, max_size=16),
                st.builds(
                    lambda x: bytes(10) + b"\xff\xff" + x, st.binary(min_size=4, max_size=4)
                ),
                st.builds(lambda x: bytes(12) + x, st.binary(min_size=4, max_size=4)),
                st.builds(
                    lambda x, k: bytes(k) + x + bytes(14 - k),
                    st.binary(min_size=2, max_size=2),
                    st.integers(0, 14),
                ),
            )
        )
        return _mk(t, dns.ipv6.inet_ntoa(b))
    if t in (T.NS, T.CNAME, T.PTR, T.DNAME):
        return _mk(t, _n(draw))
    if t == T.MX:
        return _mk(t, "%d %s" % (draw(u16), _n(draw)))
    if t == T.SOA:
        nums = " ".join(str(draw(u32)) for _ in range(5))
        return _mk(t, "%s %s %s" % (_n(draw), _n(draw), nums))
    if t == T.TXT:
        strs = draw(st.lists(st.binary(max_size=255), min_size=1, max_size=3))
        return dns.rdtypes.ANY.TXT.TXT(IN, t, strs)
    if t == T.SRV:
        return _mk(t, "%d %d %d %s" % (draw(u16), draw(u16), draw(u16), _n(draw)))
    if t == T.NAPTR:
        return dns.rdtypes.IN.NAPTR.NAPTR(
            IN, t, draw(u16), draw(u16), _str(draw), _str(draw), _str(draw), draw(dname())
        )
    if t == T.CAA:
        tag = draw(st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=15))
        return dns.rdtypes.ANY.CAA.CAA(IN, t, draw(u8), tag.encode(), _str(draw))
    if t in (T.DS, T.CDS):
        dt = draw(st.sampled_from([1, 2, 3, 4, 5, 200] + ([0] if t == T.CDS else [])))
        ln = {0: 1, 1: 20, 2: 32, 3: 32, 4: 48}.get(dt) or draw(st.integers(1, 70))
        d = draw(st.binary(min_size=ln, max_size=ln)).hex()
        return _mk(t, "%d %d %d %s" % (draw(u16), draw(u8), dt, d))
    if t in (T.DNSKEY, T.CDNSKEY):
        k = _b64(draw(st.binary(min_size=1, max_size=100)))
        return _mk(t, "%d %d %d %s" % (draw(u16), draw(u8), draw(u8), k))
    if t == T.RRSIG:
        sig = _b64(draw(st.binary(min_size=1, max_size=100)))
        return _mk(
            t,
            "%s %d %d %d %d %d %d %s %s"
            % (
                dns.rdatatype.to_text(draw(st.sampled_from([1, 2, 6, 28, 65280]))),
                draw(u8),
                draw(u8),
                draw(u32),
                draw(u32),
                draw(u32),
                draw(u16),
                _n(draw),
                sig,
            ),
        )
    if t == T.NSEC:
        return _mk(t, "%s %s" % (_n(draw), _bitmap(draw)))
    if t in (T.NSEC3, T.NSEC3PARAM):
        salt = draw(st.binary(max_size=20)).hex() or "-"
        head = "%d %d %d %s" % (draw(u8), draw(u8), draw(u16), salt)
        if t == T.NSEC3PARAM:
            return _mk(t, head)

        nxt = base64.b32hexencode(draw(st.binary(min_size=1, max_size=32))).decode().rstrip("=")
        return _mk(t, "%s %s %s" % (head, nxt, _bitmap(draw)))
    if t == T.TLSA:
        mt = draw(u8)
        ln = {1: 32, 2: 64}.get(mt) or draw(st.integers(1, 80))
        cert = draw(st.binary(min_size=ln, max_size=ln)).hex()
        return _mk(t, "%d %d %d %s" % (draw(u8), draw(u8), mt, cert))
    if t == T.SSHFP:
        ft = draw(u8)
        ln = {1: 20, 2: 32}.get(ft) or draw(st.integers(1, 80))
        fp = draw(st.binary(min_size=ln, max_size=ln)).hex()
        return _mk(t, "%d %d %s" % (draw(u8), ft, fp))
    if t in (T.SVCB, T.HTTPS):
        pri = draw(u16)
        target = _n(draw)
        if pri == 0:
            return _mk(t, "0 " + target)
        parts = []
        if draw(st.booleans()):
            alpn = draw(
                st.lists(
                    st.sampled_from(["h2", "h3", "a,b", "x\\\\y", "dot"]), min_size=1, max_size=3
                )
            )
            parts.append('alpn="%s"' % ",".join(_alpn_text(a) for a in alpn))
            if draw(st.booleans()):
                parts.append("no-default-alpn")
        if draw(st.booleans()):
            parts.append("port=%d" % draw(u16))
        if draw(st.booleans()):
            parts.append(
                "ipv4hint="
                + ",".join(
                    "%d.%d.%d.%d" % tuple(draw(st.binary(min_size=4, max_size=4)))
                    for _ in range(draw(st.integers(1, 3)))
                )
            )
        if draw(st.booleans()):
            parts.append(
                "ipv6hint="
                + ",".join(
                    dns.ipv6.inet_ntoa(draw(st.binary(min_size=16, max_size=16)))
                    for _ in range(draw(st.integers(1, 2)))
                )
            )
        if draw(st.booleans()):
            parts.append('dohpath="/dns-query{?dns}"')
        if draw(st.booleans()):
            body = draw(st.binary(min_size=4, max_size=20))
            parts.append("ech=" + _b64(struct.pack("!H", len(body)) + body))
        if draw(st.booleans()):
            k = draw(st.integers(11, 65535))
            v = draw(st.binary(max_size=10))
            val = "".join("\\%03d" % c for c in v)
            parts.append("key%d" % k + ('="%s"' % val if v else ""))
        if parts and draw(st.booleans()):
            keys = [
                p.split("=")[0]
                for p in parts
                if not p.startswith("key") and p != "no-default-alpn"
            ]
            if keys:
                parts.append("mandatory=" + ",".join(sorted(set(keys))))
        return _mk(t, "%d %s %s" % (pri, target, " ".join(parts)))
    # an unknown type: RFC 3597 generic
    data = draw(st.binary(max_size=30))
    return dns.rdata.from_text(IN, t, "\\# %d %s" % (len(data), data.hex()))


KNOWN = [
    dns.rdatatype.A,
    dns.rdatatype.NS,
    dns.rdatatype.CNAME,
    dns.rdatatype.SOA,
    dns.rdatatype.PTR,
    dns.rdatatype.MX,
    dns.rdatatype.TXT,
    dns.rdatatype.AAAA,
    dns.rdatatype.SRV,
    dns.rdatatype.NAPTR,
    dns.rdatatype.DNAME,
    dns.rdatatype.DS,
    dns.rdatatype.SSHFP,
    dns.rdatatype.RRSIG,
    dns.rdatatype.NSEC,
    dns.rdatatype.DNSKEY,
    dns.rdatatype.NSEC3,
    dns.rdatatype.NSEC3PARAM,
    dns.rdatatype.TLSA,
    dns.rdatatype.CDS,
    dns.rdatatype.CDNSKEY,
    dns.rdatatype.SVCB,
    dns.rdatatype.HTTPS,
    dns.rdatatype.CAA,
]
UNKNOWN = [65534, 65280, 4000, 1000]  # types neither codec knows


@st.composite
def typed_rdata(draw):
    t = draw(st.sampled_from(KNOWN + UNKNOWN))
    return t, draw(rdata_of(t))


@st.composite
def rrset(draw):
    t, first = draw(typed_rdata())
    more = 0 if t == dns.rdatatype.RRSIG else draw(st.integers(0, 2))  # one covered type a set
    rds = [first] + [draw(rdata_of(t)) for _ in range(more)]
    rs = dns.rrset.RRset(draw(dname()), IN, t)
    rs.update_ttl(draw(st.integers(0, 0x7FFFFFFF)))  # RFC 2181 8 range
    for rd in rds:
        rs.add(rd)
    return rs


@st.composite
def edns_options(draw):
    opts = []
    if draw(st.booleans()):
        srv = draw(st.one_of(st.just(b""), st.binary(min_size=8, max_size=32)))
        opts.append(dns.edns.CookieOption(draw(st.binary(min_size=8, max_size=8)), srv))
    if draw(st.booleans()):
        opts.append(dns.edns.NSIDOption(draw(st.binary(max_size=10))))
    if draw(st.booleans()):
        # dnspython drops one trailing NUL of the text when it decodes (RFC 8914: the text
        # MAY be NUL-terminated), so a text ending in NUL would not survive its round trip
        text = draw(st.one_of(st.none(), st.text(max_size=10).filter(lambda t: t[-1:] != "\0")))
        opts.append(dns.edns.EDEOption(draw(u16), text or None))
    if draw(st.booleans()):
        opts.append(dns.edns.GenericOption(12, bytes(draw(st.integers(0, 20)))))
    if draw(st.booleans()):
        opts.append(
            dns.edns.ECSOption("192.0.2.0", draw(st.integers(0, 32)), draw(st.integers(0, 32)))
        )
    if draw(st.booleans()):
        opts.append(dns.edns.GenericOption(11, struct.pack("!H", draw(u16))))
    if draw(st.booleans()):
        opts.append(
            dns.edns.GenericOption(draw(st.integers(16, 65000)), draw(st.binary(max_size=8)))
        )
    return opts


@st.composite
def message(draw):
    m = dns.message.Message(id=draw(u16))
    m.flags = draw(st.integers(0, 0xFFFF)) & 0x87F0  # QR opcode(0) AA TC RD RA Z AD CD
    if draw(st.booleans()):
        m.question.append(
            dns.rrset.RRset(draw(dname()), IN, draw(st.sampled_from(KNOWN + [255, 252])))
        )
    for sec in (m.answer, m.authority, m.additional):
        seen = set()
        for _ in range(draw(st.integers(0, 3))):
            rs = draw(rrset())
            if (rs.name, rs.rdtype) not in seen:  # dnspython would merge them on decode
                seen.add((rs.name, rs.rdtype))
                sec.append(rs)
    if draw(st.booleans()):
        m.use_edns(
            draw(st.integers(0, 255)) if draw(st.booleans()) else 0,
            dns.flags.DO if draw(st.booleans()) else 0,
            draw(st.integers(512, 65535)),
            options=draw(edns_options()),
        )
        m.set_rcode(draw(st.sampled_from([0, 3, 16, 23, 4095])))
    else:
        m.set_rcode(draw(st.integers(0, 15)))
    return m
