"""DNS messages (RFC 1035 4.1): decode, encode with compression and truncation, and a cheap
header/question peek for the server's fast path.

decode(buf, partial=False) -> Message; only WireError escapes. With partial=True a message
whose data ends early (a truncated UDP response) keeps every complete record read and gets
.partial = True; malformed data still raises.
encode(msg, max_size=65535) -> bytes; RRsets that do not fit are left out whole and TC is set
(RFC 2181 9); OPT and TSIG always fit (their room is reserved first).
decode_question(buf) -> Peek; see there.
"""

import struct

from dnsbox.compat import const
from dnsbox.wire import edns as _edns
from dnsbox.wire import rdata as _rdata
from dnsbox.wire import types as _t
from dnsbox.wire.errors import ShortError, WireError
from dnsbox.wire.name import decode_name
from dnsbox.wire.rdbase import write_name
from dnsbox.wire.rr import RR, Question

HEADER_SIZE = const(12)
MAX_SIZE = const(65535)  # a DNS message over TCP is at most 65535 bytes (RFC 1035 4.2.2)
_OPT = const(41)
_TSIG = const(250)

QR = const(0x8000)
AA = const(0x0400)
TC = const(0x0200)
RD = const(0x0100)
RA = const(0x0080)
Z = const(0x0040)
AD = const(0x0020)
CD = const(0x0010)


class Message:
    """A DNS message. rcode is the full 12-bit value (header bits + OPT extended bits)."""

    def __init__(self, id=0, flags=0):
        self.id = id
        self.set_flags(flags)
        self.question = []
        self.answer = []
        self.authority = []
        self.additional = []
        self.edns = None
        self.tsig = None
        self.partial = False

    def set_flags(self, f):
        """Set qr..cd, opcode and the low 4 rcode bits from a 16-bit header flags field."""
        self.qr = bool(f & QR)
        self.opcode = (f >> 11) & 0xF
        self.aa = bool(f & AA)
        self.tc = bool(f & TC)
        self.rd = bool(f & RD)
        self.ra = bool(f & RA)
        self.z = bool(f & Z)
        self.ad = bool(f & AD)
        self.cd = bool(f & CD)
        self.rcode = f & 0xF

    def flags(self):
        """The 16-bit header flags field (low 4 bits of rcode)."""
        f = (self.opcode & 0xF) << 11 | (self.rcode & 0xF)
        if self.qr:
            f |= QR
        if self.aa:
            f |= AA
        if self.tc:
            f |= TC
        if self.rd:
            f |= RD
        if self.ra:
            f |= RA
        if self.z:
            f |= Z
        if self.ad:
            f |= AD
        if self.cd:
            f |= CD
        return f

    def sections(self):
        return (self.answer, self.authority, self.additional)

    def __repr__(self):
        return "<Message id=%d flags=%04x rcode=%d q=%r an=%d ns=%d ar=%d edns=%r tsig=%r>" % (
            self.id,
            self.flags(),
            self.rcode,
            self.question,
            len(self.answer),
            len(self.authority),
            len(self.additional),
            self.edns,
            self.tsig,
        )


def make_response(query):
    """A response skeleton for query: same id, opcode, RD, CD and question; QR set."""
    r = Message(query.id)
    r.qr = True
    r.opcode = query.opcode
    r.rd = query.rd
    r.cd = query.cd
    r.question = list(query.question)
    return r


# --- decode ------------------------------------------------------------------------------------


def _header(buf):
    if len(buf) < HEADER_SIZE:
        raise ShortError(0, "message shorter than the 12-byte header")
    h = struct.unpack_from("!HHHHHH", buf, 0)
    if h[2] > 1:
        # RFC 9619: a message with more than one question is malformed (FORMERR)
        raise WireError(4, "QDCOUNT %d: at most one question" % h[2])
    return h


def _question(buf, off):
    name, off = decode_name(buf, off)
    if off + 4 > len(buf):
        raise ShortError(off, "question runs past the end of data")
    qt, qc = struct.unpack_from("!HH", buf, off)
    return Question(name, qt, qc), off + 4


def _check_opt(sec, name, start, edns):
    if sec != 2:
        raise WireError(start, "OPT record outside the additional section")
    if edns is not None:
        raise WireError(start, "second OPT record")
    if name.wire != b"\x00":
        raise WireError(start, "OPT record owner is not the root")


def decode(buf, partial=False):
    """Decode a whole message; raises WireError (the only exception that escapes)."""
    if not isinstance(buf, bytes):
        buf = bytes(buf)
    try:
        return _decode(buf, partial)
    except WireError:
        raise
    except Exception as e:  # a bug must still look like a decode error to the caller
        raise WireError(0, "internal decoder error: %s %s" % (type(e).__name__, e))


