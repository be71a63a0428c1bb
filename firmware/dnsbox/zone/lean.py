"""A transferred zone's blob (docs/blob.md, "Lean blobs"), built in bounded steps from compact
records, so that the serving loop answers between steps and no Python object is made per record.

A compact record is bytes: owner (lower-case wire), u16 type, u16 class, u32 TTL, u16 rdlength,
rdata with its names uncompressed (dnsbox.auth.xfrin.compact). Build(apex, records) sorts them
(owner then type: each RRset is a run), checks the zone as dnsbox.zone.check does for unsigned
zones, and writes the blob in one preallocated bytearray: entries are measured in one pass and
written in a second (no list of entries held), the referral and negative blocks (asked of the
general path on the finished entries, dnsbox.zone.blob's own _block) in room reserved at the end.
The entries are answer-only: no precomputed additional addresses or CNAME chases (those queries
take the general path, which gives the compiled zones' answers). Signed zones (RRSIG, NSEC,
NSEC3) are not for this builder: signed() tells the caller to use dnsbox.zone.blob.

Build.step() does at most STEP records or entries and returns True when the blob is done
(Build.blob, bytes); ZoneError for a zone the checks refuse.
"""
import gc
import struct

from dnsbox.compat import const
from dnsbox.wire import types as T
from dnsbox.zone.errors import ZoneError
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
    MAGIC,
    VERSION,
    djb2x16,
    open_blob,
)

STEP = const(256)  # records or entries per step (one step: a few ms on the board)
MAX_BUCKETS = const(65536)  # the index hash has 16 bits (dnsbox.zone.blob)
MAX_ENTRY = const(65535)  # bytes in one entry (u16 length)
BLOCK_SLACK = const(64)  # bytes reserved per block beyond its records (header, pointers)
_DNSSEC = (46, 47, 48, 50, 51)  # RRSIG, NSEC, DNSKEY, NSEC3, NSEC3PARAM: dnsbox.zone.blob
_AT_CUT = (T.NS, T.DS, T.A, T.AAAA)
_PRIVATE_TYPE = 65280  # the type asked at the apex for the negative block (as blob.py)
_ZONE_REC = const(28)  # zone record bytes after the apex name


def owner_end(rec):
    """The offset after the owner name of a compact record."""
    i = 0
    while rec[i]:
        i += rec[i] + 1
    return i + 1


def rec_type(rec):
    e = owner_end(rec)
    return (rec[e] << 8) | rec[e + 1]


def signed(records):
    """True if the zone has DNSSEC records (dnsbox.zone.blob builds those)."""
    for r in records:
        if rec_type(r) in _DNSSEC:
            return True
    return False


def _parent(lname):
    return lname[lname[0] + 1 :]


def _text(lname):
    out = []
    i = 0
    while lname[i]:
        out.append(bytes(lname[i + 1 : i + 1 + lname[i]]).decode("latin-1"))
        i += lname[i] + 1
    return ".".join(out) + "."


