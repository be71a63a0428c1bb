"""Response rate limiting (RRL): the "DNS Response Rate Limiting" design of Vixie and Schryver,
as NSD, Knot and BIND have it, with NSD's option names. Pure: response bytes, the peer's address
and the time in milliseconds come in; the response, a truncated one or None (drop) come out.

A forged source address turns a DNS server into an amplifier aimed at the address's owner: the
same large answer, many times a second. RRL counts the responses each source prefix (IPv4 /24,
IPv6 /56 by default) gets per response class and name, and past rrl-ratelimit a second drops
the rest, except every rrl-slip-th, which goes out as header + question with TC=1 (RFC 1035
4.1.1, RFC 2181 9): a real client then asks again over TCP, which a forged address cannot do.
TCP answers are never limited (the serving loop calls this for UDP only).

Classes (NSD's names and bits, rrl-whitelist= takes the names) and the name whose bucket counts
them, read from the response's bytes as NSD reads them from its query state:
  nxdomain  NXDOMAIN: the zone's apex (the SOA owner in the authority section)
  error     any other rcode but NOERROR: the apex when an SOA names it, else no name
  referral  NOERROR, no answer, AA clear, NS in the authority section: the delegation (NS owner)
  any       qtype ANY: the qname        rrsig  qtype RRSIG: the qname
  wildcard  synthesised from a wildcard: the wildcard (the bytes do not show it: the answering
            path says so through `hint`, see Limiter)
  nodata    NOERROR without answer records: the apex
  dnskey    qtype DNSKEY: the qname     positive  other answers: the qname
Names are compared lower-cased (a client cannot dodge its bucket by changing the case).

The table: BUCKET_BYTES per bucket in one array of fixed size, indexed by a hash of (source
prefix, class, name); two keys that meet in one bucket share its count (as in NSD, a collision
only ever limits more, never less). A bucket holds the second it counts (mod 65536) and the
responses sent in it: a new second starts the count again (a token bucket of rrl-ratelimit
tokens, refilled once a second). Unlike NSD, which smooths the rate over seconds and counts the
responses it drops too (it sends about twice the rate in a flood's first second, then only
slips while the flood lasts), a flow here gets at most the rate each second, whatever it asks.
"""
from array import array

from dnsbox.compat import const
from dnsbox.config.nets import V4_MAX, allowed, peer_ip, sockaddr
from dnsbox.wire.errors import WireError
from dnsbox.wire.name import decode_name
from dnsbox.wire.reply import walk_records

# the response classes: NSD's names and bits (rrl.h), the bit set of rrl-whitelist=
NXDOMAIN = const(0x01)
ERROR = const(0x02)
REFERRAL = const(0x04)
ANY = const(0x08)
WILDCARD = const(0x10)
NODATA = const(0x20)
DNSKEY = const(0x40)
POSITIVE = const(0x80)
RRSIG = const(0x100)
ALL = const(0x1FF)
NAMES = (("nxdomain", NXDOMAIN), ("error", ERROR), ("referral", REFERRAL), ("any", ANY),
         ("wildcard", WILDCARD), ("nodata", NODATA), ("dnskey", DNSKEY),
         ("positive", POSITIVE), ("rrsig", RRSIG), ("all", ALL))

RATE_MAX = const(16383)  # the highest rate a bucket counts to (14 bits; config.serving's limit)
BUCKET_BYTES = const(4)  # the second (16 bits), the count and two flags (16 bits)
HEAP_DIV = const(16)  # the table never takes more than a 16th of the GC heap
LOG_GAP_S = const(10)  # at most one "limiting starts" line per 10 s; the others are counted