def _decode(buf, partial):
    n = len(buf)
    h = _header(buf)
    m = Message(h[0], h[1])
    off = HEADER_SIZE
    try:
        if h[2]:
            q, off = _question(buf, off)
            m.question.append(q)
        secs = (m.answer, m.authority, m.additional)
        for sec in (0, 1, 2):
            count = h[3 + sec]
            out = secs[sec]
            i = 0
            while i < count:  # counts bound the loop, never an allocation
                start = off
                name, off = decode_name(buf, off)
                if off + 10 > n:
                    raise ShortError(off, "record header runs past the end of data")
                rtype, rclass, ttl, rdlen = struct.unpack_from("!HHIH", buf, off)
                off += 10
                end = off + rdlen
                if end > n:
                    raise ShortError(off - 2, "rdata runs past the end of data")
                if m.tsig is not None:
                    raise WireError(start, "record after TSIG")
                if ttl & 0x80000000 and rtype != _OPT:
                    ttl = 0  # RFC 2181 8: a TTL with the top bit set is taken as zero
                if rtype == _OPT:
                    _check_opt(sec, name, start, m.edns)
                    m.edns = _edns.from_opt(rclass, ttl, buf, off, end)
                elif rtype == _TSIG:
                    if sec != 2 or i != count - 1:
                        raise WireError(start, "TSIG record is not the last record")
                    if rclass != _t.CLASS_ANY or ttl != 0:
                        raise WireError(start, "TSIG record class must be ANY and TTL 0")
                    m.tsig = RR(name, rtype, rclass, ttl, _rdata.decode(rtype, buf, off, rdlen))
                else:
                    out.append(RR(name, rtype, rclass, ttl, _rdata.decode(rtype, buf, off, rdlen)))
                off = end
                i += 1
    except ShortError:
        if not partial:
            raise
        m.partial = True
        off = n
    if off != n:
        raise WireError(off, "%d trailing bytes after the last record" % (n - off))
    if m.edns is not None:
        m.rcode |= m.edns.ext_rcode << 4
    return m


# --- peek (server fast path) -------------------------------------------------------------------


class Peek:
    """What the server needs from a query without building records: id, flags, counts, the
    question (qname Name, qtype, qclass; None/0 when QDCOUNT is 0), question_end (offset
    after the question), edns (Edns or None), opt_off / tsig_off (offset of the OPT / TSIG
    record's owner name, -1 if absent). Every record is still checked as decode() does;
    records other than OPT/TSIG are skipped, their count is `other`."""

    def __init__(self, h):
        self.id = h[0]
        self.flags = h[1]
        self.qdcount = h[2]
        self.ancount = h[3]
        self.nscount = h[4]
        self.arcount = h[5]
        self.qname = None
        self.qtype = 0
        self.qclass = 0
        self.question_end = HEADER_SIZE
        self.edns = None
        self.opt_off = -1
        self.tsig_off = -1
        self.other = 0

    def opcode(self):
        return (self.flags >> 11) & 0xF

    def rcode(self):
        r = self.flags & 0xF
        if self.edns is not None:
            r |= self.edns.ext_rcode << 4
        return r


def decode_question(buf):
    """Peek at a message (bytes); raises WireError only."""
    try:
        return _peek(buf)
    except WireError:
        raise
    except Exception as e:
        raise WireError(0, "internal decoder error: %s %s" % (type(e).__name__, e))


def _peek(buf):
    n = len(buf)
    h = _header(buf)
    p = Peek(h)
    off = HEADER_SIZE
    if h[2]:
        p.qname, off = decode_name(buf, off)
        if off + 4 > n:
            raise ShortError(off, "question runs past the end of data")
        p.qtype, p.qclass = struct.unpack_from("!HH", buf, off)
        off += 4
        p.question_end = off
    total = h[3] + h[4] + h[5]
    add_from = h[3] + h[4]
    i = 0
    while i < total:
        start = off
        name, off = decode_name(buf, off)
        if off + 10 > n:
            raise ShortError(off, "record header runs past the end of data")
        rtype, rclass, ttl, rdlen = struct.unpack_from("!HHIH", buf, off)
        off += 10
        end = off + rdlen
        if end > n:
            raise ShortError(off - 2, "rdata runs past the end of data")
        if p.tsig_off >= 0:
            raise WireError(start, "record after TSIG")
        if rtype == _OPT:
            _check_opt(2 if i >= add_from else 0, name, start, p.edns)
            p.edns = _edns.from_opt(rclass, ttl, buf, off, end)
            p.opt_off = start
        elif rtype == _TSIG:
            if i != total - 1 or i < add_from:
                raise WireError(start, "TSIG record is not the last record")
            p.tsig_off = start
        else:
            _rdata.decode(rtype, buf, off, rdlen)
            p.other += 1
        off = end
        i += 1
    if off != n:
        raise WireError(off, "%d trailing bytes after the last record" % (n - off))
    return p


