"""TCP abuse figures: how many TCP queries a server answers while a flood holds connections.

  python3 tools/tcpflood.py [--conns 200] [--seconds 12] [--probes 80] [--servers dnsbox,nsd,unbound]

Starts each server itself on 127.0.0.1 (dnsbox: the host firmware build/host/dnsbox at the
board's heap, serving the built-in example.com; NSD: the same zone file, tools/nsdconf.py;
Unbound: example.com as local-data), then per server and per flood kind:
  drip  --conns connections from 127.0.0.2 that each promise a 64-byte query and send one byte
        every --drip seconds (the slow-loris of the issue: 200 connections, a byte every 3 s)
  idle  --conns connections from 127.0.0.2 that send nothing
while --probes TCP queries from 127.0.0.1 (one connection each, 2 s timeout, spread over the
flood) ask for www.example.com A. Prints answered probes per server and flood, side by side.
Every loop is bounded by --seconds; servers are stopped by their PID. All traffic is loopback.
"""
import argparse
import os
import resource
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from nsdconf import nsd_conf  # noqa: E402
from ports import free_port  # noqa: E402
from proctree import stop  # noqa: E402

ZONE = os.path.join(ROOT, "zones", "example.com.zone")
PROBE_TIMEOUT_S = 2.0
QUERY = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00"
         b"\x00\x01\x00\x01")


def _heap():
    for line in open(os.path.join(ROOT, "board", "qemu-arm", "board.env")):
        if line.startswith("HEAPSIZE="):
            return line.split("=", 1)[1].strip()
    return "8M"


def start(kind, port, run):
    if kind == "dnsbox":
        binary = os.path.join(os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build"),
                              "host", "dnsbox")
        args = [binary, "-X", "heapsize=" + _heap(), "-m", "dnsbox.main", "--host",
                "mode=auth", "ip=127.0.0.1", "port=%d" % port]
    elif kind == "nsd":
        with open(os.path.join(run, "nsd.conf"), "w") as f:
            f.write(nsd_conf(run, "127.0.0.1", port, [("example.com", ZONE)]))
        args = ["nsd", "-d", "-c", os.path.join(run, "nsd.conf")]
    else:
        with open(os.path.join(run, "unbound.conf"), "w") as f:
            f.write("server:\n  interface: 127.0.0.1@%d\n  port: %d\n  do-daemonize: no\n"
                    "  username: \"\"\n  chroot: \"\"\n  directory: \"%s\"\n  pidfile: \"\"\n"
                    "  use-syslog: no\n  access-control: 127.0.0.0/8 allow\n"
                    "  local-zone: \"example.com.\" static\n"
                    "  local-data: \"www.example.com. 300 IN A 192.0.2.80\"\n" % (port, port, run))
        args = ["unbound", "-d", "-c", os.path.join(run, "unbound.conf")]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        if probe(port):
            return p
        time.sleep(0.1)
    p.kill()
    raise SystemExit("%s did not start on port %d" % (kind, port))


def probe(port):
    """One TCP query on a new connection from 127.0.0.1: True when answered in time."""
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=PROBE_TIMEOUT_S,
                                     source_address=("127.0.0.1", 0))
    except OSError:
        return False
    try:
        c.sendall(struct.pack("!H", len(QUERY)) + QUERY)
        got = b""
        end = time.monotonic() + PROBE_TIMEOUT_S
        while len(got) < 14 and time.monotonic() < end:
            d = c.recv(4096)
            if not d:
                break
            got += d
        return len(got) >= 14 and got[2:4] == QUERY[:2]
    except OSError:
        return False
    finally:
        c.close()


def flood(port, kind, conns, seconds, drip, stop):
    """Hold conns connections from 127.0.0.2 until stop is set or seconds pass; reconnect
    those the server closes (an attacker does)."""
    socks = []
    end = time.monotonic() + seconds
    sent = 0
    while not stop.is_set() and time.monotonic() < end:
        while len(socks) < conns and time.monotonic() < end:
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=0.5,
                                             source_address=("127.0.0.2", 0))
                s.setblocking(False)
                if kind == "drip":
                    s.send(b"\x00\x40")  # a 64-byte query follows, slowly
                socks.append(s)
            except OSError:
                break
        if kind == "drip":
            alive = []
            for s in socks:
                try:
                    s.send(b"x")
                    alive.append(s)
                except OSError:
                    s.close()
            socks = alive
            sent += 1
            stop.wait(drip)
        else:
            stop.wait(0.5)
    for s in socks:
        s.close()


def measure(port, kind, conns, seconds, probes, drip):
    stop = threading.Event()
    t = threading.Thread(target=flood, args=(port, kind, conns, seconds, drip, stop),
                         daemon=True)
    t.start()
    time.sleep(1.0)  # the flood is in place
    ok = 0
    gap = max(0.0, (seconds - 2.0) / probes)
    for _ in range(probes):
        ok += probe(port)
        time.sleep(gap)
    stop.set()
    t.join(seconds + 5)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--conns", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--probes", type=int, default=80)
    ap.add_argument("--drip", type=float, default=3.0)
    ap.add_argument("--servers", default="dnsbox,nsd,unbound")
    ap.add_argument("--kinds", default="drip,idle")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print("%d connections per flood, %d TCP probes over %.0f s" % (a.conns, a.probes, a.seconds))
    for kind in a.kinds.split(","):
        for srv in a.servers.split(","):
            with tempfile.TemporaryDirectory() as run:
                port = free_port()
                p = start(srv, port, run)
                try:
                    ok = measure(port, kind, a.conns, a.seconds, a.probes, a.drip)
                finally:
                    stop(p)
            print("%-5s %-8s %3d / %d TCP probes answered" % (kind, srv, ok, a.probes),
                  flush=True)


if __name__ == "__main__":
    main()