class Build:
    """The blob of zone `origin` (dnsbox.wire.name.Name) from `records` (compact, any order;
    the list is sorted in place and deduplicated)."""

    def __init__(self, origin, records, where):
        self.origin = origin
        self.apex = origin.wire.lower()
        self.recs = records
        self.where = where
        self.blob = None
        self.steps = 0
        self._gen = self._run()

    def step(self):
        self.steps += 1
        for _ in self._gen:
            return False
        return True

    def _fail(self, text):
        raise ZoneError(self.where, 0, text)

    def _has(self, lname):
        """True if lname owns records (binary search of the sorted records)."""
        return self._find(lname) >= 0

    def _find(self, lname):
        """Index of lname's first record, or -1."""
        recs = self.recs
        lo, hi = 0, len(recs)
        while lo < hi:
            mid = (lo + hi) // 2
            if recs[mid] < lname:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(recs) and recs[lo].startswith(lname) and owner_end(recs[lo]) == len(lname):
            return lo
        return -1

    def _rrsets(self):
        """(owner, type, first, end) of each RRset, in order."""
        recs = self.recs
        i = 0
        n = len(recs)
        while i < n:
            r = recs[i]
            e = owner_end(r)
            head = r[: e + 4]
            j = i + 1
            while j < n and recs[j].startswith(head):
                j += 1
            yield r[:e], (r[e] << 8) | r[e + 1], i, j
            i = j

    def _sort(self):
        """A merge sort in steps: runs of STEP records sorted, then merged pairwise (the list
        of references copied per pass, the records never)."""
        recs = self.recs
        n = len(recs)
        w = STEP
        for i in range(0, n, w):
            part = recs[i : i + w]
            part.sort()
            recs[i : i + w] = part
            yield
        while w < n:
            out = []
            k = 0
            for lo in range(0, n, 2 * w):
                a = lo
                mid = b = min(lo + w, n)
                hi = min(lo + 2 * w, n)
                while a < mid and b < hi:
                    if recs[b] < recs[a]:
                        out.append(recs[b])
                        b += 1
                    else:
                        out.append(recs[a])
                        a += 1
                    k += 1
                    if k % STEP == 0:
                        yield
                while a < mid:
                    out.append(recs[a])
                    a += 1
                while b < hi:
                    out.append(recs[b])
                    b += 1
            recs = self.recs = out
            w *= 2
            yield

    def _run(self):
        yield from self._sort()
        recs = self.recs
        k = 0
        i = 1
        while i < len(recs):  # exact duplicates dropped (RFC 2181 5: an RRset is a set)
            if recs[i] == recs[i - 1]:
                recs.pop(i)
            else:
                i += 1
            k += 1
            if k % STEP == 0:
                yield
        yield from self._survey()
        yield from self._layout()
        yield from self._write()
        yield from self._blocks()

    def _survey(self):
        """The cuts, DNAMEs, wildcard parents, empty non-terminals; the checks that need
        only one RRset; the count of keys."""
        apex = self.apex
        self.cuts = set()
        dnames = []
        self.wild = set()
        self.ents = {}  # empty non-terminal lname -> flags
        soa = 0
        keys = 0
        owners = 0
        last = None
        k = 0
        for lname, t, i, j in self._rrsets():
            keys += 1
            if t == T.SOA:
                if lname != apex or j - i != 1:
                    self._fail("SOA at %s (%d records): one SOA, at the apex only" % (
                        _text(lname), j - i))
                soa += 1
            elif t == T.NS and lname != apex:
                self.cuts.add(lname)
            elif t == T.DNAME:
                dnames.append(lname)
            if (t == T.CNAME or t == T.DNAME) and j - i > 1:
                self._fail("more than one %s at %s" % (T.type_to_text(t), _text(lname)))
            if lname != last:
                last = lname
                owners += 1
                if lname.startswith(b"\x01*"):
                    self.wild.add(_parent(lname))
                n = lname
                while n != apex and len(n) > len(apex):
                    n = _parent(n)
                    if n in self.ents or self._has(n):
                        break
                    self.ents[n] = 0
                    keys += 1
            k += j - i
            if k >= STEP:
                k = 0
                yield
        if soa != 1:
            self._fail("zone %s has no SOA record" % _text(apex))
        self.dnames = dnames
        self.nkeys = keys + owners

    def _below(self, lname, names):
        """The name of `names` strictly above lname, or None."""
        if not names:
            return None
        n = lname
        while len(n) > len(self.apex):
            n = _parent(n)
            if n in names:
                return n
        return None

    def _entries(self):
        """(key, kind, hdr, tail) of every entry (RRsets, then their owner's node)."""
        apex = self.apex
        recs = self.recs
        node = None  # [lname, types, flags]
        for lname, t, i, j in self._rrsets():
            if node is not None and node[0] != lname:
                yield self._node(node)
                node = None
            cut = self._below(lname, self.cuts)
            if cut is None and self._below(lname, self.dnames) is not None:
                self._fail("%s is occluded by a DNAME (RFC 6672 2.4)" % _text(lname))
            if cut is not None:
                if t != T.A and t != T.AAAA:
                    self._fail("%s %s is occluded by the delegation at %s" % (
                        _text(lname), T.type_to_text(t), _text(cut)))
                yield self._rrset(lname, t, K_GLUE, recs, i, j)
                continue
            kind = K_ANSWER
            if lname in self.cuts:
                if t not in _AT_CUT:
                    self._fail("%s %s is occluded by the delegation there" % (
                        _text(lname), T.type_to_text(t)))
                kind = K_DELEG_NS if t == T.NS else K_GLUE if t != T.DS else K_ANSWER
            if node is None:
                node = [lname, [], 0]
            if kind != K_GLUE:
                node[1].append(t)
            if t == T.CNAME:
                node[2] |= F_CNAME
            elif t == T.DNAME:
                node[2] |= F_DNAME
            yield self._rrset(lname, t, kind, recs, i, j)
        if node is not None:
            yield self._node(node)
        for lname in self.ents:
            yield self._node([lname, [], 0])

    def _node(self, node):
        lname, types, flags = node
        if flags & F_CNAME and len(types) > 1:
            self._fail("CNAME and other data at %s" % _text(lname))
        if lname == self.apex:
            flags |= F_APEX
        if lname in self.cuts:
            flags = F_DELEG
            types = [T.NS] + [t for t in types if t != T.NS]
        elif lname == self.apex and T.SOA in types:
            types = [T.SOA] + [t for t in types if t != T.SOA]
        if lname in self.wild:
            flags |= F_WILD
        body = struct.pack(">BHIB", flags, 0, 0, len(types))
        body += b"".join(struct.pack(">H", t) for t in types)
        return lname + b"\x00\x00\x00\x01", K_NODE, bytes(10), body

    def _rrset(self, lname, t, kind, recs, i, j):
        ttl = None
        for x in range(i, j):  # one TTL per RRset: the smallest (RFC 2181 5.2)
            e = len(lname)
            v = struct.unpack_from(">I", recs[x], e + 4)[0]
            if ttl is None or v < ttl:
                ttl = v
        ttlb = struct.pack(">I", ttl)
        e = len(lname)
        tail = b"".join(recs[x][: e + 4] + ttlb + recs[x][e + 8 :] for x in range(i, j))
        hdr = struct.pack(">HHHHH", 0x8500, 1, j - i, 0, 0)
        key = lname + struct.pack(">HH", t, 1)
        if 4 + 10 + len(key) + len(tail) > MAX_ENTRY:
            self._fail("RRset %s %s is too large for one DNS message" % (
                _text(lname), T.type_to_text(t)))
        return key, kind, hdr, tail

    def _layout(self):
        """Bucket count, offsets, the reserve for the blocks; the bytearray allocated."""
        nb = 1
        while nb < 2 * self.nkeys and nb < MAX_BUCKETS:
            nb <<= 1
        self.nb = nb
        apex = self.origin.wire
        self.zones_off = HEADER_LEN
        self.buckets_off = HEADER_LEN + 4 + 1 + len(apex) + _ZONE_REC
        sizes = [0] * (nb + 1)
        k = 0
        count = 0
        for key, _kind, _hdr, tail in self._entries():
            sizes[djb2x16(key) & (nb - 1)] += 4 + 10 + len(key) + len(tail)
            count += 1
            k += 1
            if k % STEP == 0:
                yield
        self.count = count
        off = self.buckets_off + 4 * (nb + 1)
        for b in range(nb + 1):  # sizes become the write cursors
            s = sizes[b]
            sizes[b] = off
            off += s
            if b % (16 * STEP) == 0:
                yield
        self.cursor = sizes
        self.entries_end = off
        self.reserve = self._reserve()
        yield
        self.blob = bytearray(off + self.reserve)

    def _reserve(self):
        """Bytes for the blocks: the negative one, and each cut's referral (its NS RRset and
        the address records of its in-zone targets), uncompressed: the encoder's compressed
        block is never larger."""
        recs = self.recs
        n = 0
        i = self._find(self.apex)
        for x in range(i, len(recs)):
            if owner_end(recs[x]) != len(self.apex):
                break
            if rec_type(recs[x]) == T.SOA:
                n += BLOCK_SLACK + len(recs[x]) + 6
        for cut in self.cuts:
            n += BLOCK_SLACK + len(cut)
            for x in range(self._find(cut), len(recs)):
                r = recs[x]
                if not r.startswith(cut) or owner_end(r) != len(cut):
                    break
                if rec_type(r) == T.NS:
                    n += len(r) + 4
                    target = bytes(r[len(cut) + 10 :]).lower()
                    y = self._find(target)
                    while 0 <= y < len(recs) and recs[y].startswith(target) and \
                            owner_end(recs[y]) == len(target):
                        if rec_type(recs[y]) in (T.A, T.AAAA):
                            n += len(recs[y]) + 4
                        y += 1
        return n

    def _write(self):
        out = self.blob
        nb = self.nb
        apex = self.origin.wire
        nrec = len(self.recs)
        struct.pack_into(">8sHHIIIIHHII", out, 0, MAGIC, VERSION, HASH_DJB2X16, len(out),
                         self.buckets_off, nb, self.zones_off, 1, 0, nrec, self.count)
        z = self.zones_off
        struct.pack_into(">I", out, z, z + 4)
        out[z + 4] = len(apex)
        out[z + 5 : z + 5 + len(apex)] = apex
        struct.pack_into(">IIIBIII", out, z + 5 + len(apex), 0, nrec, 0, 0, 0, 0, 0)
        cursor = self.cursor
        for b in range(nb + 1):
            struct.pack_into(">I", out, self.buckets_off + 4 * b, cursor[b])
            if b % (4 * STEP) == 0:
                yield
        k = 0
        for key, kind, hdr, tail in self._entries():
            b = djb2x16(key) & (nb - 1)
            at = cursor[b]
            n = 4 + 10 + len(key) + len(tail)
            struct.pack_into(">HBB", out, at, n, kind, len(key))
            out[at + 4 : at + 14] = hdr
            out[at + 14 : at + 14 + len(key)] = key
            out[at + 14 + len(key) : at + n] = tail
            cursor[b] = at + n
            k += 1
            if k % STEP == 0:
                yield
        self.cursor = None
        yield

    def _blocks(self):
        """The negative block and each cut's referral, from the general path over the entries
        written (dnsbox.zone.blob's _block, on a bytes copy: the reader hashes its slices),
        written into the reserve with their offsets; the blob becomes bytes (a second copy,
        the bytearray dropped: at most two blobs at once)."""
        from dnsbox.auth.answer import General
        from dnsbox.zone.blob import _block

        gc.collect()  # the largest hole there is, for the blob's bytes copy
        general = General(open_blob(bytes(self.blob)))
        yield
        t = _PRIVATE_TYPE
        while self._has_type(self.apex, t):
            t += 1
        made = [(None, _block(general, self.apex + struct.pack(">HH", t, 1), len(self.apex)))]
        for cut in self.cuts:
            yield
            made.append((cut, _block(general, cut + struct.pack(">HH", T.A, 1), len(cut))))
        db = general.db
        general = None
        out = self.blob
        at = self.entries_end
        for cut, b in made:
            if at + len(b) > len(out):
                self._fail("a block of %d bytes is over the room reserved" % len(b))
            out[at : at + len(b)] = b
            if cut is None:
                struct.pack_into(">I", out, self.zones_off + 5 + len(self.origin.wire), at)
            else:
                e = db.find(cut + b"\x00\x00\x00\x01")
                if e < 0:
                    self._fail("no node for the cut %s" % _text(cut))
                struct.pack_into(">I", out, e + 14 + len(cut) + 4 + 3, at)  # node body
            at += len(b)
        db = None
        made = None
        # at once, no yield: the bytes copy above is garbage now, a hole of the blob's size that
        # the answers served in between would break up (a refresh at the board's heap needs it)
        gc.collect()
        self.blob = bytes(out)

    def _has_type(self, lname, t):
        i = self._find(lname)
        recs = self.recs
        while 0 <= i < len(recs) and owner_end(recs[i]) == len(lname) and \
                recs[i].startswith(lname):
            if rec_type(recs[i]) == t:
                return True
            i += 1
        return False
