"""The socket side of the resolver, in both modes: client queries in, the driver's asks out.

serve(driver, bind_ip, port, mcast_if) makes the serving loop (dnsbox.net.server, peer=True)
with a Resolver plugged in; Resolver(driver, loop) is the loop's handler and timer for the
pure dnsbox.resolver.driver.Driver: it reads the clock, turns peer addresses into what the core
wants, and performs the core's actions:
- every UDP ask gets its own socket bound to a fresh random source port (os.urandom; a taken
  port is skipped) and connected to the server asked, so the kernel drops datagrams from any
  other address (a refused port comes back as an error: the next server is tried at once);
  its answer is read into one preallocated buffer (no read buffer made per answer); an answer
  longer than READ_BUF (a server that ignores our EDNS size and sets no TC) arrives cut and is
  handed on as truncated, so the job asks that server again over TCP;
- a multicast ask (the .local bridge) is sent unconnected with TTL 255 out of the appliance's
  interface, and its answers read with their source (any host of the link may answer);
- a TCP ask (after a truncated answer) connects without blocking, sends the framed query and
  collects one framed answer (at most 65535 bytes);
- a socket is closed when the core says the ask is done; every POLL_MS the sockets the core no
  longer knows are closed too (a MemoryError may have cost the "done" action).
The loop's fast path (hit), on both interpreters: a plain UDP query from an allowed client whose
exact question is cached is answered from the cache's reply buffer in two calls, without the
core's layers. After a MemoryError anywhere, relieve() gives back part of the cache and collects
the heap, so that the next allocations find room.
"""
import gc
import os
import select
import socket

from dnsbox import clock
from dnsbox.compat import const, recv_into
from dnsbox.config.nets import V4_MAX, allowed, parse_ipv4, peer_ip, peer_text
from dnsbox.net import server as net
from dnsbox.resolver.ask import TLS
from dnsbox.wire.reply import TCP, UDP, UDP_PLAIN, plain, udp_payload
from dnsbox.wire.edns import bare_opt_payload

PORT_TRIES = const(16)  # random source ports tried per ask before giving up
PORT_LOW = const(1024)  # source ports are drawn from PORT_LOW..65535
READ_BUF = const(4096)  # the longest upstream UDP answer read (we advertise 1232). The read
# buffer is one byte longer: an answer that fills it was longer and arrived cut (the kernel drops
# what does not fit), so it is handed on as truncated (TC set): the jobs ask over TCP (cut())
MDNS_READ = const(1500)  # bytes read from one multicast DNS answer (one Ethernet frame)
FAULTS_LOGGED = const(20)  # internal errors logged on the console (then only counted)
READS_PER_WAKE = const(8)  # datagrams read from one ask's socket per poll wake-up
TCP_MAX_ANSWER = const(65537)  # 2-byte length + the largest DNS message
TCP_READ = const(4096)  # bytes asked of one TCP read
RELIEF_SHARE = const(4)  # after a MemoryError: a quarter of the cache's bytes given back
_len = len  # a module global: found faster than the builtin (see dnsbox.resolver.cache)
_plain = plain
_EINPROGRESS = const(115)
_IPPROTO_IP = const(0)  # Linux values (MicroPython's socket module does not name them)
_IP_MULTICAST_IF = const(32)
_IP_MULTICAST_TTL = const(33)
_EAGAIN = const(11)
_V4_MAX = V4_MAX
_allowed = allowed


def random_port(rng):
    b = rng(2)
    return PORT_LOW + ((b[0] << 8) | b[1]) % (65536 - PORT_LOW)


def opt_limit(q):
    """For a query whose ARCOUNT is not 0: the UDP reply size its OPT record allows (its payload
    size within 512..1232, RFC 6891 6.2.5) if the record is a bare OPT ending the message (see
    dnsbox.wire.edns.bare_opt_payload; DO is allowed: cached answers carry no DNSSEC records
    either way); else -1 (the handler's)."""
    p = bare_opt_payload(q)
    return -1 if p < 0 else udp_payload(p)


class _Ask:
    def __init__(self, tok, sock, proto, ip, port, wire):
        self.tok = tok
        self.sock = sock
        self.proto = proto
        self.src = (ip, port)
        self.wire = wire
        self.connected = False
        self.inbuf = b""
        self.multicast = False


