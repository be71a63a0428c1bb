#!/usr/bin/env python3
"""A bounded burst of UDP queries at DNS servers on loopback: how many get no answer at all.

  python3 tools/burst.py [--count N] [--runs R] [--mode auth|forward|both] [--binary PATH]
                         [--only dnsbox|ref]

Every server is started here in the foreground, on a free loopback port, and stopped by its PID:
  auth     dnsbox (--binary, default build/host/dnsbox, mode=auth: its compiled-in example.com)
           and NSD serving zones/example.com.zone (the same zone), one server process each,
           both without response rate limiting (rrl-ratelimit=0: a burst from one address
           is what RRL drops; tools/bench_rrl.py measures that);
  forward  dnsbox (mode=resolver, server=/burst.test/NSD) and Unbound (one thread, forwarding
           burst.test to the same NSD), in front of an NSD serving a small zone written here;
           both warmed first (each name asked once), so the burst is answered from the cache.
One burst: N queries (distinct IDs, NAMES names in turn, no EDNS) sent from one socket as fast
as it goes, then answers read until QUIET_S passes without one (at most DEADLINE_S). Printed
per server and run: queries sent, answered, silent (no answer at all), the answers' rcodes, the
kernel's UDP receive-buffer drops during the burst (RcvbufErrors of /proc/net/snmp: the whole
machine, so other traffic shows there too; our client's own buffer is made big enough to hold
every answer), send-buffer errors (SndbufErrors), the time the sending took and the time to the
last answer. The reference servers run with their own socket-buffer settings (as shipped).
Only loopback traffic; every burst is bounded by --count (at most MAX_COUNT) and DEADLINE_S.
"""
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

MAX_COUNT = 60000  # queries in one burst (IDs are 16 bits: one socket, each ID once)
DEFAULT_COUNT = 3000  # the burst
QUIET_S = 1.0  # the burst is over when no answer came for this long
DEADLINE_S = 15.0  # and at the latest this long after the first query
READY_S = 20.0  # a server has this long to start answering
CLIENT_RCVBUF = 64 << 20  # our socket's receive buffer: room for every answer of a burst
BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
NAMES = 64  # names of the forward zone (n0..n63.burst.test), asked in turn
AUTH_QUESTIONS = [("www.example.com.", 1), ("mail.example.com.", 1), ("ns1.example.com.", 1),
                  ("example.com.", 15), ("sip.example.com.", 1), ("text.example.com.", 16),
                  ("ftp.example.com.", 1), ("nx.example.com.", 1)]
FORWARD_QUESTIONS = [("n%d.burst.test." % i, 1) for i in range(NAMES)]
_SOL_SOCKET = 1
_SO_RCVBUFFORCE = 33


def wire_name(text):
    out = b""
    for label in text.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def query(qid, name, qtype):
    """A plain query (RD set: the forwarder serves recursion-desired queries from its cache)."""
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire_name(name) + struct.pack(
        "!HH", qtype, 1)


def udp_counters():
    """{name: value} of the Udp lines of /proc/net/snmp."""
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    return dict(zip(rows[0][1:], [int(v) for v in rows[1][1:]]))


def client_socket(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(_SOL_SOCKET, _SO_RCVBUFFORCE, CLIENT_RCVBUF)  # root: not capped
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_RCVBUF)
    s.connect(("127.0.0.1", port))
    return s


def ask_once(port, name, qtype, timeout=0.5):
    """The rcode of one answer, or None."""
    s = client_socket(port)
    s.settimeout(timeout)
    try:
        s.send(query(4242, name, qtype))
        a = s.recv(4096)
        return a[3] & 15 if len(a) >= 12 and a[:2] == b"\x10\x92" else None
    except OSError:
        return None
    finally:
        s.close()


