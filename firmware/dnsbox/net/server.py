"""The serving loop: UDP and TCP (RFC 7766) on one poll(), calling a pure handler.

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
connection (HTTP/1.1 answers in order), each query handed to the handler as a TCP one.
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

`fault` is a test hook: when set, fault(site) is called at the places where the loop and the
resolver glue allocate (site names the place), so a test can raise MemoryError at each.
"""
import gc
import select
import socket

from dnsbox import clock
from dnsbox.compat import const
from dnsbox.wire.rcode import SERVFAIL
from dnsbox.wire.reply import TCP, TCP_MAX, UDP, UDP_MAX, error_for

# Bytes read from one datagram: our advertised EDNS payload size (RFC 6891 6.2.3, DNS flag day
# 2020); a longer query arrives cut and gets FORMERR. Not more: MicroPython's recvfrom allocates a
# buffer of this size for every datagram, and an allocation of many blocks scans the heap for a
# free run that long (4096 here cost ~0.6 us a query with a full cache; measured, bench_forward).
UDP_MAX_QUERY = UDP_MAX
UDP_BATCH = 64  # datagrams served per poll wake-up before looking at TCP again (fairness)
UDP_RCVBUF = 1 << 20  # kernel receive buffer asked for: absorbs bursts while we serve TCP
TCP_MAX_CONNS = 64  # open client connections; more are accepted and closed at once
TCP_IDLE_MS = 10000  # RFC 7766 6.2.3: close idle connections (seconds, not minutes)
TCP_READ = 4096  # bytes read per recv call
TCP_MAX_PENDING = 131072  # unsent response bytes per connection before we stop reading from it
STREAM_AHEAD = 32768  # bytes of a stream (zone transfer) framed ahead of what the socket took
TLS_MAX_CONNS = 16  # TLS connections at once (each ~1.3 KB of heap + ~21 KB mbedTLS C buffers)
TLS_READS = 8  # TLS reads (of a whole record each) per poll event; the rest waits in the socket
TCP_BACKLOG = 16  # listen() backlog
FAULTS_LOGGED = 20  # handler failures logged on the console; later ones are only counted
POLL_MS = 1000  # longest sleep in poll(); also how often idle connections are swept

_type = type  # builtins as module globals: MicroPython finds a builtin by a linear search
_tuple = tuple
fault = None  # the tests' hook: fault(site) may raise at the allocation sites named

_SOL_SOCKET = 1  # Linux values: MicroPython's socket module does not name SO_RCVBUF
_SO_RCVBUF = 8
_IPPROTO_TCP = 6
_TCP_NODELAY = 1  # answers go out at once, not held back by Nagle's algorithm (RFC 7766 10)
_EAGAIN = 11


def peer_ip(peer):
    """IPv4 address of a peer as an int: MicroPython gives a raw sockaddr_in (bytes),
    CPython an (ip, port) tuple. On the fast path: builtins as module globals."""
    if _type(peer) is _tuple:
        p = peer[0].split(".")
        return (int(p[0]) << 24) | (int(p[1]) << 16) | (int(p[2]) << 8) | int(p[3])
    return (peer[4] << 24) | (peer[5] << 16) | (peer[6] << 8) | peer[7]


def _nodelay(s):
    try:
        s.setsockopt(_IPPROTO_TCP, _TCP_NODELAY, 1)
    except OSError:
        pass  # answers still go out, a little later


def _doh():
    from dnsbox.net import doh  # only when DNS over HTTPS is on

    return doh


def _tls():
    from dnsbox.net import tls  # only when DNS over TLS is on: the module imports tls/ssl

    return tls


