"""What every answering path (auth, resolver, net) shares about replies on the wire: transport
numbers and size limits, the plain-query header check of the fast paths, and the two reply
builders: error replies (FORMERR, SERVFAIL, REFUSED, NOTIMP, ... with an Extended DNS Error,
RFC 8914) and replies made from a stored image (a cached or precomputed answer). Pure: bytes
in, bytes out.

An image is a whole response after its 2-byte ID (flags, counts, question, records) without an
OPT record; the builders put the client's ID, RD and CD bits, question case and our OPT on it.
"""
import struct

from dnsbox.compat import const
from dnsbox.wire.edns import DO_OPT, EDE, PLAIN_OPT, bare_opt_payload

UDP = const(0)  # the transport numbers of every handler (net, auth, resolver)
TCP = const(1)
UDP_MAX = const(1232)  # our UDP payload size (DNS flag day 2020): advertised, and the ceiling
UDP_PLAIN = const(512)  # a UDP message without EDNS (RFC 1035 4.2.1)
TCP_MAX = const(65535)  # one TCP message (RFC 7766 8)
MIN_QUERY = const(17)  # header + root name + type + class
OPT_LEN = const(11)  # our OPT record (PLAIN_OPT): root owner, type, class, TTL, rdlength 0
EDE_TEXT_MAX = const(200)  # bytes of an EDE's text kept (a reply must stay small)
_len = len  # a module global: found faster than the builtin (plain() is on hot paths)


def udp_payload(p):
    """A client's EDNS payload size as a reply limit: within 512..UDP_MAX (RFC 6891 6.2.5)."""
    return UDP_MAX if p > UDP_MAX else (UDP_PLAIN if p < UDP_PLAIN else p)


def limit(proto, payload):
    """Reply size limit for proto and the client's EDNS payload size (-1: no EDNS)."""
    if proto == TCP:
        return TCP_MAX
    return UDP_PLAIN if payload < 0 else udp_payload(payload)


def plain(q):
    """True if q is a plain query for a fast path: at least MIN_QUERY bytes, QR=0, opcode 0,
    Z=0, QDCOUNT 1, ANCOUNT = NSCOUNT = 0, ARCOUNT < 256 (the caller looks at its low byte)."""
    return not (_len(q) < MIN_QUERY or q[2] & 0xF8 or q[3] & 0x40 or q[5] != 1
                or q[4] | q[6] | q[7] | q[8] | q[9] | q[10])


def plain_query(q):
    """For a plain query with nothing after its question but an optional bare OPT record
    (dnsbox.wire.edns.bare_opt_payload): (the question's end, the EDNS payload or -1 without
    EDNS); else (-1, -1)."""
    if not plain(q) or q[11] > 1:
        return -1, -1
    if q[11] == 0:
        return _len(q), -1
    p = bare_opt_payload(q)
    return (-1, -1) if p < 0 else (_len(q) - OPT_LEN, p)


def error(qid, flags, qbytes, rcode, payload, ede=None, ra=True):
    """An error reply from the query's ID (2 bytes), flags word and question bytes (b"" for
    none): QR, the query's opcode, RD and CD, RA when ra, rcode (extended bits in the OPT),
    our OPT when the client sent EDNS (payload >= 0), with ede = (info code, text) in it."""
    f = 0x8000 | (flags & 0x7900) | (0x0080 if ra else 0) | (flags & 0x0010) | (rcode & 0xF)
    r = bytearray(struct.pack(">2sHHHHH", qid, f, 1 if qbytes else 0, 0, 0,
                              1 if payload >= 0 else 0))
    r += qbytes
    if payload >= 0:
        opt = b""
        if ede is not None:
            text = ede[1].encode()[:EDE_TEXT_MAX]
            opt = struct.pack(">HHH", EDE, 2 + _len(text), ede[0]) + text
        r += struct.pack(">BHHIH", 0, 41, UDP_MAX, (rcode >> 4) << 24, _len(opt))
        r += opt
    return bytes(r)


def error_for(q, rcode, ede=None, ra=True):
    """error() for raw query bytes q whose question may not parse: the question is echoed only
    when the header says one and its name is well formed; no EDNS is assumed (the OPT was not
    read). None for fewer than 12 bytes or a response (never answered)."""
    n = _len(q)
    if n < 12 or q[2] & 0x80:
        return None
    qbytes = b""
    if q[4] == 0 and q[5] == 1 and not q[2] & 0x78:
        i = 12
        while i < n and q[i] and q[i] < 64:
            i += q[i] + 1
        if i + 5 <= n and q[i] == 0 and i - 12 < 255:
            qbytes = bytes(q[12 : i + 5])
    return error(bytes(q[:2]), (q[2] << 8) | q[3], qbytes, rcode, -1, ede, ra)


def render(img, qid, qbytes, flags, payload, proto, ad=False, do=False, ede=None):
    """A reply from an image: the client's ID, RD and CD bits and question case, AD when ad
    (validated data for a client that set AD or DO, RFC 6840 5.8), our OPT (with DO echoed)
    when the client sent EDNS; the question alone with TC when it is too long for UDP (RFC 2181
    9; RFC 4035 3.1.1: a signed answer is never cut short without TC). ede: (info code, text)
    put in the OPT (RFC 8914) when the client sent EDNS."""
    r = bytearray(qid)
    r += img
    r[2] = (r[2] & 0xFE) | ((flags >> 8) & 1)
    r[3] = (r[3] & 0xCF) | (flags & 0x10) | (0x20 if ad else 0)
    r[12 : 12 + _len(qbytes)] = qbytes
    most = limit(proto, payload)
    opt = DO_OPT if do else PLAIN_OPT
    if payload >= 0 and ede is not None:
        text = ede[1].encode()[:EDE_TEXT_MAX]
        opt = opt[:9] + struct.pack(">HHHH", 6 + _len(text), EDE, 2 + _len(text), ede[0]) + text
    if payload >= 0:
        most -= _len(opt)
    if _len(r) > most:
        r = r[: 12 + _len(qbytes)]
        r[2] |= 0x02
        r[6] = r[7] = r[8] = r[9] = r[10] = r[11] = 0
    if payload >= 0:
        r[11] += 1
        r += opt
    return bytes(r)


def name_end(buf, off):
    """The offset after the name at off (its labels, then a zero byte or a pointer), walking
    only its shape; -1 when it runs past the end or a label is malformed."""
    n = _len(buf)
    while off < n:
        c = buf[off]
        if c == 0:
            return off + 1
        if c >= 0xC0:
            return off + 2
        if c > 63:
            return -1
        off += c + 1
    return -1


def walk_records(buf, off, count, ttls=None):
    """The offset after count records from off (in a message, or an image: the records' layout
    is the same), walking only their shape: the owner name (name_end), the fixed part, the
    rdata length. With ttls (a list), each record's TTL offset is appended to it. -1 when a
    record runs past the end or a label is malformed."""
    n = _len(buf)
    for _ in range(count):
        off = name_end(buf, off)
        if off < 0 or off + 10 > n:
            return -1
        if ttls is not None:
            ttls.append(off + 4)
        off += 10 + ((buf[off + 8] << 8) | buf[off + 9])
    return off if off <= n else -1