_NS = const(2)
_SOA = const(6)
_T_ANY = const(255)
_T_RRSIG = const(46)
_T_DNSKEY = const(48)
_AF_INET6 = const(10)  # Linux: the first byte of a little-endian sockaddr_in6
_V6_MARK = const(0x15555555)  # mixed into IPv6 prefix keys (so they seldom meet IPv4 ones)
_COUNT = const(0x3FFF)  # a bucket's count of responses sent in its second, and two flags:
_WAS = const(0x4000)  # it limited in the second before
_LIMITED = const(0x8000)  # it limited in this second
_ZERO = b"\x00"
_len = len  # builtins as module globals: MicroPython finds a builtin by a linear search
_hash = hash
_type = type
_tuple = tuple


def class_bits(text):
    """'nxdomain,nodata' -> the class bits (rrl-whitelist=); ValueError naming a bad one."""
    bits = 0
    for w in text.split(","):
        w = w.strip().lower()
        for name, bit in NAMES:
            if w == name:
                bits |= bit
                break
        else:
            raise ValueError("unknown response class %r (known: %s)" % (
                w, ", ".join(n for n, _ in NAMES)))
    return bits


def class_text(bits):
    return ",".join(n for n, b in NAMES[:-1] if bits & b) or "none"


def buckets(wanted, heap):
    """The table's size in buckets: rrl-size= (wanted), at most a HEAP_DIV-th of a heap of
    heap bytes."""
    most = heap // HEAP_DIV // BUCKET_BYTES
    n = wanted if wanted < most else most
    return n if n > 1 else 1


def _qtype_at(r):
    """The offset of QTYPE in response r (after the first question's name), or -1."""
    q = r.find(_ZERO, 12) + 1  # the root label: a label may hold a zero byte, then this
    # stops inside the name, which only moves the bucket (the class stays bounded)
    return q if 12 < q and q + 4 <= _len(r) else -1


def _owner(r, off, count, rtype):
    """The lower-case owner of the first record of rtype among count records at off, or b""."""
    ttls = []
    walk_records(r, off, count, ttls)
    count = 0  # now the index in ttls (a small frame)
    while count < _len(ttls):
        t = ttls[count]
        if r[t - 4] == 0 and r[t - 3] == rtype:
            return _lname(r, off)
        off = t + 6 + ((r[t + 4] << 8) | r[t + 5])
        count += 1
    return b""


def _lname(r, off):
    """The lower-case wire form of the (compressed) name at r[off], or b"" if malformed."""
    try:
        return decode_name(r, off)[0].lc
    except WireError:
        return b""


def _apex(r, q):
    """The zone apex a negative or error response names: its authority section's SOA owner."""
    an = (r[6] << 8) | r[7]
    off = q + 4
    if an:
        off = walk_records(r, off, an)
        if off < 0:
            return b""
    return _owner(r, off, (r[8] << 8) | r[9], _SOA)


def classify(r, wild=None):
    """(class, lower-case name of its bucket) of response r, as NSD classifies (in its order).
    wild: the wildcard owner (lower-case wire) when the answer was synthesised from one."""
    if _len(r) < 12 or r[4] or r[5] != 1:
        return (NXDOMAIN if _len(r) > 3 and r[3] & 15 == 3 else ERROR), b""
    q = _qtype_at(r)
    if q < 0:
        return ERROR, b""
    rc = r[3] & 15
    if rc:
        return (NXDOMAIN if rc == 3 else ERROR), _apex(r, q)
    d = _referral(r, q)
    if d:
        return REFERRAL, d
    t = (r[q] << 8) | r[q + 1]
    if t == _T_ANY:
        return ANY, r[12:q].lower()
    if t == _T_RRSIG:
        return RRSIG, r[12:q].lower()
    if wild is not None:
        return WILDCARD, wild
    if not (r[6] | r[7]):
        return NODATA, _apex(r, q)
    return (DNSKEY if t == _T_DNSKEY else POSITIVE), r[12:q].lower()


def _referral(r, q):
    """The delegation a referral names (NOERROR, no answer, AA clear, NS records in the
    authority section: the first one's owner), else b""."""
    if (r[6] | r[7]) or not (r[8] | r[9]) or r[2] & 4:
        return b""
    return _owner(r, q + 4, (r[8] << 8) | r[9], _NS)


