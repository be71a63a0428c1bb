"""DNS over HTTPS over HTTP/2, per connection: what a fresh connection costs in time, and what an
idle one holds in memory; dnsbox next to Unbound's DoH (same certificate, same run).

Usage:  python3 tools/bench_doh2_conn.py [CONNECTIONS] [IDLE] [--at=PORT]   (defaults 200 and
        15; at most 1000 and 16, the firmware's TLS_MAX_CONNS; --at: only the latency, of a DoH
        server already on 127.0.0.1:PORT answering www.example.com, e.g. the qemu guest's
        forwarded https port from `./build.sh run https-port=443`)
dnsbox: the host firmware build/host/dnsbox with -X heapsize= of the qemu board (board.env),
in resolver mode answering www.example.com from host-record= (its only server= is a loopback
port nobody listens on: nothing leaves the machine); Unbound: DoH (https-port) with the name as
local data (tools/bench_doh2). Both on free loopback ports, stopped by PID.
1. Latency: CONNECTIONS fresh connections, each: TCP connect, TLS handshake (ALPN h2, the
   certificate verified), the HTTP/2 preface and SETTINGS, one GET /dns-query?dns=..., the
   answer read and checked (NOERROR, an address), close. Median and 90th percentile
   milliseconds, once with TLS 1.3 and once with TLS 1.2 (the client's maximum version).
2. Memory: one connection opened and closed first (one-time costs out of the way), then IDLE
   HTTP/2 connections opened (each answers one query) and kept idle. For dnsbox, the MicroPython
   GC heap in use (gc.mem_alloc after a collection: heap= in the CH TXT stats.dnsbox. answer)
   before and after, per connection; for both, the process RSS before and after, per
   connection. RSS growth minus GC heap growth approximates mbedTLS's C heap (its record buffers
   come from malloc), touched pages of the preallocated GC heap being part of the RSS growth.
Prints figures only.
"""
import base64
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_doh2  # noqa: E402
import bench_tls  # noqa: E402
import cardrun  # noqa: E402
from bench_recursive import our_stats  # noqa: E402
from ports import free_port  # noqa: E402
from proctree import rss_kb  # noqa: E402

MAX_CONNS = 1000
MAX_IDLE = 16  # net/server.py TLS_MAX_CONNS: more would be refused by the firmware
SETTLE_S = 0.3  # after the idle connections are open, before memory is read
PATH = "/dns-query?dns=" + base64.urlsafe_b64encode(bench_doh2.QUERY).decode().rstrip("=")


def context(version):
    ctx = ssl.create_default_context(cafile=bench_tls.CERT)
    ctx.check_hostname = False  # the chain is verified; 127.0.0.1 is in the SAN of new builds
    ctx.minimum_version = ctx.maximum_version = version
    ctx.set_alpn_protocols(["h2"])
    return ctx


class Conn:
    """One HTTP/2 connection (the h2 package) that asks one GET and reads its answer."""

    def __init__(self, ctx, port):
        import h2.config
        import h2.connection

        raw = socket.create_connection(("127.0.0.1", port), timeout=bench_tls.TIMEOUT_S)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s = ctx.wrap_socket(raw, server_hostname="dnsbox")
        if self.s.selected_alpn_protocol() != "h2":
            raise RuntimeError("ALPN: %r" % self.s.selected_alpn_protocol())
        self.c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.c.initiate_connection()

    def ask(self):
        import h2.events

        sid = self.c.get_next_available_stream_id()
        self.c.send_headers(sid, [(":method", "GET"), (":scheme", "https"), (":path", PATH),
                                  (":authority", "dnsbox")], end_stream=True)
        self.s.sendall(self.c.data_to_send())
        body = b""
        end = time.monotonic() + bench_tls.TIMEOUT_S
        while time.monotonic() < end:
            data = self.s.recv(65536)
            if not data:
                break
            for ev in self.c.receive_data(data):
                if isinstance(ev, h2.events.DataReceived) and ev.stream_id == sid:
                    body += ev.data
                    self.c.acknowledge_received_data(ev.flow_controlled_length, sid)
                elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                    self.s.sendall(self.c.data_to_send())
                    return check(body)
            self.s.sendall(self.c.data_to_send())
        raise RuntimeError("no answer on stream %d" % sid)

    def close(self):
        self.s.close()


def check(body):
    if len(body) < 12 or body[3] & 0x0F or struct.unpack("!H", body[6:8])[0] < 1:
        raise AssertionError("bad answer %r" % body[:12])
    return body


