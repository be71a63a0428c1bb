"""The serving loop: UDP and TCP (RFC 7766) on one poll(), calling a pure handler. IPv4 and, with
ip6=, IPv6 on sockets of their own (IPV6_V6ONLY); an answer leaves from the socket of its
client's family (config.nets.peer_v6); peers are raw sockaddrs of either family (config.nets).

handler(query_bytes, proto) -> response bytes, or None to send nothing. proto is UDP or TCP.
The handler applies the size limits of the protocol itself; this module only moves bytes.
With Server(..., peer=True) the handler is called as handler(query_bytes, proto, client) where
client is the UDP peer address or the TCP connection (its .peer is the address); a handler that
returns None may answer later with respond(proto, client, bytes). A fast path may be set as
server.fast(query_bytes, peer) -> response or None: each UDP datagram goes to it first, and to
the handler only when it returns None (a cache hit answered without the handler's layers).
listen_tls(ip, port, ctx) adds DNS over TLS (RFC 7858): its connections are served as TCP ones
(the handlers see TCP), through dnsbox.net.tls. listen_tls(ip, port, ctx, b"/dns-query") adds
DNS over HTTPS (RFC 8484, HTTP/1.1, dnsbox.net.doh) instead: one request at a time per
connection (HTTP/1.1 answers in order), each query handed to the handler as a TCP one; an
HTTP/2 connection (ALPN h2 or its preface) goes to dnsbox.net.doh2 (many streams at once).
TCP frames go to server.tcp_handler(query_bytes, conn) instead when one is set; what it returns
may also be an iterator of responses (a zone transfer): they are sent in order as the connection
drains, at most STREAM_AHEAD bytes ahead, and the connection's next queries wait for the end.
Other sockets (upstream queries) join the same poll with watch(sock, callback); a timer object
(timeout_ms(), tick()) bounds the poll sleep, and its tick() runs every time poll returns,
before the events are served (so it can read the clock once for the whole batch).
Nothing here blocks: a slow or silent TCP client holds one connection slot until the idle
timeout, and never delays anyone else. Nothing here stops the loop either: a failure while
serving one event (a handler's bug, a MemoryError in a socket call when the heap has no free run
long enough for its buffer) is counted in faults and logged (the first FAULTS_LOGGED); a UDP
query whose handler failed is answered SERVFAIL (dnsbox.wire.reply.error_for), a TCP connection
whose state may be half updated is closed, and after a MemoryError the relief hook runs (the
resolver gives back part of its cache) and the heap is collected. Every socket is registered
with poll only together with its entry in our tables (both or neither).

Observers (dnsbox.net.watch: query log and statistics): server.observe(query, response, proto,
client, kind) is called for every query answered (response None: dropped or answered later;
not bytes: a stream) with kind OBS_HANDLER, OBS_FAST (the fast path's answer) or OBS_LATER
(respond(): query None); server.woke is the clock read when poll returned (only while observe
is set). Without observe (no counting asked for), server.events sees only the UDP answers to
other opcodes (a byte test per query) and the TCP answers: the events that are always logged.
listen_http(ip, port) adds a plain HTTP listener (at most HTTP_MAX_CONNS connections, the TCP
deadlines and request limits of DoH) whose GET requests go to server.pages (see
dnsbox.net.doh.request); DoH listeners hand their other paths to pages too.

`fault` is a test hook: when set, fault(site) is called at the places where the loop and the
resolver glue allocate (site names the place), so a test can raise MemoryError at each.
"""
import gc
import select
import socket

from dnsbox import clock
from dnsbox.compat import const, recv_into
from dnsbox.config.nets import peer_ip, peer_v6  # noqa: F401 - peer_ip: for tools/bench_transfer
from dnsbox.wire.rcode import SERVFAIL
from dnsbox.wire.reply import TCP, TCP_MAX, UDP, UDP_MAX, error_for