def burst(port, count, questions):
    """One burst: a dict of figures."""
    s = client_socket(port)
    s.setblocking(False)
    wires = [query(i, *questions[i % len(questions)]) for i in range(count)]
    seen = bytearray(count)
    rcodes = {}
    before = udp_counters()
    t0 = time.monotonic()
    send_fail = 0
    p = select.poll()
    p.register(s, select.POLLIN)
    for w in wires:
        try:
            s.send(w)
        except BlockingIOError:  # our own send buffer: wait for it, then once more
            select.select([], [s], [], 1.0)
            try:
                s.send(w)
            except OSError:
                send_fail += 1
    t_sent = time.monotonic()
    last = t_sent
    answered = 0
    while True:
        now = time.monotonic()
        if now - last > QUIET_S or now - t0 > DEADLINE_S:
            break
        if not p.poll(100):
            continue
        while True:
            try:
                a = s.recv(65535)
            except BlockingIOError:
                break
            if len(a) < 12:
                continue
            qid = (a[0] << 8) | a[1]
            if qid < count and not seen[qid]:
                seen[qid] = 1
                answered += 1
                rc = a[3] & 15
                rcodes[rc] = rcodes.get(rc, 0) + 1
            last = time.monotonic()
    after = udp_counters()
    s.close()
    return {"sent": count - send_fail, "answered": answered, "silent": count - answered,
            "rcodes": rcodes, "rcvbuf": after["RcvbufErrors"] - before["RcvbufErrors"],
            "sndbuf": after["SndbufErrors"] - before["SndbufErrors"],
            "send_ms": (t_sent - t0) * 1000, "last_ms": (last - t0) * 1000}


class Proc:
    """A server process started in the foreground, stopped by its PID."""

    def __init__(self, name, cmd, log, port):
        self.name = name
        self.port = port
        self.log = log
        with open(log, "w") as f:
            self.p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)

    def wait_ready(self, name, qtype):
        end = time.monotonic() + READY_S
        while time.monotonic() < end:
            if ask_once(self.port, name, qtype) is not None:
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        with open(self.log) as f:
            tail = f.read()[-2000:]
        raise SystemExit("%s did not start answering on port %d:\n%s" % (self.name, self.port,
                                                                          tail))

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)


def start_nsd(d, zones, tag):
    port = free_port()
    run = os.path.join(d, "nsd-" + tag)
    os.makedirs(run)
    conf = os.path.join(run, "nsd.conf")
    with open(conf, "w") as f:
        f.write(nsd_conf(run, "127.0.0.1", port, zones, ["minimal-responses: yes"]))
    return Proc("NSD", ["nsd", "-d", "-c", conf], os.path.join(run, "out.log"), port)


def start_dnsbox(d, binary, words, heap):
    port = free_port()
    cmd = [binary, "-X", "heapsize=" + heap, "-m", "dnsbox.main", "--host", "port=%d" % port]
    return Proc("dnsbox", cmd + words, os.path.join(d, "dnsbox-%d.log" % port), port)


def start_unbound(d, upstream):
    port = free_port()
    run = os.path.join(d, "unbound")
    os.makedirs(run)
    conf = os.path.join(run, "unbound.conf")
    with open(conf, "w") as f:
        f.write("\n".join([
            "server:", "  interface: 127.0.0.1", "  port: %d" % port,
            "  outgoing-interface: 127.0.0.1", "  do-ip6: no", "  num-threads: 1",
            "  do-daemonize: no", '  username: ""', '  chroot: ""', '  directory: "%s"' % run,
            '  pidfile: "%s/unbound.pid"' % run, "  use-syslog: no", '  logfile: ""',
            "  verbosity: 0", "  access-control: 127.0.0.0/8 allow",
            "  do-not-query-localhost: no", '  local-zone: "test." nodefault',
            '  domain-insecure: "burst.test."', '  module-config: "iterator"',
            "  minimal-responses: yes", "  ratelimit: 0", "  ip-ratelimit: 0",
            "remote-control:", "  control-enable: no",
            "forward-zone:", '  name: "burst.test."', "  forward-addr: 127.0.0.1@%d" % upstream,
            ""]))
    return Proc("Unbound", ["unbound", "-d", "-c", conf], os.path.join(run, "out.log"), port)


def forward_zone(path):
    with open(path, "w") as f:
        f.write("$ORIGIN burst.test.\n$TTL 3600\n@ SOA ns hm 1 3600 900 604800 300\n@ NS ns\n"
                "ns A 127.0.0.1\n")
        for i in range(NAMES):
            f.write("n%d A 192.0.2.%d\n" % (i, i % 250 + 1))


