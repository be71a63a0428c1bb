"""The socket side of the caching forwarder: client queries in, upstream attempts out.

Resolver(fw, server) plugs the pure dnsbox.resolver.forward.Forwarder into the serving loop
(dnsbox.net.server.Server created with peer=True): it is the loop's handler and timer, reads the
clock, turns peer addresses into what the core wants, and performs the core's actions:
- every UDP attempt gets its own socket bound to a fresh random source port (os.urandom; a
  taken port is skipped), registered in the same poll; datagrams on it go to the core with
  their source address and port, which the core checks;
- a TCP attempt (after a truncated answer) connects without blocking, sends the framed query
  and collects one framed answer (at most 65535 bytes);
- a socket is closed when the core says the attempt is done.
On MicroPython it also sets the loop's fast path (hit): a plain UDP query from an allowed client
whose exact question is cached is answered from the cache's reply buffer in two calls, without
the core's layers (the core's query() answers the same hits otherwise, just slower).
"""
import os
import select
import socket

from dnsbox import clock
from dnsbox.compat import MICROPYTHON, const
from dnsbox.config import parse_ipv4
from dnsbox.net.server import TCP, UDP, peer_ip
from dnsbox.wire.edns import bare_opt_payload

PORT_TRIES = const(16)  # random source ports tried per attempt before giving up
PORT_LOW = const(1024)  # source ports are drawn from PORT_LOW..65535
UDP_READ = const(4096)  # bytes read from one upstream datagram (we advertise 1232; a longer
# one arrives cut, fails to decode and is ignored)
FAULTS_LOGGED = const(20)  # internal errors logged on the console (then only counted)
UDP_PLAIN = const(512)  # a reply without EDNS (RFC 1035 4.2.1)
UDP_MAX = const(1232)  # our UDP reply ceiling with EDNS (as dnsbox.resolver.forward's)
READS_PER_WAKE = const(8)  # datagrams read from one upstream socket per poll wake-up
TCP_MAX_ANSWER = const(65537)  # 2-byte length + the largest DNS message
_len = len  # a module global: found faster than the builtin (see dnsbox.resolver.cache)
_EINPROGRESS = const(115)
_IPPROTO_IP = const(0)  # Linux values (MicroPython's socket module does not name them)
_IP_MULTICAST_IF = const(32)
_IP_MULTICAST_TTL = const(33)
_EAGAIN = const(11)


def peer_tuple(peer):
    """(ip text, port) of a peer in either interpreter's form."""
    if isinstance(peer, tuple):
        return peer[0], peer[1]
    return "%d.%d.%d.%d" % (peer[4], peer[5], peer[6], peer[7]), (peer[2] << 8) | peer[3]


def random_port(rng):
    b = rng(2)
    return PORT_LOW + ((b[0] << 8) | b[1]) % (65536 - PORT_LOW)


def opt_limit(q):
    """For a query whose ARCOUNT is not 0: the UDP reply size its OPT record allows (its payload
    size within 512..1232, RFC 6891 6.2.5) if the record is a bare OPT ending the message (see
    dnsbox.wire.edns.bare_opt_payload; DO is allowed: cached answers carry no DNSSEC records
    either way); else -1 (the handler's)."""
    p = bare_opt_payload(q)
    if p < 0:
        return -1
    return UDP_MAX if p > UDP_MAX else (UDP_PLAIN if p < UDP_PLAIN else p)


class _Attempt:
    def __init__(self, tok, sock, proto, ip, port, wire):
        self.tok = tok
        self.sock = sock
        self.proto = proto
        self.src = (ip, port)
        self.wire = wire
        self.connected = False
        self.inbuf = b""


