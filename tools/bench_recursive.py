#!/usr/bin/env python3
"""Figures for the recursive resolver on the mini-Internet (tools/testnet.py), vs Unbound.

  python3 tools/bench_recursive.py [--names N] [--only ours|unbound] [--old BINARY] [--ipv6]

--old BINARY: also another firmware binary (an older build: before/after in the same run).
--ipv6: the IPv6-only mini-Internet (testnet.TestNet6, glue="v6": the servers on fd00:53::x
inside a network namespace, AAAA glue only); the resolvers and this script's queries run inside
that namespace (root needed).

For each resolver, started fresh (ours: the MicroPython host binary build/host/dnsbox in
resolver mode with the same hints, `dnsbox.main --host mode=resolver hints=...`, with
-X heapsize=HEAP, the qemu board's; Unbound 1.17 iterator-only with the same hints, QNAME
minimisation and 0x20 on, as ours):
1. upstream queries per client query over the scenario set (testnet.SCENARIOS), each asked
   once on a cold resolver (ours: CH TXT stats.dnsbox. counter; Unbound: num.query.udpout +
   tcpout via unbound-control);
2. cold latency (that first query) and warm latency (the same query again: the cache), median
   and max over the scenarios that succeed;
3. memory after N (default 10,000) distinct names (n<i>.wild.example.test. A, a wildcard),
   asked with at most WINDOW queries outstanding: how many are answered and how fast, RSS of the
   process, and for ours the MicroPython GC heap in use.
Loopback only; every process is stopped by PID; every loop is bounded in count and time.
"""
import os
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import cardrun  # noqa: E402
import testnet  # noqa: E402
from ports import free_port  # noqa: E402
from proctree import rss_kb  # noqa: E402

MPY = os.path.join(os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build"), "host",
                   "dnsbox")  # DNSBOX_BUILD as in build.sh
HEAP = cardrun.board_env()["HEAPSIZE"]  # the qemu board's heap
WINDOW = 16  # distinct-name queries outstanding at once
NAMES_MAX_S = 300  # the distinct-name phase stops after this long whatever happened
QUERY_TIMEOUT_S = 12
STATS_TIMEOUT_S = 10  # the counters query (a full GC of a big heap comes first)


def encode_query(name, qtype, qid, qclass=1):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1)
    for lab in name.strip(".").split("."):
        if lab:
            q += bytes((len(lab),)) + lab.encode()
    q += b"\x00" + struct.pack(">HH", qtype, qclass)
    return q + b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"


TYPES = {"A": 1, "NS": 2, "MX": 15, "TXT": 16, "AAAA": 28}


def ask(port, name, rtype, timeout=QUERY_TIMEOUT_S):
    """(rcode or None on timeout, seconds)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    qid = int.from_bytes(os.urandom(2), "big")
    t0 = time.perf_counter()
    try:
        s.sendto(encode_query(name, TYPES[rtype], qid), ("127.0.0.1", port))
        end = time.time() + timeout
        while time.time() < end:
            r = s.recv(65535)
            if len(r) >= 12 and r[0:2] == struct.pack(">H", qid):
                return r[3] & 15, time.perf_counter() - t0
        return None, time.perf_counter() - t0
    except socket.timeout:
        return None, time.perf_counter() - t0
    finally:
        s.close()


def our_stats(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(STATS_TIMEOUT_S)
    try:
        s.sendto(encode_query("stats.dnsbox.", 16, 77, 3), ("127.0.0.1", port))
        r = s.recv(4096)
    finally:
        s.close()
    out = {}
    # the TXT strings: length-prefixed words "k=v" after the question
    i = r.find(b"\x00\x10\x00\x03", 12) + 4  # after the question's type/class
    j = r.find(b"\x00\x10\x00\x03", i)  # the answer's type/class
    i = j + 4 + 6
    while i < len(r) and r[i] and b"=" in r[i + 1 : i + 1 + r[i]]:
        k, _e, v = r[i + 1 : i + 1 + r[i]].decode().partition("=")
        out[k] = int(v)
        i += 1 + r[i]
    return out


class Ours:
    name = "dnsbox (MicroPython)"
    binary = MPY

    def __init__(self, hints):
        self.port = free_port()
        env = dict(os.environ)
        env.pop("MICROPYPATH", None)  # the frozen firmware
        log = open(os.path.join(testnet.RUN, "ours-%d.log" % self.port), "w")
        self.proc = subprocess.Popen(
            [self.binary, "-X", "heapsize=" + HEAP, "-m", "dnsbox.main", "--host", "--max-s=900",
             "mode=resolver", "dnssec=no", "hints=" + hints, "port=%d" % self.port,
             "do-not-query-localhost=no",
             "cache-size=20000"],
            env=env, stdout=log, stderr=log)
        end = time.time() + 20
        while time.time() < end:
            try:
                our_stats(self.port)
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("dnsbox did not start")

    def upstream(self):
        return our_stats(self.port)["upstream"]

    def heap(self):
        return our_stats(self.port).get("heap", -1)

    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class TheirUnbound:
    name = "Unbound 1.17"

    def __init__(self, hints):
        self.u = testnet.Unbound(free_port(), hints)
        self.port = self.u.port

    def upstream(self):
        return self.u.upstream()

    def heap(self):
        return -1

    def pid(self):
        return self.u.proc.pid

    def stop(self):
        self.u.stop()


def distinct_names(port, n):
    """Ask n distinct names with WINDOW outstanding; returns (answered, seconds)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    sent = answered = 0
    out = {}
    t0 = time.time()
    end = t0 + NAMES_MAX_S
    import select

    while (sent < n or out) and time.time() < end:
        while sent < n and len(out) < WINDOW:
            qid = sent & 0xFFFF
            s.sendto(encode_query("n%d.wild.example.test." % sent, 1, qid), ("127.0.0.1", port))
            out[qid] = time.time()
            sent += 1
        r, _w, _x = select.select([s], [], [], 0.5)
        if r:
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            qid = (data[0] << 8) | data[1]
            if out.pop(qid, None) is not None:
                answered += 1
        now = time.time()
        for qid in [q for q, t in out.items() if now - t > QUERY_TIMEOUT_S]:
            del out[qid]
    s.close()
    return answered, time.time() - t0


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else float("nan")


