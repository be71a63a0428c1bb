"""The read-only zone blob (docs/blob.md): header, hash index, entries, zone table.

The blob is one bytes object (frozen into the firmware: it lives in .rodata and is never
copied into the GC heap). Nothing is unpacked at open: a lookup hashes its key, reads one
bucket's range from the bucket table and compares the few entries of that bucket in place
(bytes.startswith at an offset: no slice, no allocation).
"""

from struct import unpack_from

from dnsbox.compat import const

_len = len  # a module global: found faster than the builtin (hot path: find)

MAGIC = b"DNSBOXZB"
VERSION = const(3)
HASH_DJB2X16 = const(1)  # the only hash of versions 1 to 3 (see docs/blob.md)
HEADER_LEN = const(40)

# Entry kinds (docs/blob.md "Entries").
K_ANSWER = const(1)  # authoritative RRset, value = the whole positive response
K_SYNTH = const(2)  # precomputed response for a name/type that is not an RRset (CNAME chase)
K_GLUE = const(3)  # address RRset below a zone cut: not authoritative, only for referrals
K_NODE = const(4)  # a name that exists (or is a cut / an empty non-terminal)
K_DELEG_NS = const(5)  # the NS RRset at a zone cut (not authoritative)
K_SIG = const(6)  # the RRSIGs covering one RRset (key: sig_key), never served as an answer
K_NSEC3 = const(7)  # an NSEC3 RRset under its hashed owner (not a name of the zone)
K_GENERAL = const(8)  # the DO answer of this key is too large to store: the general path
K_DO_REFERRAL = const(10)  # do_key(cut, 0): u32 offset of the cut's DO referral block

# The NSEC3 denial index's buckets (docs/blob.md "Denial index"): by the hash's top bits, about
# NSEC3_PER_BUCKET hashes each, at most 2^NSEC3_MAX_BITS buckets.
NSEC3_PER_BUCKET = const(4)
NSEC3_MAX_BITS = const(16)

# Denial of existence of a zone (zone table).
DENIAL_NONE = const(0)
DENIAL_NSEC = const(1)
DENIAL_NSEC3 = const(2)

# Node flags.
F_DELEG = const(1)  # zone cut: NS here, not the apex
F_CNAME = const(2)
F_DNAME = const(4)
F_WILD = const(8)  # a '*' child exists
F_APEX = const(16)

# Offsets inside an entry.
E_KIND = const(2)
E_KLEN = const(3)
E_HDR = const(4)  # 10 bytes: flags, QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT of the response
E_KEY = const(14)

CLASS_IN_KEY = b"\x00\x01"
NODE_SUFFIX = b"\x00\x00\x00\x01"  # qtype 0, class IN: the key of a node entry
SIG_CLASS_KEY = b"\x00\x2e"  # class field 46 (RRSIG) in a key: the signatures of an RRset
DO_CLASS_KEY = b"\x80\x01"  # class IN with the top bit: the answer for a DO query


def rrset_key(lname, rtype):
    """The key of the entry of RRset (lname, rtype) in class IN."""
    return lname + bytes((rtype >> 8, rtype & 0xFF)) + CLASS_IN_KEY


def sig_key(lname, covered):
    """The key of the entry holding the RRSIGs of RRset (lname, covered)."""
    return lname + bytes((covered >> 8, covered & 0xFF)) + SIG_CLASS_KEY


def do_key(lname, rtype):
    """The key of the precomputed answer to (lname, rtype) for a query with DO set."""
    return lname + bytes((rtype >> 8, rtype & 0xFF)) + DO_CLASS_KEY


def djb2x16(data):
    """The blob's index hash: djb2 with xor, kept to 16 bits, 0 -> 1 (docs/blob.md).

    It is the hash MicroPython computes for bytes (py/qstr.c qstr_compute_hash with two hash
    bytes), so on MicroPython the builtin hash() gives it in C; open_blob checks that."""
    h = 5381
    for c in data:
        h = ((h * 33) ^ c) & 0xFFFF
    return h or 1


_PROBES = (b"", b"dnsbox", b"\x07example\x03com\x00\x00\x01\x00\x01", bytes(range(200, 256)))


def _hash_function():
    """The builtin hash if it is djb2x16 (MicroPython), else the Python version (CPython)."""
    for p in _PROBES:
        if hash(p) != djb2x16(p):
            return djb2x16
    return hash


