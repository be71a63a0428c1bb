"""DNS over HTTPS over HTTP/2: queries per second on one connection with many streams, dnsbox vs
Unbound (same certificate, same answer), measured with h2load (nghttp2-client).

Usage:  python3 tools/bench_doh2.py [QUERIES] [STREAMS] [--old=BINARY]   (defaults 20000 and
        16; at most 200000 and 100; --old: another host firmware measured in the same run, e.g.
        a copy of build/host/dnsbox from before a change)
dnsbox: the host firmware in auth mode (https-port=; it allows 16 streams at once, so more
asked are queued by h2load). Unbound: its DoH (https-port) with the name as local data. Both on
free loopback ports, stopped by PID. Every request is the same GET /dns-query?dns=...
(www.example.com A); h2load's count of 2xx answers is checked. Prints figures only.
"""
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_tls  # noqa: E402
from ports import free_port  # noqa: E402
from proctree import cpu_seconds  # noqa: E402

MAX_QUERIES = 200000
MAX_STREAMS = 100
RUN_TIMEOUT_S = 120  # one h2load run
# www.example.com A, ID 0 (RFC 8484 4.1), no EDNS
QUERY = bytes.fromhex("000001000001000000000000" "03777777076578616d706c6503636f6d00" "00010001")


def start(name, d, binary=None):
    port = free_port()
    if binary is not None:
        cmd = [binary, "-m", "dnsbox.main", "--host", "port=%d" % free_port(),
               "https-port=%d" % port]
    else:
        conf = bench_tls.unbound_conf(d, port).replace(
            "  tls-port: %d" % port, "  https-port: %d\n  http-endpoint: \"/dns-query\"" % port)
        with open(os.path.join(d, "unbound.conf"), "w") as f:
            f.write(conf)
        cmd = ["unbound", "-d", "-c", os.path.join(d, "unbound.conf")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(proc, port)
    return proc, port


def _wait(proc, port):
    import socket

    end = time.monotonic() + bench_tls.TIMEOUT_S
    while time.monotonic() < end and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def run(port, pid, n, streams):
    url = "https://127.0.0.1:%d/dns-query?dns=%s" % (
        port, base64.urlsafe_b64encode(QUERY).decode().rstrip("="))
    c0 = cpu_seconds(pid)
    out = subprocess.run(["h2load", "-n", str(n), "-c", "1", "-m", str(streams), url],
                         capture_output=True, text=True, timeout=RUN_TIMEOUT_S).stdout
    cpu = cpu_seconds(pid) - c0
    rps = re.search(r"finished in [^,]+, ([0-9.]+) req/s", out)
    ok = re.search(r"status codes: (\d+) 2xx", out)
    if rps is None or ok is None or int(ok.group(1)) != n:
        raise RuntimeError("h2load: %s" % out[-500:])
    return float(rps.group(1)), cpu / n * 1e6


def main(argv):
    binaries = [("dnsbox", os.path.join(bench_tls.BUILD, "host", "dnsbox"))]
    for a in [a for a in argv if a.startswith("--old=")]:
        binaries.insert(0, ("old", a[6:]))
    argv = [a for a in argv if not a.startswith("--")]
    n = int(argv[0]) if argv else 20000
    streams = int(argv[1]) if len(argv) > 1 else 16
    if not (1 <= n <= MAX_QUERIES and 1 <= streams <= MAX_STREAMS):
        print("QUERIES 1..%d, STREAMS 1..%d" % (MAX_QUERIES, MAX_STREAMS))
        return 2
    if shutil.which("h2load") is None:
        print("h2load missing: apt-get install nghttp2-client")
        return 2
    rows = []
    for name, binary in binaries + [("unbound", None)]:
        d = tempfile.mkdtemp(prefix="bench-doh2-")
        proc, port = start(name, d, binary)
        try:
            rows.append((name,) + run(port, proc.pid, n, streams))
        finally:
            proc.terminate()
            proc.wait(10)
    print("DoH over HTTP/2 on loopback: %d GET queries on one connection, %d streams asked"
          % (n, streams))
    print("%-8s %10s %14s" % ("server", "qps", "CPU us/query"))
    for r in rows:
        print("%-8s %10.0f %14.1f" % r)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
