"""What a resolver job and the driver (dnsbox.resolver.driver) pass each other: Ask (a query to
send), Result (the job's answer), and match(), the one check that bytes are the answer to an
Ask. A leaf module: no resolver module imported.

Every job (the forwarding plan, the iteration from the root, the multicast DNS query) answers
start(now), reply(ask, data, src, now) and failed(ask, now, reason) with an Ask, a Result, or
None (that data was not an answer to the ask: keep waiting).
"""
from dnsbox.compat import const
from dnsbox.wire import message as _msg
from dnsbox.wire.errors import WireError
from dnsbox.wire.name import Name, randomise_case
from dnsbox.wire.reply import TCP, UDP, walk_records  # noqa: F401 - jobs take UDP/TCP here

TLS = const(2)  # an ask's transport beside UDP and TCP: DNS over TLS (RFC 7858), to a server=
# with a TLS name or pin; the glue (dnsbox.net.dotup) keeps the connection and pipelines
FAIL_TTL_S = const(5)  # failures cached this long (RFC 9520 3.2: at least 1 s, at most 5 min)


class Ask:
    """One query to send: ip text, port, wire bytes, proto (UDP/TCP/TLS), timeout (ms), the
    question name as sent (Name: its wire has the 0x20 case) and type. exact: the answer must
    echo the name's case (0x20)."""

    def __init__(self, ip, port, wire, proto, timeout, qname, qtype, exact=False):
        self.ip = ip
        self.port = port
        self.wire = wire
        self.proto = proto
        self.timeout = timeout
        self.qname = qname
        self.qtype = qtype
        self.exact = exact

    def __repr__(self):
        return "<Ask %s#%d %s %d %s>" % (self.ip, self.port, self.qname, self.qtype,
                                         ("udp", "tcp", "tls")[self.proto])


class Result:
    """A job's outcome: rcode, answer [RR], authority [RR], ede (info code, text) or None, life
    (seconds the answer, or the failure, may be cached; 0: never). img and pairs: the reply
    image and its TTL offset pairs when quick() made them (answer is then decoded from img
    when someone reads it)."""

    img = None
    pairs = None

    def __init__(self, rcode, answer, authority, ede=None, life=0):
        self.rcode = rcode
        self._answer = answer
        self.authority = authority
        self.ede = ede
        self.life = life

    @property
    def answer(self):
        if self._answer is None:
            self._answer = _msg.decode(b"\x00\x00" + self.img).answer
        return self._answer

    def __repr__(self):
        from dnsbox.wire import rcode as _rc

        return "<Result %s an=%d ns=%d ede=%r>" % (_rc.to_text(self.rcode), len(self.answer),
                                                  len(self.authority), self.ede)


def quick_result(q):
    """A NOERROR Result from what quick() returned."""
    r = Result(0, None, [], None, q[2])
    r.img = q[0]
    r.pairs = q[1]
    return r


def question(qname, qtype, qid, rd, use0x20, rng, opt, cd=False):
    """(the query's wire, the name as sent): ID qid (2 bytes), RD and CD as asked, one question
    (the name in random case with use0x20), then opt (an OPT record, or b"")."""
    sent = Name(randomise_case(qname.lc, rng), qname.lc) if use0x20 else qname
    w = bytearray(qid)
    w.append(1 if rd else 0)
    w.append(0x10 if cd else 0)
    w += b"\x00\x01\x00\x00\x00\x00\x00"
    w.append(1 if opt else 0)
    w += sent.wire
    w += bytes((qtype >> 8, qtype & 255, 0, 1))
    w += opt
    return bytes(w), sent


