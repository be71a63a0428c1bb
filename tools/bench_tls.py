"""DNS over TLS: handshake cost and answers per second on one connection, dnsbox vs Unbound.

Usage:  python3 tools/bench_tls.py [CONNECTIONS] [QUERIES]   (defaults 100 and 20000; at most
        1000 and 200000)
Both servers on free loopback ports with the same certificate (build/tls, made by ./build.sh)
and the same answer (www.example.com A, two records): dnsbox is the host firmware in auth mode
(its compiled-in example zone, tls-port=); Unbound serves the name as local data (tls-port,
tls-service-key/pem). Stopped by PID. Measured per server, one after the other:
  - CONNECTIONS fresh connections, each: TCP connect, TLS handshake (verified against the
    certificate), one query, close; median and 90th percentile milliseconds, server CPU per
    connection (its processes' user + system time from /proc);
  - QUERIES queries over one connection, 100 in flight (pipelined): answers per second and
    server CPU microseconds per query. Every answer is checked to be NOERROR with the query's ID.
"""
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from ports import free_port  # noqa: E402
from proctree import cpu_seconds  # noqa: E402

MAX_CONNS = 1000
MAX_QUERIES = 200000
IN_FLIGHT = 100  # pipelined queries outstanding on the throughput connection
TIMEOUT_S = 10  # any single wait
BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
CERT = os.path.join(BUILD, "tls", "dnsbox.crt")
KEY = os.path.join(BUILD, "tls", "dnsbox.key")

# www.example.com A, RD clear, no EDNS: the ID goes in front
_Q_BODY = b"\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01"


def query(qid):
    w = struct.pack("!H", qid) + _Q_BODY
    return struct.pack("!H", len(w)) + w


def read_exact(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise EOFError("connection closed")
        b += d
    return b


def read_answer(s):
    n = struct.unpack("!H", read_exact(s, 2))[0]
    return read_exact(s, n)


def check(answer, qid):
    if struct.unpack("!H", answer[:2])[0] != qid or answer[3] & 0x0F or answer[7] != 2:
        raise AssertionError("bad answer to query %d: %r" % (qid, answer[:12]))


def connect(ctx, port):
    raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return ctx.wrap_socket(raw, server_hostname="dnsbox")


def handshakes(ctx, port, pid, n):
    times = []
    c0 = cpu_seconds(pid)
    for i in range(n):
        t = time.perf_counter()
        s = connect(ctx, port)
        s.sendall(query(i))
        check(read_answer(s), i)
        s.close()
        times.append((time.perf_counter() - t) * 1000)
    cpu = (cpu_seconds(pid) - c0) / n
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.9)], cpu * 1000


def throughput(ctx, port, pid, n):
    s = connect(ctx, port)
    s.sendall(query(0))
    check(read_answer(s), 0)
    c0 = cpu_seconds(pid)
    t = time.perf_counter()
    sent = got = 0
    while got < n:
        batch = min(IN_FLIGHT - (sent - got), n - sent)
        if batch > 0:
            s.sendall(b"".join(query(q & 0xFFFF) for q in range(sent, sent + batch)))
            sent += batch
        check(read_answer(s), got & 0xFFFF)
        got += 1
    dt = time.perf_counter() - t
    cpu = cpu_seconds(pid) - c0
    s.close()
    return n / dt, cpu / n * 1e6


def unbound_conf(d, port):
    return "\n".join([
        "server:",
        "  interface: 127.0.0.1@%d" % port,
        "  tls-port: %d" % port,
        "  tls-service-key: \"%s\"" % KEY,
        "  tls-service-pem: \"%s\"" % CERT,
        "  do-ip6: no",
        "  do-daemonize: no",
        "  chroot: \"\"",
        "  username: \"\"",
        "  directory: \"%s\"" % d,
        "  pidfile: \"%s/unbound.pid\"" % d,
        "  use-syslog: no",
        "  logfile: \"%s/unbound.log\"" % d,
        "  num-threads: 1",
        "  access-control: 127.0.0.0/8 allow",
        "  local-zone: \"example.com.\" static",
        "  local-data: \"www.example.com. 300 IN A 192.0.2.80\"",
        "  local-data: \"www.example.com. 300 IN A 192.0.2.81\"",
        "remote-control:",
        "  control-enable: no",
        "",
    ])


def start(name, d):
    port = free_port()
    if name == "dnsbox":
        cmd = [os.path.join(BUILD, "host", "dnsbox"), "-m", "dnsbox.main", "--host",
               "port=%d" % free_port(), "tls-port=%d" % port]
    else:
        with open(os.path.join(d, "unbound.conf"), "w") as f:
            f.write(unbound_conf(d, port))
        cmd = ["unbound", "-d", "-c", os.path.join(d, "unbound.conf")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + TIMEOUT_S
    while time.monotonic() < end and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("%s did not start" % name)


def main(argv):
    conns = int(argv[0]) if argv else 100
    queries = int(argv[1]) if len(argv) > 1 else 20000
    if not (1 <= conns <= MAX_CONNS and 1 <= queries <= MAX_QUERIES):
        print("CONNECTIONS 1..%d, QUERIES 1..%d" % (MAX_CONNS, MAX_QUERIES))
        return 2
    if not os.path.exists(CERT):
        print("missing %s: run ./build.sh" % CERT)
        return 2
    ctx = ssl.create_default_context(cafile=CERT)
    rows = []
    for name in ("dnsbox", "unbound"):
        d = tempfile.mkdtemp(prefix="bench-tls-")
        proc, port = start(name, d)
        try:
            hs = handshakes(ctx, port, proc.pid, conns)
            tp = throughput(ctx, port, proc.pid, queries)
            version = connect(ctx, port)
            proto = "%s %s" % (version.version(), version.cipher()[0])
            version.close()
        finally:
            proc.terminate()
            proc.wait(10)
        rows.append((name,) + hs + tp + (proto,))
    print("DNS over TLS on loopback: %d fresh connections, then %d queries on one connection "
          "(%d in flight)" % (conns, queries, IN_FLIGHT))
    print("%-8s %12s %10s %14s %10s %14s  %s" % ("server", "connect ms", "p90 ms", "CPU ms/conn",
                                                 "qps", "CPU us/query", "TLS"))
    for r in rows:
        print("%-8s %12.2f %10.2f %14.2f %10.0f %14.1f  %s" % r)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