# Bytes read from one datagram: our advertised EDNS payload size (RFC 6891 6.2.3, DNS flag day
# 2020); a longer query arrives cut and gets FORMERR. Not more: MicroPython's recvfrom allocates a
# buffer of this size for every datagram, and an allocation of many blocks scans the heap for a
# free run that long (4096 here cost ~0.6 us a query with a full cache; measured, bench_forward).
UDP_MAX_QUERY = UDP_MAX
UDP_BATCH = 64  # datagrams served per poll wake-up before looking at TCP again (fairness)
# Kernel socket buffers of the UDP socket, asked with SO_RCVBUFFORCE / SO_SNDBUFFORCE (root, as
# the appliance runs: not capped by net.core.rmem_max / wmem_max, which SO_RCVBUF / SO_SNDBUF
# are, 208 KB by default), else with SO_RCVBUF / SO_SNDBUF. The kernel books twice the value
# asked, and a datagram costs its truesize, not its length: 832 bytes for a query of up to
# ~200 bytes (loopback, x86_64; a NIC's receive buffers may cost more). So 4 MiB asked queue
# ~10,000 queries (a burst while we serve TCP or a slow answer), and the board's
# net.ipv4.udp_mem still bounds all UDP memory together (the kernel drops beyond it).
UDP_RCVBUF = 4 << 20
UDP_SNDBUF = 1 << 20  # answers waiting for the interface: ~2,000 (plain-query answers)
SEND_WAIT_MS = 5  # a full send buffer: one wait this long for room, then one more try
UNSENT_LOGGED = 5  # UDP answers the kernel would not take, logged (then only counted)
# TCP connections (RFC 7766 6.2.3, as NSD and Knot do): slots sized from the heap, one client
# address holding at most a share of them; a query must arrive whole within TCP_QUERY_MS of its
# first byte (the first one within TCP_QUERY_MS of the accept: a trickle of bytes extends
# nothing), a connection between queries is closed after TCP_IDLE_MS; when the slots (or the
# address's share) are full, the connection longest without an answered query that owes nothing
# is closed to let the new one in.
TCP_SLOTS_SHARE = const(4)  # % of the heap for open connections, TCP_SLOT_BYTES each
TCP_SLOT_BYTES = const(2048)  # one connection at rest: _Conn, socket objects, poll entry, slack
TCP_MIN_CONNS = const(16)  # slots at the least, however small the heap
TCP_MAX_CONNS = const(256)  # and at the most (descriptors: the process may open 1024)
TCP_ADDRESS_DIV = const(8)  # one client address: at most an eighth of the slots
TCP_MIN_PER_ADDRESS = const(4)
TCP_INPUT_SHARE = const(3)  # % of the heap for the bytes of queries not yet whole (all conns)
TCP_MIN_INPUT = const(69633)  # and at least one largest message (2 + 65535) and a read
TCP_QUERY_MS = const(3000)  # a query's bytes, first to last (Knot: tcp-io-timeout 500 ms)
TCP_IDLE_MS = const(10000)  # idle between queries (NSD, Knot: 10 s; RFC 7766: seconds)
TCP_OWED_MS = const(30000)  # a connection the resolver still owes an answer is kept this long
TCP_ACCEPTS = const(16)  # connections accepted per poll event
TCP_READ = 4096  # bytes read per recv call
TCP_MAX_PENDING = 131072  # unsent response bytes per connection before we stop reading from it
STREAM_AHEAD = 32768  # bytes of a stream (zone transfer) framed ahead of what the socket took
TLS_MAX_CONNS = 16  # TLS connections at once (each ~1.3 KB of heap + ~21 KB mbedTLS C buffers)
HTTP_MAX_CONNS = 8  # plain HTTP connections at once (http-port=: status pages, /metrics)
OBS_HANDLER = const(0)  # observe(): answered (or not) by the handler
OBS_FAST = const(1)  # answered by the fast path
OBS_LATER = const(2)  # answered later through respond()
TLS_READS = 8  # TLS reads (of a whole record each) per poll event; the rest waits in the socket
TCP_BACKLOG = 128  # listen() backlog: connections the kernel holds for us to accept
FAULTS_LOGGED = 20  # handler failures logged on the console; later ones are only counted
POLL_MS = 1000  # longest sleep in poll(); also how often idle connections are swept

_type = type  # builtins as module globals: MicroPython finds a builtin by a linear search
_tuple = tuple
fault = None  # the tests' hook: fault(site) may raise at the allocation sites named

_SOL_SOCKET = 1  # Linux values: MicroPython's socket module does not name SO_RCVBUF
_SO_SNDBUF = 7
_SO_RCVBUF = 8
_SO_SNDBUFFORCE = 32
_SO_RCVBUFFORCE = 33
_ENOBUFS = 105
_IPPROTO_TCP = 6
_TCP_NODELAY = 1  # answers go out at once, not held back by Nagle's algorithm (RFC 7766 10)
_EAGAIN = 11
_IPPROTO_IPV6 = 41
_IPV6_V6ONLY = 26  # an IPv6 listener takes IPv6 only: IPv4 has its own socket


def addr_key(peer):
    """The client address of a peer, as a hashable key (the port left out): MicroPython's raw
    sockaddr_in (16 bytes) or sockaddr_in6 (28), CPython's (ip, port[, flow, scope])."""
    if peer is None:
        return None
    if _type(peer) is _tuple:
        return peer[0]
    return bytes(peer[4:8]) if len(peer) < 24 else bytes(peer[8:24])


def tcp_limits(heap):
    """(slots, slots per client address, input bytes) for a heap of heap bytes."""
    n = heap * TCP_SLOTS_SHARE // 100 // TCP_SLOT_BYTES
    n = TCP_MIN_CONNS if n < TCP_MIN_CONNS else (TCP_MAX_CONNS if n > TCP_MAX_CONNS else n)
    per = n // TCP_ADDRESS_DIV
    held = heap * TCP_INPUT_SHARE // 100
    return n, (per if per > TCP_MIN_PER_ADDRESS else TCP_MIN_PER_ADDRESS), (
        held if held > TCP_MIN_INPUT else TCP_MIN_INPUT)


