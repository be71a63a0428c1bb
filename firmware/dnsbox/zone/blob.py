"""Checked zones -> the zone blob (docs/blob.md). Build time only.

Two passes, so that the server's semantics live in one place (dnsbox.auth.answer):
1. a blob holding every RRset (each as a response whose answer section is the RRset) and the
   node entries; the general query path can answer everything from it;
2. the general path answers, on that blob, every query the fast paths will serve: (name, type)
   of each RRset, CNAME owners with common types, one referral per zone cut, one NODATA per
   zone; those responses (minus the ID) become the entries and blocks of the final blob.
   In signed zones it also answers each of them for a DO query (RFC 4035 3.1: with RRSIGs
   and proofs): those become the DO entries.

Signed zones add: the RRSIGs of each RRset in their own entry (K_SIG), NSEC3 RRsets under
their hashed owners (K_NSEC3, not names of the zone), the NSEC at a cut as parent-side data
(K_GLUE: never an answer), and a denial index per zone (NSEC owners in canonical order, or the
NSEC3 chain's hashes in order) that the general path searches for covering records.
"""

import struct

from dnsbox.wire import types as T
from dnsbox.wire.errors import TextError
from dnsbox.wire.text import b32hex_from_text
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
    DENIAL_NONE,
    DENIAL_NSEC,
    DENIAL_NSEC3,
    K_DELEG_NS,
    K_DO_REFERRAL,
    K_GENERAL,
    K_GLUE,
    K_NODE,
    K_NSEC3,
    K_SIG,
    K_SYNTH,
    MAGIC,
    NSEC3_MAX_BITS,
    NSEC3_PER_BUCKET,
    VERSION,
    djb2x16,
    do_key,
    open_blob,
    sig_key,
)

MAX_BUCKETS = 65536  # the index hash has 16 bits: more buckets would stay empty
MAX_ENTRY = 65535  # bytes in one entry (u16 length); a bigger RRset stops the build
MAX_RRSET = 4096  # records in one RRset (bounds the general path's work for one answer)
# Types precomputed for CNAME owners (the chase result); others use the general path.
SYNTH_TYPES = (T.A, T.AAAA, T.MX, T.TXT, T.SRV, T.HTTPS)
# CNAME chases stored for DO queries too (the common ones: the others take the general path)
DO_SYNTH = (b"\x00\x01", b"\x00\x1c")  # A, AAAA
_PRIVATE_TYPE = 65280  # RFC 6895 private-use type, asked at each apex for the NODATA block
_QUERY_FLAGS = b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"  # RD, QDCOUNT 1
_DO_FLAGS = b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01"  # RD, QDCOUNT 1, ARCOUNT 1
_OPT_DO = b"\x00\x00\x29\xff\xff\x00\x00\x80\x00\x00\x00"  # OPT, 65535, DO
_OPT_LEN = 11  # the bare OPT record the general path appends to an EDNS answer
RRSIG = 46
NSEC = 47


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
                if name in z.cuts:
                    _parent_side(p, z.nodes[name], name.wire.lower(), zones[
                        _owner_zone(zones, name)].nodes[name], parent_ds)
                continue
            node = z.nodes[name]
            lname = name.wire.lower()
            cut = z.below_cut(name)
            tlist = sorted(node, key=lambda t: (node[t][0].file, node[t][0].line))
            for t in (NSEC, RRSIG):  # DNSSEC's types last: ANY answers with the first type
                if t in node:
                    tlist.remove(t)
                    tlist.append(t)
            if cut is not None and cut != name:
                for t in tlist:  # glue below a cut (check.py allows only addresses here)
                    if t != RRSIG:
                        _put_rrset(p, lname, t, K_GLUE, node[t])
                continue
            _put_sigs(p, lname, node.get(RRSIG, ()))
            if cut == name:
                _put_rrset(p, lname, T.NS, K_DELEG_NS, node[T.NS])
                types = [T.NS]
                for t in tlist:
                    if t == T.DS:
                        _put_rrset(p, lname, t, K_ANSWER, node[t])
                        types.append(t)
                    elif t != T.NS and t != RRSIG:  # glue, and the cut's NSEC (parent side)
                        _put_rrset(p, lname, t, K_GLUE, node[t])
                flags = F_DELEG
            else:
                for t in tlist:
                    if t != RRSIG:
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
    for z in zones:  # NSEC3 RRsets and their signatures: under hashed owners, no nodes
        for name, sets in z.nsec3.items():
            lname = name.wire.lower()
            if 50 in sets:
                _put_rrset(p, lname, 50, K_NSEC3, sets[50])
            _put_sigs(p, lname, sets.get(RRSIG, ()))
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


def _parent_side(p, node, lname, child_apex, parent_ds):
    """The parent's data at the cut of a child zone we serve too (RFC 4035 3.1.4.1): its DS
    RRset, and the NSEC proving there is none when the child has no NSEC of its own there
    (K_GLUE: never an answer), each with its signatures."""
    keep = []
    if T.DS in node:
        _put_rrset(p, lname, T.DS, K_ANSWER, node[T.DS])
        keep.append(T.DS)
        parent_ds.append(lname)
    if NSEC in node and NSEC not in child_apex:
        _put_rrset(p, lname, NSEC, K_GLUE, node[NSEC])
        keep.append(NSEC)
    _put_sigs(p, lname, [r for r in node.get(RRSIG, ()) if r.rdata.type_covered in keep])


