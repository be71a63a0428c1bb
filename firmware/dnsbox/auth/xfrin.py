"""Zone transfer in (RFC 5936 AXFR, RFC 1995 IXFR), sans-I/O: request() makes the query (signed
with a TSIG key when given), a Reader takes the response messages one by one (TCP frames without
their length) and ends with the outcome; apply() turns IXFR differences into the new zone.

Records are kept compact from the message they come in (compact(): bytes, owner lower-case,
names in rdata uncompressed; expand() gives the RR back), each message dropped once read.
The outcome (Reader.result once Reader.done), records compact:
  ("current", soa)          one SOA whose serial is not newer than ours: nothing to do
  ("axfr", records)         the whole zone, SOA first (the closing SOA not repeated)
  ("ixfr", soa, diffs)      diffs: [(old SOA, [deleted], new SOA, [added])] in order (RFC 1995 4)
Errors raise XfrError (the caller keeps the copy it has and logs the reason): a bad rcode, an
ID or question that does not match, records of another class or outside the zone, a first
record that is not the zone's SOA, more than MAX_RECORDS records, a TSIG check that fails.
"""
import struct

from dnsbox.auth import tsig as _tsig
from dnsbox.compat import const
from dnsbox.wire import rdata as _rdata
from dnsbox.wire import types as _t
from dnsbox.wire.errors import WireError
from dnsbox.wire.name import decode_name
from dnsbox.wire.rr import RR
from dnsbox.zonedb.lookup import under

MAX_RECORDS = const(20000)  # records in one transfer (a larger one is refused: XfrError)
MAX_BYTES = const(8388608)  # message bytes in one transfer (a larger one is refused: XfrError)
REC_OVERHEAD = const(48)  # heap bytes of a bytes object beyond its data (64-bit MicroPython)
MAX_UNSIGNED = const(99)  # TSIG: unsigned messages allowed between signed ones (RFC 8945 5.3.1)
AXFR = const(252)
IXFR = const(251)
_HALF = const(0x80000000)


class XfrError(Exception):
    pass


def newer(a, b):
    """True if serial a is newer than serial b (RFC 1982 3.2)."""
    d = (a - b) & 0xFFFFFFFF
    return 0 < d < _HALF


def request(qid, zone, qtype, soa=None, key=None, now=0):
    """(query bytes, request MAC) for an AXFR, or an IXFR with our SOA in the authority section
    (RFC 1995 3); signed with key (a dnsbox.auth.tsig.Key) when given (MAC b"" otherwise)."""
    q = struct.pack(">HHHHHH", qid, 0, 1, 0, 1 if qtype == IXFR else 0, 0)
    q += zone.wire + struct.pack(">HH", qtype, _t.CLASS_IN)
    if qtype == IXFR:
        rd = soa.rdata.to_wire()
        q += zone.wire + struct.pack(">HHIH", _t.SOA, _t.CLASS_IN, soa.ttl, len(rd)) + rd
    if key is None:
        return q, b""
    f = _tsig.Fields(0, key.name, _tsig.ALGORITHM, now, _tsig.FUDGE, b"", qid, 0, b"")
    mac = _tsig.hmac_sha256(key.secret, q + _tsig._variables(f, now, 0, b""))  # RFC 8945 4.3
    return _tsig._append(q, f, now, mac, 0, b""), mac


