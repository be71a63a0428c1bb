"""RAM and time of a secondary zone's compiled copy (dnsbox.auth.secondary.compile_zone), as the
firmware builds it after a transfer. Run under the host firmware with the board's heap:
  build/host/dnsbox -X heapsize=8M tools/bench_secondary.py ZONEFILE ORIGIN
(or python3). Prints the records, the blob's bytes, the heap held by records + blob, the time."""
import gc
import sys
import time

sys.path.insert(0, "firmware")

from dnsbox.auth import secondary  # noqa: E402
from dnsbox.wire.name import Name  # noqa: E402
from dnsbox.wire.rr import RR  # noqa: E402
from dnsbox.zone import compile as zc  # noqa: E402


def main(argv):
    path, origin = argv[1], argv[2]
    z, _w = zc.load_file(path, origin)
    recs = [RR(r.name, r.rtype, r.rclass, r.ttl, r.rdata) for r in z.records()]
    z = None
    gc.collect()
    alloc = getattr(gc, "mem_alloc", lambda: -1)
    with_recs = alloc()
    t0 = time.time()
    blob, _w = secondary.compile_zone(Name.from_text(origin), recs, "bench")
    took = time.time() - t0
    n = len(recs)
    recs = None
    gc.collect()
    after = alloc()
    print("records %d, blob %d bytes, the records kept for IXFR %d bytes of heap, compile "
          "%.1f s" % (n, len(blob), with_recs - (after - len(blob)) if after >= 0 else -1, took))


main(sys.argv)
