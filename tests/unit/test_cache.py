"""The bounded LRU response cache: TTL countdown to the millisecond, eviction, slot reuse."""
import struct

from dnsbox.resolver.cache import Cache, ttl_offsets
from dnsbox.wire import message as M
from dnsbox.wire import rd_std
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.wire.rr import RR, Question


def image(name="www.example.com.", ttls=(300,)):
    """(key, image after the ID, ttl pairs) of a response with one A record per TTL."""
    m = M.Message(0, 0x8180)
    n = Name.from_text(name)
    m.question.append(Question(n, T.A))
    for i in range(len(ttls)):
        m.answer.append(RR(n, T.A, T.CLASS_IN, ttls[i], rd_std.A(bytes((192, 0, 2, i + 1)))))
    img = M.encode(m)[2:]
    key = n.lc + b"\x00\x01\x00\x01"
    pairs = []
    for o in ttl_offsets(img, 10 + len(key)):
        pairs.append(o)
        pairs.append(struct.unpack_from(">I", img, o)[0])
    return key, img, tuple(pairs)


def ttls_of(img):
    m = M.decode(b"\x00\x00" + img)
    return [r.ttl for r in m.answer]


def test_ttl_offsets_walks_compressed_records():
    key, img, pairs = image(ttls=(300, 60))
    assert [pairs[i] for i in (1, 3)] == [300, 60]
    assert len(pairs) == 4


def test_hit_and_countdown_exact():
    c = Cache(10)
    key, img, pairs = image(ttls=(300, 60))
    assert c.put(key, img, pairs, 60, 1000)
    assert c.get(key, 1000) == img  # nothing changed: the stored bytes themselves
    assert ttls_of(c.get(key, 1999)) == [300, 60]
    assert ttls_of(c.get(key, 2000)) == [299, 59]
    assert ttls_of(c.get(key, 1000 + 59999)) == [241, 1]
    assert c.get(key, 1000 + 60000) is None  # expired exactly at 60 s
    assert len(c) == 0
    assert c.misses == 1


def test_ttl_zero_is_never_stored_and_one_lives_one_second():
    c = Cache(10)
    key, img, pairs = image(ttls=(0,))
    assert not c.put(key, img, pairs, 0, 0)
    assert c.get(key, 0) is None
    key, img, pairs = image(ttls=(1,))
    assert c.put(key, img, pairs, 1, 5000)
    assert ttls_of(c.get(key, 5999)) == [1]
    assert c.get(key, 6000) is None


def test_reply_buffer_reused_and_patched_in_place():
    c = Cache(4)
    key, img, pairs = image(ttls=(300, 60))
    c.put(key, img, pairs, 60, 0)
    q = b"\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + key
    a = c.reply(q, 1500, 512)
    assert bytes(a[:2]) == b"\xab\xcd" and ttls_of(bytes(a[2:])) == [299, 59]
    q2 = b"\x12\x34" + q[2:]
    assert c.reply(q2, 1900, 512) is a  # same buffer: no allocation on the hit path
    assert bytes(a[:2]) == b"\x12\x34"
    assert c.reply(q2, 3000, 512) is a and ttls_of(bytes(a[2:])) == [297, 57]
    assert ttls_of(c.get(key, 3000)) == [297, 57]
    assert c.reply(q2, 3000, len(a) - 1) is None  # longer than the limit: the caller's job
    assert c.reply(q2, 60000, 512) is None and len(c) == 0


def test_lru_eviction_bounded_by_entries():
    c = Cache(3)
    keys = []
    for i in range(3):
        k, img, pairs = image("h%d.example." % i)
        keys.append(k)
        c.put(k, img, pairs, 300, 0)
    assert c.get(keys[0], 10) is not None  # h0 becomes the most recently used
    k3, img, pairs = image("h3.example.")
    c.put(k3, img, pairs, 300, 20)
    assert len(c) == 3 and c.evictions == 1
    assert c.get(keys[1], 30) is None  # h1 was the least recently used
    assert c.get(keys[0], 30) is not None and c.get(k3, 30) is not None
    assert c.lru_keys() == [keys[2], keys[0], k3]


def test_replace_and_remove_and_slot_reuse():
    c = Cache(2)
    k, img, pairs = image("a.example.", (100,))
    c.put(k, img, pairs, 100, 0)
    k2, img2, pairs2 = image("a.example.", (200,))
    c.put(k2, img2, pairs2, 200, 0)
    assert len(c) == 1 and ttls_of(c.get(k, 0)) == [200]
    assert c.remove(k) and not c.remove(k) and len(c) == 0
    for i in range(50):  # expiry frees slots that are reused: never more than 2 entries
        k, img, pairs = image("n%d.example." % i, (1,))
        c.put(k, img, pairs, 1, i * 1000)
        assert c.get(k, i * 1000 + 999) is not None
        assert len(c) <= 2


def test_size_zero_disables():
    c = Cache(0)
    k, img, pairs = image()
    assert not c.put(k, img, pairs, 300, 0)
    assert c.get(k, 0) is None


def test_many_entries_all_found():
    n = 3000
    c = Cache(n)
    base = image("x.example.")[1]
    for i in range(n):
        key = b"\x05h%04d\x07example\x00\x00\x01\x00\x01" % i
        c.put(key, base, (), 600, 0)
    assert len(c) == n
    for i in range(0, n, 7):
        assert c.get(b"\x05h%04d\x07example\x00\x00\x01\x00\x01" % i, 1) == base
    assert c.get(b"\x05hxxxx\x07example\x00\x00\x01\x00\x01", 1) is None


def test_byte_budget_evicts_least_recently_used_and_slots_follow_it():
    _key, img, pairs = image(ttls=(300, 60, 30))
    from dnsbox.resolver import cache as C

    keys = [b"\x01%c\x07example\x00\x00\x01\x00\x01" % (97 + i) for i in range(40)]
    cost = C.ENTRY_BYTES + len(keys[0]) + len(img) + 2 + 4 * len(pairs)  # key, buffer, TTLs

    c = Cache(1000, 10 * (C.MIN_ENTRY_BYTES + C.SLOT_BYTES))
    assert c.size == 10  # the slots the byte budget allows, not the 1000 asked for
    room = c.max_bytes // cost
    assert room < c.size  # bytes bind first here
    keys = keys[: room + 3]
    for i, k in enumerate(keys):
        assert c.put(k, img, pairs, 60, i)
        assert c.bytes <= c.max_bytes
    assert len(c) == room and c.evictions == 3
    assert c.get(keys[0], 10) is None and c.get(keys[-1], 10) is not None
    c.reply(b"\x12\x34" + bytes(9) + b"\x01" + keys[-1] + bytes(11), 10, 1232)  # with an OPT
    assert c.bytes == room * cost + len(img) + 2 + 11  # the OPT copy is counted too
    freed = c.relieve(2)
    assert freed > 0 and c.bytes <= (room * cost + len(img) + 13) // 2 + cost
    assert c.get(keys[-1], 10) is not None  # the most recently used stay


def test_an_entry_bigger_than_the_budget_is_not_stored():
    key, img, pairs = image(ttls=(60,) * 40)
    c = Cache(10, 3 * 264)  # room for 3 small entries: 576 bytes after the slot tables
    assert not c.put(key, img, pairs, 60, 0) and len(c) == 0 and c.bytes == 0
