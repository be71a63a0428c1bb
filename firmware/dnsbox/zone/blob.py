"""Checked zones -> the zone blob (docs/blob.md). Build time only.

Two passes, so that the server's semantics live in one place (dnsbox.auth.answer):
1. a blob holding every RRset (each as a response whose answer section is the RRset) and the
   node entries; the general query path can answer everything from it;
2. the general path answers, on that blob, every query the fast paths will serve: (name, type)
   of each RRset, CNAME owners with common types, one referral per zone cut, one NODATA per
   zone; those responses (minus the ID) become the entries and blocks of the final blob.
"""

import struct

from dnsbox.wire import types as T
from dnsbox.zone.errors import ZoneError
from dnsbox.zonedb import rrset_key as _key
from dnsbox.zonedb import (
    F_APEX,
    F_CNAME,
    F_DELEG,
    F_DNAME,
    F_WILD,
    HASH_DJB2X16,
    HEADER_LEN,
    K_ANSWER,
    K_DELEG_NS,
    K_GLUE,
    K_NODE,
    K_SYNTH,
    MAGIC,
    VERSION,
    djb2x16,
    open_blob,
)

MAX_BUCKETS = 65536  # the index hash has 16 bits: more buckets would stay empty
MAX_ENTRY = 65535  # bytes in one entry (u16 length); a bigger RRset stops the build
MAX_RRSET = 4096  # records in one RRset (bounds the general path's work for one answer)
# Types precomputed for CNAME owners (the chase result); others use the general path.
SYNTH_TYPES = (T.A, T.AAAA, T.MX, T.TXT, T.SRV, T.HTTPS)
_PRIVATE_TYPE = 65280  # RFC 6895 private-use type, asked at each apex for the NODATA block
_QUERY_FLAGS = b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"  # RD, QDCOUNT 1


def _rr_wire(lname, rr):
    rd = rr.rdata.to_wire()
    return lname + struct.pack(">HHIH", rr.rtype, rr.rclass, rr.ttl, len(rd)) + rd


class _Plan:
    """What goes into the blob: entries by key, cuts, zones."""

    def __init__(self):
        self.entries = {}  # key -> [kind, hdr10, tail] (nodes: tail is the node body fields)
        self.nodes = {}  # lname -> [flags, zone, types, cut lname or None]
        self.cuts = []  # (zone index, lname)
        self.order = []  # keys in insertion order (stable blobs)

    def put(self, key, kind, hdr, tail):
        if key not in self.entries:
            self.order.append(key)
        self.entries[key] = [kind, hdr, tail]


def _owner_zone(zones, name):
    """Index of the zone with the deepest apex containing name."""
    best = -1
    for i, z in enumerate(zones):
        if name.is_subdomain(z.origin):
            if best < 0 or z.origin.label_count() > zones[best].origin.label_count():
                best = i
    return best