class Reader:
    """Takes the response messages of one transfer. zone: the zone's Name; serial: ours (None:
    we have no copy, an AXFR); key and mac: the TSIG key and the request's MAC (None: unsigned)."""

    def __init__(self, qid, zone, qtype, serial=None, key=None, mac=b"", now=0, max_held=0):
        self.qid = qid
        self.zone = zone
        self.qtype = qtype
        self.serial = serial
        self.key = key
        self.mac = mac
        self.now = now
        self.unsigned = []  # messages since the last signed one (TSIG, RFC 8945 5.3.1)
        self.records = []
        self.count = 0
        self.done = False
        self.result = None
        self.messages = 0
        self.bytes = 0
        self.phase = 0  # IXFR: 1 in deletions, 2 in additions (RFC 1995 4); 0: AXFR or unknown
        self.held = 0  # heap bytes of the compact records held
        self.max_held = max_held  # a bound on held (0: none); over it, XfrError

    def feed(self, m):
        """One response message (bytes). Raises XfrError; sets done and result at the end."""
        if self.done:
            raise XfrError("data after the end of the transfer")
        if len(m) < 12:
            raise XfrError("short message")
        self.bytes += len(m)
        if self.bytes > MAX_BYTES:
            raise XfrError("more than %d bytes" % MAX_BYTES)
        qid, flags, qd, an, ns, ar = struct.unpack_from(">HHHHHH", m, 0)
        if qid != self.qid or not flags & 0x8000:
            raise XfrError("not an answer to our query (ID %d)" % qid)
        try:
            off = self._question(m, qd)
            recs = []
            for _ in range(an):
                rr, off = _record(m, off)
                recs.append((compact(rr), rr.rclass))
            tstart = -1
            for i in range(ns + ar):
                start = off
                rr, off = _record(m, off, True)
                if rr.rtype == _tsig.TSIG:
                    if i != ns + ar - 1:
                        raise XfrError("TSIG not last")
                    tstart = start
        except (WireError, ValueError) as e:
            raise XfrError("malformed message: %s" % e)
        if off != len(m):
            raise XfrError("trailing bytes")
        self._check_tsig(m, tstart, flags & 0xF)
        if flags & 0xF:
            raise XfrError("rcode %d" % (flags & 0xF))
        self.messages += 1
        for rr in recs:
            self._take(rr)
        r = self.records
        if self.messages == 1 and len(r) == 1 and self.serial is not None and \
                not newer(soa_serial(r[0]), self.serial):
            self._end(("current", r[0]))  # up to date: one SOA alone (RFC 1995 2, 4)

    def _question(self, m, qd):
        off = 12
        if qd > 1:
            raise XfrError("questions: %d" % qd)
        if qd:
            name, off = decode_name(m, off)
            if off + 4 > len(m):
                raise ValueError("short question")
            t, c = struct.unpack_from(">HH", m, off)
            if name.lc != self.zone.lc or t != self.qtype or c != _t.CLASS_IN:
                raise XfrError("question does not match")
            off += 4
        return off

    def _check_tsig(self, m, tstart, rcode):
        if self.key is None:
            if tstart >= 0:
                raise XfrError("signed answer to an unsigned query")
            return
        if tstart < 0:
            if not self.messages or len(self.unsigned) >= MAX_UNSIGNED:
                raise XfrError("TSIG missing")
            self.unsigned.append(m)
            return
        try:
            f = _tsig.find(m, tstart)
        except (WireError, ValueError) as e:
            raise XfrError("malformed TSIG: %s" % e)
        if f.keyname != self.key.name or f.alg != _tsig.ALGORITHM:
            raise XfrError("TSIG with another key")
        if f.error:
            raise XfrError("TSIG error %d" % f.error)
        msg = bytearray(m[:tstart])
        msg[0] = f.orig_id >> 8
        msg[1] = f.orig_id & 0xFF
        arc = ((msg[10] << 8) | msg[11]) - 1
        msg[10] = arc >> 8
        msg[11] = arc & 0xFF
        prior = struct.pack(">H", len(self.mac)) + self.mac
        if self.messages == 0:  # the first: the whole variables (RFC 8945 4.3.3)
            data = prior + bytes(msg) + _tsig._variables(f, f.signed, f.error, f.other)
        else:  # later ones: prior MAC, the messages since, timers (5.3.1)
            data = prior + b"".join(self.unsigned) + bytes(msg) + struct.pack(
                ">HIH", f.signed >> 32, f.signed & 0xFFFFFFFF, f.fudge)
        want = _tsig.hmac_sha256(self.key.secret, data)
        if len(f.mac) != len(want) or not _tsig._same(f.mac, want):
            raise XfrError("TSIG signature does not verify")
        if abs(self.now - f.signed) > f.fudge:
            raise XfrError("TSIG time off by %d s" % (self.now - f.signed))
        self.mac = f.mac
        self.unsigned = []
        self.last_signed = True

    def _take(self, item):
        rr, rclass = item
        if self.done:
            raise XfrError("records after the closing SOA")
        if rclass != _t.CLASS_IN:
            raise XfrError("record of class %d" % rclass)
        e = owner_end(rr)
        if not under(rr[:e], self.zone.lc):
            raise XfrError("%s is outside the zone" % expand(rr).name.to_text())
        is_soa = (rr[e] << 8 | rr[e + 1]) == _t.SOA and e == len(self.zone.lc)
        self.held += len(rr) + REC_OVERHEAD
        if self.max_held and self.held > self.max_held:
            raise XfrError("records need more than %d bytes of heap" % self.max_held)
        recs = self.records
        if not recs:
            if not is_soa:
                raise XfrError("the first record is not the zone's SOA")
            recs.append(rr)
            return
        self.count += 1
        if self.count > MAX_RECORDS:
            raise XfrError("more than %d records" % MAX_RECORDS)
        recs.append(rr)
        first = soa_serial(recs[0])
        serial = soa_serial(rr) if is_soa else -1
        if len(recs) == 2 and is_soa and self.qtype == IXFR and self.serial is not None and \
                serial == self.serial:
            self.phase = 1  # incremental: the old SOA follows the new one
            return
        if not is_soa:
            return
        if self.phase == 1:
            self.phase = 2  # the new SOA of this difference: additions follow
        elif self.phase == 2 and serial != first:
            self.phase = 1  # the old SOA of the next difference
        elif self.phase == 2:
            self._end(("ixfr", recs[0], _diffs(recs)))
        elif serial == first:
            self._end(("axfr", recs[:-1]))
        else:
            raise XfrError("a second SOA with another serial in a full transfer")

    def _end(self, result):
        if self.key is not None and self.unsigned:
            raise XfrError("the last message is not signed")
        self.done = True
        self.result = result
        self.records = []