# --- encode ------------------------------------------------------------------------------------


def _put_rr(out, name, rtype, rclass, ttl, rd, comp):
    write_name(out, name, comp)
    if not (0 <= rtype <= 65535 and 0 <= rclass <= 65535 and 0 <= ttl <= 0xFFFFFFFF):
        raise ValueError("record type/class/TTL out of range")
    out += struct.pack("!HHIH", rtype, rclass, ttl, 0)
    at = len(out)
    rd.encode(out, comp)
    ln = len(out) - at
    if ln > 65535:
        raise ValueError("rdata longer than 65535 bytes")
    out[at - 2] = ln >> 8
    out[at - 1] = ln & 0xFF


def _rollback(out, comp, mark):
    # MicroPython's bytearray has no slice deletion: return a shortened copy (rare path)
    for k in [k for k in comp if comp[k] >= mark]:
        del comp[k]
    return out[:mark]


def encode(msg, max_size=MAX_SIZE, tc_if_additional=False):
    """Encode msg with name compression, within max_size bytes (12..65535).

    RRsets (consecutive records of one name/type/class) that do not fit are dropped whole
    with everything after them; TC is set if that drops answer or authority data, and for
    the additional section only when tc_if_additional (RFC 2181 9; RFC 9471 for glue).
    OPT goes last in additional (before TSIG). ValueError if the header and question alone
    do not fit or a value is out of range."""
    if not HEADER_SIZE <= max_size <= MAX_SIZE:
        raise ValueError("max_size not in 12..65535")
    rcode = msg.rcode
    if not 0 <= rcode <= 4095 or (rcode > 15 and msg.edns is None):
        raise ValueError("rcode %d needs EDNS or is out of range" % rcode)
    out = bytearray(HEADER_SIZE)
    comp = {}
    for q in msg.question:
        write_name(out, q.name, comp)
        if not (0 <= q.qtype <= 65535 and 0 <= q.qclass <= 65535):
            raise ValueError("question type/class out of range")
        out += struct.pack("!HH", q.qtype, q.qclass)
    if len(msg.question) > 65535:
        raise ValueError("too many questions")
    reserve = 0
    e = msg.edns
    if e is not None:
        opt_rd = e.rdata_wire()
        reserve += 11 + len(opt_rd)
    if msg.tsig is not None:
        ts = msg.tsig
        tsig_rd = ts.rdata.to_wire()
        reserve += len(ts.name.wire) + 10 + len(tsig_rd)
    limit = max_size - reserve
    if len(out) > limit:
        raise ValueError("header and question do not fit in %d bytes" % max_size)
    counts = [0, 0, 0]
    tc = msg.tc
    secs = (msg.answer, msg.authority, msg.additional)
    full = False
    for s in (0, 1, 2):
        rrs = secs[s]
        nrr = len(rrs)
        i = 0
        while i < nrr and not full:
            r = rrs[i]
            mark = len(out)
            j = i
            while j < nrr:
                x = rrs[j]
                if j > i and (x.rtype != r.rtype or x.rclass != r.rclass or x.name != r.name):
                    break
                _put_rr(out, x.name, x.rtype, x.rclass, x.ttl, x.rdata, comp)
                j += 1
            if len(out) > limit:
                out = _rollback(out, comp, mark)
                full = True
                if s < 2 or tc_if_additional:
                    tc = True
                break
            counts[s] += j - i
            i = j
    if e is not None:
        ext = rcode >> 4
        e_ttl = (ext << 24) | (e.ttl() & 0xFFFFFF)
        out += b"\x00"
        out += struct.pack("!HHIH", _OPT, e.payload, e_ttl, len(opt_rd))
        out += opt_rd
        counts[2] += 1
    if msg.tsig is not None:
        out += ts.name.wire
        out += struct.pack("!HHIH", _TSIG, ts.rclass, ts.ttl, len(tsig_rd))
        out += tsig_rd
        counts[2] += 1
    f = msg.flags() & ~(TC | 0xF)
    f |= rcode & 0xF
    if tc:
        f |= TC
    if not 0 <= msg.id <= 65535:
        raise ValueError("id not a uint16")
    struct.pack_into(
        "!HHHHHH", out, 0, msg.id, f, len(msg.question), counts[0], counts[1], counts[2]
    )
    return bytes(out)


def encode_query(qname, qtype, qclass=_t.CLASS_IN, id=0, rd=True, edns=None):
    """A query message as bytes (a convenience for clients and tests)."""
    m = Message(id)
    m.rd = rd
    m.question.append(Question(qname, qtype, qclass))
    m.edns = edns
    return encode(m)