class _Conn:
    """One TCP client: bytes read but not yet framed, bytes answered but not yet sent."""

    def __init__(self, sock, now, peer=None):
        self.sock = sock
        self.fd = sock.fileno()
        self.peer = peer
        self.inbuf = b""
        self.out = b""
        self.stream = None  # an iterator of responses still being sent (a zone transfer)
        self.last = now
        self.eof = False
        self.tls = None  # a dnsbox.net.tls.Conn for DNS over TLS
        self.pobj = sock  # what poll watches (for TLS: dnsbox.net.tls.Conn.poll_obj)
        self.http = None  # DNS over HTTPS: the endpoint path (bytes)
        self.busy = False  # HTTP: a query's answer is awaited (respond()); no next request yet
        self.owed = 0  # frames the handler returned None for (peer=True): answers respond()
        # may still bring; a client that closed its sending side (eof) waits for them
        self.keep = True  # HTTP: keep the connection after the awaited answer


def _bind(kind, ip, port):
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(socket.getaddrinfo(ip, port)[0][-1])
    return s


class Server:
    def __init__(self, handler, ip, port, peer=False):
        self.handler = handler
        self.with_peer = peer
        self.fast = None  # fast(query_bytes, peer) -> response or None (then the handler)
        self.tcp_handler = None  # tcp_handler(query_bytes, conn) -> response, iterator or None
        self.tls_socks = {}  # fd -> (listener, TLS context, HTTP endpoint or None): listen_tls
        self.tls_count = 0  # open TLS connections
        self.extra = {}  # fd -> (socket, callback(events)): sockets watched for other modules
        self.timer = None  # object with timeout_ms() (-1: none) and tick(), or None
        self.relief = None  # called after a MemoryError (before the heap is collected)
        self.periodic = []  # callables run about every POLL_MS (DHCP lease expiry)
        self.udp = _bind(socket.SOCK_DGRAM, ip, port)
        try:
            self.udp.setsockopt(_SOL_SOCKET, _SO_RCVBUF, UDP_RCVBUF)
        except OSError:
            pass  # a smaller buffer only means more drops under bursts
        self.udp.setblocking(False)
        self.tcp = _bind(socket.SOCK_STREAM, ip, port)
        self.tcp.listen(TCP_BACKLOG)
        self.tcp.setblocking(False)
        self.poll = select.poll()
        self.poll.register(self.udp, select.POLLIN)
        self.poll.register(self.tcp, select.POLLIN)
        self.conns = {}  # fd -> _Conn (at most TCP_MAX_CONNS entries)
        self.faults = 0  # handler exceptions (each dropped one datagram)
        self.stopped = False  # set by stop(): serve() returns after the current poll round
        self.stats = [0, 0, 0]  # udp queries, tcp queries, tcp connections refused (limit)

    def listen_tls(self, ip, port, ctx, endpoint=None):
        """Accept DNS over TLS on ip:port with the server context ctx (dnsbox.net.tls); with
        an endpoint (bytes, the URL path) DNS over HTTPS there instead."""
        s = _bind(socket.SOCK_STREAM, ip, port)
        s.listen(TCP_BACKLOG)
        s.setblocking(False)
        self.tls_socks[s.fileno()] = (s, ctx, endpoint)
        self.poll.register(s, select.POLLIN)

    def stop(self):
        self.stopped = True

    def close(self):
        for fd in list(self.conns):
            self._drop(fd)
        self.udp.close()
        self.tcp.close()
        for t in self.tls_socks.values():
            t[0].close()

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
            events = self.poll.poll(wait)
            if self.timer is not None:
                self.timer.tick()
            for obj, ev in events:
                # MicroPython's poll returns the registered object, CPython's the descriptor.
                fd = obj if isinstance(obj, int) else obj.fileno()
                try:
                    if fd == self.udp.fileno():
                        self._serve_udp()
                    elif fd == self.tcp.fileno():
                        self._accept()
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
            if (self.conns or self.periodic) and clock.since_ms(last_sweep) >= POLL_MS:
                last_sweep = clock.now_ms()
                self._sweep(last_sweep)
                for f in list(self.periodic):  # a task may remove itself
                    try:
                        f()
                    except Exception as e:
                        self._fault(e, "periodic task", "round skipped")

    def _serve_udp(self):
        recvfrom = self.udp.recvfrom
        sendto = self.udp.sendto
        handler = self.handler
        with_peer = self.with_peer
        fast = self.fast
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
            except Exception as e:  # a bug or MemoryError: SERVFAIL for this one, not the server
                self._fault(e, "query handler", "answered SERVFAIL")
                try:
                    r = error_for(data, SERVFAIL)
                except MemoryError:
                    continue
            if r is not None:
                try:
                    sendto(r, peer)
                except OSError:
                    pass  # send buffer full or peer unreachable: UDP may drop
        self.stats[0] += n

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
        when there is none, or when limit_reached (it is closed at once and counted)."""
        try:
            s, peer = listener.accept()
        except OSError:
            return None
        if limit_reached or len(self.conns) >= TCP_MAX_CONNS:
            self.stats[2] += 1
            s.close()
            return None
        s.setblocking(False)
        _nodelay(s)
        return s, peer

    def _accept(self):
        got = self._take(self.tcp, False)
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
        except Exception:
            self.conns.pop(fd, None)
            if c.tls is not None:
                self.tls_count -= 1
                c.tls.close()
            c.sock.close()
            raise

    def _accept_tls(self, listener):
        got = self._take(listener[0], self.tls_count >= TLS_MAX_CONNS)
        if got is None:
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

    def _drop(self, fd):
        c = self.conns.pop(fd, None)
        if c is None:
            return
        try:
            self.poll.unregister(c.pobj)
        except (OSError, KeyError, ValueError):
            pass
        if c.tls is not None:
            self.tls_count -= 1
            c.tls.close()
        c.sock.close()

    def _sweep(self, now):
        for fd in list(self.conns):
            c = self.conns[fd]
            if clock.diff_ms(now, c.last) > TCP_IDLE_MS:
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
                data = c.sock.recv(TCP_READ)
            except OSError as e:
                if e.args and e.args[0] == _EAGAIN:
                    data = None
                else:
                    self._drop(fd)
                    return
            if data is not None:
                if not data:
                    c.eof = True
                else:
                    c.last = clock.now_ms()
                    c.inbuf += data
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
        handler dropped for good stays owed, so such a connection ends at the idle timeout."""
        return c.eof and not c.out and c.stream is None and not c.busy and not c.owed

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
            c.last = clock.now_ms()
            c.inbuf += data
        if c.inbuf:
            self._answer_frames(c)
        return True

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
            pos += 2 + n
            self.stats[1] += 1
            if r is None:
                if self.with_peer:
                    c.owed += 1  # respond() may bring it
                continue
            if not isinstance(r, (bytes, bytearray)):
                c.stream = r  # sent by _pull after what is already framed
            elif len(r) <= TCP_MAX:
                out.append(bytes((len(r) >> 8, len(r) & 255)))
                out.append(r)
        if pos:
            c.inbuf = buf[pos:]
        if out:
            c.out += b"".join(out)
        if c.stream is not None:
            self._pull(c)

    def _answer_http(self, c):
        """Answer the HTTP requests in c.inbuf in order, one at a time (dnsbox.net.doh)."""
        doh = _doh()
        out = []
        while not c.busy and not c.eof and c.inbuf and len(c.out) < TCP_MAX_PENDING:
            n, q, keep, err = doh.request(c.inbuf, c.http)
            if not n:
                break
            c.inbuf = c.inbuf[n:]
            if err is None:
                self.stats[1] += 1
                r = self.handler(q, TCP, c) if self.with_peer else self.handler(q, TCP)
                if r is None and self.with_peer:
                    c.busy = True  # the answer comes through respond()
                    c.keep = keep
                    break
                if isinstance(r, (bytes, bytearray)):
                    err = doh.answer(r, keep)
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
        if proto == UDP:
            try:
                self.udp.sendto(data, client)
            except OSError:
                pass
            return
        c = client
        if self.conns.get(c.fd) is not c or len(data) > TCP_MAX:
            return
        if c.http is not None:
            c.out += _doh().answer(data, c.keep)
            c.busy = False
            if not c.keep:
                c.eof = True
            self._answer_http(c)  # requests that waited for this answer
        else:
            c.out += bytes((len(data) >> 8, len(data) & 255)) + data
            if c.owed:
                c.owed -= 1
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