def _put_sigs(p, lname, sigs):
    """One K_SIG entry per covered type (RFC 4034 3: the signatures of one RRset)."""
    by = {}
    for r in sigs:
        by.setdefault(r.rdata.type_covered, []).append(r)
    for covered, recs in by.items():
        _put_rrset(p, lname, RRSIG, K_SIG, recs)
        p.entries[sig_key(lname, covered)] = p.entries.pop(_key(lname, RRSIG))
        p.order[p.order.index(_key(lname, RRSIG))] = sig_key(lname, covered)


def _first_expiry(z):
    """The earliest RRSIG expiration of zone z (seconds since 1970, mod 2**32), 0 if none."""
    first = 0
    for nodes in (z.nodes, z.nsec3):
        for node in nodes.values():
            for r in node.get(RRSIG, ()):
                e = r.rdata.expiration
                if first == 0 or (e - first) & 0xFFFFFFFF >= 0x80000000:  # RFC 1982 order
                    first = e or 1
    return first


def _denial_index(z, zi, zones):
    """(DENIAL_* kind, index bytes) of zone z (docs/blob.md "Denial index")."""
    kind = z.denial()
    if kind == "nsec":
        items = sorted((n.canonical_key(), n.wire.lower()) for n, node in z.nodes.items()
                       if NSEC in node and _owner_zone(zones, n) == zi)
        head = struct.pack(">I", len(items))
        body = b""
        offs = []
        for ck, ln in items:
            offs.append(4 + 4 * len(items) + len(body))
            body += bytes((len(ck),)) + ck + bytes((len(ln),)) + ln
        return DENIAL_NSEC, head + b"".join(struct.pack(">I", o) for o in offs) + body
    if kind == "nsec3":
        par, owners = z.nsec3_chain()
        labels = sorted(o.labels()[0].lower() for o in owners)
        ll = len(labels[0]) if labels else 0
        if any(len(x) != ll for x in labels):
            r = z.nodes[z.origin][51][0]
            raise ZoneError(r.file, r.line, "NSEC3 owner labels of different lengths")
        try:
            hashes = [b32hex_from_text(x.decode(), "NSEC3 owner") for x in labels]
        except (TextError, UnicodeError):
            r = z.nodes[z.origin][51][0]
            raise ZoneError(r.file, r.line, "an NSEC3 owner label is not base32hex")
        hl = len(hashes[0]) if hashes else 0
        bits = 0
        while bits < NSEC3_MAX_BITS and (2 << bits) * NSEC3_PER_BUCKET <= len(hashes):
            bits += 1
        starts = []
        j = 0
        for b in range(1 << bits):  # the first item whose top `bits` bits are >= b
            while j < len(hashes) and _top(hashes[j], bits) < b:
                j += 1
            starts.append(j)
        starts.append(len(hashes))
        salt = par.salt
        return DENIAL_NSEC3, (
            struct.pack(">BBHB", par.algorithm, par.flags, par.iterations, len(salt)) + salt
            + struct.pack(">BBBI", hl, ll, bits, len(hashes))
            + b"".join(struct.pack(">I", x) for x in starts)
            + b"".join(h + x for h, x in zip(hashes, labels)))
    return DENIAL_NONE, b""


def _top(h, bits):
    return int.from_bytes(h[:4], "big") >> (32 - bits) if bits else 0


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
        kind, den = refs.get(("den", i), (DENIAL_NONE, None))
        dneg = refs.get(("doneg", i))
        out += struct.pack(">BIII", kind, block_off[den] if den is not None else 0,
                           _first_expiry(z), block_off[dneg] if dneg is not None else 0)
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
            elif kind == K_DO_REFERRAL:
                tail = struct.pack(">I", block_off[refs[("do", k[:-4])]])
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


def _ask(general, key, do=False):
    q = b"\x00\x00" + (_DO_FLAGS if do else _QUERY_FLAGS) + key + (_OPT_DO if do else b"")
    from dnsbox.auth import TCP

    r = general.handle(q, TCP)
    if r is None or r[12 : 12 + len(key)] != key:
        raise ValueError("general path gave no answer for %r" % key)
    if do:  # the OPT record goes: the server appends the client's own
        if r[-_OPT_LEN:-_OPT_LEN + 3] != b"\x00\x00\x29":
            raise ValueError("general path's DO answer for %r has no bare OPT last" % key)
        ar = (r[10] << 8) | r[11]
        r = r[:10] + bytes(((ar - 1) >> 8, (ar - 1) & 0xFF)) + r[12:-_OPT_LEN]
    return r


