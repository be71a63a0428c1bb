"""The forwarder's query latency to a plain UDP upstream vs a DNS-over-TLS one (warm: the TLS
connection already open), both the same Unbound on loopback answering from local data.

Usage:  python3 tools/bench_dot.py [QUERIES]   (default 500, at most 20000)

Unbound listens on a plain port and a TLS port (a test CA and a certificate for dot.test made in
a temporary directory with python `cryptography`); two host firmwares forward to it, one with
server=127.0.0.1#PLAIN, one with server=127.0.0.1#TLS#dot.test and tls-ca= the test CA. Each
query is a new name (n<i>.dot.example., NXDOMAIN from Unbound's static zone: never a cache
hit), asked one at a time over UDP; the first few are left out (the TLS handshake). Prints the
median, 90th percentile and mean in microseconds. Everything on loopback, stopped by PID.
"""
import os
import socket
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "firmware"))

import dns.message  # noqa: E402

from tests.host.test_dot_unbound import NAME, UnboundDoT, make_pki  # noqa: E402
from tests.host.test_forwarder import Resolver  # noqa: E402

MAX_QUERIES = 20000
WARM = 20  # queries left out of the figures (the TLS connection opened)
Q_TIMEOUT_S = 5


def measure(port, n, tag):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(Q_TIMEOUT_S)
    out = []
    for i in range(n + WARM):
        q = dns.message.make_query("n%d-%s.dot.example." % (i, tag), "A").to_wire()
        t = time.perf_counter()
        s.sendto(q, ("127.0.0.1", port))
        s.recv(4096)
        if i >= WARM:
            out.append((time.perf_counter() - t) * 1e6)
    s.close()
    return out


def main(argv):
    n = int(argv[0]) if argv else 500
    if not 0 < n <= MAX_QUERIES:
        print("QUERIES: 1..%d" % MAX_QUERIES)
        return 2
    with tempfile.TemporaryDirectory() as d:
        ca, pem, key = make_pki(d)
        u = UnboundDoT(d, pem, key, plain=True)
        rs = []
        try:
            plain = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % u.plain])
            rs.append(plain)
            tls = Resolver(["mode=resolver", "dnssec=no", "tls-ca=" + ca,
                            "server=127.0.0.1#%d#%s" % (u.port, NAME)])
            rs.append(tls)
            print("forwarder latency, %d queries each, one at a time (cache misses), us:" % n)
            for name, r in (("plain UDP", plain), ("DoT (warm)", tls)):
                got = sorted(measure(r.port, n, name[:3].strip()))
                print("  %-12s median %7.0f  p90 %7.0f  mean %7.0f" % (
                    name, statistics.median(got), got[int(len(got) * 0.9)],
                    statistics.mean(got)))
            s = u.stats()
            print("unbound: %d queries over TLS, %d over UDP, TCP buffers in use %d" % (
                s.get("num.query.tls", 0),
                s.get("total.num.queries", 0) - s.get("num.query.tcp", 0),
                s.get("total.tcpusage", 0)))
        finally:
            for r in rs:
                r.stop()
            u.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