def _plan(zones):
    p = _Plan()
    parent_ds = []  # child apexes whose DS RRset comes from a parent zone we serve
    for zi, z in enumerate(zones):
        apex = z.origin.wire.lower()
        for name in sorted(z.nodes):
            if _owner_zone(zones, name) != zi:
                # A deeper zone we also serve owns this name. If it is our cut with a DS
                # RRset, the DS stays ours: the parent side answers DS (RFC 4035 3.1.4.1).
                if name in z.cuts and T.DS in z.nodes[name]:
                    _put_rrset(p, name.wire.lower(), T.DS, K_ANSWER, z.nodes[name][T.DS])
                    parent_ds.append(name.wire.lower())
                continue
            node = z.nodes[name]
            lname = name.wire.lower()
            cut = z.below_cut(name)
            tlist = sorted(node, key=lambda t: (node[t][0].file, node[t][0].line))
            if cut is not None and cut != name:
                for t in tlist:  # glue below a cut (check.py allows only addresses here)
                    _put_rrset(p, lname, t, K_GLUE, node[t])
                continue
            if cut == name:
                _put_rrset(p, lname, T.NS, K_DELEG_NS, node[T.NS])
                types = [T.NS]
                for t in tlist:
                    if t == T.DS:
                        _put_rrset(p, lname, t, K_ANSWER, node[t])
                        types.append(t)
                    elif t != T.NS:
                        _put_rrset(p, lname, t, K_GLUE, node[t])
                flags = F_DELEG
            else:
                for t in tlist:
                    _put_rrset(p, lname, t, K_ANSWER, node[t])
                types = tlist
                flags = F_APEX if lname == apex else 0
                if T.CNAME in node:
                    flags |= F_CNAME
                if T.DNAME in node:
                    flags |= F_DNAME
            old = p.nodes.get(lname)
            if old is not None:
                flags |= old[0] & F_WILD
            p.nodes[lname] = [flags, zi, types, lname if cut == name else None]
            if cut == name:
                p.cuts.append((zi, lname))
            # empty non-terminals up to the apex, and the wildcard flag of the parent
            n = name
            while n != z.origin:
                par = n.parent()
                pl = par.wire.lower()
                if pl not in p.nodes:
                    p.nodes[pl] = [0, zi, [], None]
                if n.is_wild():
                    p.nodes[pl][0] |= F_WILD
                n = par
    for lname in parent_ds:
        if lname in p.nodes and T.DS not in p.nodes[lname][2]:
            p.nodes[lname][2] = list(p.nodes[lname][2]) + [T.DS]
    for lname, (flags, zi, types, _c) in p.nodes.items():
        body = struct.pack(">BHIB", flags, zi, 0, len(types))
        body += b"".join(struct.pack(">H", t) for t in types)
        p.put(lname + b"\x00\x00\x00\x01", K_NODE, bytes(10), body)
    return p


def _put_rrset(p, lname, rtype, kind, recs):
    hdr = struct.pack(">HHHHH", 0x8500, 1, len(recs), 0, 0)
    tail = b"".join(_rr_wire(lname, r) for r in recs)
    if 4 + 10 + len(lname) + 4 + len(tail) > MAX_ENTRY or len(recs) > MAX_RRSET:
        r = recs[0]
        raise ZoneError(r.file, r.line, "RRset %s %s is too large for one DNS message" % (
            r.name.to_text(), T.type_to_text(rtype)))
    p.put(_key(lname, rtype), kind, hdr, tail)


def _entry_bytes(key, kind, hdr, tail):
    n = 4 + 10 + len(key) + len(tail)
    if n > MAX_ENTRY:
        raise ValueError("entry for %r is %d bytes (limit %d)" % (key, n, MAX_ENTRY))
    return struct.pack(">HBB", n, kind, len(key)) + hdr + key + tail


def _serialize(p, zones, blocks, refs):
    """blocks: list of bytes (shiftable blocks); refs: {cut lname: block index};
    zone_neg: per zone, block index of its negative answer (refs[('neg', zi)])."""
    keys = p.order
    nb = 1
    while nb < 2 * len(keys) and nb < MAX_BUCKETS:  # load <= 0.5 while it can
        nb <<= 1
    out = bytearray(HEADER_LEN)
    block_off = []
    for b in blocks:
        block_off.append(len(out))
        out += b
    zones_off = len(out)
    out += bytes(4 * len(zones))
    for i, z in enumerate(zones):
        struct.pack_into(">I", out, zones_off + 4 * i, len(out))
        apex = z.origin.wire
        neg = refs.get(("neg", i))
        out += bytes((len(apex),)) + apex
        out += struct.pack(">III", block_off[neg] if neg is not None else 0, z.record_count(), 0)
    buckets_off = len(out)
    out += bytes(4 * (nb + 1))
    by_bucket = [[] for _ in range(nb)]
    for k in keys:
        by_bucket[djb2x16(k) & (nb - 1)].append(k)
    for bi in range(nb):
        struct.pack_into(">I", out, buckets_off + 4 * bi, len(out))
        for k in by_bucket[bi]:
            kind, hdr, tail = p.entries[k]
            if kind == K_NODE:
                ref = refs.get(k[:-4])
                if ref is not None:
                    tail = tail[:3] + struct.pack(">I", block_off[ref]) + tail[7:]
            out += _entry_bytes(k, kind, hdr, tail)
    struct.pack_into(">I", out, buckets_off + 4 * nb, len(out))
    nrec = sum(z.record_count() for z in zones)
    struct.pack_into(">8sHHIIIIHHII", out, 0, MAGIC, VERSION, HASH_DJB2X16, len(out),
                     buckets_off, nb, zones_off, len(zones), 0, nrec, len(keys))
    return bytes(out)


