#!/usr/bin/env python3
"""Print the platform figures of issue 2 (a measurement script, not a test).

  - seconds from qemu start to the first correct DNS answer (median of RUNS boots; a UDP probe
    every 50 ms, an answer counts when it matches the zone file's SOA);
  - kernel and initramfs sizes;
  - the smallest qemu -m (MB) with which the appliance still answers (bisection);
  - host and armhf firmware binary sizes;
  - clean and no-op build times (the clean build goes into a temporary build directory, so
    build/ is not disturbed; it includes the downloads, ~50 MB from the package mirror).

Usage: python3 tools/bench_boot.py [--runs 3] [--no-build-times] [--no-memory]
Needs a built tree (./build.sh). Traffic goes to 127.0.0.1 only; every wait is bounded.
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.zone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import qemu_run  # noqa: E402
from ports import free_port  # noqa: E402

BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
BOARD_DIR = os.path.join(ROOT, "board", "qemu-arm")
IMAGE_DIR = os.path.join(BUILD, "qemu-arm")
ZONE_FILE = os.path.join(ROOT, "zones", "example.com.zone")
ORIGIN = dns.name.from_text("example.com.")

PROBE_INTERVAL_S = 0.05  # one UDP probe every 50 ms
BOOT_LIMIT_S = 60  # give up on a boot after this long
MEM_LOW, MEM_HIGH, MEM_STEP = 32, 64, 4  # -m range bisected, in MB, to this resolution
BUILD_LIMIT_S = 1800  # a clean build must finish within this


def expected_soa():
    zone = dns.zone.from_file(ZONE_FILE, origin=ORIGIN, relativize=False)
    return zone.nodes[ORIGIN].get_rdataset(dns.rdataclass.IN, dns.rdatatype.SOA)


def time_to_answer(mem=None):
    """Seconds from starting qemu to the first correct UDP answer, or None (no answer)."""
    want = expected_soa()
    port = free_port()
    cmd = qemu_run.command(BOARD_DIR, IMAGE_DIR, [], host_port=port, mem=mem)
    q = dns.message.make_query(ORIGIN, dns.rdatatype.SOA)
    wire = q.to_wire()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(PROBE_INTERVAL_S)
    guest = qemu_run.Guest(cmd)
    t0 = guest.t_start
    try:
        while time.monotonic() - t0 < BOOT_LIMIT_S and guest.proc.poll() is None:
            sock.sendto(wire, ("127.0.0.1", port))
            deadline = time.monotonic() + PROBE_INTERVAL_S
            while time.monotonic() < deadline:
                try:
                    data = sock.recv(65535)
                except socket.timeout:
                    break
                except OSError:
                    time.sleep(max(0.0, deadline - time.monotonic()))
                    break
                try:
                    r = dns.message.from_wire(data)
                except Exception:
                    continue
                if r.id != q.id:
                    continue
                got = r.get_rrset(r.answer, ORIGIN, dns.rdataclass.IN, dns.rdatatype.SOA)
                if got is not None and set(got) == set(want):
                    return time.monotonic() - t0
    finally:
        sock.close()
        guest.stop()
    return None


def smallest_memory():
    """Bisect -m between MEM_LOW and MEM_HIGH: the smallest value that answers."""
    lo, hi = MEM_LOW, MEM_HIGH  # invariant: hi serves; lo is not known to serve
    if time_to_answer(hi) is None:
        return None
    if time_to_answer(lo) is not None:
        return lo
    while hi - lo > MEM_STEP:
        mid = (lo + hi) // 2
        mid -= mid % MEM_STEP
        if mid in (lo, hi):
            break
        if time_to_answer(mid) is not None:
            hi = mid
        else:
            lo = mid
    return hi


def timed_build(build_dir):
    env = dict(os.environ, DNSBOX_BUILD=build_dir)
    t0 = time.monotonic()
    proc = subprocess.run([os.path.join(ROOT, "build.sh"), "build"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=BUILD_LIMIT_S)
    dt = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit("build into %s failed:\n%s" % (build_dir, proc.stderr[-3000:]))
    return dt


def size(path):
    try:
        return os.stat(path).st_size
    except OSError:
        return None


def fmt_size(n):
    return "missing" if n is None else "%d bytes (%.2f MiB)" % (n, n / 1048576.0)


def main(argv):
    ap = argparse.ArgumentParser(description="print dnsbox platform figures")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-build-times", action="store_true")
    ap.add_argument("--no-memory", action="store_true")
    args = ap.parse_args(argv)
    for name in ("vmlinuz", "initrd.xz"):
        if not os.path.isfile(os.path.join(IMAGE_DIR, name)):
            raise SystemExit("%s/%s missing: run ./build.sh first" % (IMAGE_DIR, name))

    times = []
    for _ in range(max(1, args.runs)):
        t = time_to_answer()
        times.append(t)
        print("boot to first correct answer: %s" % ("no answer" if t is None else "%.2f s" % t),
              flush=True)
    ok = [t for t in times if t is not None]
    print("=== dnsbox platform figures (qemu-system-arm virt, TCG, -m 64)")
    print("boot to first correct answer, median of %d: %s   (runs: %s)" % (
        len(times), "%.2f s" % statistics.median(ok) if len(ok) == len(times) else "FAILED",
        ", ".join("-" if t is None else "%.2f" % t for t in times)))
    print("kernel (vmlinuz):         %s" % fmt_size(size(os.path.join(IMAGE_DIR, "vmlinuz"))))
    print("initramfs (initrd.xz):    %s" % fmt_size(size(os.path.join(IMAGE_DIR, "initrd.xz"))))
    print("firmware host (x86_64):   %s" % fmt_size(size(os.path.join(BUILD, "host", "dnsbox"))))
    print("firmware armhf (static):  %s" % fmt_size(size(os.path.join(BUILD, "armhf", "dnsbox"))))
    sys.stdout.flush()
    if not args.no_memory:
        m = smallest_memory()
        print("smallest -m that serves:  %s" % ("none in range" if m is None else
                                                "%d MB (bisected %d..%d, step %d)" % (
                                                    m, MEM_LOW, MEM_HIGH, MEM_STEP)), flush=True)
    if not args.no_build_times:
        tmp = tempfile.mkdtemp(prefix="dnsbox-bench-build-")
        try:
            clean = timed_build(tmp)
            noop = timed_build(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print("clean build (downloads included): %.1f s" % clean)
        print("no-op build:                      %.1f s" % noop)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