def heap():
    """The board's MicroPython heap (board/qemu-arm/board.env HEAPSIZE)."""
    with open(os.path.join(ROOT, "board", "qemu-arm", "board.env")) as f:
        for line in f:
            if line.startswith("HEAPSIZE="):
                return line.split("=", 1)[1].strip()
    return "8M"


def servers(mode, d, binary, only, out, helpers):
    """Start the servers of mode, each put in out as (label, Proc, questions) (the upstream in
    helpers) as soon as it runs, so that the caller stops it whatever happens next."""
    if mode == "auth":
        zone = os.path.join(ROOT, "zones", "example.com.zone")
        if only in (None, "dnsbox"):
            words = ["mode=auth", "rrl-ratelimit=0"]
            out.append(("dnsbox auth", start_dnsbox(d, binary, words, heap()), AUTH_QUESTIONS))
        if only in (None, "ref"):
            out.append(("NSD auth", start_nsd(d, [("example.com", zone)], "auth"),
                        AUTH_QUESTIONS))
    else:
        zone = os.path.join(d, "burst.test.zone")
        forward_zone(zone)
        up = start_nsd(d, [("burst.test", zone)], "up")
        helpers.append(up)
        up.wait_ready("n0.burst.test.", 1)
        if only in (None, "dnsbox"):
            out.append(("dnsbox forward", start_dnsbox(d, binary, [
                "mode=resolver", "dnssec=no", "server=/burst.test/127.0.0.1#%d" % up.port],
                heap()), FORWARD_QUESTIONS))
        if only in (None, "ref"):
            out.append(("Unbound forward", start_unbound(d, up.port), FORWARD_QUESTIONS))
    for _label, p, qs in out:
        p.wait_ready(*qs[0])
        for name, qtype in qs:  # warm: every name once (fills a forwarder's cache)
            ask_once(p.port, name, qtype)


def main(argv):
    count, runs, modes, binary, only = DEFAULT_COUNT, 1, ["auth", "forward"], None, None
    i = 0
    while i < len(argv):
        a = argv[i]
        v = argv[i + 1] if i + 1 < len(argv) else None
        if a == "--count" and v and v.isdigit():
            count = int(v)
        elif a == "--runs" and v and v.isdigit():
            runs = int(v)
        elif a == "--mode" and v in ("auth", "forward", "both"):
            modes = ["auth", "forward"] if v == "both" else [v]
        elif a == "--binary" and v:
            binary = v
        elif a == "--only" and v in ("dnsbox", "ref"):
            only = v
        else:
            print(__doc__)
            return 2
        i += 2
    if not 0 < count <= MAX_COUNT or not 0 < runs <= 20:
        print("--count 1..%d, --runs 1..20" % MAX_COUNT)
        return 2
    binary = binary or os.path.join(BUILD, "host", "dnsbox")
    if only != "ref" and not os.path.exists(binary):
        print("%s missing: run ./build.sh host (or give --binary)" % binary)
        return 2
    print("burst of %d UDP queries, %d run(s); dnsbox: %s" % (count, runs, binary))
    print("| server | run | sent | answered | silent | rcodes | kernel RcvbufErrors "
          "| SndbufErrors | send ms | last answer ms |")
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="burst-") as d:
        for mode in modes:
            procs, helpers = [], []
            try:
                servers(mode, d, binary, only, procs, helpers)
                for label, p, qs in procs:
                    for r in range(runs):
                        f = burst(p.port, count, qs)
                        rc = " ".join("%d:%d" % kv for kv in sorted(f["rcodes"].items()))
                        print("| %s | %d | %d | %d | %d | %s | %d | %d | %.0f | %.0f |" % (
                            label, r + 1, f["sent"], f["answered"], f["silent"], rc or "-",
                            f["rcvbuf"], f["sndbuf"], f["send_ms"], f["last_ms"]))
                        sys.stdout.flush()
                        time.sleep(QUIET_S)
            finally:
                for _label, p, _qs in procs:
                    p.stop()
                for p in helpers:
                    p.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
