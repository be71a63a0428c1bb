#!/usr/bin/env python3
"""A soak of the resolver: recursing from the mini-Internet (tools/testnet.py) at the board's heap
for a long time under mixed traffic, sampling its memory.

  python3 tools/soak.py [--seconds 3600] [--sample 60] [--rate 200]

Traffic each second (bounded: --rate queries per second in all, every query timed out after
2 s): 70 % new random names under wild.example.test. (cache churn), 18 % names from a fixed set
of 300 (cache hits after the first), 7 % names that do not exist (NXDOMAIN, negative cache),
5 % TCP queries for the fixed set (a new connection each). Every --sample seconds: the
firmware's RSS (/proc/PID/status) and GC heap in use (CH TXT stats.dnsbox.: heap, cache, the
questions in flight). Prints one line per sample and a summary: RSS and heap first/last/max,
answers by rcode, lost queries. The firmware and the test net are stopped by PID at the end.
Loopback only.
"""
import argparse
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import cardrun  # noqa: E402
import testnet  # noqa: E402
from flood import encode_query  # noqa: E402
from bench_recursive import our_stats as counters  # noqa: E402
from ports import free_port  # noqa: E402
from proctree import rss_kb, stop  # noqa: E402

TIMEOUT_S = 2.0
FIXED = 300  # names asked again and again


class Traffic:
    """The mixed load on its own thread: counts by outcome."""

    def __init__(self, port, rate, seconds):
        self.port = port
        self.rate = rate
        self.end = time.monotonic() + seconds
        self.rcodes = {}
        self.lost = 0
        self.sent = 0
        self.tcp_ok = 0
        self.tcp_lost = 0
        self.lock = threading.Lock()

    def _count(self, rcode):
        with self.lock:
            if rcode is None:
                self.lost += 1
            else:
                self.rcodes[rcode] = self.rcodes.get(rcode, 0) + 1

    def udp_loop(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        out = {}  # id -> sent time
        qid = 0
        gap = 1.0 / self.rate
        nxt = time.monotonic()
        while time.monotonic() < self.end:
            now = time.monotonic()
            if now >= nxt:
                nxt += gap
                x = random.random()
                if x < 0.70:
                    name = "r%d.wild.example.test." % random.getrandbits(40)
                elif x < 0.88:
                    name = "c%d.wild.example.test." % random.randrange(FIXED)
                elif x < 0.95:
                    name = "nx%d.example.test." % random.getrandbits(40)
                else:
                    threading.Thread(target=self.tcp_one, daemon=True).start()
                    continue
                qid = (qid + 1) & 0xFFFF
                if qid in out:
                    self._count(None)
                    del out[qid]
                s.sendto(encode_query(name, 1, qid), ("127.0.0.1", self.port))
                out[qid] = now
                self.sent += 1
            try:
                while True:
                    r = s.recv(4096)
                    i = struct.unpack(">H", r[:2])[0]
                    if out.pop(i, None) is not None:
                        self._count(r[3] & 15)
            except BlockingIOError:
                pass
            for i in [i for i, t in out.items() if now - t > TIMEOUT_S]:
                del out[i]
                self._count(None)
            time.sleep(min(gap, 0.002))
        for _ in out:
            self._count(None)

    def tcp_one(self):
        name = "c%d.wild.example.test." % random.randrange(FIXED)
        q = encode_query(name, 1, 7)
        try:
            c = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT_S)
            c.sendall(struct.pack(">H", len(q)) + q)
            r = c.recv(4096)
            c.close()
            ok = len(r) > 14
        except OSError:
            ok = False
        with self.lock:
            if ok:
                self.tcp_ok += 1
            else:
                self.tcp_lost += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=3600)
    ap.add_argument("--sample", type=int, default=60)
    ap.add_argument("--rate", type=int, default=200)
    a = ap.parse_args()
    binary = os.path.join(os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build"),
                          "host", "dnsbox")
    heap = cardrun.board_env()["HEAPSIZE"]
    net = testnet.TestNet()
    net.start()
    port = free_port()
    log = open(os.path.join(ROOT, "build", "soak.log"), "w")
    fw = subprocess.Popen([binary, "-X", "heapsize=" + heap, "-m", "dnsbox.main", "--host",
                           "--max-s=%d" % (a.seconds + 120), "port=%d" % port,
                           "mode=resolver", "dnssec=no", "hints=" + net.hints,
                           "do-not-query-localhost=no"],
                          stdout=log, stderr=subprocess.STDOUT)
    try:
        time.sleep(2)
        tr = Traffic(port, a.rate, a.seconds)
        t = threading.Thread(target=tr.udp_loop, daemon=True)
        t.start()
        samples = []
        start = time.monotonic()
        print("soak: recursing at heap %s, %d queries/s for %d s (log: build/soak.log)" % (
            heap, a.rate, a.seconds), flush=True)
        while t.is_alive():
            t.join(a.sample)
            try:
                c = counters(port)
            except OSError:  # unanswered: the sample says -1
                c = {}
            s = (int(time.monotonic() - start), rss_kb(fw.pid), c.get("heap", -1),
                 c.get("cache", -1), c.get("inflight", -1))
            samples.append(s)
            print("t=%5ds rss %6d KB heap %7d B cache %5d inflight %3d | sent %d lost %d "
                  "rcodes %s tcp %d/%d" % (s + (tr.sent, tr.lost, sorted(tr.rcodes.items()),
                                                tr.tcp_ok, tr.tcp_ok + tr.tcp_lost)),
                  flush=True)
        rss = [x[1] for x in samples]
        hp = [x[2] for x in samples]
        print("summary: RSS first %d last %d max %d KB; heap first %d last %d max %d B; "
              "%d UDP queries: %s, %d lost; TCP %d of %d answered; firmware %s" % (
                  rss[0], rss[-1], max(rss), hp[0], hp[-1], max(hp), tr.sent,
                  ", ".join("rcode %d: %d" % kv for kv in sorted(tr.rcodes.items())), tr.lost,
                  tr.tcp_ok, tr.tcp_ok + tr.tcp_lost,
                  "running" if fw.poll() is None else "exited %s" % fw.returncode))
    finally:
        stop(fw)
        net.stop()
        log.close()


if __name__ == "__main__":
    main()