class Db:
    """An opened blob. Entries are addressed by their offset in the blob."""

    def __init__(self, blob):
        if not isinstance(blob, bytes):
            blob = bytes(blob)
        if len(blob) < HEADER_LEN or blob[:8] != MAGIC:
            raise ValueError("not a dnsbox zone blob (bad magic)")
        (version, hid, total, self.buckets, nb, self.zones_off, self.nzones, _r, self.nrecords,
         self.nentries) = unpack_from(">HHIIIIHHII", blob, 8)
        if version != VERSION:
            raise ValueError("zone blob version %d, this firmware reads %d" % (version, VERSION))
        if hid != HASH_DJB2X16:
            raise ValueError("zone blob hash %d unknown" % hid)
        if total != len(blob):
            raise ValueError("zone blob truncated: %d of %d bytes" % (len(blob), total))
        if nb & (nb - 1) or self.buckets + 4 * nb + 4 > total:
            raise ValueError("zone blob bucket table broken")
        self.blob = blob
        self.mask = nb - 1
        self.hash = _hash_function()
        self._zones = None
        # Negative block offset of each zone (a tuple: one entry per zone, read per NXDOMAIN).
        self.neg = tuple(self.zone(i)[1] for i in range(self.nzones))
        # Whether each zone is signed (its DO answers come from DO entries or the general path)
        self.signed = tuple(self.denial(i)[0] != DENIAL_NONE for i in range(self.nzones))
        self.any_signed = True in self.signed

    # --- the index --------------------------------------------------------------------------
    def find(self, key):
        """Offset of the entry whose key is `key` (bytes), or -1.

        Written to keep its MicroPython frame within 11 words (on the C stack, not the heap)."""
        b = self.blob
        s = self.buckets + 4 * (self.hash(key) & self.mask)
        s, e = unpack_from(">II", b, s)
        while s < e:
            if b[s + 3] == _len(key) and b.startswith(key, s + 14):
                return s
            s += (b[s] << 8) | b[s + 1]
        return -1

    def entries(self):
        """Offsets of every entry, in blob order (tools and tests; the server never walks)."""
        b = self.blob
        s = unpack_from(">I", b, self.buckets)[0]
        e = unpack_from(">I", b, self.buckets + 4 * (self.mask + 1))[0]
        while s < e:
            yield s
            s += (b[s] << 8) | b[s + 1]

    def node(self, lname):
        """Offset of the node entry of the lower-case wire name `lname`, or -1."""
        return self.find(lname + NODE_SUFFIX)

    def closest(self, nkey):
        """(node entry, label offset) of the closest node at or above the name of the node key
        nkey (a lower-case wire name + NODE_SUFFIX), walking up label by label: the one walk
        the lookups, the fast path's negative answers and the transfers share. None when the
        name is malformed (a label over 63, a zero byte inside) or no node encloses it."""
        find = self.find
        last = _len(nkey) - 5  # where the root label must be
        o = 0
        while o <= last:
            c = nkey[o]
            if c > 63 or (c == 0 and o != last):
                return None
            e = find(nkey[o:] if o else nkey)
            if e >= 0:
                return e, o
            o += c + 1
        return None

    def kind(self, e):
        return self.blob[e + 2]

    def key(self, e):
        b = self.blob
        return b[e + 14 : e + 14 + b[e + 3]]

    def response(self, e):
        """The response image of an answer-like entry: header after the ID, question, tail."""
        b = self.blob
        return b[e + 4 : e + ((b[e] << 8) | b[e + 1])]

    def node_head(self, e):
        """(flags, zone index, referral block offset) of a node entry, without its types."""
        b = self.blob
        o = e + 14 + b[e + 3]
        return b[o], (b[o + 1] << 8) | b[o + 2], unpack_from(">I", b, o + 3)[0]

    def node_info(self, e):
        """(flags, zone index, referral block offset, types) of a node entry."""
        b = self.blob
        o = e + 14 + b[e + 3]
        flags, zone, ref, n = unpack_from(">BHIB", b, o)
        types = unpack_from(">%dH" % n, b, o + 8) if n else ()
        return flags, zone, ref, types

    # --- shiftable blocks (referrals, negative answers) -------------------------------------
    def block(self, off):
        """(base name length, pointer positions, header 10 bytes, tail) of a block."""
        b = self.blob
        blen, base, nptr = unpack_from(">HHB", b, off)
        ptrs = unpack_from(">%dH" % nptr, b, off + 5) if nptr else ()
        p = off + 5 + 2 * nptr
        return base, ptrs, b[p : p + 10], b[p + 10 : off + blen]

    # --- zones ------------------------------------------------------------------------------
    def zone(self, i):
        """(apex wire as written, negative block offset, record count, SOA entry) of zone i."""
        b = self.blob
        o = unpack_from(">I", b, self.zones_off + 4 * i)[0]
        n = b[o]
        apex = b[o + 1 : o + 1 + n]
        neg, count, soa = unpack_from(">III", b, o + 1 + n)
        return apex, neg, count, soa

    def denial(self, i):
        """(DENIAL_NONE / _NSEC / _NSEC3, offset of the denial index or 0) of zone i."""
        b = self.blob
        o = unpack_from(">I", b, self.zones_off + 4 * i)[0]
        o += 1 + b[o] + 12
        return b[o], unpack_from(">I", b, o + 1)[0]

    def do_neg(self, i):
        """Offset of signed zone i's DO negative block (its SOA and RRSIGs), 0 if none."""
        b = self.blob
        o = unpack_from(">I", b, self.zones_off + 4 * i)[0]
        return unpack_from(">I", b, o + 1 + b[o] + 21)[0]

    def sig_expiry(self, i):
        """The earliest signature expiration of zone i (seconds since 1970 mod 2**32, RFC
        4034 3.1.5), 0 for an unsigned zone."""
        b = self.blob
        o = unpack_from(">I", b, self.zones_off + 4 * i)[0]
        return unpack_from(">I", b, o + 1 + b[o] + 17)[0]

    def zone_names(self):
        """Zone apex names as text (for the boot log)."""
        if self._zones is None:
            from dnsbox.wire.name import Name

            self._zones = [Name(self.zone(i)[0]).to_text() for i in range(self.nzones)]
        return self._zones

    def record_count(self):
        return self.nrecords


def open_blob(blob):
    """A Db over `blob` (bytes; the frozen zoneblob.BLOB). ValueError if it is not one."""
    return Db(blob)
