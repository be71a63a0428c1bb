"""DNS messages (RFC 1035 4.1): decode, encode with compression and truncation, and a cheap
header/question peek for the server's fast path.

decode(buf, partial=False) -> Message; only WireError escapes. With partial=True a message
whose data ends early (a truncated UDP response) keeps every complete record read and gets
.partial = True; malformed data still raises.
encode(msg, max_size=65535) -> bytes (in wire.encoder); RRsets that do not fit are left out
whole and TC is set (RFC 2181 9); OPT and TSIG always fit (their room is reserved first).
decode_question(buf) -> Peek; see there.
"""


from dnsbox.compat import const
from dnsbox.wire import edns as _edns
from dnsbox.wire import rdata as _rdata
from dnsbox.wire import types as _t
from dnsbox.wire.errors import ShortError, WireError
from dnsbox.wire.name import ROOT, decode_name
from dnsbox.wire.encoder import MAX_SIZE, encode  # noqa: F401 (message.encode)
from dnsbox.wire.rr import RR, Question

HEADER_SIZE = const(12)
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
    """A DNS message. rcode is the full 12-bit value (header bits + OPT extended bits).

    Flags, edns, tsig and partial are class-level defaults until set: on MicroPython every
    instance attribute costs a slot in a table that is reallocated as it grows."""

    qr = aa = tc = rd = ra = z = ad = cd = partial = False
    opcode = rcode = 0
    edns = tsig = None

    def __init__(self, id=0, flags=0):
        self.id = id
        if flags:
            self.set_flags(flags)
        self.question = []
        self.answer = []
        self.authority = []
        self.additional = []

    def set_flags(self, f):
        """Set qr..cd, opcode and the low 4 rcode bits from a 16-bit header flags field."""
        # (only the non-default values are stored: see the class docstring)
        if f & QR:
            self.qr = True
        if f & 0x7800:
            self.opcode = (f >> 11) & 0xF
        if f & 0x07F0:
            if f & AA:
                self.aa = True
            if f & TC:
                self.tc = True
            if f & RD:
                self.rd = True
            if f & RA:
                self.ra = True
            if f & Z:
                self.z = True
            if f & AD:
                self.ad = True
            if f & CD:
                self.cd = True
        if f & 0xF:
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


def _u16(buf, off):
    return (buf[off] << 8) | buf[off + 1]


def _check_header(buf):
    # the 12-byte header is present and QDCOUNT <= 1
    if len(buf) < HEADER_SIZE:
        raise ShortError(0, "message shorter than the 12-byte header")
    if buf[4] or buf[5] > 1:
        # RFC 9619: a message with more than one question is malformed (FORMERR)
        raise WireError(4, "QDCOUNT %d: at most one question" % _u16(buf, 4))


def _question(buf, off):
    name, off = decode_name(buf, off)
    if off + 4 > len(buf):
        raise ShortError(off, "question runs past the end of data")
    return Question(name, _u16(buf, off), _u16(buf, off + 2)), off + 4


def _check_opt(sec, name, start, edns):
    if sec != 2:
        raise WireError(start, "OPT record outside the additional section")
    if edns is not None:
        raise WireError(start, "second OPT record")
    if name.wire != b"\x00":
        raise WireError(start, "OPT record owner is not the root")


def decode(buf, partial=False):
    """Decode a whole message; raises WireError (the only exception that escapes).
    A bytearray or memoryview is copied to bytes first."""
    if type(buf) is not bytes:
        buf = bytes(buf)
    try:
        return _decode(buf, partial)
    except WireError:
        raise
    except Exception:  # a bug must still look like a decode error to the caller
        # (no "as e": on MicroPython that doubles the frame size and puts it on the heap)
        raise WireError(0, "internal decoder error")


def _decode(buf, partial):
    m = _new_message(buf)
    _check_end(buf, _sections_partial(m, buf) if partial else _sections(m, buf))
    if m.edns is not None:
        _ext_rcode(m)
    return m


def _sections_partial(m, buf):
    # a truncated message keeps every complete record: stop quietly where the data ends
    try:
        return _sections(m, buf)
    except ShortError:
        m.partial = True
        return len(buf)


def _new_message(buf):
    _check_header(buf)
    return Message(_u16(buf, 0), _u16(buf, 2))


def _ext_rcode(m):
    if m.edns.ext_rcode:
        m.rcode |= m.edns.ext_rcode << 4


def _check_end(buf, off):
    if off != len(buf):
        raise WireError(off, "%d trailing bytes after the last record" % (len(buf) - off))


# The decoder is split into small functions on purpose: MicroPython allocates the frame of a
# function whose locals + stack exceed 11 words on the heap, which costs microseconds. The
# per-record functions share st = [message, buffer].