def latency(port, version, n):
    ctx = context(version)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        c = Conn(ctx, port)
        c.ask()
        c.close()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.9)]


def memory(proc, port, dns_port, k):
    """(GC heap bytes per connection or None, RSS KB per connection)."""
    ctx = context(ssl.TLSVersion.TLSv1_3)
    first = Conn(ctx, port)
    first.ask()
    first.close()
    time.sleep(SETTLE_S)
    heap0 = our_stats(dns_port)["heap"] if dns_port else None
    rss0 = rss_kb(proc.pid)
    conns = []
    try:
        for _ in range(k):
            conns.append(Conn(ctx, port))
            conns[-1].ask()
        time.sleep(SETTLE_S)
        heap1 = our_stats(dns_port)["heap"] if dns_port else None
        rss1 = rss_kb(proc.pid)
    finally:
        for c in conns:
            c.close()
    heap = None if heap0 is None else (heap1 - heap0) / k
    return heap, (rss1 - rss0) / k


def start_dnsbox():
    port, dns_port = free_port(), free_port()
    cmd = [os.path.join(bench_tls.BUILD, "host", "dnsbox"),
           "-X", "heapsize=" + cardrun.board_env()["HEAPSIZE"], "-m", "dnsbox.main", "--host",
           "port=%d" % dns_port, "https-port=%d" % port, "mode=resolver", "dnssec=no",
           "server=127.0.0.1#%d" % free_port(), "host-record=www.example.com,192.0.2.80"]
    env = dict(os.environ)
    env.pop("MICROPYPATH", None)  # the frozen firmware
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    bench_doh2._wait(proc, port)
    return proc, port, dns_port


def measure(name, n, k):
    if name == "dnsbox":
        proc, port, dns_port = start_dnsbox()
    else:
        proc, port = bench_doh2.start(name, tempfile.mkdtemp(prefix="bench-doh2c-"))
        dns_port = None
    try:
        lat13 = latency(port, ssl.TLSVersion.TLSv1_3, n)
        lat12 = latency(port, ssl.TLSVersion.TLSv1_2, n)
        mem = memory(proc, port, dns_port, k)
    finally:
        proc.terminate()
        proc.wait(10)
    return lat13 + lat12 + mem


def main(argv):
    at = [int(a[5:]) for a in argv if a.startswith("--at=")]
    argv = [a for a in argv if not a.startswith("--")]
    n = int(argv[0]) if argv else 200
    k = int(argv[1]) if len(argv) > 1 else 15
    if not (1 <= n <= MAX_CONNS and 1 <= k <= MAX_IDLE):
        print("CONNECTIONS 1..%d, IDLE 1..%d" % (MAX_CONNS, MAX_IDLE))
        return 2
    if not os.path.exists(bench_tls.CERT):
        print("missing %s: run ./build.sh" % bench_tls.CERT)
        return 2
    if at:
        m13, p13 = latency(at[0], ssl.TLSVersion.TLSv1_3, n)
        m12, p12 = latency(at[0], ssl.TLSVersion.TLSv1_2, n)
        print("DoH over HTTP/2 at 127.0.0.1:%d, %d fresh connections: TLS 1.3 median %.1f ms, "
              "p90 %.1f ms; TLS 1.2 median %.1f ms, p90 %.1f ms" % (at[0], n, m13, p13, m12, p12))
        return 0
    rows = [(name,) + measure(name, n, k) for name in ("dnsbox", "unbound")]
    print("DoH over HTTP/2 on loopback: %d fresh connections per TLS version (connect, handshake,"
          " SETTINGS, one GET, answer); then %d idle connections" % (n, k))
    print("%-8s %10s %7s %10s %7s %15s %12s %17s" % (
        "server", "TLS1.3 ms", "p90 ms", "TLS1.2 ms", "p90 ms", "GC heap B/conn", "RSS KB/conn",
        "RSS-GC KB/conn"))
    for name, m13, p13, m12, p12, heap, rss in rows:
        print("%-8s %10.2f %7.2f %10.2f %7.2f %15s %12.1f %17s" % (
            name, m13, p13, m12, p12, "-" if heap is None else "%.0f" % heap, rss,
            "-" if heap is None else "%.1f" % (rss - heap / 1024)))
    print("dnsbox heap: -X heapsize=%s (the qemu board's)" % cardrun.board_env()["HEAPSIZE"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
