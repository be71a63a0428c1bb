"""The changes of the update zone (dnsbox.auth.dynzone) as bytes: one payload per applied
UPDATE (the serial before and after, the records deleted and added), the zone's snapshot as
payloads, and the recent changes kept for IXFR (RFC 1995). The same payloads go to the state
journal (dnsbox.state.zonestate). Pure.

A change payload: b"D", serial from, serial to (4 bytes each), deleted and added counts (2
bytes each), then the records uncompressed (owner name, type, class, TTL, rdlength, rdata). A
snapshot: b"S" and the serial, then b"R" payloads of a 2-byte count and records. The apex SOA
is in none of them: the zone makes it from its serial.
"""
import struct

from dnsbox.compat import const
from dnsbox.wire import rdata as _rdata
from dnsbox.wire.name import decode_name
from dnsbox.wire.rr import RR

HISTORY_BYTES = const(65536)  # change payload bytes kept in memory for IXFR (oldest dropped)
SNAP_BATCH = const(64)  # records per snapshot payload (and per IXFR message set)
SNAP_BYTES = const(16384)  # bytes of records per snapshot payload (one record may pass it)
MAX_COUNT = const(65535)  # records on one side of one change (the 2-byte count)


def key(rr):
    """What makes a record the same record for a diff: owner (lower case), type, TTL, rdata."""
    return rr.name.lc + struct.pack(">HI", rr.rtype, rr.ttl) + rr.rdata.to_wire()


def encode_rr(rr):
    rd = rr.rdata.to_wire()
    return rr.name.wire + struct.pack(">HHIH", rr.rtype, rr.rclass, rr.ttl, len(rd)) + rd


def decode_rrs(buf, off, n):
    """n records from buf at off: (list, offset after them). ValueError on a bad one."""
    out = []
    for _ in range(n):
        name, off = decode_name(buf, off)
        if off + 10 > len(buf):
            raise ValueError("record cut short")
        rtype, rclass, ttl, rdlen = struct.unpack_from(">HHIH", buf, off)
        off += 10
        if off + rdlen > len(buf) or not rdlen:
            raise ValueError("rdata cut short")
        out.append(RR(name, rtype, rclass, ttl, _rdata.decode(rtype, buf, off, rdlen)))
        off += rdlen
    return out, off


def encode_change(frm, to, dels, adds):
    if len(dels) > MAX_COUNT or len(adds) > MAX_COUNT:
        raise ValueError("change of more than %d records" % MAX_COUNT)
    parts = [b"D", struct.pack(">IIHH", frm, to, len(dels), len(adds))]
    parts.extend(encode_rr(r) for r in dels)
    parts.extend(encode_rr(r) for r in adds)
    return b"".join(parts)


def decode_change(p):
    """(serial from, serial to, deleted, added) of a change payload; ValueError if bad."""
    if len(p) < 13 or p[0] != 0x44:  # "D"
        raise ValueError("not a change record")
    frm, to, nd, na = struct.unpack_from(">IIHH", p, 1)
    dels, off = decode_rrs(p, 13, nd)
    adds, off = decode_rrs(p, off, na)
    if off != len(p):
        raise ValueError("trailing bytes in a change record")
    return frm, to, dels, adds


def snapshot(serial, rrs):
    """The snapshot payloads of a zone at serial holding rrs (a list, apex SOA left out): at
    most SNAP_BATCH records or about SNAP_BYTES bytes each."""
    yield b"S" + struct.pack(">I", serial)
    batch = []
    size = 0
    for r in rrs:
        w = encode_rr(r)
        if batch and (len(batch) >= SNAP_BATCH or size + len(w) > SNAP_BYTES):
            yield b"R" + struct.pack(">H", len(batch)) + b"".join(batch)
            batch = []
            size = 0
        batch.append(w)
        size += len(w)
    if batch:
        yield b"R" + struct.pack(">H", len(batch)) + b"".join(batch)


def decode_snapshot_part(p):
    """('S', serial) or ('R', records) of one snapshot payload; ValueError if bad."""
    if len(p) == 5 and p[0] == 0x53:  # "S"
        return "S", struct.unpack_from(">I", p, 1)[0]
    if len(p) >= 3 and p[0] == 0x52:  # "R"
        rrs, off = decode_rrs(p, 3, struct.unpack_from(">H", p, 1)[0])
        if off == len(p):
            return "R", rrs
    raise ValueError("not a snapshot record")


class History:
    """The latest change payloads, at most HISTORY_BYTES bytes of them, oldest first."""

    def __init__(self, limit=HISTORY_BYTES):
        self.limit = limit
        self.changes = []  # [(from, to, payload)]
        self.size = 0

    def add(self, frm, to, payload):
        self.changes.append((frm, to, payload))
        self.size += len(payload)
        while self.size > self.limit and self.changes:
            self.size -= len(self.changes.pop(0)[2])

    def since(self, serial, current):
        """The condensed difference (deleted, added) from serial to current, or None when the
        kept changes do not reach back to serial in one unbroken chain."""
        for i in range(len(self.changes)):
            if self.changes[i][0] == serial:
                break
        else:
            return None
        dels = {}
        adds = {}
        at = serial
        for frm, to, payload in self.changes[i:]:
            if frm != at:
                return None  # a gap
            _f, _t, d, a = decode_change(payload)
            for rr in d:  # added since serial and now deleted again: in neither list
                k = key(rr)
                if k in adds:
                    del adds[k]
                else:
                    dels[k] = rr
            for rr in a:
                k = key(rr)
                if k in dels:
                    del dels[k]
                else:
                    adds[k] = rr
            at = to
        if at != current:
            return None
        return list(dels.values()), list(adds.values())
