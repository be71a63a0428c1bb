"""Benchmark of the wire codec: decode and encode of a typical query and a typical 5-record
answer, on CPython and MicroPython, side by side with dnspython (CPython) in the same run.

Usage (CPython, prints the table):  python3 tools/bench_wire.py [--mpy BINARY] [--count N]
  --mpy BINARY   MicroPython binary to run the same measurements under (default:
                 build/host/dnsbox if it exists; 'none' to skip). The dnsbox package is taken
                 from firmware/ (the source tree), not from the binary's frozen copy.
  --count N      calls per measurement (default 20,000; at most 1,000,000)
A figure is CPU microseconds per message (user+system time, so other processes on a shared
machine disturb it less than wall time would), the best of 3 runs. CPython: process_time()
around the loop. MicroPython: the script runs as a child per operation (`--child OP N`) and
the parent takes the child's CPU time from getrusage, minus a run with N = 0 (start-up).
"""

import sys
import time

MAX_CALLS = 1000000  # cap on the calls of one timed loop
IS_MPY = sys.implementation.name == "micropython"


def _root():
    f = __file__
    here = f.rsplit("/", 1)[0] if "/" in f else "."
    return here + "/.."


sys.path.insert(0, _root() + "/firmware")

from dnsbox.wire import edns as E  # noqa: E402
from dnsbox.wire import message as M  # noqa: E402
from dnsbox.wire import name as N  # noqa: E402
from dnsbox.wire import rdata as R  # noqa: E402
from dnsbox.wire import types as T  # noqa: E402
from dnsbox.wire.rr import RR, Question  # noqa: E402


def loop(fn, n):
    for _ in range(n):
        fn()


def messages():
    """(query Message, query bytes, response Message, response bytes), built with our codec."""
    qn = N.from_text("www.example.com.")
    q = M.Message(0x1234)
    q.rd = True
    q.question.append(Question(qn, T.A))
    q.edns = E.Edns(1232)
    qw = M.encode(q)
    r = M.make_response(q)
    r.aa = True
    for i in range(5):
        r.answer.append(RR(qn, T.A, T.CLASS_IN, 300, R.from_text(T.A, "192.0.2.%d" % (i + 1))))
    r.edns = E.Edns(1232)
    rw = M.encode(r)
    return q, qw, r, rw


def ops_ours():
    q, qw, r, rw = messages()
    return [
        ("decode query", lambda: M.decode(qw)),
        ("peek query (decode_question)", lambda: M.decode_question(qw)),
        ("encode query", lambda: M.encode(q)),
        ("decode 5-record answer", lambda: M.decode(rw)),
        ("encode 5-record answer", lambda: M.encode(r)),
        ("encode 5-record answer, 512 limit", lambda: M.encode(r, 512)),
    ]


def ops_dnspython():
    import dns.message

    q, qw, r, rw = messages()
    dq = dns.message.from_wire(qw)
    dr = dns.message.from_wire(rw)
    return [
        ("decode query", lambda: dns.message.from_wire(qw)),
        ("peek query (decode_question)", None),
        ("encode query", lambda: dq.to_wire()),
        ("decode 5-record answer", lambda: dns.message.from_wire(rw)),
        ("encode 5-record answer", lambda: dr.to_wire()),
        ("encode 5-record answer, 512 limit", lambda: dr.to_wire(max_size=512)),
    ]


def cpu_us(fn, n):
    """Best of 3: CPU microseconds per call (CPython)."""
    best = None
    for _ in range(3):
        t0 = time.process_time()
        loop(fn, n)
        per = (time.process_time() - t0) * 1e6 / n
        best = per if best is None or per < best else best
    return best


def child_cpu(binary, args):
    import resource
    import subprocess

    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([binary, __file__, "--child"] + args, check=True, timeout=600)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)


def mpy_us(binary, index, n):
    base = min(child_cpu(binary, [str(index), "0"]) for _ in range(3))
    best = min(child_cpu(binary, [str(index), str(n)]) for _ in range(3))
    return max(best - base, 0) * 1e6 / n


def main(argv):
    n = 20000
    binary = None
    if argv[:1] == ["--child"]:  # MicroPython side: run one operation N times
        loop(ops_ours()[int(argv[1])][1], int(argv[2]))
        return 0
    i = 0
    while i < len(argv):
        if argv[i] == "--count":
            n = min(int(argv[i + 1]), MAX_CALLS)
        elif argv[i] == "--mpy":
            binary = argv[i + 1]
        i += 1
    import os

    if binary is None:
        cand = os.path.join(_root(), "build", "host", "dnsbox")
        binary = os.path.normpath(cand) if os.path.exists(cand) else "none"
    import dns.version

    print("wire codec benchmark: CPU microseconds per message, best of 3 x %d calls" % n)
    print(
        "CPython %s, dnspython %s, MicroPython: %s"
        % (sys.version.split()[0], dns.version.version, binary)
    )
    print()
    print("| operation | dnsbox CPython | dnspython CPython | ratio | dnsbox MicroPython |")
    print("|---|---:|---:|---:|---:|")
    theirs = ops_dnspython()
    for k, (op, fn) in enumerate(ops_ours()):
        v = cpu_us(fn, n)
        d = cpu_us(theirs[k][1], max(n // 10, 100)) if theirs[k][1] else None
        mv = mpy_us(binary, k, n) if binary != "none" else None
        ratio = "%.1fx" % (d / v) if d else "-"
        print(
            "| %s | %.2f | %s | %s | %s |"
            % (op, v, "%.2f" % d if d else "-", ratio, "%.2f" % mv if mv is not None else "-")
        )
    print()
    print("ratio = dnspython time / dnsbox time on CPython (higher is better for dnsbox)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