def _pointers(msg, start, count):
    """Offsets (relative to start) of compression pointers in `count` RRs from msg[start:]."""
    out = []
    off = start

    def name(off):
        while True:
            c = msg[off]
            if c & 0xC0 == 0xC0:
                out.append(off - start)
                return off + 2
            if c == 0:
                return off + 1
            off += c + 1

    for _ in range(count):
        off = name(off)
        rtype, _c, _ttl, rdlen = struct.unpack_from(">HHIH", msg, off)
        off += 10
        end = off + rdlen
        if rtype in (T.NS, T.CNAME, T.PTR):
            name(off)
        elif rtype == T.MX:
            name(off + 2)
        elif rtype == T.SOA:
            name(name(off))
        off = end
    return out


def _ask(general, key):
    q = b"\x00\x00" + _QUERY_FLAGS + key
    from dnsbox.auth import TCP

    r = general.handle(q, TCP)
    if r is None or r[12 : 12 + len(key)] != key:
        raise ValueError("general path gave no answer for %r" % key)
    return r


def _block(general, key, base_len):
    r = _ask(general, key)
    qend = 12 + len(key)
    counts = struct.unpack_from(">HHH", r, 6)
    ptrs = _pointers(r, qend, counts[0] + counts[1] + counts[2])
    head = struct.pack(">HHB", 0, base_len, len(ptrs))
    head += b"".join(struct.pack(">H", x) for x in ptrs)
    b = head + r[2:12] + r[qend:]
    return struct.pack(">H", len(b)) + b[2:]


def build(zones):
    """The blob (bytes) for a list of checked zones (dnsbox.zone.check.Zone)."""
    from dnsbox.auth.answer import General

    p = _plan(zones)
    first = _serialize(p, zones, [], {})
    general = General(open_blob(first))
    for k in list(p.order):
        kind = p.entries[k][0]
        if kind == K_ANSWER:
            r = _ask(general, k)
            if 4 + len(r) - 2 <= MAX_ENTRY:  # else the answer-only entry stays (general path)
                p.entries[k] = [K_ANSWER, r[2:12], r[12 + len(k) :]]
    for lname, (flags, _zi, types, _c) in list(p.nodes.items()):
        if flags & F_CNAME:
            for t in SYNTH_TYPES:
                if t not in types:
                    k = _key(lname, t)
                    r = _ask(general, k)
                    if 4 + len(r) - 2 <= MAX_ENTRY:
                        p.put(k, K_SYNTH, r[2:12], r[12 + len(k) :])
    blocks = []
    refs = {}
    for zi, cut in p.cuts:
        refs[cut] = len(blocks)
        blocks.append(_block(general, _key(cut, T.A), len(cut)))
    for zi, z in enumerate(zones):
        apex = z.origin.wire.lower()
        t = _PRIVATE_TYPE
        while t in z.nodes[z.origin]:
            t += 1
        refs[("neg", zi)] = len(blocks)
        blocks.append(_block(general, _key(apex, t), len(apex)))
    return _serialize(p, zones, blocks, refs)