class Resolver:
    def __init__(self, fw, server, rng=os.urandom, bind_ip="0.0.0.0", mcast_if=None):
        self.fw = fw
        # the interface address multicast questions leave from (4 bytes), or None
        self.mcast_if = None if mcast_if is None else parse_ipv4(mcast_if)
        self.server = server
        self.rng = rng
        self.bind_ip = bind_ip
        self.attempts = {}  # token -> _Attempt
        self.addrs = {}  # (ip, port) -> sockaddr
        self._raw = clock.now_ms()
        self._now = 0
        self.reply = fw.cache.reply  # bound once: see dnsbox.resolver.cache on method lookups
        self.net_addrs = tuple([n[0] for n in fw.nets])  # allowed client networks, for hit()
        self.net_masks = tuple([n[1] for n in fw.nets])
        server.handler = self.handle
        server.with_peer = True
        server.timer = self
        if MICROPYTHON:
            server.fast = self.hit
        self.stats = {"port_retries": 0, "send_errors": 0, "faults": 0}

    def now(self):
        """Milliseconds since start, never wrapping (the tick counter may)."""
        raw = clock.now_ms()
        self._now += clock.diff_ms(raw, self._raw)
        self._raw = raw
        return self._now

    # --- the serving loop's handler and timer -----------------------------------------------
    def hit(self, q, peer):
        """The loop's fast path (MicroPython: peer is a raw sockaddr_in): the cache's reply
        buffer for a plain query (QR=0, opcode 0, RD=1, CD=0, Z=0, one question, nothing else
        but an optional bare OPT record: see opt_limit) from an allowed client whose exact
        question bytes are a cache key; else None and the handler takes it. The time is the one
        read when poll returned (tick): a batch of datagrams shares one clock reading. A small
        frame (at most 11 slots, no try: see dnsbox.resolver.cache); a fault reaches the
        serving loop, which drops the datagram and goes on."""
        if (_len(q) < 17 or (q[2] & 0xF9) != 1 or q[3] & 0x50 or q[5] != 1
                or q[4] | q[6] | q[7] | q[8] | q[9] | q[10]):
            return None
        lim = opt_limit(q) if q[11] else UDP_PLAIN
        if lim < 0:
            return None
        ip = (peer[4] << 24) | (peer[5] << 16) | (peer[6] << 8) | peer[7]
        k = _len(self.net_addrs)
        while k > 0:
            k -= 1
            if ip & self.net_masks[k] == self.net_addrs[k]:
                return self.reply(q, self._now, lim)
        return None

    def handle(self, q, proto, client):
        """The loop's handler (the time is the one read when poll returned, as for hit())."""
        fw = self.fw
        peer = client if proto == UDP else client.peer
        try:
            r = fw.query(q, proto, client, peer_ip(peer), self._now)
            if fw.actions:
                self.run()
        except Exception as e:  # a bug or MemoryError must not stop the server: drop this one
            self._fault("query", e)
            return None
        return r

    def _fault(self, where, e):
        self.stats["faults"] += 1
        if self.stats["faults"] <= FAULTS_LOGGED:
            from dnsbox import log

            log.log("resolver: %s failed: %s %s (dropped)" % (where, type(e).__name__, e))

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
            if self.fw.inflight:
                self.fw.tick(now)
            if self.fw.actions:
                self.run()
        except Exception as e:
            self._fault("timer", e)

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

    def _open(self, tok, ip, port, wire, proto):
        """Open and register the socket of one attempt; returns an error text or None."""
        try:
            dest = self._sockaddr(ip, port)
        except OSError as e:
            return "bad address (%s)" % e
        if proto == UDP:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for i in range(PORT_TRIES):
                try:
                    s.bind(socket.getaddrinfo(self.bind_ip, random_port(self.rng))[0][-1])
                    break
                except OSError:
                    self.stats["port_retries"] += 1
            else:
                s.close()
                return "no free source port"
            s.setblocking(False)
            if 224 <= (parse_ipv4(ip) or b"\x00")[0] <= 239:  # multicast: mDNS
                self._multicast(s)
            try:
                s.sendto(wire, dest)
            except OSError as e:
                s.close()
                return "send failed (%s)" % e
            at = _Attempt(tok, s, UDP, ip, port, wire)
            self.attempts[tok] = at
            self.server.watch(s, lambda ev, at=at: self._guard(self._udp_ready, at, ev))
            return None
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(dest)
        except OSError as e:
            if not e.args or e.args[0] != _EINPROGRESS:
                s.close()
                return "connect failed (%s)" % e
        at = _Attempt(tok, s, TCP, ip, port, bytes((len(wire) >> 8, len(wire) & 255)) + wire)
        self.attempts[tok] = at
        self.server.watch(s, lambda ev, at=at: self._guard(self._tcp_ready, at, ev),
                          select.POLLOUT)
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
            self.fw.upstream_failed(at.tok, "internal error", self.now())
            try:
                self.run()
            except Exception as e2:
                self._fault("upstream failover", e2)

    def _close(self, tok):
        at = self.attempts.pop(tok, None)
        if at is None:
            return
        self.server.unwatch(at.sock)
        at.sock.close()

    def _udp_ready(self, at, ev):
        fw = self.fw
        for _ in range(READS_PER_WAKE):
            if at.tok not in self.attempts:
                break
            try:
                data, peer = at.sock.recvfrom(UDP_READ)
            except OSError:
                break  # drained (or an ICMP error reported on the socket: the timer decides)
            fw.upstream_reply(at.tok, data, peer_tuple(peer), self.now())
            if fw.actions:
                self.run()

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
            data = at.sock.recv(4096)
        except OSError as e:
            if e.args and e.args[0] == _EAGAIN:
                return
            data = b""
        if not data:
            fw.upstream_failed(at.tok, "tcp connection closed", self.now())
            self.run()
            return
        at.inbuf += data
        if len(at.inbuf) > TCP_MAX_ANSWER:
            fw.upstream_failed(at.tok, "tcp answer too long", self.now())
            self.run()
            return
        if len(at.inbuf) >= 2:
            n = (at.inbuf[0] << 8) | at.inbuf[1]
            if len(at.inbuf) >= 2 + n:
                fw.upstream_reply(at.tok, at.inbuf[2 : 2 + n], at.src, self.now())
                if fw.actions:
                    self.run()

    def close(self):
        for tok in list(self.attempts):
            self._close(tok)