def _sections(m, buf):
    off = HEADER_SIZE
    if buf[5]:
        q, off = _question(buf, off)
        m.question.append(q)
    st = [m, buf]
    off = _section(st, off, _u16(buf, 6), 0)
    off = _section(st, off, _u16(buf, 8), 1)
    return _section(st, off, _u16(buf, 10), 2)


def _section(st, off, count, sec):
    # counts bound the loop, never an allocation
    i = 0
    while i < count:
        off = _record(st, off, sec)
        i += 1
    return off


def _record(st, off, sec):
    # the record at off -> offset after it; OPT and TSIG go to m.edns / m.tsig
    buf = st[1]
    name, end = decode_name(buf, off)
    _check_fixed(st, off, end)
    if buf[end] or buf[end + 1] not in (_OPT, _TSIG):
        _plain_into(st, sec, name, end)
    elif buf[end + 1] == _OPT:
        if name.wire != b"\x00":
            raise WireError(off, "OPT record owner is not the root")
        _opt_into(st, sec, off, end)
    else:
        if sec != 2 or _rd_end(buf, end) != len(buf):
            raise WireError(off, "TSIG record is not the last record")
        st[0].tsig = _tsig_rr(buf, name, off, end)
    return _rd_end(buf, end)


def _check_fixed(st, off, end):
    # the fixed part and the rdata of the record starting at off are in the buffer
    if end + 10 > len(st[1]):
        raise ShortError(end, "record header runs past the end of data")
    if _rd_end(st[1], end) > len(st[1]):
        raise ShortError(end + 8, "rdata runs past the end of data")
    if st[0].tsig is not None:
        raise WireError(off, "record after TSIG")


def _opt_into(st, sec, off, end):
    _check_opt(sec, ROOT, off, st[0].edns)
    st[0].edns = _opt_at(st[1], end)


def _plain_into(st, sec, name, end):
    r = _plain_rr(st[1], name, end)
    _add(st[0], sec, r)


def _add(m, sec, r):
    if sec == 0:
        m.answer.append(r)
    elif sec == 1:
        m.authority.append(r)
    else:
        m.additional.append(r)


def _plain_rr(buf, name, end):
    # an RR from its fixed part at end (type, class, TTL, rdlength) and the rdata after it
    rd = _rdata_at(buf, end)
    r = object.__new__(RR)  # RR() with 5 arguments costs a heap allocation on MicroPython
    r.name = name
    r.rtype = _u16(buf, end)
    r.rclass = _u16(buf, end + 2)
    r.ttl = _u32(buf, end + 4)
    if r.ttl & 0x80000000:
        r.ttl = 0  # RFC 2181 8: a TTL with the top bit set is taken as zero
    r.rdata = rd
    return r


def _rdata_at(buf, end):
    return _rdata.decode(_u16(buf, end), buf, end + 10, _u16(buf, end + 8))


def _opt_at(buf, end):
    return _edns.from_opt(_u16(buf, end + 2), _u32(buf, end + 4), buf, end + 10, _rd_end(buf, end))


def _rd_end(buf, end):
    return end + 10 + _u16(buf, end + 8)


def _tsig_rr(buf, name, off, end):
    if _u16(buf, end + 2) != _t.CLASS_ANY or _u32(buf, end + 4) != 0:
        raise WireError(off, "TSIG record class must be ANY and TTL 0")
    return RR(name, _TSIG, _t.CLASS_ANY, 0, _rdata_at(buf, end))


def _u32(buf, off):
    return (((buf[off] << 8) | buf[off + 1]) << 16) | (buf[off + 2] << 8) | buf[off + 3]


# --- peek (server fast path) -------------------------------------------------------------------


