"""Zone transfer out: time for a full AXFR of the bench zone, dnsbox vs NSD, same zone, same run.

Usage:  python3 tools/bench_transfer.py [ROUNDS]        (default 5, at most 50)
The zone is ../shared/bench/data/bench.test.zone, compiled by the real compiler into a raw blob
(build/bench-xfr/). dnsbox: the host MicroPython firmware (build/host/dnsbox, heap 32 MB)
serving that blob through the firmware's own loop (this file run as its server, `serve`
argument), auth-peer 127.0.0.1; NSD: Debian's nsd on the zone file, provide-xfr 127.0.0.1.
Both on free loopback ports, stopped by PID. Each round: one AXFR over TCP by dnspython, timed
from connect to the closing SOA; printed: records, messages, bytes, and median / best seconds,
and the server's CPU seconds per transfer (its processes' user + system time from /proc).
"""
import sys

MAX_ROUNDS = 50
HEAP = "32M"  # the bench zone's blob is ~1.7 MB, read into the heap from the file here


def serve(blob_path, port):
    """(MicroPython) The firmware's authoritative server on a raw blob file."""
    sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/firmware")
    from dnsbox.auth.server import Server
    from dnsbox.net import server as net
    from dnsbox.zonedb import open_blob

    with open(blob_path, "rb") as f:
        db = open_blob(f.read())
    srv = Server(db, peers=[(0x7F000001, 0xFFFFFFFF)])
    loop = net.Server(srv.handle, "127.0.0.1", port)
    handle_tcp = srv.handle_tcp
    peer_ip = net.peer_ip
    loop.tcp_handler = lambda q, conn: handle_tcp(q, peer_ip(conn.peer))
    loop.serve()


def main(argv):
    import os
    import statistics
    import subprocess
    import tempfile
    import time

    import dns.message
    import dns.query

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, os.path.join(root, "tools"))
    from nsdconf import nsd_conf
    from ports import free_port
    from proctree import cpu_seconds as cpu

    rounds = int(argv[0]) if argv else 5
    if not 1 <= rounds <= MAX_ROUNDS:
        print("ROUNDS: 1..%d" % MAX_ROUNDS)
        return 2
    zone = os.path.join(root, "..", "shared", "bench", "data", "bench.test.zone")
    binary = os.path.join(os.environ.get("DNSBOX_BUILD") or os.path.join(root, "build"), "host",
                          "dnsbox")
    for path, what in ((zone, "the bench zone"), (binary, "the host firmware (./build.sh)")):
        if not os.path.exists(path):
            print("missing %s: %s" % (what, path))
            return 2
    out = os.path.join(root, "build", "bench-xfr")
    os.makedirs(out, exist_ok=True)
    blob = os.path.join(out, "bench.test.blob")
    if not os.path.exists(blob) or os.path.getmtime(blob) < os.path.getmtime(zone):
        subprocess.run([sys.executable, os.path.join(root, "tools", "crunch.py"), zone, "-o", blob],
                       check=True)

    def axfr(port):
        t = time.monotonic()
        n = msgs = size = 0
        for m in dns.query.xfr("127.0.0.1", "bench.test.", port=port, timeout=30, lifetime=120):
            msgs += 1
            size += len(m.to_wire())
            n += sum(len(rr) for rr in m.answer)
        return time.monotonic() - t, n, msgs, size

    def wait_ready(port, proc):
        end = time.monotonic() + 60
        while time.monotonic() < end and proc.poll() is None:
            try:
                dns.query.udp(dns.message.make_query("bench.test.", "SOA"), "127.0.0.1",
                              port=port, timeout=0.5)
                return True
            except Exception:
                time.sleep(0.2)
        return False

    results = []
    run_dir = tempfile.mkdtemp(prefix="bench-xfr-")
    for name in ("dnsbox", "nsd"):
        port = free_port()
        if name == "dnsbox":
            cmd = [binary, "-X", "heapsize=" + HEAP, os.path.abspath(__file__), "serve", blob,
                   str(port)]
        else:
            conf = nsd_conf(run_dir, "127.0.0.1", port,
                            [("bench.test", zone, ["provide-xfr: 127.0.0.1 NOKEY"])])
            with open(os.path.join(run_dir, "nsd.conf"), "w") as f:
                f.write(conf)
            cmd = ["nsd", "-d", "-c", os.path.join(run_dir, "nsd.conf")]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if not wait_ready(port, proc):
                print("%s did not start" % name)
                return 1
            c0 = cpu(proc.pid)
            times = []
            for _ in range(rounds):
                t, n, msgs, size = axfr(port)
                times.append(t)
            c1 = cpu(proc.pid)
            results.append((name, n, msgs, size, statistics.median(times), min(times),
                            (c1 - c0) / rounds))
        finally:
            proc.terminate()
            proc.wait(10)
    print("AXFR of bench.test (%d rounds each, dnspython client on loopback)" % rounds)
    print("%-8s %8s %8s %10s %10s %10s %12s" % ("server", "records", "messages", "bytes",
                                                 "median s", "best s", "CPU s/xfr"))
    for r in results:
        print("%-8s %8d %8d %10d %10.3f %10.3f %12.3f" % r)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(main(sys.argv[1:]))
