"""DNS over TLS to the forwarder's upstreams (server=IP#PORT#NAME[#sha256/PIN], RFC 7858), the
socket side of the asks whose proto is dnsbox.resolver.ask.TLS.

One connection per upstream, opened on the first ask and kept: later asks are written on it
while earlier ones wait (pipelining, RFC 7766 6.2.1.1), and answers are matched to asks by
their ID (the job's match() then checks the question). A connection with nothing in flight
for IDLE_MS is closed (RFC 7766 6.2.3). At most MAX_CONNS connections exist (mbedTLS holds
about 21 KB of buffers in the C heap for each): a new one closes the longest idle, or the ask
fails. The checks: the certificate chain against the frozen CA bundle (module `cabundle`,
tools/cabundle.py) and the CAs of tls-ca= (read at boot: a private CA without a rebuild) and
the name (mbedTLS, server_hostname) when the server= has a NAME; the SPKI pin when it has
sha256/PIN (any certificate of the chain); the dates
(dnsbox.net.cert.check_dates: the NTP clock rules). A failed check, a refused connection or a
broken stream fails every ask in flight on it with the reason (the job answers SERVFAIL with
EDE 23 Network Error when no other server answers): never a plain-DNS retry of that server.
"""
import select
import socket

from dnsbox import sntp
from dnsbox.compat import const
from dnsbox.net import cert as _cert

try:
    import tls as _tls  # MicroPython

    _MPY = True
except ImportError:
    import ssl as _tls

    _MPY = False

MAX_CONNS = const(4)  # upstream TLS connections open at once (about 21 KB of C heap each)
MAX_INFLIGHT = const(32)  # asks in flight on one connection (RFC 7766 6.2.1.1 pipelining)
IDLE_MS = const(10000)  # a connection with nothing in flight closed after this (RFC 7766 6.2.3)
READ_SIZE = const(16384)  # bytes asked of one TLS read: a whole record (RFC 8446 5.1)
FRAME_MAX = const(65537)  # one framed answer: 2-byte length + the largest DNS message
OUT_MAX = const(65536)  # bytes of queries waiting to be written on one connection
_FATAL = const(-0x3000)  # MBEDTLS_ERR_X509_FATAL_ERROR: a verify callback's refusal
_EINPROGRESS = const(115)


class _Conn:
    def __init__(self, key, sock, name, pin):
        self.key = key  # (ip, port)
        self.sock = sock
        self.name = name
        self.pin = pin
        self.s = None  # the TLS socket once TCP is connected
        self.shaken = False  # a write went through: the handshake is over
        self.pin_ok = False
        self.reason = None  # why the TLS layer refused (set by the checks)
        self.out = bytearray()
        self.pending = 0  # bytes of the last write that would block (the retry passes them)
        self.inbuf = b""
        self.flights = {}  # query ID (2 bytes) -> ask token
        self.idle_since = 0