def _key(r, wild):
    """The class bits of r (low 9 bits) and a hash of its bucket's name above them. The common
    answers without classify()'s tuple and heap frames (hot path): a positive one, and the
    auth path's negative ones (no answer, the SOA first with its owner a pointer into the
    question)."""
    if wild is None and _len(r) > 12 and not r[4] and r[5] == 1:
        q = r.find(_ZERO, 12) + 1  # as _qtype_at (a call less)
        if 12 < q and q + 4 <= _len(r) and not r[q] and r[q + 1] != _T_RRSIG:  # type < 256
            if r[6] | r[7]:
                if not r[3] & 15 and r[q + 1] != _T_DNSKEY:
                    return ((_hash(r[12:q].lower()) & 0xFFFFF) << 9) | (
                        ANY if r[q + 1] == _T_ANY else POSITIVE)
            elif r[q + 1] != _T_ANY and r[2] & 4 and r[9] and _len(r) > q + 9 and (
                    r[q + 4] >= 0xC0):
                return _negative_key(r, q)
    c = classify(r, wild)
    return ((_hash(c[1]) & 0xFFFFF) << 9) | c[0]


def _negative_key(r, q):
    """_key() of an authoritative NXDOMAIN or NODATA whose first authority record's owner is a
    pointer (q: the offset of QTYPE): the SOA's, pointing at the apex inside the question."""
    p = ((r[q + 4] & 0x3F) << 8) | r[q + 5]
    rc = r[3] & 15
    if 12 <= p < q and r[q + 6] == 0 and r[q + 7] == _SOA and (rc == 0 or rc == 3):
        return ((_hash(r[p:q].lower()) & 0xFFFFF) << 9) | (NXDOMAIN if rc else NODATA)
    c = classify(r)
    return ((_hash(c[1]) & 0xFFFFF) << 9) | c[0]


def _mask_bytes(prefix, n):
    """The netmask of a prefix length as n bytes."""
    out = bytearray(n)
    for i in range(n):
        k = prefix - 8 * i
        out[i] = 255 if k >= 8 else ((0xFF00 >> k) & 255 if k > 0 else 0)
    return bytes(out)


def prefix_text(p, v4, v6):
    """'192.0.2.0/24' or '2001:db8:aa:bb00::/56': the source prefix of sockaddr p."""
    if p[0] == _AF_INET6 and not _mapped(p):
        m = _mask_bytes(v6, 8)
        a = [p[8 + i] & m[i] for i in range(8)]
        groups = ["%x" % ((a[i] << 8) | a[i + 1]) for i in range(0, 8, 2)]
        return "%s::/%d" % (":".join(groups), v6)
    o = 20 if p[0] == _AF_INET6 else 4
    m = _mask_bytes(v4, 4)
    return "%d.%d.%d.%d/%d" % (p[o] & m[0], p[o + 1] & m[1], p[o + 2] & m[2], p[o + 3] & m[3],
                               v4)


def _mapped(p):
    """True for an IPv4-mapped IPv6 sockaddr (::ffff:a.b.c.d): an IPv4 client."""
    return p[18] == 255 and p[19] == 255 and not any(p[8:18])


