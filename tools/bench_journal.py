"""The state journal's cost: time from an UPDATE sent to its answer with and without state=
(the host firmware, one update at a time over TCP), and the replay time at boot of N journaled
updates (the firmware's own log line). Prints figures; asserts nothing about speed.

Usage: python3 tools/bench_journal.py [BINARY] [N_UPDATES]   (default build/host/dnsbox, 1000)
"""
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import dns.query
import dns.update

ZONE = "dyn.test."
TIMED = 300  # updates timed per run
READY_S = 20  # seconds to wait for the firmware to start


def _port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(binary, port, state):
    words = ["mode=auth", "update-zone=" + ZONE, "allow-update=127.0.0.1", "port=%d" % port]
    if state:
        words.append("state=" + state)
    p = subprocess.Popen([binary, "-X", "heapsize=8M", "-m", "dnsbox.main", "--host"] + words,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    t_end = time.monotonic() + READY_S
    while time.monotonic() < t_end:
        line = p.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "dnsbox ready" in line:
            return p, lines
    p.kill()
    raise SystemExit("firmware did not start:\n" + "".join(lines))


def stop(p):
    p.terminate()
    p.wait(5)


def updates(port, first, n):
    times = []
    for i in range(first, first + n):
        u = dns.update.UpdateMessage(ZONE)
        u.add("h%d.%s" % (i, ZONE), 300, "A", "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255,
                                                              i & 255))
        t0 = time.perf_counter()
        r = dns.query.tcp(u, "127.0.0.1", port=port, timeout=5)
        times.append((time.perf_counter() - t0) * 1000)
        if r.rcode() != 0:
            raise SystemExit("update %d: rcode %d" % (i, r.rcode()))
    return times


def main(argv):
    binary = argv[1] if len(argv) > 1 else "build/host/dnsbox"
    n = int(argv[2]) if len(argv) > 2 else 1000
    d = tempfile.mkdtemp(prefix="dnsbox-bench-")
    try:
        for label, state in (("without state=", None), ("with state= (fsync)", d)):
            port = _port()
            p, _ = start(binary, port, state)
            t = updates(port, 0, TIMED)
            stop(p)
            print("UPDATE to answer %s: median %.2f ms, mean %.2f ms, p90 %.2f ms (%d updates)" % (
                label, statistics.median(t), statistics.mean(t),
                sorted(t)[int(len(t) * 0.9)], len(t)))
        port = _port()
        p, _ = start(binary, port, d)
        updates(port, TIMED, n - TIMED)
        stop(p)
        print("journal: %d bytes for %d updates" % (os.path.getsize(d + "/update-dyn.test.jnl"),
                                                   n))
        for _ in range(3):
            p, lines = start(binary, _port(), d)
            stop(p)
            line = [x for x in lines if "changes replayed" in x][-1]
            m = re.search(r"(\d+) changes replayed \((\d+) bytes\) in (\d+) ms", line)
            print("boot replay: %s changes, %s bytes, %s ms" % m.groups())
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    main(sys.argv)