def _nodelay(s):
    try:
        s.setsockopt(_IPPROTO_TCP, _TCP_NODELAY, 1)
    except OSError:
        pass  # answers still go out, a little later


def _buffer(s, force, plain, size):
    """Ask for a kernel socket buffer of size bytes: force (root) first, else plain (capped by
    the sysctl maximum). A smaller buffer only means drops sooner under a burst."""
    try:
        s.setsockopt(_SOL_SOCKET, force, size)
        return
    except OSError:
        pass
    try:
        s.setsockopt(_SOL_SOCKET, plain, size)
    except OSError:
        pass


def _doh():
    from dnsbox.net import doh  # only when DNS over HTTPS is on

    return doh


def _doh2():
    from dnsbox.net import doh2  # only for HTTP/2 connections

    return doh2


def _tls():
    from dnsbox.net import tls  # only when DNS over TLS is on: the module imports tls/ssl

    return tls


class _Conn:
    """One TCP client: bytes read but not yet framed, bytes answered but not yet sent."""

    def __init__(self, sock, now, peer=None):
        self.sock = sock
        self.fd = sock.fileno()
        self.peer = peer
        self.addr = addr_key(peer)
        self.inbuf = b""
        self.out = b""
        self.stream = None  # an iterator of responses still being sent (a zone transfer)
        self.last = now  # the accept, the last whole query or the last bytes sent
        self.began = now  # the first byte of the query under way (at first: the accept);
        # None between queries (then TCP_IDLE_MS from last applies)
        self.eof = False
        self.tls = None  # a dnsbox.net.tls.Conn for DNS over TLS
        self.pobj = sock  # what poll watches (for TLS: dnsbox.net.tls.Conn.poll_obj)
        self.http = None  # DNS over HTTPS: the endpoint path (bytes)
        self.busy = False  # HTTP: a query's answer is awaited (respond()); no next request yet
        self.owed = 0  # frames the handler returned None for (peer=True): answers respond()
        # may still bring; a client that closed its sending side (eof) waits for them
        self.keep = True  # HTTP: keep the connection after the awaited answer
        self.fmt = 0  # HTTP: the awaited answer's format (dnsbox.net.doh WIRE or JSON)
        self.h2 = None  # HTTP/2: a dnsbox.h2.conn.Conn (dnsbox.net.doh2 serves it)
        self.plain_http = False  # a connection of listen_http (counted in http_count)


def _owes(c):
    """Whether c is still due something: answers unsent, a stream's rest, an answer awaited."""
    return c.out or c.stream is not None or c.busy or c.owed


def _expired(c, now):
    """Whether c is past its deadline: no send progress for TCP_IDLE_MS while answers wait to
    go out; an answer owed for TCP_OWED_MS; a query under way for TCP_QUERY_MS; idle between
    queries for TCP_IDLE_MS."""
    if c.out or c.stream is not None:
        return clock.diff_ms(now, c.last) > TCP_IDLE_MS
    if c.busy or c.owed:
        return clock.diff_ms(now, c.last) > TCP_OWED_MS
    if c.began is not None:
        return clock.diff_ms(now, c.began) > TCP_QUERY_MS
    return clock.diff_ms(now, c.last) > TCP_IDLE_MS


def _bind(kind, ip, port):
    """A socket of ip's family bound to ip:port (IPv6: IPV6_V6ONLY); OSError."""
    v6 = ":" in ip
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, kind)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if v6:
            s.setsockopt(_IPPROTO_IPV6, _IPV6_V6ONLY, 1)
        s.bind(socket.getaddrinfo(ip, port)[0][-1])
    except Exception:
        s.close()
        raise
    return s


def _udp(ip, port):
    s = _bind(socket.SOCK_DGRAM, ip, port)
    _buffer(s, _SO_RCVBUFFORCE, _SO_RCVBUF, UDP_RCVBUF)
    _buffer(s, _SO_SNDBUFFORCE, _SO_SNDBUF, UDP_SNDBUF)
    s.setblocking(False)
    return s


def _tcp(ip, port):
    s = _bind(socket.SOCK_STREAM, ip, port)
    s.listen(TCP_BACKLOG)
    s.setblocking(False)
    return s


