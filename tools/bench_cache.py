"""How the response cache's hit path scales with its size: time and bytes allocated per hit.

Usage:  build/host/dnsbox -X heapsize=96M tools/bench_cache.py [--hits N] [SIZE ...]
        python3 tools/bench_cache.py [--hits N] [SIZE ...]
Default sizes 100 1000 10000 65536 (65536 is cache-size='s ceiling), hits per size 200,000
(at most 1,000,000). For each size: the cache is filled with that many distinct entries (one A
record each, as the forwarder stores them), then Cache.reply() answers plain queries for
entries in a shuffled order, as the serving loop's fast path calls it. Printed per size: wall
microseconds per hit (best of 3 rounds), and on MicroPython the bytes allocated per hit
(gc.mem_alloc with the collector off: the key slice is all a hit should cost) and the heap in
use. The dnsbox package comes from firmware/ (the source tree).
"""
import sys

IS_MPY = sys.implementation.name == "micropython"
MAX_HITS = 1000000  # cap on the hits of one timed round
ROUNDS = 3


def _root():
    f = __file__
    here = f.rsplit("/", 1)[0] if "/" in f else "."
    return here + "/.."


sys.path.insert(0, _root() + "/firmware")

import gc  # noqa: E402

from dnsbox.resolver.cache import Cache, ttl_offsets  # noqa: E402
from dnsbox.wire import message as M  # noqa: E402
from dnsbox.wire import rd_std  # noqa: E402
from dnsbox.wire import types as T  # noqa: E402
from dnsbox.wire.name import Name  # noqa: E402
from dnsbox.wire.rr import RR, Question  # noqa: E402

if IS_MPY:
    import time

    def now_us():
        return time.ticks_us()

    def diff_us(a, b):
        return time.ticks_diff(a, b)
else:
    import time

    def now_us():
        return int(time.perf_counter() * 1e6)

    def diff_us(a, b):
        return a - b


def entry(i):
    """(query bytes without ID, key, image, ttl pairs) of entry i: h<i>.bench.test. A."""
    n = Name.from_text("h%d.bench.test." % i)
    m = M.Message(0, 0x8180)
    m.question.append(Question(n, T.A))
    m.answer.append(RR(n, T.A, T.CLASS_IN, 3600, rd_std.A(bytes((10, i >> 16 & 255,
                                                                   i >> 8 & 255, i & 255)))))
    img = M.encode(m)[2:]
    key = n.lc + b"\x00\x01\x00\x01"
    pairs = []
    for o in ttl_offsets(img, 10 + len(key)):
        pairs.append(o)
        pairs.append(3600)
    return b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + key, key, img, tuple(pairs)


def shuffled(n, seed):
    """0..n-1 in a pseudo-random order (a fixed LCG: the same order on both interpreters)."""
    out = list(range(n))
    x = seed
    for i in range(n - 1, 0, -1):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        j = x % (i + 1)
        out[i], out[j] = out[j], out[i]
    return out


def measure(size, hits):
    # The big lists first: after the fill MicroPython's heap is too fragmented for them (live
    # entries spread between the freed garbage of their making leave no long free run).
    order = shuffled(size, 7)
    queries = [None] * size
    c = Cache(size)
    for i in range(size):
        tail, key, img, pairs = entry(i)
        c.put(key, img, pairs, 3600, 0)
        queries[i] = b"\x12\x34" + tail
    for k in range(size):
        order[k] = queries[order[k]]
    reps = hits // size + 1
    best = None
    per_hit_bytes = -1
    for _ in range(ROUNDS):
        gc.collect()
        if IS_MPY:
            gc.disable()
            a0 = gc.mem_alloc()
        done = 0
        reply = c.reply  # bound once, as the serving glue (dnsbox.net.upstream) does
        t0 = now_us()
        for _r in range(reps):
            for q in order:
                if reply(q, 1500, 512) is None:
                    raise SystemExit("unexpected miss")
                done += 1
                if done >= hits:
                    break
            if done >= hits:
                break
        t = diff_us(now_us(), t0)
        if IS_MPY:
            per_hit_bytes = (gc.mem_alloc() - a0) // done
            gc.enable()
        us = t / done
        if best is None or us < best:
            best = us
    gc.collect()
    heap = gc.mem_alloc() if IS_MPY else -1
    return best, per_hit_bytes, heap


def main(argv):
    hits = 200000
    sizes = []
    i = 0
    while i < len(argv):
        if argv[i] == "--hits":
            hits = min(int(argv[i + 1]), MAX_HITS)
            i += 2
            continue
        sizes.append(int(argv[i]))
        i += 1
    if not sizes:
        sizes = [100, 1000, 10000, 65536]
    print("| entries | us/hit | bytes allocated/hit | heap in use (MiB) |")
    print("|---:|---:|---:|---:|")
    for n in sizes:
        us, b, heap = measure(n, hits)
        print("| %d | %.2f | %s | %s |" % (n, us, b if b >= 0 else "-",
                                         "%.1f" % (heap / 1048576) if heap >= 0 else "-"))
    print()
    print("%s %s, %d hits per size, best of %d rounds (wall time: compare sizes, not runs)" % (
        sys.implementation.name, ".".join(str(v) for v in sys.implementation.version[:3]),
        hits, ROUNDS))


main(sys.argv[1:])
