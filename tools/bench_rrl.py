"""Response rate limiting under a flood: the host firmware (build/host/dnsbox, mode=auth) and
NSD (its RRL on), the same zone (zones/example.com.zone) on 127.0.0.1, the same flood of
identical queries from one source; prints what each answered in full, answered truncated
(TC=1, the slips) and left unanswered, side by side. Run by hand, not a test:

  python3 tools/bench_rrl.py [--count 5000] [--seconds 1] [--name example.com.] [--type ANY]
                             [--rate 200] [--slip 2] [--servers dnsbox,nsd]

Every flood is bounded in count and time and goes to 127.0.0.1 only; each server is started
fresh (empty buckets) and stopped by its PID. --seconds paces the flood evenly (0: as fast as
the sender goes; then the kernel's socket buffers may drop some too, which shows as
unanswered). flood() is also the host tests' (tests/host/test_rrl_flood.py).
"""
import argparse
import os
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from nsdconf import nsd_conf  # noqa: E402
from ports import free_port  # noqa: E402
from proctree import stop  # noqa: E402

BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
BINARY = os.path.join(BUILD, "host", "dnsbox")
ZONE = os.path.join(ROOT, "zones", "example.com.zone")
MAX_COUNT = 200000  # queries in one flood at most
MAX_SECONDS = 60  # the longest flood
QUIET_S = 0.5  # replies are read this long after the last query
READY_S = 15  # a server must answer within this
RCVBUF = 4 << 20  # the flooding socket's receive buffer (replies of a burst)
STOP_S = 5


def query(name, qtype, qid=0):
    """The wire form of a plain query (RD clear, no EDNS), as an authoritative server sees."""
    out = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes((len(label),)) + label.encode()
    return out + b"\x00" + struct.pack(">HH", qtype, 1)


def flood(port, wires, count, seconds, source="127.0.0.1", quiet=QUIET_S):
    """Send count queries (the wires in turn, IDs 0, 1, ...) from source to 127.0.0.1:port,
    evenly within seconds (0: at once), reading the replies meanwhile and for quiet seconds
    after the last. A dict: sent, answered (no TC), tc, none (no reply), longer (TC replies
    longer than their query), full_bytes and tc_bytes (the longest of each), elapsed (s, first
    to last query sent), rcodes {rcode: n}."""
    count = min(count, MAX_COUNT)
    seconds = min(seconds, MAX_SECONDS)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    s.bind((source, 0))
    s.setblocking(False)
    got = {}  # id -> reply
    sizes = [len(w) for w in wires]

    def drain():
        while True:
            try:
                data, _ = s.recvfrom(65535)
            except BlockingIOError:
                return
            if len(data) >= 12:
                got.setdefault(struct.unpack(">H", data[:2])[0], data)

    t0 = time.monotonic()
    for i in range(count):
        due = t0 + seconds * i / count
        while True:
            drain()
            now = time.monotonic()
            if now >= due:
                break
            time.sleep(min(due - now, 0.002))
        w = wires[i % len(wires)]
        try:
            s.sendto(struct.pack(">H", i & 0xFFFF) + w[2:], ("127.0.0.1", port))
        except BlockingIOError:
            pass  # the send buffer is full: this one counts as not answered
    elapsed = time.monotonic() - t0
    end = time.monotonic() + quiet
    while time.monotonic() < end:
        select.select([s], [], [], max(0.0, end - time.monotonic()))
        drain()
    s.close()
    out = {"sent": count, "answered": 0, "tc": 0, "longer": 0, "elapsed": elapsed, "rcodes": {},
           "full_bytes": 0, "tc_bytes": 0}
    for qid, r in got.items():
        if r[2] & 2:
            out["tc"] += 1
            out["tc_bytes"] = max(out["tc_bytes"], len(r))
            if len(r) > sizes[qid % len(sizes)]:
                out["longer"] += 1
        else:
            out["answered"] += 1
            out["full_bytes"] = max(out["full_bytes"], len(r))
        out["rcodes"][r[3] & 15] = out["rcodes"].get(r[3] & 15, 0) + 1
    out["none"] = count - len(got)
    return out


def _ready(port, proc, probe):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.3)
    try:
        end = time.monotonic() + READY_S
        while time.monotonic() < end:
            if proc.poll() is not None:
                return False
            try:
                s.sendto(probe, ("127.0.0.1", port))
                s.recvfrom(4096)
                return True
            except OSError:
                time.sleep(0.1)
        return False
    finally:
        s.close()


def start_dnsbox(port, run, words):
    log = open(os.path.join(run, "dnsbox.log"), "w")
    return subprocess.Popen([BINARY, "-m", "dnsbox.main", "--host", "--max-s=%d" % (
        MAX_SECONDS * 2), "port=%d" % port] + words, stdout=log, stderr=subprocess.STDOUT)


def start_nsd(port, run, rate, slip):
    conf = os.path.join(run, "nsd.conf")
    with open(conf, "w") as f:
        f.write(nsd_conf(run, "127.0.0.1", port, [("example.com.", ZONE)], [
            "rrl-ratelimit: %d" % rate, "rrl-slip: %d" % slip, "rrl-ipv4-prefix-length: 24",
            "rrl-whitelist-ratelimit: 0"]))
    log = open(os.path.join(run, "nsd.out"), "w")
    return subprocess.Popen(["nsd", "-d", "-c", conf], stdout=log, stderr=subprocess.STDOUT)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--name", default="example.com.")
    ap.add_argument("--type", default="ANY")
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--slip", type=int, default=2)
    ap.add_argument("--servers", default="dnsbox,nsd")
    a = ap.parse_args(argv)
    types = {"A": 1, "NS": 2, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28, "ANY": 255}
    wire = query(a.name, types[a.type.upper()])
    print("flood: %d x %s %s from 127.0.0.1 within %.2f s; rrl-ratelimit %d, rrl-slip %d" % (
        a.count, a.type.upper(), a.name, a.seconds, a.rate, a.slip))
    print("%-8s %9s %10s %9s %9s  %s" % ("server", "answered", "truncated", "no reply",
                                          "sent in", "reply bytes: full / TC (query %d)" %
                                          len(wire)))
    for name in a.servers.split(","):
        port = free_port()
        with tempfile.TemporaryDirectory(prefix="bench-rrl-") as run:
            if name == "dnsbox":
                proc = start_dnsbox(port, run, ["mode=auth", "rrl-ratelimit=%d" % a.rate,
                                                "rrl-slip=%d" % a.slip])
            else:
                proc = start_nsd(port, run, a.rate, a.slip)
            try:
                if not _ready(port, proc, query("www.example.com.", 1, 65535)):
                    print("%-8s did not start (see its log)" % name)
                    continue
                r = flood(port, [wire], a.count, a.seconds)  # (the probe: another bucket)
            finally:
                stop(proc, STOP_S)
        print("%-8s %9d %10d %9d %8.2fs  %d / %d" % (name, r["answered"], r["tc"], r["none"],
                                                      r["elapsed"], r["full_bytes"],
                                                      r["tc_bytes"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