class Server:
    """Listens on ip (IPv4) and, when ip6 is given, on ip6 too (its own IPv6-only sockets: an
    IPv6 listener that cannot be had is no failure, see v6_error); port for both."""

    def __init__(self, handler, ip, port, peer=False, heap=None, ip6=None):
        self.handler = handler
        self.with_peer = peer
        self.fast = None  # fast(query_bytes, peer) -> response or None (then the handler)
        self.tcp_handler = None  # tcp_handler(query_bytes, conn) -> response, iterator or None
        self.tls_socks = {}  # fd -> (listener, TLS context, HTTP endpoint or None): listen_tls
        self.tls_count = 0  # open TLS connections
        self.http_count = 0  # open plain HTTP connections (listen_http)
        self.observe = None  # observe(query, response, proto, client, kind): dnsbox.net.watch
        self.events = None  # the same for what is always logged, while observe is None: UDP
        # answers to other opcodes than QUERY (UPDATE, NOTIFY) and every TCP answer
        self.woke = 0  # the clock when poll last returned (kept only while observe is set)
        self.pages = None  # pages(path, keep, conn) -> HTTP response or None: GET of pages
        self.extra = {}  # fd -> (socket, callback(events)): sockets watched for other modules
        self.timer = None  # object with timeout_ms() (-1: none) and tick(), or None
        self.relief = None  # called after a MemoryError (before the heap is collected)
        self.periodic = []  # callables run about every POLL_MS (DHCP lease expiry)
        self.work = []  # callables run once per loop turn (a bounded step), True when done;
        #                 poll does not sleep while there are some (a secondary zone's build)
        self.limit = None  # limit(response, peer, now_ms) -> it, a truncated one or None (drop):
        # response rate limiting of UDP answers (dnsbox.auth.rrl); TCP is never limited
        self.udp = _udp(ip, port)
        self.udp_out = select.poll()  # waits for room in the send buffer (_resend)
        self.udp_out.register(self.udp, select.POLLOUT)
        self.unsent = 0  # UDP answers the kernel did not take (counted, the first few logged)
        self.tcp = _tcp(ip, port)
        self.poll = select.poll()
        self.poll.register(self.udp, select.POLLIN)
        self.poll.register(self.tcp, select.POLLIN)
        self.udp_fd = self.udp.fileno()
        self.tcp_fd = self.tcp.fileno()
        self.udp6 = self.tcp6 = None  # the IPv6 listeners (ip6), or None
        self.udp6_fd = self.tcp6_fd = -1
        self.v6_error = None  # why the IPv6 listeners could not be had (text), or None
        if ip6 is not None:
            self._listen6(ip6, port)
        self.conns = {}  # fd -> _Conn (at most self.max_conns entries)
        self.per_addr = {}  # client address -> its open connections
        if heap is None:
            from dnsbox.resolver.budget import heap_size

            heap = heap_size()
        self.max_conns, self.max_per_addr, self.max_input = tcp_limits(heap)
        # TCP reads land in one buffer made at start, then only the bytes read are copied: a
        # fresh 4 KB buffer per read fails in a fragmented heap (MemoryError, the query lost)
        self.tcp_buf = bytearray(TCP_READ)
        self.tcp_mv = memoryview(self.tcp_buf)
        self.faults = 0  # handler exceptions (each dropped one datagram)
        self.stopped = False  # set by stop(): serve() returns after the current poll round
        # udp queries, tcp queries, tcp connections refused (no slot could be freed), closed
        # to let a newer one in, closed on a deadline (query not whole in time, idle)
        self.stats = [0, 0, 0, 0, 0]

    def _listen6(self, ip6, port):
        try:
            u = _udp(ip6, port)
        except OSError as e:
            self.v6_error = "udp %s: %s" % (ip6, e)
            return
        try:
            t = _tcp(ip6, port)
        except OSError as e:
            u.close()
            self.v6_error = "tcp %s: %s" % (ip6, e)
            return
        self.udp6, self.tcp6 = u, t
        self.udp6_out = select.poll()
        self.udp6_out.register(u, select.POLLOUT)
        self.poll.register(u, select.POLLIN)
        self.poll.register(t, select.POLLIN)
        self.udp6_fd = u.fileno()
        self.tcp6_fd = t.fileno()

    def listeners(self):
        """The listening sockets: UDP and TCP of each family, then TLS/HTTPS ones."""
        out = [self.udp, self.tcp]
        if self.udp6 is not None:
            out += [self.udp6, self.tcp6]
        return out + [t[0] for t in self.tls_socks.values()]

    def limits_text(self):
        return "tcp: %d connections (%d per address), %d KB for queries under way" % (
            self.max_conns, self.max_per_addr, self.max_input // 1024)

    def listen_tls(self, ip, port, ctx, endpoint=None):
        """Accept DNS over TLS on ip:port with the server context ctx (dnsbox.net.tls); with
        an endpoint (bytes, the URL path) DNS over HTTPS there instead."""
        s = _tcp(ip, port)
        self.tls_socks[s.fileno()] = (s, ctx, endpoint)
        self.poll.register(s, select.POLLIN)

    def listen_http(self, ip, port):
        """Plain HTTP on ip:port: GET requests for self.pages (no DNS over it)."""
        s = _bind(socket.SOCK_STREAM, ip, port)
        s.listen(TCP_BACKLOG)
        s.setblocking(False)
        self.tls_socks[s.fileno()] = (s, None, b"")
        self.poll.register(s, select.POLLIN)

    def stop(self):
        self.stopped = True

    def shutdown(self, grace_ms):
        """Stop serving: close the listeners (no new queries, no new connections), give the
        open connections up to grace_ms to take what is already theirs (answers unsent, a
        transfer's rest, an answer the resolver owes), then close them all. Returns how many
        were still open then (cut)."""
        for s in self.listeners():
            try:
                self.poll.unregister(s)
            except (OSError, KeyError, ValueError):
                pass
            s.close()
        self.udp_fd = self.tcp_fd = self.udp6_fd = self.tcp6_fd = -1
        self.tls_socks = {}
        for fd in list(self.conns):
            c = self.conns[fd]
            c.eof = True  # no more queries are read
            c.inbuf = b""
            if _owes(c):
                self._rearm(c)
            else:
                self._drop(fd)
        start = clock.now_ms()
        self.stopped = False
        while self.conns and clock.since_ms(start) < grace_ms:
            self.serve(1)
        self.stopped = True
        cut = len(self.conns)
        for fd in list(self.conns):
            self._drop(fd)
        return cut

    def close(self):
        for fd in list(self.conns):
            self._drop(fd)
        for s in self.listeners():
            s.close()

    def serve(self, max_loops=-1):
        """Serve until max_loops poll rounds have passed (-1: for ever)."""
        last_sweep = clock.now_ms()
        while max_loops != 0 and not self.stopped:
            if max_loops > 0:
                max_loops -= 1
            wait = POLL_MS
            if self.timer is not None:
                t = self.timer.timeout_ms()
                if 0 <= t < wait:
                    wait = t
            if self.work:
                wait = 0
            events = self.poll.poll(wait)
            if self.observe is not None:
                self.woke = clock.now_ms()
            if self.timer is not None:
                self.timer.tick()
            for obj, ev in events:
                # MicroPython's poll returns the registered object, CPython's the descriptor.
                fd = obj if isinstance(obj, int) else obj.fileno()
                try:
                    if fd == self.udp_fd:
                        self._serve_udp(self.udp)
                    elif fd == self.udp6_fd:
                        self._serve_udp(self.udp6)
                    elif fd == self.tcp_fd:
                        self._accept(self.tcp)
                    elif fd == self.tcp6_fd:
                        self._accept(self.tcp6)
                    elif fd in self.tls_socks:
                        self._accept_tls(self.tls_socks[fd])
                    elif fd in self.extra:
                        self.extra[fd][1](ev)
                    else:
                        self._serve_conn(fd, ev)
                except Exception as e:  # this event is lost; the server goes on
                    self._fault(e, "serving loop", "event dropped")
                    if fd in self.conns:
                        self._drop(fd)  # its state may be half updated
            for f in list(self.work):
                try:
                    done = f()
                except Exception as e:
                    self._fault(e, "work step", "work dropped")
                    done = True
                if done:
                    self.work.remove(f)
            if (self.conns or self.periodic) and clock.since_ms(last_sweep) >= POLL_MS:
                last_sweep = clock.now_ms()
                self._sweep(last_sweep)
                for f in list(self.periodic):  # a task may remove itself
                    try:
                        f()
                    except Exception as e:
                        self._fault(e, "periodic task", "round skipped")

    def _serve_udp(self, sock):
        recvfrom = sock.recvfrom
        sendto = sock.sendto
        handler = self.handler
        with_peer = self.with_peer
        fast = self.fast
        limit = self.limit
        obs = self.observe
        now = 0 if limit is None else clock.now_ms()  # one reading for the batch (the limiter's)
        n = 0
        short = 0
        while n < UDP_BATCH:
            try:
                data, peer = recvfrom(UDP_MAX_QUERY)
            except OSError:
                break  # EAGAIN: drained
            except MemoryError as e:  # no room for the read buffer: the datagram stays queued
                self._fault(e, "reading a query", "read again after the relief")
                short += 1
                if short > 1:
                    break  # still no room: the next round tries again
                continue
            n += 1
            try:
                if fault is not None:
                    fault("udp query")
                r = None if fast is None else fast(data, peer)
                if r is None:
                    r = handler(data, UDP, peer) if with_peer else handler(data, UDP)
                    if obs is not None:
                        obs(data, r, UDP, peer, OBS_HANDLER)
                    elif len(data) > 2 and data[2] & 0x78 and self.events is not None:
                        # another opcode than QUERY (UPDATE, NOTIFY...): an event
                        self.events(data, r, UDP, peer, OBS_HANDLER)
                elif obs is not None:
                    obs(data, r, UDP, peer, OBS_FAST)
                if limit is not None and r is not None:
                    r = limit(r, peer, now)
            except Exception as e:  # a bug or MemoryError: SERVFAIL for this one, not the server
                self._fault(e, "query handler", "answered SERVFAIL")
                try:
                    r = error_for(data, SERVFAIL)
                except MemoryError:
                    continue
            if r is not None:
                try:
                    sendto(r, peer)
                except OSError as e:
                    self._resend(r, peer, e)
        self.stats[0] += n

    def _resend(self, r, peer, e):
        """A UDP answer the kernel did not take: with the send buffer full (EAGAIN, ENOBUFS),
        wait for room (at most SEND_WAIT_MS) and try once more; an answer still not sent (or
        refused for another reason: no route, a bad peer) is counted in unsent, never lost
        silently."""
        err = e.args[0] if e.args else 0
        if err == _EAGAIN or err == _ENOBUFS:
            v6 = self.udp6 is not None and peer_v6(peer)
            (self.udp6_out if v6 else self.udp_out).poll(SEND_WAIT_MS)
            try:
                (self.udp6 if v6 else self.udp).sendto(r, peer)
                return
            except OSError as e2:
                e = e2
        self.unsent += 1
        if self.unsent <= UNSENT_LOGGED:
            from dnsbox import log

            log.log("udp answer not sent: %s (%d so far)" % (e, self.unsent))

    def _fault(self, e, where, lost):
        self.faults += 1
        if isinstance(e, MemoryError):
            if self.relief is not None:
                try:
                    self.relief()
                except Exception:  # noqa: BLE001 - relief is best effort; the collect follows
                    pass
            gc.collect()
        if self.faults <= FAULTS_LOGGED:
            from dnsbox import log

            log.log("%s failed: %s %s (%s)" % (where, type(e).__name__, e, lost))

    def _take(self, listener, limit_reached):
        """(socket, peer) of a new connection on listener, non-blocking and without Nagle; None
        when there is none (False), or when no slot can be had (it is closed at once and
        counted): limit_reached, or the slots or its address's share full and no connection
        to close in its favour (see _make_room)."""
        try:
            s, peer = listener.accept()
        except OSError:
            return False
        if limit_reached or not self._make_room(addr_key(peer)):
            self.stats[2] += 1
            s.close()
            return None
        s.setblocking(False)
        _nodelay(s)
        return s, peer

    def _make_room(self, addr):
        """True when a connection from addr may be added: a slot is free, or one was freed by
        closing the connection longest without an answered query among those that owe
        nothing (no unsent answer, no stream, no answer awaited): of addr's own when addr
        holds its share, else of all."""
        mine = self.per_addr.get(addr, 0) >= self.max_per_addr
        if not mine and len(self.conns) < self.max_conns:
            return True
        victim = None
        for c in self.conns.values():
            if (mine and c.addr != addr) or _owes(c):
                continue
            if victim is None or clock.diff_ms(victim.last, c.last) > 0:
                victim = c
        if victim is None:
            return False
        self.stats[3] += 1
        self._drop(victim.fd)
        return True

    def _accept(self, listener):
        for _ in range(TCP_ACCEPTS):
            got = self._take(listener, False)
            if got is False:
                return
            if got is not None:
                s, peer = got
                self._add(_Conn(s, clock.now_ms(), peer))

    def _add(self, c):
        """Table and poll get the connection together; a failure (MemoryError) closes it."""
        fd = c.fd
        try:
            if fault is not None:
                fault("tcp accept")
            self.conns[fd] = c
            self.poll.register(c.pobj, select.POLLIN)
            self.per_addr[c.addr] = self.per_addr.get(c.addr, 0) + 1
        except Exception:
            self.conns.pop(fd, None)
            if c.tls is not None:
                self.tls_count -= 1
                c.tls.close()
            c.sock.close()
            raise

    def _accept_tls(self, listener):
        if listener[1] is None:
            return self._accept_http(listener)
        got = self._take(listener[0], self.tls_count >= TLS_MAX_CONNS)
        if not got:
            return
        s, peer = got
        fd = s.fileno()
        try:
            t = _tls().Conn(listener[1], s)
        except Exception as e:
            s.close()
            self._fault(e, "TLS accept", "connection closed")
            return
        c = _Conn(s, clock.now_ms(), peer)
        c.fd = fd  # CPython's TLS socket took the descriptor over: the raw one now says -1
        c.tls = t
        c.pobj = t.poll_obj
        c.http = listener[2]
        self.tls_count += 1
        self._add(c)

    def _accept_http(self, listener):
        got = self._take(listener[0], self.http_count >= HTTP_MAX_CONNS)
        if not got:
            return
        c = _Conn(got[0], clock.now_ms(), got[1])
        c.http = listener[2]  # b"": no DoH endpoint, only pages
        c.plain_http = True
        self.http_count += 1
        try:
            self._add(c)
        except Exception:
            self.http_count -= 1
            raise

    def _drop(self, fd):
        c = self.conns.pop(fd, None)
        if c is None:
            return
        n = self.per_addr.pop(c.addr, 1) - 1
        if n > 0:
            self.per_addr[c.addr] = n
        try:
            self.poll.unregister(c.pobj)
        except (OSError, KeyError, ValueError):
            pass
        if c.tls is not None:
            self.tls_count -= 1
            c.tls.close()
        if c.plain_http:
            self.http_count -= 1
        c.sock.close()

    def _sweep(self, now):
        for fd in list(self.conns):
            if _expired(self.conns[fd], now):
                self.stats[4] += 1
                self._drop(fd)

    def _serve_conn(self, fd, ev):
        c = self.conns.get(fd)
        if c is None:
            return
        if ev & (select.POLLERR | select.POLLHUP) and not ev & select.POLLIN:
            self._drop(fd)
            return
        if c.tls is not None:
            if not self._read_tls(c):
                self._drop(fd)
                return
        elif ev & select.POLLIN and not c.eof:
            if fault is not None:
                fault("tcp read")
            try:
                n = recv_into(c.sock, self.tcp_buf)
                data = None if n is None else bytes(self.tcp_mv[:n])
            except OSError as e:
                if e.args and e.args[0] == _EAGAIN:
                    data = None
                else:
                    self._drop(fd)
                    return
            if data is not None:
                if not data:
                    c.eof = True
                elif not self._received(c, data):
                    self._drop(fd)
                    return
                else:
                    self._answer_frames(c)
        if not self._flush(c):
            self._drop(fd)
            return
        if self._finished(c):
            self._drop(fd)
            return
        self._rearm(c)

    def _finished(self, c):
        """The client closed its sending side and nothing is left to send or owed: close it. A
        half-closed client still gets every answer (as from NSD, Knot and Unbound); a frame the
        handler dropped for good stays owed, so such a connection ends after TCP_OWED_MS."""
        return c.eof and not _owes(c)

    def _rearm(self, c):
        # Back-pressure: while a lot is unsent or a stream runs, stop reading; wait for the
        # socket to drain.
        want = 0
        if len(c.out) < TCP_MAX_PENDING and not c.eof and c.stream is None and not c.busy:
            want = select.POLLIN
        if c.out or (c.tls is not None and c.tls.want_write):
            want |= select.POLLOUT
        self.poll.modify(c.pobj, want)

    def _read_tls(self, c):
        """Read what the TLS layer has (this also drives its handshake); False: drop c."""
        if c.eof or c.stream is not None or len(c.out) >= TCP_MAX_PENDING:
            return True
        n = 0
        while n < TLS_READS:
            n += 1
            try:
                data = c.tls.read(c.tls.READ_SIZE)
            except OSError:
                return False  # a failed handshake or an alert: nothing more to say to it
            if data is None:
                break
            if not data:
                c.eof = True
                break
            if not self._received(c, data):
                return False
        if c.inbuf:
            self._answer_frames(c)
        return True

    def _received(self, c, data):
        """Add data to c's input; False (drop c) when the bytes of queries under way would pass
        max_input in all. The first byte of a query starts its TCP_QUERY_MS."""
        if c.began is None:
            c.began = clock.now_ms()
        if len(c.inbuf) + len(data) > TCP_READ:  # a long query: count what all conns hold
            held = len(data)
            for o in self.conns.values():
                held += len(o.inbuf)
            if held > self.max_input:
                self.stats[4] += 1
                return False
        c.inbuf += data
        return True

    def _consumed(self, c, rest):
        """c's input after whole queries were taken: the idle clock restarts, and what is left
        (part of the next query) keeps its TCP_QUERY_MS from now."""
        c.inbuf = rest
        c.last = clock.now_ms()
        c.began = c.last if rest else None

    def _answer_frames(self, c):
        """Answer every complete 2-byte-length frame in c.inbuf (pipelining, RFC 7766 6.2.1.1)."""
        if c.http is not None:
            return self._answer_http(c)
        buf = c.inbuf
        pos = 0
        out = []
        while len(buf) - pos >= 2 and len(c.out) < TCP_MAX_PENDING and c.stream is None:
            n = (buf[pos] << 8) | buf[pos + 1]
            if len(buf) - pos - 2 < n:
                break
            if self.tcp_handler is not None:
                r = self.tcp_handler(buf[pos + 2 : pos + 2 + n], c)
            elif self.with_peer:
                r = self.handler(buf[pos + 2 : pos + 2 + n], TCP, c)
            else:
                r = self.handler(buf[pos + 2 : pos + 2 + n], TCP)
            ob = self.observe or self.events
            if ob is not None:
                ob(buf[pos + 2 : pos + 2 + n], r, TCP, c, OBS_HANDLER)
            pos += 2 + n
            self.stats[1] += 1
            if r is None:
                if self.with_peer:
                    c.owed += 1  # respond() may bring it (or nothing: TCP_OWED_MS bounds it)
                continue
            if not isinstance(r, (bytes, bytearray)):
                c.stream = r  # sent by _pull after what is already framed
            elif len(r) <= TCP_MAX:
                out.append(bytes((len(r) >> 8, len(r) & 255)))
                out.append(r)
        if pos:
            self._consumed(c, buf[pos:])
        if out:
            c.out += b"".join(out)
        if c.stream is not None:
            self._pull(c)

    def _answer_http(self, c):
        """Answer the HTTP requests in c.inbuf in order, one at a time (dnsbox.net.doh); an
        HTTP/2 connection (ALPN h2, or the client preface) goes to dnsbox.net.doh2."""
        if c.h2 is not None or _doh2().wanted(c):
            return _doh2().serve(self, c)
        doh = _doh()
        out = []
        while not c.busy and not c.eof and c.inbuf and len(c.out) < TCP_MAX_PENDING:
            n, q, keep, err, fmt = doh.request(c.inbuf, c.http, self.pages, c)
            if not n:
                break
            self._consumed(c, c.inbuf[n:])
            if err is None:
                self.stats[1] += 1
                r = self.handler(q, TCP, c) if self.with_peer else self.handler(q, TCP)
                ob = self.observe or self.events
                if ob is not None:
                    ob(q, r, TCP, c, OBS_HANDLER)
                if r is None and self.with_peer:
                    c.busy = True  # the answer comes through respond()
                    c.keep = keep
                    c.fmt = fmt
                    break
                if isinstance(r, (bytes, bytearray)):
                    err = doh.answer(r, keep, fmt)
                else:  # dropped, or a stream (a transfer is not offered over HTTP)
                    err = doh.error(400, keep)
            out.append(err)
            if not keep:
                c.eof = True  # closed once this response is out
        if out:
            c.out += b"".join(out)

    def _pull(self, c):
        """Frame responses of c's stream until STREAM_AHEAD bytes wait or it ends (a small
        window: the kernel's socket buffer holds the rest, and no big buffer is made here)."""
        s = c.stream
        out = []
        pending = len(c.out)
        while pending < STREAM_AHEAD:
            try:
                r = next(s)
                if len(r) > TCP_MAX:
                    raise ValueError("stream response of %d bytes" % len(r))
            except StopIteration:
                c.stream = None
                break
            except Exception as e:  # what was framed goes out, then the connection closes:
                c.stream = None  # the client sees the stream cut short, never a gap in it
                c.inbuf = b""
                c.eof = True
                self._fault(e, "response stream", "connection closed")
                if isinstance(e, MemoryError):
                    gc.collect()
                break
            out.append(bytes((len(r) >> 8, len(r) & 255)))
            out.append(r)
            pending += 2 + len(r)
        if out:
            c.out += b"".join(out)

    def respond(self, proto, client, data):
        """Send a response that the handler returned None for earlier (the client may be gone:
        then nothing happens)."""
        if fault is not None:
            fault("respond")
        if self.observe is not None:
            self.observe(None, data, proto, client, OBS_LATER)
        if proto == UDP:
            if self.limit is not None:
                data = self.limit(data, client, clock.now_ms())
                if data is None:
                    return
            sock = self.udp6 if self.udp6 is not None and peer_v6(client) else self.udp
            try:
                sock.sendto(data, client)
            except OSError as e:
                self._resend(data, client, e)
            return
        c = client
        ref = None
        if _type(c) is not _Conn:  # a stream of an HTTP/2 connection (dnsbox.net.doh2.Ref)
            ref, c = c, c.conn
        if self.conns.get(c.fd) is not c or len(data) > TCP_MAX:
            return
        if ref is not None:
            _doh2().answer_late(c, ref, data)
        elif c.http is not None:
            c.out += _doh().answer(data, c.keep, c.fmt)
            c.busy = False
            if not c.keep:
                c.eof = True
            self._answer_http(c)  # requests that waited for this answer
        else:
            c.out += bytes((len(data) >> 8, len(data) & 255)) + data
            if c.owed:
                c.owed -= 1
        c.last = clock.now_ms()
        if not self._flush(c) or self._finished(c):
            self._drop(c.fd)
            return
        self._rearm(c)

    def watch(self, sock, callback, events=select.POLLIN):
        """Add another socket to the poll: callback(events) runs when it is ready. Both or
        neither: a failure (MemoryError) leaves the socket unregistered and raises."""
        fd = sock.fileno()
        try:
            if fault is not None:
                fault("watch")
            self.extra[fd] = (sock, callback)
            self.poll.register(sock, events)
        except Exception:
            self.extra.pop(fd, None)
            raise

    def rewatch(self, sock, events):
        self.poll.modify(sock, events)

    def unwatch(self, sock):
        if self.extra.pop(sock.fileno(), None) is not None:
            try:
                self.poll.unregister(sock)
            except (OSError, KeyError, ValueError):
                pass

    def _flush(self, c):
        """Send what is pending, then answer frames held back by back-pressure; False if broken."""
        while True:
            while c.out:
                try:
                    n = c.sock.send(c.out) if c.tls is None else c.tls.write(c.out)
                except OSError as e:
                    return bool(e.args and e.args[0] == _EAGAIN)
                if not n:
                    return True
                c.out = c.out[n:]
                c.last = clock.now_ms()
            if c.stream is not None:
                self._pull(c)
                if c.out:
                    continue
            before = len(c.inbuf)
            if before < 2:
                return True
            self._answer_frames(c)
            if len(c.inbuf) == before:
                return True
