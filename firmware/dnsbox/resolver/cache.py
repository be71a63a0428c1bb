"""The response cache: bounded in bytes and in entries, least recently used evicted first, TTLs
counted down.

An entry is one response image (the message after its 2-byte ID: flags, counts, question,
records; no OPT) keyed by the lower-case question (wire name + type + class), with the byte
offsets of every record's TTL and the TTL each had when stored. The clock is passed in (`now`,
milliseconds, never decreasing): the cache reads no clock itself.

TTLs are honoured exactly: an entry stored at t0 whose smallest TTL is T (seconds) is served
while now - t0 < T * 1000, each record's TTL shown as its stored TTL minus the whole seconds
elapsed (so never 0 while served); an entry with T = 0 is never stored.

Layout (MicroPython's dict degrades badly when large: 16-bit string hashes, open addressing
filled to 100%): our own chained hash table over preallocated parallel lists and arrays, sized
once from the entry limit. A lookup hashes the key once (the builtin hash, in C), walks a short
chain comparing bytes, and on a hit allocates nothing but the key: each entry keeps its reply
(2 bytes of ID + the image) in a buffer made when it is stored, and a copy with our OPT record
for clients that send one, made on the first such hit; TTLs in both are patched in place when the
entry's age passes a whole second. (tools/bench_cache.py measures it from 100 to 65,536 entries.)

Memory: the cache gets a byte budget (dnsbox.resolver.budget's share of the heap). Its slot
tables cost SLOT_BYTES per slot, made at start; each entry costs ENTRY_BYTES (the objects that
hold it, as MicroPython allocates them: measured by tests/host/test_budget.py) plus its key and
buffers. Storing evicts the least recently used entries until the new one fits; relieve() gives
back a share at once (the serving loop calls it after a MemoryError).

Serve-expired (RFC 8767; Unbound's serve-expired): with stale_s > 0 an expired entry is kept
stale_s seconds past its expiry. The hit path treats it as a miss (the driver resolves the
question again) and moves it to the least recently used end, so expired entries are the first to
go under pressure (eviction also looks EVICT_SCAN entries in for an expired one); stale() gives
its image with every TTL set to the reply TTL (30 s, RFC 8767 4) for when resolution fails.

Prefetch (Unbound's prefetch): with prefetch on, the first hit in the last tenth of an entry's
life (its smallest TTL as stored) still answers from the cache and puts the key on `wanted`
(at most MAX_WANTED keys), once per stored entry: the driver takes them and resolves each again
in the background, and the answer replaces the entry.
"""

from array import array
from struct import pack_into

from dnsbox.compat import const
from dnsbox.wire.edns import PLAIN_OPT
from dnsbox.wire.reply import walk_records

MIN_BUCKETS = const(16)
SLOT_BYTES = const(80)  # slot tables per slot: 4 int arrays + 8 list cells (64-bit words)
ENTRY_BYTES = const(96)  # object overhead of one entry: key, buffer and TTL-table headers,
# allocation rounding (16-byte GC blocks)
MIN_ENTRY_BYTES = const(192)  # the smallest entry (a short name, one record): slots are sized
# so that the budget could hold that many
UNBOUNDED = const(0x3FFFFFFF)  # no byte limit given
MAX_BUCKETS = const(65536)  # MicroPython hashes bytes to 16 bits: more buckets would stay empty
MAX_TTL = const(86400)  # seconds: longer TTLs are cut to a day (ages stay far below tick wrap)
NEG_MAX_TTL = const(10800)  # seconds: negative answers at most 3 hours (RFC 2308 5)
EVICT_SCAN = const(8)  # entries looked at from the least recently used end for an expired one
MAX_WANTED = const(64)  # keys waiting for a prefetch (the driver takes them every poll round)
_hash = hash  # module globals: found faster than builtins (see the hit path below)
_len = len


def _hit(c, i, now):
    """Entry i's reply buffer at time now, TTLs counted down, made the most recently used;
    None if it expired (then it is removed, or kept as stale data). A hit in the last tenth of
    the entry's life asks for its prefetch."""
    age = now - c.born[i]
    if age >= c.pre[i]:  # the last tenth (prefetch on, not asked yet) or expired: one test
        if age >= c.life[i]:
            _expired(c, i, age)
            return None
        _want(c, i)
    sec = age // 1000
    if c.stamp[i] != sec:
        _count_down(c, i, sec)
    if i != c.mru:
        _front(c, i)
    c.hits += 1
    return c.out[i]


