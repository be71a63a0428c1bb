#!/usr/bin/env python3
"""DNSSEC figures: the firmware's signature checks, validated resolution, cached answers.

  python3 tools/bench_dnssec.py [--names N]

1. Signature verifications per second per algorithm in the host firmware (dnsbox.dnssec.sig
   .check over a dnspython-signed RRset, the data made once), next to `openssl speed` for the
   same algorithms on this machine, in the same run.
2. Resolution of signed names on the signed tree (tools/dnssecbed.py): the first name (every
   key cold) and N new names under a signed wildcard (keys cached), median ms: dnsbox
   recursing with validation, dnsbox with dnssec=no, Unbound with and without its validator.
3. Cached answers per second (dnsperf, a warmed file of those names): dnsbox validating vs
   dnssec=no (the same firmware: the cost of validation on the cached path).
4. Memory: N validated names cached at the board's heap: entries and GC heap in use.
Loopback only; every process stopped by PID; every load bounded in count and time.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import cardrun  # noqa: E402
import dnssecbed  # noqa: E402
import flood  # noqa: E402
import testnet  # noqa: E402
from bench_recursive import ask, our_stats  # noqa: E402
from ports import free_port  # noqa: E402

MPY = os.path.join(os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build"), "host",
                   "dnsbox")
CHECKS = 300  # verifications timed per algorithm
OPENSSL = {5: "rsa1024", 7: "rsa1024", 8: "rsa2048", 10: "rsa2048", 13: "ecdsap256",
           14: "ecdsap384", 15: "ed25519", 16: "ed448"}
DNSPERF_S = 5

TIMER = dnssecbed.VECTOR_READER + r'''
import time
n = int(sys.argv[2])
for alg, keys, sigs, good, when in vectors(sys.argv[1]):
    t0 = time.ticks_us()
    for _ in range(n):
        assert S.check(good, sigs, keys, when, [4, 1])[0] == S.SECURE
    print(alg, n * 1000000 // time.ticks_diff(time.ticks_us(), t0))
'''


def ours_per_second():
    d = tempfile.mkdtemp()
    try:
        dnssecbed.signed_vectors(os.path.join(d, "v.txt"))
        with open(os.path.join(d, "t.py"), "w") as f:
            f.write(TIMER)
        env = dict(os.environ)
        env.pop("MICROPYPATH", None)
        out = subprocess.run([MPY, "-X", "heapsize=8M", os.path.join(d, "t.py"),
                              os.path.join(d, "v.txt"), str(CHECKS)], capture_output=True,
                             text=True, timeout=600, env=env).stdout
        return {int(a): int(b) for a, b in (x.split() for x in out.split("\n") if x)}
    finally:
        shutil.rmtree(d)


def openssl_per_second():
    out = subprocess.run(["openssl", "speed", "-seconds", "1"] + sorted(set(OPENSSL.values())),
                         capture_output=True, text=True, timeout=300).stdout
    speeds = {}
    for name, pat in (("rsa1024", r"rsa\s+1024 bits"), ("rsa2048", r"rsa\s+2048 bits"),
                      ("ecdsap256", r"\(nistp256\)"), ("ecdsap384", r"\(nistp384\)"),
                      ("ed25519", r"\(Ed25519\)"), ("ed448", r"\(Ed448\)")):
        # the row's last figure is verifications per second
        m = re.search(pat + r"\s+\S+\s+\S+\s+\S+\s+([\d.]+)", out)
        if m:
            speeds[name] = float(m.group(1))
    return speeds


class Ours:
    def __init__(self, words, heap=None):
        self.port = free_port()
        env = dict(os.environ)
        env.pop("MICROPYPATH", None)
        self.proc = subprocess.Popen(
            [MPY, "-X", "heapsize=" + (heap or cardrun.board_env()["HEAPSIZE"]), "-m",
             "dnsbox.main", "--host", "--max-s=600", "mode=resolver", "port=%d" % self.port,
             "do-not-query-localhost=no"] +
            words, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        end = time.time() + 10
        while time.time() < end:
            if ask(self.port, "example.com.", "A", timeout=0.3)[0] is not None:
                return
        self.stop()
        raise RuntimeError("dnsbox did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


class Theirs:
    def __init__(self, u):
        self.u = u
        self.port = u.port

    def stop(self):
        self.u.stop()


def latencies(port, names):
    first = ask(port, "www.secure.", "A")
    times = [ask(port, n, "A")[1] for n in names]
    return first, statistics.median(times) * 1000


def dnsperf_qps(port, names):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        for n in names:
            f.write("%s A\n" % n)
        path = f.name
    try:
        out = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", path, "-c",
                              "1", "-T", "1", "-q", "100", "-t", "2", "-l", str(DNSPERF_S)],
                             capture_output=True, text=True, timeout=DNSPERF_S + 30).stdout
        m = re.search(r"Queries per second:\s+([\d.]+)", out)
        return float(m.group(1)) if m else -1.0
    finally:
        os.unlink(path)


def main(argv):
    n = int(argv[argv.index("--names") + 1]) if "--names" in argv else 1000
    ours_v = ours_per_second()
    ossl = openssl_per_second()
    print("signature verifications per second (host firmware vs openssl speed, same machine):")
    for alg in sorted(ours_v):
        o = OPENSSL.get(alg)
        print("  algorithm %2d: dnsbox %6d/s   openssl %s %s" % (
            alg, ours_v[alg], o or "-", "%.0f/s" % ossl[o] if o in ossl else ""))
    bed = dnssecbed.DnssecBed().start()
    tag = os.urandom(3).hex()
    names = ["r%s-%d.wild.secure." % (tag, i) for i in range(n)]
    try:
        rows = []
        for label, make in (
                ("dnsbox validating", lambda: Ours(["hints=" + bed.hints,
                                                    "trust-anchor=" + bed.anchor])),
                ("dnsbox dnssec=no", lambda: Ours(["hints=" + bed.hints, "dnssec=no"])),
                ("Unbound validating", lambda: Theirs(bed.unbound(free_port()))),
                ("Unbound iterator", lambda: Theirs(testnet.Unbound(
                    free_port(), bed.hints, run_dir=os.path.join(bed.dir, "it-%s" % tag))))):
            srv = make()
            try:
                (rc, first), med = latencies(srv.port, names[: min(200, n)])
                qps = dnsperf_qps(srv.port, names[: min(200, n)]) if label.startswith(
                    "dnsbox") else -1
                rows.append((label, rc, first * 1000, med, qps))
            finally:
                srv.stop()
        print("resolution on the signed tree (first name: all keys cold; then %d new names "
              "under a signed wildcard):" % min(200, n))
        for label, rc, first, med, qps in rows:
            print("  %-20s first %7.1f ms (rcode %s), new names median %6.2f ms%s" % (
                label, first, rc, med, "" if qps < 0 else ", cached %.0f qps" % qps))
        srv = Ours(["hints=" + bed.hints, "trust-anchor=" + bed.anchor])
        try:
            fig = flood.flood(srv.port, "wild.secure.", n, 16, ())
            st = our_stats(srv.port)
            print("memory at the board's heap (%s): %d validated names asked, %d answered, "
                  "%d cached entries, %d cache bytes, GC heap in use %d KB" % (
                      cardrun.board_env()["HEAPSIZE"], n, fig["rcodes"].get(0, 0), st["cache"],
                      st["cache_bytes"], st.get("heap", 0) // 1024))
        finally:
            srv.stop()
    finally:
        bed.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