def match(ask, data):
    """The decoded answer (Message) if data is a response to ask: its ID, QR set, opcode QUERY,
    one question equal to the ask's (the name case-exact when ask.exact: 0x20), class IN;
    else None (ignored: spoofed, confused or malformed). The source address is the caller's
    check. The name is put back in lower case before decoding, so that names compressed
    against it carry no random case into caches."""
    if len(data) < 12 or data[0] != ask.wire[0] or data[1] != ask.wire[1] or not data[2] & 0x80:
        return None
    lc = ask.qname.lc
    n = len(lc)
    q = data[12 : 12 + n]
    if (q != ask.qname.wire) if ask.exact else (q.lower() != lc):
        return None
    data = data[:12] + lc + data[12 + n :]
    try:
        m = _msg.decode(data, partial=bool(data[2] & 0x02))
    except WireError:
        return None  # malformed: never used; the timeout decides
    qs = m.question
    if (m.opcode != 0 or len(qs) != 1 or qs[0].qtype != ask.qtype or qs[0].qclass != 1
            or qs[0].name.lc != lc):
        return None
    return m


QUICK_MAX = const(32)  # answer records the quick path copies (more: the general path)
_QUICK_RDLEN = {1: 4, 28: 16}  # types whose rdata holds no name, and its length: A, AAAA


def quick(ask, data, max_ttl):
    """The most common answer without decoding it into objects: (image, TTL offset pairs, life)
    when data answers ask (ID, QR, opcode QUERY, no TC, NOERROR, its question as in match())
    with only A or AAAA records of the question's type in the answer section, each owned by
    the question name (a pointer to it: 0xC00C), and well-formed sections after them; else None
    and the caller decodes (dnsbox.resolver.ask.match). The image (dnsbox.wire.reply) holds the
    question in lower case and those records as they came (their pointers to the question stay
    valid: it sits where it sat), TTLs with the top bit set taken as 0 (RFC 2181 8) and cut to
    max_ttl; nothing of the other sections (minimal: the scrub of every path). The pairs are
    dnsbox.resolver.cache's; life is the smallest TTL."""
    n = len(data)
    w = ask.wire
    if n < 12 or data[0] != w[0] or data[1] != w[1] or data[2] & 0xFA != 0x80 or data[3] & 15:
        return None
    an = (data[6] << 8) | data[7]
    rdlen = _QUICK_RDLEN.get(ask.qtype, 0)
    if data[4] or data[5] != 1 or not 0 < an <= QUICK_MAX or not rdlen:
        return None
    lc = ask.qname.lc
    qe = 12 + len(lc)
    q = data[12:qe]
    if ((q != ask.qname.wire) if ask.exact else (q.lower() != lc)) or data[qe : qe + 4] != w[
            qe : qe + 4]:
        return None
    off = start = qe + 4
    img = bytearray(data[2:off])
    img[2:4] = b"\x00\x01"
    img[4:6] = data[6:8]
    img[6:10] = b"\x00\x00\x00\x00"
    img[0] = 0x81  # QR, RD (a resolver's answer; the client's bits go on when it is rendered)
    img[1] = 0x80  # RA, NOERROR
    img[10 : qe - 2] = lc
    pairs = []
    life = max_ttl
    for _ in range(an):
        if (off + 12 + rdlen > n or data[off] != 0xC0 or data[off + 1] != 12
                or data[off + 2 : off + 6] != w[qe : qe + 4]
                or data[off + 10] or data[off + 11] != rdlen):
            return None
        ttl = (data[off + 6] << 24) | (data[off + 7] << 16) | (data[off + 8] << 8) | data[off + 9]
        if ttl & 0x80000000:
            ttl = 0
        if ttl > max_ttl:
            ttl = max_ttl
        if ttl < life:
            life = ttl
        pairs.append(off + 4)  # where the TTL sits in the image (2 bytes of ID less)
        pairs.append(ttl)
        off += 12 + rdlen
    img += data[start:off]
    for i in range(0, len(pairs), 2):
        t = pairs[i + 1]
        img[pairs[i] : pairs[i] + 4] = bytes((t >> 24, (t >> 16) & 255, (t >> 8) & 255, t & 255))
    rest = ((data[8] << 8) | data[9]) + ((data[10] << 8) | data[11])
    if walk_records(data, off, rest) != n:
        return None  # cut or trailing bytes: the general path decides (and ignores it)
    return bytes(img), tuple(pairs), life