def _soa_block(general, zi, z):
    """Zone zi's SOA (negative TTL) and its RRSIGs as a shiftable block, for the fast path's
    DO negative answers (dnsbox.auth.proofbytes); None if a pointer in it would point
    elsewhere than into the question (the general path answers then)."""
    from dnsbox.auth.answer import capped
    from dnsbox.wire import message as M
    from dnsbox.wire.reply import TCP_MAX

    soa = general.zone_soa(zi)
    m = M.Message(0)
    m.qr = True
    m.aa = True
    m.question = [M.Question(z.origin, _PRIVATE_TYPE, T.CLASS_IN)]
    m.authority = soa + capped(general.proofs.sigs(z.origin.wire.lower(), T.SOA), soa[0].ttl)
    r = M.encode(m, TCP_MAX)
    base = len(z.origin.wire)
    qend = 12 + base + 4
    ptrs = _pointers(r, qend, len(m.authority))
    for x in ptrs:
        if ((r[qend + x] & 0x3F) << 8 | r[qend + x + 1]) >= qend - 4:
            return None
    head = struct.pack(">HHB", 0, base, len(ptrs)) + b"".join(struct.pack(">H", x)
                                                            for x in ptrs)
    b = head + r[2:12] + r[qend:]
    return struct.pack(">H", len(b)) + b[2:]


def _block(general, key, base_len, do=False):
    r = _ask(general, key, do)
    qend = 12 + len(key)
    counts = struct.unpack_from(">HHH", r, 6)
    ptrs = _pointers(r, qend, counts[0] + counts[1] + counts[2])
    head = struct.pack(">HHB", 0, base_len, len(ptrs))
    head += b"".join(struct.pack(">H", x) for x in ptrs)
    b = head + r[2:12] + r[qend:]
    return struct.pack(">H", len(b)) + b[2:]


def _key_zone(zones, p, key):
    """The zone index whose data answers an entry's key: the owner node's zone, or for DS at a
    zone apex the parent's (RFC 4035 3.1.4.1)."""
    lname = key[:-4]
    flags, zi = p.nodes[lname][:2]
    if key[-4:-2] == b"\x00\x2b" and flags & F_APEX and len(lname) > 1:
        parent = lname[lname[0] + 1 :]
        best = -1
        for i, z in enumerate(zones):
            apex = z.origin.wire.lower()
            if _in_domain(parent, apex) and (best < 0 or len(apex) > len(
                    zones[best].origin.wire)):
                best = i
        return zi if best < 0 else best
    return zi


def _in_domain(lname, apex):
    """lname (lower-case wire) is apex or below it, on a label boundary."""
    i = 0
    while i < len(lname):
        if lname[i:] == apex:
            return True
        if lname[i] == 0:
            return False
        i += lname[i] + 1
    return False


def build(zones):
    """The blob (bytes) for a list of checked zones (dnsbox.zone.check.Zone)."""
    from dnsbox.auth.answer import General

    p = _plan(zones)
    blocks = []
    refs = {}
    for zi, z in enumerate(zones):  # the denial indexes first: the general path needs them
        kind, index = _denial_index(z, zi, zones)
        if kind != DENIAL_NONE:
            refs[("den", zi)] = (kind, len(blocks))
            blocks.append(index)
    first = _serialize(p, zones, blocks, refs)
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
    signed = [z.denial() is not None for z in zones]
    for k in list(p.order) if True in signed else ():  # DO answers (RFC 4035 3.1)
        kind, hdr, tail = p.entries[k]
        if kind != K_ANSWER and kind != K_SYNTH:
            continue
        dk = do_key(k[:-4], (k[-4] << 8) | k[-3])
        if kind == K_SYNTH and k[-4:-2] not in DO_SYNTH and signed[_key_zone(zones, p, k)]:
            p.put(dk, K_GENERAL, bytes(10), b"")  # a rarer chase: the general path
            continue
        r = _ask(general, k, True)
        if not signed[_key_zone(zones, p, k)] and r[2:12] == hdr and r[12 + len(k) :] == tail:
            continue  # an unsigned zone's answer that reaches no signed data: the same
        if 4 + len(r) - 2 <= MAX_ENTRY:
            p.put(dk, kind, r[2:12], r[12 + len(k) :])
        else:
            p.put(dk, K_GENERAL, bytes(10), b"")
    for zi, z in enumerate(zones):  # the SOA part of DO negative answers (proofbytes)
        if signed[zi]:
            b = _soa_block(general, zi, z)
            if b is not None:
                refs[("doneg", zi)] = len(blocks)
                blocks.append(b)
    for zi, cut in p.cuts:
        refs[cut] = len(blocks)
        blocks.append(_block(general, _key(cut, T.A), len(cut)))
        if signed[zi]:  # and its DO referral (DS and signatures, or the no-DS proof)
            refs[("do", cut)] = len(blocks)
            blocks.append(_block(general, _key(cut, T.A), len(cut), True))
            p.put(do_key(cut, 0), K_DO_REFERRAL, bytes(10), bytes(4))
    for zi, z in enumerate(zones):
        apex = z.origin.wire.lower()
        t = _PRIVATE_TYPE
        while t in z.nodes[z.origin]:
            t += 1
        refs[("neg", zi)] = len(blocks)
        blocks.append(_block(general, _key(apex, t), len(apex)))
    return _serialize(p, zones, blocks, refs)