def _expired(c, i, age):
    """Entry i is age ms old, past its life: removed, or (serve-expired, still within stale_ms
    of its expiry) moved to the least recently used end."""
    if age >= c.life[i] + c.stale_ms:
        c._remove(i)
    elif i != c.lru:
        c._unlink(i)
        c.older[i] = -1
        c.newer[i] = c.lru
        c.older[c.lru] = i
        c.lru = i


def _want(c, i):
    """Ask for entry i's prefetch (once: its mark is moved past its life)."""
    c.pre[i] = c.life[i]
    if _len(c.wanted) < MAX_WANTED:
        c.wanted.append(c.keys[i])


def _count_down(c, i, sec):
    """Patch entry i's reply buffers: every TTL as stored minus sec seconds."""
    o = c.out[i]
    e = c.outopt[i]
    t = c.ttls[i]
    for j in range(0, _len(t), 2):
        pack_into(">I", o, t[j] + 2, t[j + 1] - sec)
        if e is not None:
            pack_into(">I", e, t[j] + 2, t[j + 1] - sec)
    c.stamp[i] = sec


def _with_opt(c, i):
    """Entry i's reply buffer for a client that sent an OPT record: the plain one with ours
    appended (ARCOUNT + 1), made on the first such hit and counted down with the plain one from
    then on."""
    e = c.outopt[i]
    if e is None:
        e = bytearray(c.out[i])
        n = ((e[10] << 8) | e[11]) + 1  # ARCOUNT: a record takes 11+ bytes, so n < 65536
        e[10] = n >> 8
        e[11] = n & 255
        e += PLAIN_OPT
        c.outopt[i] = e
        c.cost[i] += _len(e)
        c.bytes += _len(e)
    return e


def _front(c, i):
    """Move entry i (not the most recent) to the most recently used end."""
    older = c.older
    newer = c.newer
    o = older[i]
    w = newer[i]  # not -1: i is not the most recent
    if o >= 0:
        newer[o] = w
    else:
        c.lru = w
    older[w] = o
    m = c.mru
    older[i] = m
    newer[i] = -1
    newer[m] = i
    c.mru = i


def ttl_offsets(img, start):
    """Offsets of the TTL fields of every record in a message image.

    img is the message after its ID (so header fields sit 2 bytes earlier than in the message);
    start is the offset just after the question. Counts are read from the image's header.
    Raises ValueError if the records run past the end or bytes follow them (the image was made
    by our encoder, so this only guards against misuse)."""
    n = ((img[4] << 8) | img[5]) + ((img[6] << 8) | img[7]) + ((img[8] << 8) | img[9])
    out = []
    if walk_records(img, start, n, out) != len(img):
        raise ValueError("records run past the end, or bytes follow them")
    return out


def _question_len(img):
    """The length of an image's question (name, type, class): it starts at offset 10."""
    i = 10
    while img[i]:
        i += img[i] + 1
    return i + 5 - 10


