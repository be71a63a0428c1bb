"""The resolver's memory budget: every long-lived structure bounded in bytes, the bounds shares
of the GC heap read at start (MicroPython's -X heapsize; board.env's HEAPSIZE on the boards).

MicroPython's heap does not move objects: a heap that is nearly full, or full of holes, fails
the next big allocation (a 4 KB read buffer, a 64 KB TCP answer) even with much free in all.
So the long-lived structures together take a stated part of the heap, and the rest is kept
for the serving loop (sockets, TCP connections, buffers), the work of one query, and the free
runs that big messages need:

  CACHE_SHARE     the response cache (dnsbox.resolver.cache: entries and slot tables)
  RECURSE_SHARE   what recursion remembers (dnsbox.resolver.delegation: zone cuts, RRsets;
                  dnsbox.resolver.servers: server RTTs; names without a cut)
  INFLIGHT_SHARE  questions in flight, PENDING_BYTES each (its job: for an iteration the
                  generator frames, the asks and the decoded answers it holds)
and one client address may hold CLIENT_SHARE_DIV-th of the questions in flight. cache-size=
stays an upper bound on the cache's entries.
"""
from dnsbox.compat import const

CACHE_SHARE = const(30)  # % of the heap
RECURSE_SHARE = const(12)  # % of the heap
INFLIGHT_SHARE = const(12)  # % of the heap; the other 46 % stay free (see above)
PENDING_BYTES = const(6144)  # one question in flight at its largest (measured:
# tests/host/test_budget.py)
MIN_INFLIGHT = const(16)  # questions in flight at the least, however small the heap
MAX_INFLIGHT = const(1024)  # and at the most
CLIENT_SHARE_DIV = const(4)  # one client address: at most a quarter of the questions in flight
MIN_CLIENT_SHARE = const(8)
BOARD_HEAP = const(8388608)  # bytes assumed when the interpreter has no fixed heap (CPython):
# the qemu board's (board/qemu-arm/board.env)


def heap_size():
    """The GC heap's size in bytes (MicroPython), else BOARD_HEAP."""
    import gc

    try:
        return gc.mem_free() + gc.mem_alloc()
    except AttributeError:  # CPython: no such heap
        return BOARD_HEAP


class Limits:
    """Byte and count bounds for a heap of heap bytes; cache_entries: cache-size=."""

    def __init__(self, heap, cache_entries):
        self.heap = heap
        self.cache_bytes = heap * CACHE_SHARE // 100
        self.cache_entries = cache_entries
        self.recurse_bytes = heap * RECURSE_SHARE // 100
        n = heap * INFLIGHT_SHARE // 100 // PENDING_BYTES
        self.inflight = MIN_INFLIGHT if n < MIN_INFLIGHT else (MAX_INFLIGHT if n > MAX_INFLIGHT
                                                               else n)
        k = self.inflight // CLIENT_SHARE_DIV
        self.client_share = k if k > MIN_CLIENT_SHARE else MIN_CLIENT_SHARE

    def text(self):
        return ("heap %d KB: cache %d KB (at most %d entries), recursion %d KB, %d questions "
                "in flight (%d per client)" % (self.heap // 1024, self.cache_bytes // 1024,
                                               self.cache_entries, self.recurse_bytes // 1024,
                                               self.inflight, self.client_share))