def _diffs(recs):
    """RFC 1995 4: new SOA, then (old SOA, deleted..., new SOA, added...) sequences, new SOA."""
    out = []
    i = 1
    n = len(recs) - 1  # the closing SOA
    soa = recs[0][: owner_end(recs[0]) + 2]  # owner and type of the apex SOA
    while i < n:
        old = recs[i]
        i += 1
        dels = []
        while i < n and not recs[i].startswith(soa):
            dels.append(recs[i])
            i += 1
        if i >= n:
            raise XfrError("IXFR difference without its new SOA")
        new = recs[i]
        i += 1
        adds = []
        while i < n and not recs[i].startswith(soa):
            adds.append(recs[i])
            i += 1
        out.append((old, dels, new, adds))
    return out


def owner_end(rec):
    """The offset after the owner name of a compact record."""
    i = 0
    while rec[i]:
        i += rec[i] + 1
    return i + 1


def compact(rr):
    """An RR as bytes: owner (lower case), type, class, TTL, rdlength, rdata (names whole)."""
    rd = rr.rdata.to_wire()
    return rr.name.lc + struct.pack(">HHIH", rr.rtype, rr.rclass, rr.ttl, len(rd)) + rd


def expand(rec):
    """The RR of a compact record."""
    name, off = decode_name(rec, 0)
    rtype, rclass, ttl, rdlen = struct.unpack_from(">HHIH", rec, off)
    return RR(name, rtype, rclass, ttl, _rdata.decode(rtype, rec, off + 10, rdlen))


def soa_serial(rec):
    """The serial of a compact SOA record (RFC 1035 3.3.13: after MNAME and RNAME)."""
    i = owner_end(rec) + 10
    for _ in range(2):
        while rec[i]:
            i += rec[i] + 1
        i += 1
    return struct.unpack_from(">I", rec, i)[0]


def _ident(rec):
    """A record's identity in a zone: owner, type, class, rdata (the TTL left out)."""
    e = owner_end(rec)
    return rec[: e + 4] + rec[e + 10 :]


def apply(records, serial, diffs, limit=MAX_RECORDS):
    """The zone (compact records, SOA first) after the IXFR differences, in one pass over the
    old copy; XfrError when a difference does not start from the serial reached so far or
    deletes a record the zone does not hold."""
    added = {}  # identity -> record, added by the differences so far
    gone = set()  # identities of the old copy's records deleted
    soa = records[0]
    for old, dels, new, adds in diffs:
        if soa_serial(old) != serial:
            raise XfrError("IXFR difference from serial %d, we have %d" % (
                soa_serial(old), serial))
        for rec in dels:
            k = _ident(rec)
            if k in added:
                del added[k]
            elif k in gone:
                raise XfrError("IXFR deletes %s twice" % expand(rec).name.to_text())
            else:
                gone.add(k)
        for rec in adds:
            added[_ident(rec)] = rec
        soa = new
        serial = soa_serial(new)
    out = [soa]
    found = 0
    for rec in records[1:]:
        if _ident(rec) in gone:
            found += 1
        else:
            out.append(rec)
    if found != len(gone):
        raise XfrError("IXFR deletes %d records the zone does not hold" % (len(gone) - found))
    out.extend(added.values())
    if len(out) > limit + 1:
        raise XfrError("more than %d records" % limit)
    return out


def _record(m, off, other=False):
    name, off = decode_name(m, off)
    if off + 10 > len(m):
        raise ValueError("short record")
    rtype, rclass, ttl, rdlen = struct.unpack_from(">HHIH", m, off)
    off += 10
    if off + rdlen > len(m):
        raise ValueError("short rdata")
    if other and rtype in (_tsig.TSIG, _t.OPT):
        return RR(name, rtype, rclass, ttl, None), off + rdlen
    if rtype in (_t.OPT, _tsig.TSIG, _t.ANY, AXFR, IXFR):
        raise ValueError("record of type %d in a transfer" % rtype)
    return RR(name, rtype, rclass, ttl, _rdata.decode(rtype, m, off, rdlen)), off + rdlen
