"""Message encoding (RFC 1035 4.1) with name compression (4.1.4) and truncation at RRset
boundaries (RFC 2181 9). Used as message.encode(msg, max_size); reads only the attributes of
a message.Message (id, flags(), rcode, tc, question, answer, authority, additional, edns,
tsig), so it does not import message.
"""

import struct

from dnsbox.compat import const
from dnsbox.wire.rdbase import write_name

HEADER_SIZE = const(12)
MAX_SIZE = const(65535)  # a DNS message over TCP is at most 65535 bytes (RFC 1035 4.2.2)
_OPT = const(41)
TC = const(0x0200)


def _fixed(rr):
    # type, class, TTL and a zero rdlength; range-checked first (MicroPython's struct
    # truncates silently)
    t = rr.rtype
    c = rr.rclass
    ttl = rr.ttl
    if not (0 <= t <= 65535 and 0 <= c <= 65535 and 0 <= ttl <= 0xFFFFFFFF):
        raise ValueError("record type/class/TTL out of range")
    return struct.pack("!HHIH", t, c, ttl, 0)


def _put_rr(out, rr, comp):
    write_name(out, rr.name, comp)
    out += _fixed(rr)
    at = len(out)
    rr.rdata.encode(out, comp)
    n = len(out) - at
    if n > 65535:
        raise ValueError("rdata longer than 65535 bytes")
    out[at - 2] = n >> 8
    out[at - 1] = n & 0xFF


# Encoder state, one list: [out bytearray, compression dict, limit, AN, NS, AR counts, full,
# OPT+TSIG bytes, tc] (small functions sharing a list keep MicroPython frames off the heap)
_OUT = const(0)
_COMP = const(1)
_LIMIT = const(2)
_FULL = const(6)
_TAIL = const(7)
_TC = const(8)
_RRSIG = const(46)


def _put_section(st, rrs, s):
    """Append the RRsets of rrs while they fit; a set that does not fit is taken back and
    st[_FULL] set. s: 0, 1, 2 for answer, authority, additional."""
    i = 0
    while i < len(rrs) and not st[_FULL]:
        mark = len(st[_OUT])
        j = _put_rrset(st, rrs, i)
        if len(st[_OUT]) > st[_LIMIT]:
            st[_FULL] = True
            st[_OUT] = _rollback(st[_OUT], st[_COMP], mark)
            return
        st[3 + s] += j - i
        i = j


def _put_rrset(st, rrs, i):
    # the records of one RRset (consecutive, same name, type and class) from rrs[i], and the
    # RRSIGs right after it that cover it: they stay or go together (RFC 4035 3.1.1)
    j = i
    while j < len(rrs) and (j == i or _same_set(rrs[j], rrs[i]) or _sig_of(rrs[j], rrs[i])):
        _put_rr(st[_OUT], rrs[j], st[_COMP])
        j += 1
    return j


def _same_set(a, b):
    return a.rtype == b.rtype and a.rclass == b.rclass and a.name == b.name


def _sig_of(sig, b):
    return (sig.rtype == _RRSIG and b.rtype != _RRSIG and sig.name == b.name
            and sig.rdata.type_covered == b.rtype)


def _rollback(out, comp, mark):
    # MicroPython's bytearray has no slice deletion: return a shortened copy (rare path)
    for k in [k for k in comp if comp[k] >= mark]:
        del comp[k]
    return out[:mark]


def _opt_wire(msg):
    e = msg.edns
    if e is None:
        return b""
    rd = e.rdata_wire()
    return b"\x00" + _opt_fixed(msg, len(rd)) + rd


def _opt_fixed(msg, rdlen):
    ttl = ((msg.rcode >> 4) << 24) | (msg.edns.ttl() & 0xFFFFFF)
    return struct.pack("!HHIH", _OPT, msg.edns.payload, ttl, rdlen)


def _tsig_wire(msg):
    ts = msg.tsig
    if ts is None:
        return b""
    rd = ts.rdata.to_wire()
    return ts.name.wire + _fixed(ts)[:-2] + struct.pack("!H", len(rd)) + rd


def _check(msg, max_size):
    if not HEADER_SIZE <= max_size <= MAX_SIZE:
        raise ValueError("max_size not in 12..65535")
    if not 0 <= msg.rcode <= 4095 or (msg.rcode > 15 and msg.edns is None):
        raise ValueError("rcode %d needs EDNS or is out of range" % msg.rcode)
    if not 0 <= msg.id <= 65535 or len(msg.question) > 65535:
        raise ValueError("id not a uint16 or too many questions")


def _start(msg, max_size):
    # the encoder state with the header space and the question written
    st = [0] * 9
    st[_OUT] = bytearray(HEADER_SIZE)
    st[_COMP] = {}
    st[_TAIL] = _opt_wire(msg) + _tsig_wire(msg)
    st[_LIMIT] = max_size - len(st[_TAIL])
    i = 0
    while i < len(msg.question):
        _put_question(st, msg.question[i])
        i += 1
    if len(st[_OUT]) > st[_LIMIT]:
        raise ValueError("header and question do not fit in %d bytes" % max_size)
    return st


def _put_question(st, q):
    write_name(st[_OUT], q.name, st[_COMP])
    if not (0 <= q.qtype <= 65535 and 0 <= q.qclass <= 65535):
        raise ValueError("question type/class out of range")
    st[_OUT] += struct.pack("!HH", q.qtype, q.qclass)


def _set16(out, off, v):
    out[off] = v >> 8
    out[off + 1] = v & 0xFF


def _finish(msg, st):
    out = st[_OUT]
    out += st[_TAIL]
    f = (msg.flags() & ~(TC | 0xF)) | (msg.rcode & 0xF)
    if st[_TC] or msg.tc:
        f |= TC
    _set16(out, 0, msg.id)
    _set16(out, 2, f)
    _set16(out, 4, len(msg.question))
    _set16(out, 6, st[3])
    _set16(out, 8, st[4])
    _set16(out, 10, st[5] + (msg.edns is not None) + (msg.tsig is not None))
    return bytes(out)


def encode(msg, max_size=MAX_SIZE, tc_if_additional=False):
    """Encode msg with name compression, within max_size bytes (12..65535).

    RRsets (consecutive records of one name/type/class) that do not fit are dropped whole
    with everything after them; TC is set if that drops answer or authority data, and for
    the additional section only when tc_if_additional (RFC 2181 9; RFC 9471 for glue).
    OPT goes last in additional (before TSIG). ValueError if the header and question alone
    do not fit or a value is out of range."""
    _check(msg, max_size)
    st = _start(msg, max_size)
    _put_section(st, msg.answer, 0)
    _put_section(st, msg.authority, 1)
    st[_TC] = st[_FULL]
    _put_section(st, msg.additional, 2)
    if tc_if_additional and st[_FULL]:
        st[_TC] = True
    return _finish(msg, st)
