#!/usr/bin/env python3
"""Memory per cached answer: the dnsbox host firmware (forwarding) vs dnsmasq, same upstream.

  python3 tools/bench_cachemem.py [--names N]

Both forward to the mini-Internet's example.test. server (tools/testnet.py, NSD on loopback)
and are filled with N (default 10,000) distinct names under its wildcard (one A record each),
at most WINDOW outstanding. Printed: for dnsbox the MicroPython GC heap in use before and after
(its CH TXT counters: heap after a collection), the cache's own byte count, and the heap per
entry; for dnsmasq its RSS before and after, and the RSS per entry; then entries per MB of heap
(dnsbox: the cache's budget share of the board's heap, at the measured bytes per entry).
Loopback only; every process is stopped by PID; every loop is bounded in count and time.
"""
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import cardrun  # noqa: E402
import flood  # noqa: E402
import testnet  # noqa: E402
from bench_recursive import our_stats, rss_kb  # noqa: E402
from ports import free_port  # noqa: E402

MPY = os.path.join(os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build"), "host",
                   "dnsbox")
HEAP = "32M"  # room for every entry: the cache is measured, not its budget
WINDOW = 50
START_S = 10


def fill(port, n, tag):
    fig = flood.flood(port, "wild.example.test.", n, WINDOW, (), seed=tag)
    return fig["rcodes"].get(0, 0)


def wait_port(port):
    end = time.time() + START_S
    while time.time() < end:
        if flood.fresh_name_s(port, "up.wild.example.test.", 0.5) >= 0:
            return
    raise RuntimeError("server on port %d did not answer" % port)


def ours(upstream, n):
    port = free_port()
    env = dict(os.environ)
    env.pop("MICROPYPATH", None)
    p = subprocess.Popen([MPY, "-X", "heapsize=" + HEAP, "-m", "dnsbox.main", "--host",
                          "--max-s=600", "mode=resolver", "dnssec=no", "server=" + upstream,
                          "port=%d" % port, "cache-size=%d" % (n + 100)],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        s0 = our_stats(port)
        ok = fill(port, n, "m")
        s1 = our_stats(port)
        return {"answered": ok, "entries": s1["cache"] - s0["cache"],
                "heap": (s0["heap"], s1["heap"]), "cache_bytes": s1["cache_bytes"]}
    finally:
        p.terminate()
        p.wait(10)


def theirs(upstream, n):
    """dnsmasq's RSS after the fill with its cache of n + 100 entries and with none (it
    allocates the cache's records at start: the difference is what the entries take)."""
    dm = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not os.path.exists(dm):
        return None
    out = {}
    for size in (0, n + 100):
        port = free_port()
        p = subprocess.Popen([dm, "-k", "-C", "/dev/null", "--port=%d" % port,
                              "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
                              "--no-hosts", "--server=" + upstream, "--cache-size=%d" % size,
                              "--user=root", "--pid-file="],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port)
            ok = fill(port, n, "d%d" % size)
            out[size] = (ok, rss_kb(p.pid))
        finally:
            p.terminate()
            p.wait(10)
    return {"answered": out[n + 100][0], "rss": (out[0][1], out[n + 100][1])}


def main(argv):
    n = int(argv[argv.index("--names") + 1]) if "--names" in argv else 10000
    net = testnet.TestNet().start()
    try:
        up = net.prefix + "105"
        o = ours(up, n)
        d = theirs(up, n)
    finally:
        net.stop()
    per = (o["heap"][1] - o["heap"][0]) / float(max(o["entries"], 1))
    board = cardrun.board_env()["HEAPSIZE"]
    mb = int(board[:-1]) * (1 << 20) if board[-1] in "Mm" else int(board)
    from_budget = mb * 30 // 100  # CACHE_SHARE of dnsbox.resolver.budget
    print("dnsbox: %d names answered, %d entries; GC heap in use %d KB -> %d KB: %.0f bytes per "
          "entry (the cache counts %.0f); %.0f entries per MB of heap, %d in the cache's share "
          "of the board's %s" % (o["answered"], o["entries"], o["heap"][0] // 1024,
                                o["heap"][1] // 1024, per, o["cache_bytes"] / float(
                                    max(o["entries"], 1)), (1 << 20) / per,
                                from_budget / per, board))
    if d is not None:
        dper = (d["rss"][1] - d["rss"][0]) * 1024.0 / n
        print("dnsmasq: %d names answered; RSS %d KB without a cache, %d KB with: %.0f bytes "
              "per entry (%.0f entries per MB)" % (d["answered"], d["rss"][0], d["rss"][1], dper,
                                         (1 << 20) / max(dper, 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
