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
from dnsbox.wire.reply import UDP  # noqa: F401 - jobs take UDP/TCP from here
from dnsbox.wire.reply import TCP  # noqa: F401

FAIL_TTL_S = const(5)  # failures cached this long (RFC 9520 3.2: at least 1 s, at most 5 min)


class Ask:
    """One query to send: ip text, port, wire bytes, proto (UDP/TCP), timeout (ms), the
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
                                         "tcp" if self.proto else "udp")


class Result:
    """A job's outcome: rcode, answer [RR], authority [RR], ede (info code, text) or None, life
    (seconds the answer, or the failure, may be cached; 0: never)."""

    def __init__(self, rcode, answer, authority, ede=None, life=0):
        self.rcode = rcode
        self.answer = answer
        self.authority = authority
        self.ede = ede
        self.life = life

    def __repr__(self):
        from dnsbox.wire import rcode as _rc

        return "<Result %s an=%d ns=%d ede=%r>" % (_rc.to_text(self.rcode), len(self.answer),
                                                  len(self.authority), self.ede)


def question(qname, qtype, qid, rd, use0x20, rng, opt):
    """(the query's wire, the name as sent): ID qid (2 bytes), RD as asked, one question (the
    name in random case with use0x20), then opt (an OPT record, or b"")."""
    sent = Name(randomise_case(qname.lc, rng), qname.lc) if use0x20 else qname
    w = bytearray(qid)
    w += b"\x01\x00" if rd else b"\x00\x00"
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