class Peek:
    """What the server needs from a query without building records (decode_question()).

    qname (Name, None when QDCOUNT is 0); properties: qtype, qclass, question_end (offset
    after the question), edns (Edns or None), opt_off / tsig_off (offset of the OPT / TSIG
    record's owner name, -1 if absent), other (records other than OPT/TSIG: skipped, but
    checked as decode() checks them), id, flags, qdcount, ancount, nscount, arcount; methods
    opcode() and rcode() (with the EDNS bits). Properties read the packet bytes each time.

    MicroPython cost notes: an instance stores at most 2 attributes (a bigger attribute table
    is a multi-block allocation, slow in a fragmented heap), so the record facts are one
    2-tuple `_rec` = (Edns or None, (opt_off + 1) | (tsig_off + 1) << 16)."""

    qname = None
    _rec = None

    def __init__(self, buf):
        self.buf = buf

    @property
    def question_end(self):
        return HEADER_SIZE + len(self.qname.wire) + 4 if self.qname is not None else HEADER_SIZE

    @property
    def qtype(self):
        return _u16(self.buf, self.question_end - 4) if self.qname is not None else 0

    @property
    def qclass(self):
        return _u16(self.buf, self.question_end - 2) if self.qname is not None else 0

    @property
    def edns(self):
        return self._rec[0] if self._rec is not None else None

    @property
    def opt_off(self):
        return (self._rec[1] & 0xFFFF) - 1 if self._rec is not None else -1

    @property
    def tsig_off(self):
        return (self._rec[1] >> 16) - 1 if self._rec is not None else -1

    @property
    def other(self):
        n = self.ancount + self.nscount + self.arcount
        return n - (self.opt_off >= 0) - (self.tsig_off >= 0)

    @property
    def id(self):
        return _u16(self.buf, 0)

    @property
    def flags(self):
        return _u16(self.buf, 2)

    @property
    def qdcount(self):
        return self.buf[5]

    @property
    def ancount(self):
        return _u16(self.buf, 6)

    @property
    def nscount(self):
        return _u16(self.buf, 8)

    @property
    def arcount(self):
        return _u16(self.buf, 10)

    def opcode(self):
        return (self.buf[2] >> 3) & 0xF

    def rcode(self):
        r = self.buf[3] & 0xF
        e = self.edns
        if e is not None:
            r |= e.ext_rcode << 4
        return r


def decode_question(buf):
    """Peek at a message; raises WireError only. buf should be bytes: a bytearray or
    memoryview is copied to bytes first (names keep slices of it, which must not change)."""
    if type(buf) is not bytes:
        buf = bytes(buf)
    try:
        return _peek(buf)
    except WireError:
        raise
    except Exception:  # see decode()
        raise WireError(0, "internal decoder error")


def _peek(buf):
    _check_header(buf)
    p = Peek(buf)
    off = HEADER_SIZE
    if buf[5]:
        p.qname, off = decode_name(buf, off)
        if off + 4 > len(buf):
            raise ShortError(off, "question runs past the end of data")
        off += 4
    if not (buf[6] | buf[7] | buf[8] | buf[9] | buf[10]):
        if not buf[11]:
            if off != len(buf):
                raise WireError(off, "%d trailing bytes after the last record" % (len(buf) - off))
            return p  # the usual query: question only
        if buf[11] == 1:
            p._rec = _peek_opt_only(buf, off)
            return p
    p._rec = _peek_records(buf, off)
    return p


def _peek_opt_only(buf, off):
    # the other usual query: one additional record. An OPT with the root owner that ends the
    # message is decoded here; anything else takes the general path.
    if off + 11 <= len(buf) and not buf[off] and buf[off + 1] == 0 and buf[off + 2] == _OPT:
        if off + 11 + _u16(buf, off + 9) == len(buf):
            return (
                _edns.from_opt(_u16(buf, off + 3), _u32(buf, off + 5), buf, off + 11, len(buf)),
                off + 1,
            )
    return _peek_records(buf, off)


def _peek_records(buf, off):
    # -> Peek._rec for the records after the question
    add_from = _u16(buf, 6) + _u16(buf, 8)
    total = add_from + _u16(buf, 10)
    e = None
    offs = 0
    i = 0
    while i < total:
        start = off
        name, off = decode_name(buf, off)
        if off + 10 > len(buf):
            raise ShortError(off, "record header runs past the end of data")
        rtype = _u16(buf, off)
        rdlen = _u16(buf, off + 8)
        if off + 10 + rdlen > len(buf):
            raise ShortError(off + 8, "rdata runs past the end of data")
        if offs >> 16:
            raise WireError(start, "record after TSIG")
        if rtype == _OPT:
            _check_opt(2 if i >= add_from else 0, name, start, e)
            e = _edns.from_opt(
                _u16(buf, off + 2), _u32(buf, off + 4), buf, off + 10, off + 10 + rdlen
            )
            offs |= start + 1
        elif rtype == _TSIG:
            if i != total - 1 or i < add_from:
                raise WireError(start, "TSIG record is not the last record")
            if _u16(buf, off + 2) != _t.CLASS_ANY or _u32(buf, off + 4) != 0:
                raise WireError(start, "TSIG record class must be ANY and TTL 0")
            _rdata.decode(rtype, buf, off + 10, rdlen)
            offs |= (start + 1) << 16
        else:
            _rdata.decode(rtype, buf, off + 10, rdlen)
        off += 10 + rdlen
        i += 1
    if off != len(buf):
        raise WireError(off, "%d trailing bytes after the last record" % (len(buf) - off))
    return (e, offs)


def encode_query(qname, qtype, qclass=_t.CLASS_IN, id=0, rd=True, edns=None):
    """A query message as bytes (a convenience for clients and tests)."""
    m = Message(id)
    m.rd = rd
    m.question.append(Question(qname, qtype, qclass))
    m.edns = edns
    return encode(m)
