#!/usr/bin/env python3
"""Figures of the SD-card images: sizes, card build time, and power-on to first answer of the A10
test variant in QEMU >= 8 (-M cubieboard, booted from the card alone).

Usage: python3 tools/bench_card.py [--build build] [--boots 3] [--builds 1] [--no-boot]
Run ./build.sh first. Prints a markdown table. Each boot: qemu starts (power-on), a UDP query for
www.example.com A goes to the forwarded port every PROBE_S until a correct answer arrives; the
time of that answer is the figure (median of --boots runs). The console marks (SPL, u-boot,
kernel, dnsbox ready) are timed too. qemu is stopped by its PID; every wait is bounded.
"""
import argparse
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)
import card_image  # noqa: E402
import card_qemu  # noqa: E402
import qemu_run  # noqa: E402
from ports import free_port  # noqa: E402

BOARDS = ("board/cubieboard2", "board/cubieboard2/a10")
A10 = "board/cubieboard2/a10"
PROBE_S = 0.05  # probe interval
BOOT_LIMIT_S = 120  # give up on one boot after this long
MAX_BOOTS = 10
MAX_BUILDS = 5
EXPECTED_WWW = {"192.0.2.80", "192.0.2.81"}  # zones/example.com.zone: www A
MARKS = (("SPL", "U-Boot SPL"), ("u-boot", "U-Boot 20"), ("boot.scr", "dnsbox: boot script"),
         ("kernel", "Starting kernel"), ("/init", "Run /init"), ("ready", "dnsbox ready"))


def query_www(qid):
    """A DNS query for www.example.com A (no EDNS), built by hand (no dnspython needed)."""
    qname = b"".join(bytes([len(p)]) + p for p in (b"www", b"example", b"com")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1)


def answer_addrs(msg, qid):
    """The A addresses of a response to query_www(qid), or None if it is not one."""
    if len(msg) < 12 or struct.unpack(">H", msg[:2])[0] != qid or not msg[2] & 0x80:
        return None
    an = struct.unpack(">H", msg[6:8])[0]
    pos = 12
    while msg[pos]:  # the question's name (no compression in a question we sent)
        pos += msg[pos] + 1
    pos += 5
    out = set()
    for _ in range(an):
        if msg[pos] & 0xC0 == 0xC0:
            pos += 2
        else:
            while msg[pos]:
                pos += msg[pos] + 1
            pos += 1
        rtype, _, _, rdlen = struct.unpack(">HHIH", msg[pos: pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            out.add(".".join(str(b) for b in msg[pos: pos + 4]))
        pos += rdlen
    return out


def one_boot(img, qemu):
    board = card_image.Board(os.path.join(ROOT, A10))
    port = free_port()
    cmd = card_qemu.qemu_command(qemu, img, board.env["QEMU_MACHINE"], board.env["QEMU_NIC"],
                                  [("udp", port, 53)])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(PROBE_S)
    t0 = time.monotonic()
    guest = qemu_run.Guest(cmd)
    marks = {}  # console mark -> seconds since power-on when first seen (within PROBE_S)
    first = None
    qid = 1
    try:
        while time.monotonic() - t0 < BOOT_LIMIT_S and guest.proc.poll() is None:
            console = guest.console()
            for name, text in MARKS:
                if name not in marks and text in console:
                    marks[name] = time.monotonic() - t0
            qid = (qid + 1) & 0xFFFF
            sock.sendto(query_www(qid), ("127.0.0.1", port))
            try:
                while True:
                    msg = sock.recv(4096)
                    if answer_addrs(msg, qid) == EXPECTED_WWW:
                        first = time.monotonic() - t0
                        break
            except socket.timeout:
                pass
            if first is not None:
                break
        console = guest.console()
    finally:
        guest.stop()
        sock.close()
    if first is None:
        raise SystemExit("bench_card: no correct answer within %d s; console tail:\n%s"
                         % (BOOT_LIMIT_S, console[-3000:]))
    for name, text in MARKS:
        if name not in marks and text in console:
            marks[name] = first
    return first, marks


def build_times(build, n):
    """Seconds for a forced rebuild of each card (initramfs, FAT, image, bmap, xz)."""
    out = {}
    for rel in BOARDS:
        ts = []
        for _ in range(n):
            t0 = time.monotonic()
            subprocess.run([sys.executable, os.path.join(TOOLS, "card_image.py"), "--build", build,
                            "--force", os.path.join(ROOT, rel)], check=True,
                           stdout=subprocess.DEVNULL)
            ts.append(time.monotonic() - t0)
        out[rel] = statistics.median(ts)
    return out


def sizes(build):
    rows = []
    for rel in BOARDS:
        b = card_image.Board(os.path.join(ROOT, rel))
        img = os.path.join(build, b.name, "dnsbox-%s.img" % b.name)
        for path in (img, img + ".xz", img + ".bmap",
                     os.path.join(build, b.name, "boot", "initrd.xz"),
                     os.path.join(build, b.name, "boot", "zImage")):
            if os.path.exists(path):
                st = os.stat(path)
                rows.append((os.path.relpath(path, build), st.st_size, st.st_blocks * 512))
    return rows


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_build = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
    ap.add_argument("--build", default=default_build)
    ap.add_argument("--boots", type=int, default=3)
    ap.add_argument("--builds", type=int, default=1)
    ap.add_argument("--no-boot", action="store_true")
    args = ap.parse_args(argv)
    if not 1 <= args.boots <= MAX_BOOTS or not 1 <= args.builds <= MAX_BUILDS:
        raise SystemExit("bench_card: --boots 1..%d, --builds 1..%d" % (MAX_BOOTS, MAX_BUILDS))
    build = os.path.abspath(args.build)

    times = build_times(build, args.builds)
    print("| card build (forced, median of %d) | seconds |" % args.builds)
    print("|---|---:|")
    for rel, t in times.items():
        print("| %s | %.1f |" % (rel, t))
    print()
    print("| file | bytes | on disk (sparse) |")
    print("|---|---:|---:|")
    for name, size, used in sizes(build):
        print("| %s | %d | %d |" % (name, size, used))
    if args.no_boot:
        return 0
    qemu = open(card_qemu.qemu_pointer(build)).read().strip()
    b = card_image.Board(os.path.join(ROOT, A10))
    src = os.path.join(build, b.name, "dnsbox-%s.img" % b.name)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.boots):
            img = os.path.join(tmp, "card.img")
            shutil.copyfile(src, img)
            first, marks = one_boot(img, qemu)
            missing = [name for name, _ in MARKS if name not in marks]
            if missing:
                raise SystemExit("bench_card: console lacked %s" % ", ".join(missing))
            results.append((first, marks))
    v = card_qemu.qemu_version(qemu)
    firsts = [r[0] for r in results]
    print()
    print("| A10 emulation (QEMU %d.%d -M cubieboard, TCG), seconds from power-on | median |"
          " min | max |" % v)
    print("|---|---:|---:|---:|")
    for name, text in MARKS:
        ts = [r[1][name] for r in results]
        print("| console: %s (`%s`) | %.2f | %.2f | %.2f |" % (
            name, text, statistics.median(ts), min(ts), max(ts)))
    print("| **first correct answer** (%d boots) | %.2f | %.2f | %.2f |" % (
        len(firsts), statistics.median(firsts), min(firsts), max(firsts)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