class Pool:
    """server: the serving loop (watch/rewatch/unwatch); settings: {(ip, port): (name, pin)};
    reply(tok, data, src) and fail(tok, reason) report to the driver; now() the milliseconds;
    extra_cas: DER CA certificates trusted beside the frozen bundle (tls-ca=)."""

    def __init__(self, server, settings, reply, fail, now, extra_cas=()):
        self.server = server
        self.settings = settings
        self.reply = reply
        self.fail = fail
        self.now = now
        self.extra_cas = tuple(extra_cas)
        self.conns = {}  # (ip, port) -> _Conn
        self.toks = {}  # ask token -> _Conn
        self.current = None  # the connection whose TLS call runs (for the verify callback)
        self.ctx = {}  # True (name checked) / False (pin only) -> context
        self.floor = 0
        self.stats = {"tls_conns": 0, "tls_reused": 0, "tls_failed": 0}

    # --- contexts and checks ----------------------------------------------------------------
    def _context(self, named):
        ctx = self.ctx.get(named)
        if ctx is not None:
            return ctx
        certs = ()
        try:
            import cabundle

            certs = cabundle.CERTS
            self.floor = cabundle.BUILT
        except ImportError:
            pass
        certs = tuple(certs) + self.extra_cas
        ctx = _tls.SSLContext(_tls.PROTOCOL_TLS_CLIENT)
        if _MPY:
            if named:
                for c in certs:
                    ctx.load_verify_locations(c)
            ctx.verify_mode = _tls.CERT_REQUIRED if named else _tls.CERT_OPTIONAL
            ctx.verify_callback = self._verify
        else:
            ctx.check_hostname = named
            if named:
                ctx.load_verify_locations(cadata=b"".join(certs))
            else:
                ctx.verify_mode = _tls.CERT_NONE
        self.ctx[named] = ctx
        return ctx

    def _verify(self, der, depth):
        """mbedTLS's callback for each certificate of the chain, the root first, depth 0 last:
        0 to go on, _FATAL to refuse (the reason kept on the connection)."""
        c = self.current
        if c is None:
            return _FATAL
        try:
            r = _cert.check_dates(der, sntp.wall(), sntp.synced(), self.floor)
            if c.pin is not None and not c.pin_ok:
                c.pin_ok = _cert.spki_digest(der) == c.pin
                if depth == 0 and not c.pin_ok:
                    r = r or "SPKI pin mismatch"
        except ValueError as e:
            r = "bad certificate (%s)" % e
        if r:
            c.reason = r
            return _FATAL
        return 0

    # --- asks -------------------------------------------------------------------------------
    def send(self, tok, ip, port, wire):
        """Queue one ask on the upstream's connection (opened when there is none); None, or
        the reason it cannot be sent."""
        key = (ip, port)
        c = self.conns.get(key)
        if c is None:
            err = self._open(key)
            if err:
                return err
            c = self.conns[key]
        else:
            self.stats["tls_reused"] += 1
        qid = bytes(wire[:2])
        if len(c.flights) >= MAX_INFLIGHT or qid in c.flights:
            return "tls: connection busy (%d in flight)" % len(c.flights)
        if len(c.out) + len(wire) + 2 > OUT_MAX:
            return "tls: too much waiting to be sent"
        c.flights[qid] = tok
        self.toks[tok] = c
        c.out += bytes((len(wire) >> 8, len(wire) & 255))
        c.out += wire
        if c.s is not None:
            self._io(c)
        return None

    def forget(self, tok):
        """The driver is done with ask tok: a late answer to it is dropped."""
        c = self.toks.pop(tok, None)
        if c is not None:
            for q in [q for q in c.flights if c.flights[q] == tok]:
                del c.flights[q]
            if not c.flights:
                c.idle_since = self.now()

    def owns(self, tok):
        return tok in self.toks

    def reap(self):
        """Close connections idle for IDLE_MS (periodic)."""
        now = self.now()
        for c in [c for c in self.conns.values() if not c.flights]:
            if now - c.idle_since >= IDLE_MS:
                self._close(c)

    def close(self):
        for c in list(self.conns.values()):
            self._close(c)

    # --- connections ------------------------------------------------------------------------
    def _open(self, key):
        if len(self.conns) >= MAX_CONNS:
            idle = [c for c in self.conns.values() if not c.flights]
            if not idle:
                return "tls: all %d upstream connections busy" % MAX_CONNS
            idle.sort(key=lambda c: c.idle_since)
            self._close(idle[0])
        name, pin = self.settings.get(key) or (None, None)
        try:
            self._context(name is not None)
            dest = socket.getaddrinfo(key[0], key[1])[0][-1]
            s = socket.socket(socket.AF_INET6 if ":" in key[0] else socket.AF_INET,
                              socket.SOCK_STREAM)
        except (OSError, ValueError) as e:
            return "tls: %s" % e
        s.setblocking(False)
        try:
            s.connect(dest)
        except OSError as e:
            if not e.args or e.args[0] != _EINPROGRESS:
                s.close()
                return "tls: connect failed (%s)" % e
        c = _Conn(key, s, name, pin)
        c.idle_since = self.now()
        self.conns[key] = c
        self.stats["tls_conns"] += 1
        self.server.watch(s, lambda ev, c=c: self._ready(c, ev), select.POLLOUT)
        return None

    def _close(self, c, reason=None):
        if self.conns.get(c.key) is c:
            del self.conns[c.key]
        self.server.unwatch(c.sock)
        try:
            (c.s or c.sock).close()
        except OSError:
            pass
        toks = list(c.flights.values())
        c.flights = {}
        for t in toks:
            self.toks.pop(t, None)
        if reason is not None:
            self.stats["tls_failed"] += 1
            for t in toks:
                self.fail(t, reason)

    def _ready(self, c, ev):
        if c.s is None:
            if ev & (select.POLLERR | select.POLLHUP):
                self._close(c, "tls: connection refused")
                return
            name = c.name or None
            try:
                c.s = self._context(c.name is not None).wrap_socket(
                    c.sock, server_hostname=name, do_handshake_on_connect=False)
            except (OSError, ValueError) as e:
                self._close(c, "tls: %s" % e)
                return
            if not _MPY:
                self.server.unwatch(c.sock)  # CPython's TLS socket took the descriptor
                self.server.watch(c.s, lambda ev, c=c: self._ready(c, ev), select.POLLIN)
            else:
                self.server.rewatch(c.sock, select.POLLIN)
        self._io(c)

    def _io(self, c):
        self.current = c
        try:
            self._write(c)
            self._read(c)
            self._write(c)
        except OSError as e:
            self._close(c, "tls: " + (c.reason or str(e)))
        finally:
            self.current = None

    def _cpy_handshake(self, c):
        """CPython: drive the handshake; True once done (and the pin checked)."""
        try:
            c.s.do_handshake()
        except (_tls.SSLWantReadError, _tls.SSLWantWriteError):
            return False
        if c.pin is not None:
            der = c.s.getpeercert(True)
            if _cert.spki_digest(der) != c.pin:
                c.reason = "SPKI pin mismatch"
                raise OSError("pin")
        c.shaken = True
        return True

    def _write(self, c):
        if not c.out:
            return
        if not _MPY and not c.shaken and not self._cpy_handshake(c):
            return
        n = c.pending or min(len(c.out), READ_SIZE)
        try:
            r = c.s.write(bytes(c.out[:n])) if _MPY else c.s.send(bytes(c.out[:n]))
        except (AttributeError, ValueError):
            r = None
        except OSError as e:
            if not _MPY and isinstance(e, (_tls.SSLWantReadError, _tls.SSLWantWriteError)):
                r = None
            else:
                raise
        if not r:
            c.pending = n
            if c.shaken:  # the socket is full: wait for room
                self.server.rewatch(c.s if not _MPY else c.sock,
                                    select.POLLIN | select.POLLOUT)
            return
        c.shaken = True
        c.pending = 0
        c.out = c.out[r:]
        if not c.out:
            self.server.rewatch(c.s if not _MPY else c.sock, select.POLLIN)

    def _read(self, c):
        if not _MPY and not c.shaken and not self._cpy_handshake(c):
            return
        for _ in range(MAX_INFLIGHT):
            try:
                data = c.s.read(READ_SIZE) if _MPY else c.s.recv(READ_SIZE)
            except OSError as e:
                if not _MPY and isinstance(e, (_tls.SSLWantReadError,
                                               _tls.SSLWantWriteError)):
                    return
                raise
            if data is None:
                return
            if not data:
                self._close(c, "tls: connection closed by the upstream" if c.flights else None)
                return
            c.inbuf += data
            if not self._frames(c):
                return

    def _frames(self, c):
        """Hand on every whole answer in c.inbuf; False when the connection was closed."""
        while len(c.inbuf) >= 2:
            n = (c.inbuf[0] << 8) | c.inbuf[1]
            if n < 12:
                self._close(c, "tls: malformed answer frame")
                return False
            if len(c.inbuf) < 2 + n:
                if len(c.inbuf) > FRAME_MAX:
                    self._close(c, "tls: answer too long")
                    return False
                return True
            msg = c.inbuf[2 : 2 + n]
            c.inbuf = c.inbuf[2 + n :]
            tok = c.flights.pop(bytes(msg[:2]), None)
            if tok is not None:
                self.toks.pop(tok, None)
                if not c.flights:
                    c.idle_since = self.now()
                self.reply(tok, msg, c.key)
            if c.key not in self.conns:
                return False
        return True