def run(kind, names, hints):
    r = kind(hints)
    try:
        # the first query of a fresh resolver pays for priming (Unbound) and meets the dead
        # server ns2.test. first-hand: measured apart, then the scenarios
        u0 = r.upstream()
        rc, first = ask(r.port, "ns1.test.", "A")
        if rc is None:
            rc, first = ask(r.port, "ns1.test.", "A")
        warmup = (rc, r.upstream() - u0, first)
        rows = []
        for name, rtype, what in testnet.SCENARIOS:
            u0 = r.upstream()
            rc, cold = ask(r.port, name, rtype)
            u1 = r.upstream()
            rc2, warm = ask(r.port, name, rtype)
            rows.append((name, rtype, rc, u1 - u0, cold, warm))
        rss0 = rss_kb(r.pid())
        answered, secs = distinct_names(r.port, names) if names else (0, 0.0)
        time.sleep(0.5)
        return {"name": r.name, "rows": rows, "warmup": warmup, "rss_before": rss0,
                "rss_after": rss_kb(r.pid()), "heap_after": r.heap(), "answered": answered,
                "secs": secs}
    finally:
        r.stop()


class OldOurs(Ours):
    name = "dnsbox old binary"


def main(argv):
    if "--ipv6" in argv and "--inside" not in argv:
        # the net in its namespace; this script again inside it, with the net's hints
        net = testnet.TestNet6("v6").start()
        try:
            rest = [a for a in argv if a != "--ipv6"]
            return subprocess.run(net.cmd([sys.executable, os.path.abspath(__file__),
                                           "--inside", net.hints] + rest)).returncode
        finally:
            net.stop()
    names = 10000
    if "--names" in argv:
        names = int(argv[argv.index("--names") + 1])
    kinds = [Ours, TheirUnbound]
    if "--only" in argv:
        o = argv[argv.index("--only") + 1]
        kinds = [Ours] if o == "ours" else [TheirUnbound]
    if "--old" in argv:
        OldOurs.binary = argv[argv.index("--old") + 1]
        kinds.insert(0, OldOurs)
    net = None
    if "--inside" in argv:
        hints = argv[argv.index("--inside") + 1]
    else:
        net = testnet.TestNet().start()
        hints = net.hints
    res = {}
    try:
        for k in kinds:
            out = run(k, names, hints)
            res[out["name"]] = out
    finally:
        if net is not None:
            net.stop()
    rcn = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", None: "timeout"}
    names_ = list(res)
    print("%-26s %-5s " % ("scenario", "type") + " ".join(
        "%-28s" % n for n in names_))
    print("%-26s %-5s " % ("", "") + " ".join(
        "%-28s" % "rcode  upstream  cold/warm ms" for _n in names_))
    for i, (name, rtype, _w) in enumerate(testnet.SCENARIOS):
        cells = []
        for n in names_:
            _nm, _t, rc, up, cold, warm = res[n]["rows"][i]
            cells.append("%-8s %3d  %7.1f/%5.2f    " % (rcn.get(rc, rc), up, cold * 1e3,
                                                        warm * 1e3))
        print("%-26s %-5s " % (name[:26], rtype) + " ".join(cells))
    for n in names_:
        rows = res[n]["rows"]
        ok = [r for r in rows if r[2] is not None]
        total = sum(r[3] for r in rows)
        print("%s: %d upstream queries for %d client queries (%.2f per query); cold median "
              "%.1f ms max %.1f ms; warm median %.2f ms" % (
                  n, total, len(rows), total / float(len(rows)),
                  median([r[4] * 1e3 for r in ok]), max(r[4] * 1e3 for r in ok),
                  median([r[5] * 1e3 for r in ok])))
        x = res[n]
        print("%s: warm-up ns1.test. A: %s, %d upstream queries, %.1f ms" % (
            n, rcn.get(x["warmup"][0], x["warmup"][0]), x["warmup"][1], x["warmup"][2] * 1e3))
        print("%s: %d distinct names answered %d in %.1f s; RSS %d KB -> %d KB%s" % (
            n, names, x["answered"], x["secs"], x["rss_before"], x["rss_after"],
            ("; GC heap in use %d KB" % (x["heap_after"] // 1024)) if x["heap_after"] > 0
            else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