class Cache:
    """Bounded LRU cache of response images: at most size entries and max_bytes bytes (None:
    entries only). size 0 disables caching. stale_s: seconds expired entries are kept for
    stale() (serve-expired-ttl; 0: removed when they expire); prefetch: hits in the last tenth of
    an entry's life put its key on wanted."""

    def __init__(self, size, max_bytes=None, stale_s=0, prefetch=False):
        if max_bytes is not None:
            room = max_bytes // (MIN_ENTRY_BYTES + SLOT_BYTES)
            if size > room:
                size = room
            max_bytes -= size * SLOT_BYTES  # the slot tables are part of the budget
        self.size = size
        self.max_bytes = UNBOUNDED if max_bytes is None else max_bytes
        nb = MIN_BUCKETS
        while nb < 2 * size and nb < MAX_BUCKETS:
            nb *= 2
        self.mask = nb - 1
        self.heads = array("i", [-1] * nb)  # bucket -> first slot, -1 empty
        n = size if size > 0 else 1
        self.chain = array("i", [-1] * n)  # slot -> next slot in its bucket
        self.older = array("i", [-1] * n)  # LRU list: towards the least recently used
        self.newer = array("i", [-1] * n)  # and towards the most recently used
        self.cost = array("i", [0] * n)  # bytes an entry takes (ENTRY_BYTES + key + buffers)
        self.ad = bytearray(n)  # 0x20 (the AD bit) for data DNSSEC found secure, else 0
        self.keys = [None] * n
        self.ttls = [None] * n  # (offset, ttl, offset, ttl, ...)
        self.born = [0] * n  # now (ms) when stored
        self.life = [0] * n  # ms the entry may be served: smallest TTL * 1000
        self.pre = [0] * n  # age (ms) from which a hit asks for a prefetch (life when off, or
        # when asked: then the hit path's one test of the age is against this)
        self.stamp = [-1] * n  # whole seconds of age the TTLs in out are counted down for
        self.out = [None] * n  # 2 bytes of ID + the image, TTLs counted down: the reply, reused
        self.outopt = [None] * n  # the same + our OPT, for clients that sent one (made on use)
        self.mru = -1
        self.lru = -1
        self.free = -1  # slots freed by expiry, linked through chain
        self.used = 0  # slots handed out so far (then eviction recycles)
        self.count = 0
        self.bytes = 0  # what the entries take (cost summed)
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.insertions = 0  # entries stored (dnsmasq's insertions.bind)
        self.stale_ms = stale_s * 1000  # ms an expired entry is kept (serve-expired)
        self.prefetch = prefetch
        self.wanted = []  # keys whose prefetch a hit asked for (the driver empties it)

    # --- the hit path -------------------------------------------------------------------------
    # Two MicroPython costs shape it (tools/bench_cache.py shows both):
    # - a function whose locals and value stack need more than 11 slots gets its frame on the
    #   heap, allocated and freed on every call; freeing it sends the allocator's search start
    #   back to the frame, and every later allocation of that call then scans the garbage made
    #   since the last collection. Each function of the hit path stays within 11 slots
    #   (tests/host/test_hot_frames.py checks it).
    # - an instance's attributes live in an open-addressing table that grows only when full,
    #   and a method call first looks the name up among them: a miss that probes the whole
    #   table. So the helpers below are module functions taking the cache (and the serving
    #   glue keeps reply as a bound method); builtins are module globals (_hash, _len), since a
    #   builtin is otherwise found by a linear search.
    def reply(self, q, now, limit):
        """The whole reply to the plain query q (bytes), whose bytes after the header are a key
        (with ARCOUNT 1: a key and then a bare 11-byte OPT record, which the caller checked),
        at time now (ms): a bytearray owned by the cache (ID copied from q; with our OPT record
        when q had one) that the caller sends at once and never keeps, or None (miss, expired,
        or longer than limit bytes). A hit allocates nothing but the key slice: each entry's
        reply buffer is made when it is stored, and its TTLs are patched in place when the
        entry's age passes a whole second (allocating while serving would fragment the heap
        and slow down every later allocation, the socket layer's included)."""
        key = q[12:-11] if q[11] else q[12:]
        i = self.heads[_hash(key) & self.mask]
        while i >= 0:
            if self.keys[i] == key:
                o = _hit(self, i, now)
                if o is not None and q[11]:
                    o = _with_opt(self, i)
                if o is None or _len(o) > limit:
                    return None
                o[0] = q[0]
                o[1] = q[1]
                o[3] = (o[3] & 0xDF) | (q[3] & self.ad[i])  # AD: secure, and the client asked
                return o
            i = self.chain[i]
        return None

    def _find(self, key):
        """The slot holding key, or -1."""
        i = self.heads[_hash(key) & self.mask]
        while i >= 0:
            if self.keys[i] == key:
                return i
            i = self.chain[i]
        return -1

    def get(self, key, now):
        """The image (the message after its ID) for key at time now (ms), TTLs counted down,
        or None."""
        got = self.lookup(key, now)
        return None if got is None else got[0]

    def lookup(self, key, now):
        """(the image for key at time now, TTLs counted down; True if it was stored as secure)
        or None."""
        i = self._find(key)
        o = None if i < 0 else _hit(self, i, now)
        if o is None:
            self.misses += 1
            return None
        return bytes(memoryview(o)[2:]), self.ad[i] != 0

    def stale(self, key, now, ttl):
        """(the image for key with every TTL set to ttl, True if it was stored as secure) when
        key's entry has expired but by less than stale_ms (serve-expired); else None."""
        i = self._find(key)
        if i < 0:
            return None
        age = now - self.born[i]
        if age < self.life[i] or age >= self.life[i] + self.stale_ms:
            return None
        img = bytearray(memoryview(self.out[i])[2:])
        t = self.ttls[i]
        for j in range(0, len(t), 2):
            pack_into(">I", img, t[j], ttl)
        return bytes(img), self.ad[i] != 0

    # --- LRU list -----------------------------------------------------------------------------
    def _unlink(self, i):
        o = self.older[i]
        w = self.newer[i]
        if o >= 0:
            self.newer[o] = w
        else:
            self.lru = w
        if w >= 0:
            self.older[w] = o
        else:
            self.mru = o

    def _push(self, i):
        self.older[i] = self.mru
        self.newer[i] = -1
        if self.mru >= 0:
            self.newer[self.mru] = i
        else:
            self.lru = i
        self.mru = i

    def _unchain(self, i):
        b = _hash(self.keys[i]) & self.mask
        j = self.heads[b]
        if j == i:
            self.heads[b] = self.chain[i]
            return
        while j >= 0:
            nxt = self.chain[j]
            if nxt == i:
                self.chain[j] = self.chain[i]
                return
            j = nxt

    def _drop(self, i):
        """Take entry i out of the table and the LRU list and release what it holds."""
        self._unchain(i)
        self._unlink(i)
        self.keys[i] = self.ttls[i] = self.out[i] = self.outopt[i] = None
        self.bytes -= self.cost[i]
        self.cost[i] = 0
        self.count -= 1

    def _remove(self, i):
        self._drop(i)
        self.chain[i] = self.free
        self.free = i

    def _evict(self, now=None):
        """Free the least recently used entry's slot (the cache is not empty); with
        serve-expired and the time given, an expired entry among the EVICT_SCAN least recently
        used first."""
        self.evictions += 1
        i = self.lru
        if self.stale_ms and now is not None:
            j = i
            for _ in range(EVICT_SCAN):
                if j < 0:
                    break
                if now - self.born[j] >= self.life[j]:
                    i = j
                    break
                j = self.newer[j]
        self._remove(i)

    def _slot(self, now):
        f = self.free
        if f < 0:
            if self.used < self.size:
                self.used += 1
                return self.used - 1
            self._evict(now)  # full: the least recently used (or an expired one) goes
            f = self.free
        self.free = self.chain[f]
        return f

    def relieve(self, share=4):
        """Evict the least recently used 1/share of the bytes (memory is short); returns the
        bytes freed."""
        goal = self.bytes - self.bytes // share
        before = self.bytes
        while self.count and self.bytes > goal:
            self._evict()
        return before - self.bytes

    # --- storing ------------------------------------------------------------------------------
    def store(self, key, img, life_s, now, secure=False):
        """put() for a response image whose question is key, its records' TTLs read from it.
        The key may carry a suffix after the question (dnsbox.resolver.driver.DNSSEC_KEY)."""
        if life_s <= 0:
            return False
        pairs = []
        for o in ttl_offsets(img, 10 + _question_len(img)):
            pairs.append(o)
            pairs.append((img[o] << 24) | (img[o + 1] << 16) | (img[o + 2] << 8) | img[o + 3])
        return self.put(key, img, tuple(pairs), life_s, now, secure)

    def put(self, key, img, ttl_pairs, life_s, now, secure=False):
        """Store img under key. ttl_pairs: (offset, ttl, ...) of every record (TTLs as in img);
        life_s: seconds the entry may be served (0: not stored); secure: DNSSEC validated it
        (clients that set AD get AD). Returns True if stored (False also when the entry alone
        is over the byte budget)."""
        if self.size <= 0 or life_s <= 0:
            return False
        self.remove(key)
        cost = ENTRY_BYTES + len(key) + len(img) + 2 + 4 * len(ttl_pairs)
        if cost > self.max_bytes:
            return False
        while self.count and self.bytes + cost > self.max_bytes:
            self._evict(now)
        o = bytearray(2)
        o += img
        i = self._slot(now)
        self.keys[i] = key
        self.ttls[i] = ttl_pairs
        self.born[i] = now
        self.life[i] = life_s * 1000
        self.pre[i] = life_s * 900 if self.prefetch else life_s * 1000  # the last tenth
        self.stamp[i] = 0
        self.out[i] = o
        self.outopt[i] = None
        self.cost[i] = cost
        self.ad[i] = 0x20 if secure else 0
        self.bytes += cost
        b = _hash(key) & self.mask
        self.chain[i] = self.heads[b]
        self.heads[b] = i
        self._push(i)
        self.count += 1
        self.insertions += 1
        return True

    def remove(self, key):
        i = self._find(key)
        if i < 0:
            return False
        self._remove(i)
        return True

    def __len__(self):
        return self.count

    def lru_keys(self):
        """Keys from the least to the most recently used (tests and diagnostics)."""
        out = []
        i = self.lru
        while i >= 0 and len(out) <= self.size:
            out.append(self.keys[i])
            i = self.newer[i]
        return out
