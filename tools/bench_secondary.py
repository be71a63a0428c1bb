"""A 10,000-record secondary zone end to end, at the board's heap: NSD serves the bench zone
(../shared/bench/data/bench.test.zone, 9,925 records) to the host firmware
(build/host/dnsbox -X heapsize=HEAPSIZE of board/qemu-arm/board.env) started with
secondary=bench.test.@127.0.0.1#PORT before NSD is up (its first try fails; the NOTIFY NSD sends
when it starts, or the 5 s retry, brings the AXFR), while one client asks the compiled zone
(www.example.com. A) one query at a time, without pause. Then one record changes on NSD
(SIGHUP: NOTIFY, IXFR, the whole blob built again) under the same stream. Printed from the
firmware's log lines: records, blob bytes, bytes held, transfer and build ms, steps, longest
step, the GC heap before the transfer, with its records, after the build; from the stream: the
longest gap between two answers and the queries unanswered during each phase; the time from
the change to its serial answered. Last, 200 names of the zone (A, MX, delegations, names that
do not exist) asked of both: the answers compared (rcode, AA, answer, authority; the referrals'
glue too).

Usage:  python3 tools/bench_secondary.py [--heap 8M]
All traffic to 127.0.0.1 on free ports; NSD and the firmware stopped by PID.
"""
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from cardrun import board_env  # noqa: E402
from nsdconf import nsd_conf  # noqa: E402
from ports import free_port  # noqa: E402

ZONE = os.path.join(ROOT, "..", "shared", "bench", "data", "bench.test.zone")
ORIGIN = "bench.test."
PROBE = "www.example.com."  # in the compiled zone: the stream's question
START_S = 20  # firmware or NSD up
PHASE_S = 60  # one phase (transfer and build) at most
STREAM_MAX = 500000  # queries of the stream at most
Q_TIMEOUT_S = 1.0  # one stream query (a loss shows as a gap of at least this)
SAMPLE = 200  # names of the zone compared with NSD
SEED = 15