def serve(driver, bind_ip, port, mcast_if=None, bind_ip6=None):
    """A serving loop on bind_ip:port (and bind_ip6:port when given) with the driver plugged
    in: (loop, glue). OSError when the IPv4 port cannot be had."""
    loop = net.Server(None, bind_ip, port, peer=True, ip6=bind_ip6)
    return loop, Resolver(driver, loop, mcast_if=mcast_if)


class Resolver:
    def __init__(self, fw, server, rng=os.urandom, bind_ip="0.0.0.0", mcast_if=None,
                 bind_ip6="::"):
        self.fw = fw
        # the interface address multicast questions leave from (4 bytes), or None
        self.mcast_if = None if mcast_if is None else parse_ipv4(mcast_if)
        self.server = server
        self.rng = rng
        self.bind_ip = bind_ip
        self.bind_ip6 = bind_ip6  # the source address of asks to IPv6 servers
        self.asks = {}  # token -> _Ask
        self.dot = None  # the DNS-over-TLS connections (dnsbox.net.dotup.Pool), when used
        self.addrs = {}  # (ip, port) -> sockaddr
        self.buf = bytearray(READ_BUF + 1)
        self.view = memoryview(self.buf)
        self._raw = clock.now_ms()
        self._now = 0
        self.reply = fw.cache.reply  # bound once: see dnsbox.resolver.cache on method lookups
        self.signed = fw.trust is not None  # validating: DO clients get signatures
        # allowed client networks for hit(): IPv4 ones as two tuples of small ints, IPv6 ones
        # as config.nets has them
        self.net_addrs = tuple([n[0] for n in fw.nets if n[1] <= V4_MAX])
        self.net_masks = tuple([n[1] for n in fw.nets if n[1] <= V4_MAX])
        self.nets6 = tuple([n for n in fw.nets if n[1] > V4_MAX])
        server.handler = self.handle
        server.with_peer = True
        server.timer = self
        server.fast = self.hit
        server.relief = self.relieve
        server.periodic.append(self.reap)
        self.stats = {"port_retries": 0, "send_errors": 0, "faults": 0, "relieved": 0,
                      "cut": 0}

    def now(self):
        """Milliseconds since start, never wrapping (the tick counter may)."""
        raw = clock.now_ms()
        self._now += clock.diff_ms(raw, self._raw)
        self._raw = raw
        return self._now

    # --- the serving loop's handler and timer -----------------------------------------------
    def hit(self, q, peer):
        """The loop's fast path: the cache's reply buffer for a plain query (QR=0, opcode 0,
        RD=1, CD=0, Z=0, one question, nothing else but an optional bare OPT record: see
        opt_limit) from an allowed client whose exact question bytes are a cache key; else None
        and the handler takes it. The time is the one read when poll returned (tick): a batch
        of datagrams shares one clock reading. A small frame (at most 11 slots, no try: see
        dnsbox.resolver.cache); a fault reaches the serving loop, which answers SERVFAIL."""
        if not _plain(q) or not q[2] & 1 or q[3] & 0x10:  # RD and CD as the cache holds them
            return None
        lim = opt_limit(q) if q[11] else UDP_PLAIN
        if lim < 0 or (q[11] and q[-4] & 0x80 and self.signed):
            return None  # DO while validating: the signed form, from the handler
        ip = peer_ip(peer)
        if ip > _V4_MAX:  # an IPv6 client
            return self.reply(q, self._now, lim) if _allowed(self.nets6, ip) else None
        k = _len(self.net_addrs)
        while k > 0:
            k -= 1
            if ip & self.net_masks[k] == self.net_addrs[k]:
                return self.reply(q, self._now, lim)
        return None

    def handle(self, q, proto, client):
        """The loop's handler (the time is the one read when poll returned, as for hit()). A
        failure reaches the serving loop, which answers SERVFAIL (UDP) or drops the
        connection."""
        fw = self.fw
        if net.fault is not None:
            net.fault("resolver query")
        r = fw.query(q, proto, client, peer_ip(client if proto == UDP else client.peer),
                     self._now)
        if fw.actions:
            self.run()
        return r

    def _fault(self, where, e):
        self.stats["faults"] += 1
        if isinstance(e, MemoryError):
            self.relieve()
        if self.stats["faults"] <= FAULTS_LOGGED:
            from dnsbox import log

            log.log("resolver: %s failed: %s %s" % (where, type(e).__name__, e))

    def relieve(self):
        """Memory is short: give back part of the cache and collect the heap."""
        self.stats["relieved"] += 1
        self.fw.cache.relieve(RELIEF_SHARE)
        gc.collect()

    def timeout_ms(self):
        d = self.fw.next_deadline()
        if d < 0:
            return -1
        d -= self.now()
        return d if d > 0 else 0

    def tick(self):
        """Called by the loop each time poll returns: reads the clock for the batch."""
        now = self.now()
        try:
            self.fw.tick(now)  # returns at once when nothing is due
            if self.fw.actions:
                self.run()
        except Exception as e:
            self._fault("timer", e)

    def reap(self):
        """Close the sockets of asks the core no longer knows (periodic)."""
        known = self.fw.tokens
        for tok in [t for t in self.asks if t not in known]:
            self._close(tok)
        if self.dot is not None:
            for tok in [t for t in self.dot.toks if t not in known]:
                self.dot.forget(tok)

    # --- actions ----------------------------------------------------------------------------
    def run(self):
        fw = self.fw
        while fw.actions:
            acts = fw.actions
            fw.actions = []
            for a in acts:
                k = a[0]
                if k == "answer":
                    self.server.respond(a[2], a[1], a[3])
                elif k == "send":
                    err = self._open(a[1], a[2], a[3], a[4], a[5])
                    if err:
                        self.stats["send_errors"] += 1
                        fw.upstream_failed(a[1], err, self.now())
                elif k == "done":
                    self._close(a[1])

    def _sockaddr(self, ip, port):
        key = (ip, port)
        a = self.addrs.get(key)
        if a is None:
            a = socket.getaddrinfo(ip, port)[0][-1]
            self.addrs[key] = a
        return a

    def _dot(self):
        """The DNS-over-TLS connections (dnsbox.net.dotup), made at the first TLS ask."""
        if self.dot is None:
            from dnsbox.net.dotup import Pool

            ups = self.fw.ups
            self.dot = Pool(self.server, dict(zip(ups.ups, ups.tls)), self._dot_reply,
                            self._dot_fail, self.now, ups.ca_certs)
            self.server.periodic.append(self.dot.reap)
        return self.dot

    def _dot_reply(self, tok, data, src):
        self.fw.upstream_reply(tok, data, src, self.now())
        if self.fw.actions:
            self.run()

    def _dot_fail(self, tok, reason):
        self.fw.upstream_failed(tok, reason, self.now())
        if self.fw.actions:
            self.run()

    def _open(self, tok, ip, port, wire, proto):
        """Open, send and register the socket of one ask; returns an error text or None. A
        failure part way (a MemoryError included) closes the socket: nothing is left open
        unwatched. A TLS ask goes on its upstream's kept connection (dnsbox.net.dotup)."""
        if proto == TLS:
            return self._dot().send(tok, ip, port, wire)
        try:
            dest = self._sockaddr(ip, port)
        except OSError as e:
            return "bad address (%s)" % e
        try:  # a box without IPv6 fails here (EAFNOSUPPORT): a failed ask, the core goes on
            s = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET,
                              socket.SOCK_DGRAM if proto == UDP else socket.SOCK_STREAM)
        except OSError as e:
            return "no socket (%s)" % e
        try:
            err = self._start(s, tok, ip, port, dest, wire, proto)
        except Exception:
            self.asks.pop(tok, None)
            self.server.unwatch(s)
            s.close()
            raise
        if err:
            s.close()
        return err

    def _start(self, s, tok, ip, port, dest, wire, proto):
        if net.fault is not None:
            net.fault("ask open")
        s.setblocking(False)
        if proto == TCP:
            try:
                s.connect(dest)
            except OSError as e:
                if not e.args or e.args[0] != _EINPROGRESS:
                    return "connect failed (%s)" % e
            at = _Ask(tok, s, TCP, ip, port, bytes((_len(wire) >> 8, _len(wire) & 255)) + wire)
            self.asks[tok] = at
            self.server.watch(s, lambda ev, at=at: self._guard(self._tcp_ready, at, ev),
                              select.POLLOUT)
            return None
        for _ in range(PORT_TRIES):
            try:
                s.bind(socket.getaddrinfo(self.bind_ip6 if ":" in ip else self.bind_ip,
                                          random_port(self.rng))[0][-1])
                break
            except OSError:
                self.stats["port_retries"] += 1
        else:
            return "no free source port"
        at = _Ask(tok, s, UDP, ip, port, wire)
        try:
            if 224 <= (parse_ipv4(ip) or b"\x00")[0] <= 239:  # multicast: mDNS
                at.multicast = True
                self._multicast(s)
                s.sendto(wire, dest)
            else:
                s.connect(dest)
                s.send(wire)
        except OSError as e:
            return "send failed (%s)" % e
        self.asks[tok] = at
        self.server.watch(s, lambda ev, at=at: self._guard(self._udp_ready, at, ev))
        return None

    def _multicast(self, s):
        """A multicast question (mDNS): TTL 255 (RFC 6762 11), out of the appliance's
        interface (without a default route the kernel finds no way out)."""
        try:
            s.setsockopt(_IPPROTO_IP, _IP_MULTICAST_TTL, 255)
            if self.mcast_if:
                s.setsockopt(_IPPROTO_IP, _IP_MULTICAST_IF, self.mcast_if)
        except OSError:
            pass  # the send reports what is wrong

    def _guard(self, fn, at, ev):
        try:
            fn(at, ev)
        except Exception as e:
            self._fault("upstream answer", e)
            try:
                self.fw.upstream_failed(at.tok, "internal error", self.now())
                self.run()
            except Exception as e2:
                self._fault("upstream failover", e2)

    def _close(self, tok):
        if self.dot is not None and self.dot.owns(tok):
            self.dot.forget(tok)
            return
        at = self.asks.pop(tok, None)
        if at is None:
            return
        self.server.unwatch(at.sock)
        at.sock.close()

    def _udp_ready(self, at, ev):
        fw = self.fw
        for _ in range(READS_PER_WAKE):
            if at.tok not in self.asks:
                break
            if net.fault is not None:
                net.fault("upstream read")
            if at.multicast:
                try:
                    data, peer = at.sock.recvfrom(MDNS_READ)
                except OSError:
                    break
                src = peer_text(peer)
            else:
                try:
                    n = recv_into(at.sock, self.buf)
                except OSError as e:
                    if e.args and e.args[0] == _EAGAIN:
                        break
                    fw.upstream_failed(at.tok, "network error (%s)" % e, self.now())
                    self.run()
                    break  # refused (ICMP): the next server now, not after a timeout
                if not n:
                    break  # None: drained (MicroPython)
                data = self.cut() if n > READ_BUF else bytes(self.view[:n])
                src = at.src
            fw.upstream_reply(at.tok, data, src, self.now())
            if fw.actions:
                self.run()

    def cut(self):
        """The first READ_BUF bytes of an answer that filled the read buffer, marked truncated:
        TC (RFC 1035 4.1.1) says that the message was cut to fit the transport, and so it was.
        A job takes it as any truncated answer: the same server over TCP (RFC 7766 5), never
        its records (dnsbox.resolver.ask.quick wants TC clear; match decodes it as partial)."""
        self.stats["cut"] += 1
        self.buf[2] |= 0x02
        return bytes(self.view[:READ_BUF])

    def _tcp_ready(self, at, ev):
        fw = self.fw
        if ev & (select.POLLERR | select.POLLHUP) and not ev & select.POLLIN:
            fw.upstream_failed(at.tok, "tcp connection failed", self.now())
            self.run()
            return
        if not at.connected:
            at.connected = True
            try:
                at.sock.send(at.wire)  # under 300 bytes: fits any fresh socket buffer
            except OSError as e:
                fw.upstream_failed(at.tok, "tcp send failed (%s)" % e, self.now())
                self.run()
                return
            self.server.rewatch(at.sock, select.POLLIN)
            return
        try:
            data = at.sock.recv(TCP_READ)
        except OSError as e:
            if e.args and e.args[0] == _EAGAIN:
                return
            data = b""
        if not data:
            fw.upstream_failed(at.tok, "tcp connection closed", self.now())
            self.run()
            return
        at.inbuf += data
        if _len(at.inbuf) > TCP_MAX_ANSWER:
            fw.upstream_failed(at.tok, "tcp answer too long", self.now())
            self.run()
            return
        if _len(at.inbuf) >= 2:
            n = (at.inbuf[0] << 8) | at.inbuf[1]
            if _len(at.inbuf) >= 2 + n:
                fw.upstream_reply(at.tok, at.inbuf[2 : 2 + n], at.src, self.now())
                if fw.actions:
                    self.run()

    def close(self):
        for tok in list(self.asks):
            self._close(tok)
        if self.dot is not None:
            self.dot.close()