class Limiter:
    """limit(response, peer, now_ms) -> the response, its truncated form, or None (drop).

    rate: responses a second per bucket (rrl-ratelimit, at most RATE_MAX); slip: every
    slip-th limited response is sent truncated (0: none, 1: all); v4, v6: prefix lengths (v6 at
    most 64); size: buckets; wl_rate, wl: the rate for the classes of the bits wl
    (rrl-whitelist-ratelimit, rrl-whitelist=; 0: not limited); nets: [(network, mask)] (IPv4
    ints: resolver mode's allow=) whose clients get allow_rate (0: not limited); hint: an
    object whose attribute `wild`, when not None, is the wildcard owner of the answer just made
    (the auth path sets it; read and cleared here); log(text) or None.
    """

    def __init__(self, rate, slip, v4, v6, size, wl_rate=0, wl=0, nets=(), allow_rate=0,
                 hint=None, log=None):
        self.rate = rate
        self.slip = slip
        self.v4 = v4
        self.v6 = v6
        self.m4 = _mask_bytes(v4, 4)
        self.m6 = _mask_bytes(v6, 8)
        self.wl_rate = wl_rate
        self.wl = wl
        self.size = size
        self.b = array("H", bytes(BUCKET_BYTES * size))  # [2i]: second, [2i+1]: count, flags
        # allowed IPv4 networks as 16-bit halves, 4 ints each (small ints on 32-bit boards too)
        self.nets = tuple(x for n, m in nets if m <= V4_MAX for x in (
            n >> 16, m >> 16, n & 0xFFFF, m & 0xFFFF))
        self.nets6 = tuple((n, m) for n, m in nets if m > V4_MAX)  # IPv6 ones (config.nets)
        self.any_nets = bool(nets)
        self.allow_rate = allow_rate
        self.hint = hint
        self.log = log
        self.turn = 0  # limited responses since the last truncated one (slip)
        self.last_peer = None  # the last sockaddr seen and its _source()
        self.last_source = 0
        self.last_log = None  # the second (mod 65536) of the last line logged
        self.quiet = 0  # limiting starts not logged since then
        self.stats = {"rrl_dropped": 0, "rrl_slipped": 0, "rrl_limited": 0}

    def text(self):
        """The boot log's description."""
        out = "%d responses/s per source prefix (/%d, IPv6 /%d), class and name; slip %d; " \
              "%d buckets (%d KB)" % (self.rate, self.v4, self.v6, self.slip, self.size,
                                     self.size * BUCKET_BYTES // 1024)
        if self.wl:
            out += "; %s: %s" % (class_text(self.wl), "%d/s" % self.wl_rate if self.wl_rate
                                 else "not limited")
        if self.any_nets:
            out += "; clients in allow=: %s" % ("%d/s" % self.allow_rate if self.allow_rate
                                                 else "not limited")
        return out

    def limit(self, r, peer, now):
        """The serving loop's hook for a UDP response r to peer at now (ms). Small frames (at
        most 11 slots, see tests/host/test_hot_frames.py): a bucket under its rate is the
        common case."""
        if _type(peer) is _tuple:
            peer = sockaddr(peer)
        lim = self._lim_for(peer) if self.any_nets else -1
        if not lim:
            return r
        k = _key(r, None) if self.hint is None else _key(r, self._wild())
        if lim < 0:
            lim = self.wl_rate if k & self.wl else self.rate
            if not lim:
                return r
        k ^= self._source(peer)
        k = self._take(k, now, lim)
        return r if k < 0 else self._limited(r, peer, k)

    def _take(self, k, now, lim):
        """Count a response in the bucket of key k at now (ms): -1 while under lim, else the
        bucket's index (nothing counted). A new second starts the count again; that the
        bucket limited in the second before is remembered (for the log)."""
        k = 2 * ((k ^ (k >> 9)) % self.size)
        now = (now // 1000) & 0xFFFF  # the second (mod 65536) the bucket counts
        b = self.b
        if b[k] != now:
            b[k + 1] = _WAS if b[k + 1] & _LIMITED and (now - b[k]) & 0xFFFF == 1 else 0
            b[k] = now
        if b[k + 1] & _COUNT < lim:
            b[k + 1] += 1
            return -1
        return k

    def _wild(self):
        """The wildcard owner the answering path left in hint.wild (cleared: it is for this
        response only), or None."""
        h = self.hint
        w = h.wild
        if w is not None:
            h.wild = None
        return w

    def _lim_for(self, p):
        """allow_rate for a client in nets (0: not limited), else -1 (the class decides)."""
        o = 20 if p[0] == _AF_INET6 else 4
        if o == 20 and not _mapped(p):
            return self.allow_rate if allowed(self.nets6, peer_ip(p)) else -1
        hi = (p[o] << 8) | p[o + 1]
        lo = (p[o + 2] << 8) | p[o + 3]
        n = self.nets
        o = _len(n)
        while o:
            o -= 4
            if hi & n[o + 1] == n[o] and lo & n[o + 3] == n[o + 2]:
                return self.allow_rate
        return -1

    def _source(self, p):
        """A hash of the source prefix of sockaddr p (small ints only: 30 bits at most); the
        last one is kept (a flood, or a busy client, comes from one address)."""
        if p == self.last_peer:
            return self.last_source
        self.last_peer = p
        self.last_source = x = self._prefix(p)
        return x

    def _prefix(self, p):
        if p[0] == _AF_INET6 and not _mapped(p):
            m = self.m6
            x = ((p[8] & m[0]) << 22) ^ ((p[9] & m[1]) << 14) ^ ((p[10] & m[2]) << 6) ^ (
                p[11] & m[3]) ^ ((p[12] & m[4]) << 18) ^ ((p[13] & m[5]) << 10) ^ (
                (p[14] & m[6]) << 2) ^ ((p[15] & m[7]) << 21) ^ _V6_MARK
        else:
            o = 20 if p[0] == _AF_INET6 else 4
            m = self.m4
            x = ((p[o] & m[0]) << 22) ^ ((p[o + 1] & m[1]) << 14) ^ (
                (p[o + 2] & m[2]) << 6) ^ (p[o + 3] & m[3])
        return x ^ (x >> 11)

    def _limited(self, r, peer, i):
        """Over the rate: dropped, or every slip-th sent truncated."""
        if not self.b[i + 1] & _LIMITED:
            self._starts(r, peer, i)
        if self.slip:
            self.turn += 1
            if self.turn >= self.slip:
                self.turn = 0
                self.stats["rrl_slipped"] += 1
                return truncated(r)
        self.stats["rrl_dropped"] += 1
        return None

    def _starts(self, r, peer, i):
        """A bucket's first limited response in its second: counted (rrl_limited), and logged
        when the bucket did not limit in the second before (limiting starts)."""
        b = self.b
        c = b[i + 1]
        b[i + 1] = c | _LIMITED
        self.stats["rrl_limited"] += 1
        if not c & _WAS and self.log is not None:
            self._started(r, peer, b[i])

    def _started(self, r, peer, now):
        """The log line of a bucket that starts limiting (now: the second it counts, mod
        65536): at most one every LOG_GAP_S; the others are counted in the next one."""
        if self.last_log is not None and (now - self.last_log) & 0xFFFF < LOG_GAP_S:
            self.quiet += 1
            return
        self.last_log = now
        c, name = classify(r)
        lim = self.wl_rate if c & self.wl else self.rate
        if self.any_nets and self._lim_for(peer) > 0:
            lim = self.allow_rate
        more = ""
        if self.quiet:
            more = "; %d more since the last line" % self.quiet
            self.quiet = 0
        st = self.stats
        self.log("rrl: limiting responses to %s (%s %s) at %d/s: %d dropped, %d truncated so "
                 "far%s" % (prefix_text(peer, self.v4, self.v6), class_text(c),
                            _name_text(name), lim, st["rrl_dropped"], st["rrl_slipped"], more))


def _name_text(lname):
    if not lname:
        return "-"
    try:
        return decode_name(lname, 0)[0].to_text()
    except WireError:
        return "?"


def truncated(r):
    """Header + question of response r with TC=1 and no records (RFC 1035 4.1.1; RFC 2181 9):
    never longer than the query it answers (its question is the query's). None for fewer
    than 12 bytes (no header to send)."""
    if _len(r) < 12:
        return None
    q = _qtype_at(r) if r[4] == 0 and r[5] == 1 else -1
    out = bytearray(r[:12] if q < 0 else r[: q + 4])
    out[2] |= 2
    out[6] = out[7] = out[8] = out[9] = out[10] = out[11] = 0
    if q < 0:
        out[4] = out[5] = 0
    return bytes(out)