class Log:
    """The firmware's output lines, read by a thread, each with its arrival time."""

    def __init__(self, proc):
        self.lines = []
        self.t = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.t.start()

    def _read(self, proc):
        for line in proc.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def wait(self, pattern, timeout, since=0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, x in self.lines:
                if t >= since and re.search(pattern, x):
                    return t, x
            time.sleep(0.01)
        raise RuntimeError("no %r in the firmware's log:\n%s" % (
            pattern, "\n".join(x for _t, x in self.lines[-30:])))


class Stream:
    """One client asking PROBE of the firmware, one query after the other (UDP)."""

    def __init__(self, port):
        self.port = port
        self.answers = []  # monotonic time of each answer
        self.lost = 0
        self.stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(Q_TIMEOUT_S)
        q = dns.message.make_query(PROBE, "A", use_edns=False)
        deadline = time.monotonic() + 2 * PHASE_S + START_S
        for i in range(STREAM_MAX):
            if self.stop or time.monotonic() > deadline:
                break
            q.id = i & 0xFFFF
            s.sendto(q.to_wire(), ("127.0.0.1", self.port))
            try:
                while True:
                    data = s.recv(512)
                    if data[:2] == q.to_wire()[:2]:
                        break
                self.answers.append(time.monotonic())
            except socket.timeout:
                self.lost += 1
        s.close()

    def window(self, t0, t1):
        """(longest gap between answers in [t0, t1] in s, answers in it)."""
        ts = [t0] + [t for t in self.answers if t0 <= t <= t1] + [t1]
        return max(b - a for a, b in zip(ts, ts[1:])), len(ts) - 2


def ask(port, name, rdtype):
    q = dns.message.make_query(name, rdtype, use_edns=False)
    q.flags &= ~0x0100
    return dns.query.udp(q, "127.0.0.1", timeout=2, port=port)


def view(r, glue):
    def sec(s):
        return sorted(x for rr in s for x in rr.to_text().lower().splitlines())  # any order

    return (dns.rcode.to_text(r.rcode()), bool(r.flags & 0x0400), sec(r.answer),
            sec(r.authority), sec(r.additional) if glue else None)


def sample(text):
    """SAMPLE questions: names with A, names with MX, names under delegations, no names."""
    a, mx, deleg = set(), set(), set()
    for line in text.splitlines():
        f = line.split()
        if len(f) < 5 or f[0].startswith((";", "$")):
            continue
        name, rtype = f[0].lower(), f[3]
        if rtype == "NS" and name != ORIGIN:
            deleg.add(name)
        elif rtype == "A":
            a.add(name)
        elif rtype == "MX":
            mx.add(name)
    rnd = random.Random(SEED)
    a = [n for n in sorted(a) if not any(n.endswith("." + d) for d in deleg)]
    qs = [(n, "A") for n in rnd.sample(a, min(100, len(a)))]
    qs += [(n, "MX") for n in rnd.sample(sorted(mx), min(30, len(mx)))]
    qs += [("www%d.%s" % (i, d), "A") for i, d in enumerate(
        rnd.sample(sorted(deleg), min(30, len(deleg))))]
    qs += [("nx%d-%d.%s" % (i, rnd.randrange(10 ** 6), ORIGIN), "A")
           for i in range(SAMPLE - len(qs))]
    return qs


def figures(line):
    """The numbers of the firmware's outcome line (dnsbox.net.xfrclient)."""
    m = re.search(r"serial (\d+) by (\w+), (\d+) records, (\d+) bytes blob, (\d+) KB held; "
                  r"transfer (\d+) ms, built in (\d+) steps, (\d+) ms \(longest step (\d+) ms\), "
                  r"heap (\d+) KB before the transfer, (\d+) KB with its records, (\d+) KB", line)
    if m is None:
        raise RuntimeError("outcome line not understood: " + line)
    keys = ("serial", "kind", "records", "blob", "held", "xfr_ms", "steps", "build_ms",
            "step_ms", "heap0", "heap1", "heap2")
    return dict(zip(keys, [m.group(1), m.group(2)] + [int(x) for x in m.groups()[2:]]))


def report(title, f, gap, answered, lost):
    print("%s: serial %s by %s, %d records" % (title, f["serial"], f["kind"], f["records"]))
    print("  transfer %d ms, build %d ms in %d steps (longest step %d ms)" % (
        f["xfr_ms"], f["build_ms"], f["steps"], f["step_ms"]))
    print("  blob %d KB, copy held %d KB (blob + compact records)" % (f["blob"] // 1024,
                                                                     f["held"]))
    print("  GC heap: %d KB before the transfer, %d KB with its records, %d KB after the build "
          "(+%d KB)" % (f["heap0"], f["heap1"], f["heap2"], f["heap2"] - f["heap0"]))
    print("  stream to %s: %d answers, longest gap %.0f ms, %d unanswered (%.0f ms timeout)" % (
        PROBE, answered, gap * 1000, lost, Q_TIMEOUT_S * 1000))


def main(argv):
    heap = board_env()["HEAPSIZE"]
    if argv[:1] == ["--heap"] and len(argv) == 2:
        heap = argv[1]
    elif argv:
        print(__doc__)
        return 2
    binary = os.path.join(os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build"),
                          "host", "dnsbox")
    nsd_bin = shutil.which("nsd") or "/usr/sbin/nsd"
    for path, what in ((ZONE, "the bench zone"), (binary, "the host firmware (./build.sh host)"),
                       (nsd_bin, "nsd (apt-get install -y nsd)")):
        if not os.path.exists(path):
            print("missing %s: %s" % (what, path))
            return 1
    with open(ZONE) as f:
        text = f.read()
    d = tempfile.mkdtemp(prefix="dnsbox-bench-sec-")
    zfile = os.path.join(d, "bench.test.zone")
    shutil.copy(ZONE, zfile)
    nport, fport = free_port(), free_port()
    opts = ["provide-xfr: 127.0.0.0/8 NOKEY", "notify: 127.0.0.1@%d NOKEY" % fport]
    with open(os.path.join(d, "nsd.conf"), "w") as f:
        f.write(nsd_conf(d, "127.0.0.1", nport, [(ORIGIN, zfile, opts)],
                         ["minimal-responses: yes"]))
    env = dict(os.environ)
    env.pop("MICROPYPATH", None)
    fw = subprocess.Popen([binary, "-X", "heapsize=" + heap, "-m", "dnsbox.main", "--host",
                           "mode=auth", "ip6=off", "port=%d" % fport, "rrl-ratelimit=0",
                           "secondary=%s@127.0.0.1#%d" % (ORIGIN, nport)],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = Log(fw)
    nsd = None
    stream = None
    try:
        log.wait("dnsbox ready", START_S)
        log.wait("transfer failed|connect failed", START_S)  # NSD is not up yet
        stream = Stream(fport)
        time.sleep(0.5)
        t0 = time.monotonic()
        nsd = subprocess.Popen([nsd_bin, "-d", "-c", os.path.join(d, "nsd.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t1, line = log.wait(r"serial \d+ by AXFR|transfer (refused|failed): [^c]", PHASE_S, t0)
        time.sleep(0.3)
        lost0 = stream.lost
        gap, n = stream.window(t0, time.monotonic())
        print("host firmware, -X heapsize=%s, bench zone from NSD" % heap)
        if "by AXFR" not in line:
            print("no copy at this heap: %s" % line.split("dnsbox: ", 1)[-1])
            print("  stream to %s meanwhile: %d answers, longest gap %.0f ms, %d unanswered" % (
                PROBE, n, gap * 1000, lost0))
            return 1
        report("boot AXFR (NSD started to the copy served: %.0f ms)" % ((t1 - t0) * 1000),
               figures(line), gap, n, lost0)
        # one record changes: NOTIFY, IXFR, the whole blob built again
        serial = int(figures(line)["serial"])
        new = text.replace(" %d " % serial, " %d " % (serial + 1), 1)
        new += "bench-changed.bench.test.\t3600\tIN\tA\t192.0.2.99\n"
        with open(zfile + ".tmp", "w") as f:
            f.write(new)
        os.rename(zfile + ".tmp", zfile)
        t0 = time.monotonic()
        nsd.send_signal(1)  # SIGHUP: NSD rereads the file, then NOTIFYs
        t1, line = log.wait(r"serial %d by|transfer (refused|failed)" % (serial + 1), PHASE_S,
                            t0)
        time.sleep(0.3)
        gap, n = stream.window(t0, time.monotonic())
        if not re.search(r"serial \d+ by", line):
            print("change on NSD: no new copy at this heap: %s" % line.split("dnsbox: ", 1)[-1])
            print("  stream to %s meanwhile: %d answers, longest gap %.0f ms" % (
                PROBE, n, gap * 1000))
            return 1
        got = ask(fport, ORIGIN, "SOA")
        if not got.answer or got.answer[0][0].serial != serial + 1:
            raise RuntimeError("serial %d logged, not answered: %s\n%s" % (
                serial + 1, got, "\n".join(x for _t, x in log.lines[-12:])))
        report("change on NSD (change to the new copy served: %.0f ms)" % ((t1 - t0) * 1000),
               figures(line), gap, n, stream.lost - lost0)
        stream.stop = True
        stream.t.join(5)
        same, diffs = 0, []
        for name, t in sample(new):
            ours, theirs = ask(fport, name, t), ask(nport, name, t)
            glue = not theirs.answer and theirs.rcode() == 0 and not (theirs.flags & 0x0400)
            if view(ours, glue) == view(theirs, glue):
                same += 1
            else:
                diffs.append((name, t, view(ours, glue), view(theirs, glue)))
        print("answers like NSD's: %d of %d (A, MX, referrals with glue, NXDOMAIN)" % (
            same, same + len(diffs)))
        for x in diffs[:5]:
            print("  differs:", x)
        return 0 if not diffs else 1
    finally:
        if stream is not None:
            stream.stop = True
        for p in (fw, nsd):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
