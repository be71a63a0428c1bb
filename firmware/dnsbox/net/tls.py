"""TLS for the serving loop (DNS over TLS, RFC 7858): a server context from a DER certificate
and key, and a non-blocking connection with one interface on MicroPython (its `tls` module,
mbedTLS, TLS 1.2) and CPython (`ssl`, for the tests):

  conn = Conn(ctx, raw_socket)    raw_socket: accepted, non-blocking
  conn.read(n)  -> bytes, b"" at the end of the stream, or None (would block)
  conn.write(b) -> bytes taken (0: would block)
  conn.want_write: True when the TLS layer waits to send (handshake): poll for POLLOUT too
  conn.poll_obj: what to register with select.poll (a socket with a file descriptor)
  conn.alpn()   -> the ALPN protocol agreed ("h2", "http/1.1", "dot") or None
A TLS failure (bad handshake, alert) raises OSError (ssl.SSLError is one on CPython).

On MicroPython the raw socket is what poll watches, never the TLS socket: MicroPython 1.25's
poll keeps objects without a file descriptor (its TLS sockets) next to an array of pollfds, and
when that array moves as it grows, it rewrites those objects' (null) pollfd pointers into wild
ones: the next register or modify writes through one and the process dies (SIGSEGV, seen here
with a fourth listener). Watching the descriptor loses one thing, data the TLS layer holds
decrypted but unread; reads of READ_SIZE (a whole TLS record) leave none.
"""

try:
    import tls as _tls  # MicroPython

    _MPY = True
except ImportError:
    import ssl as _tls

    _MPY = False

WRITE_CHUNK = 16384  # bytes handed to one TLS write: one record's worth (RFC 8446 5.1)
READ_SIZE = 16384  # bytes asked of one TLS read: a whole record's plaintext, nothing left over


# ALPN protocols offered (RFC 7301): DNS over HTTPS speaks HTTP/2 (RFC 8484 5.2) or HTTP/1.1;
# DNS over TLS names itself "dot" (RFC 7858, RFC 8310 / IANA). A client that offers others
# only is refused with the no_application_protocol alert (RFC 7301 3.2).
ALPN_DOH = ["h2", "http/1.1"]
ALPN_DOT = ["dot"]


def context(cert_der, key_der, alpn=None):
    """A server context for the certificate (DER) and its private key (DER, PKCS#8 or SEC1),
    offering the ALPN protocols alpn (a list of str; None: no ALPN)."""
    ctx = _context(cert_der, key_der)
    if alpn and hasattr(ctx, "set_alpn_protocols"):  # a firmware built without the patch: none
        ctx.set_alpn_protocols(alpn)
    return ctx


def _context(cert_der, key_der):
    if _MPY:
        ctx = _tls.SSLContext(_tls.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_der, key_der)
        return ctx
    import os
    import tempfile

    ctx = _tls.SSLContext(_tls.PROTOCOL_TLS_SERVER)
    d = tempfile.mkdtemp(prefix="dnsbox-tls-")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    with open(cert, "w") as f:
        f.write(_tls.DER_cert_to_PEM_cert(cert_der))
    with open(key, "w") as f:
        f.write(_pem("PRIVATE KEY", key_der))
    try:
        ctx.load_cert_chain(cert, key)
    finally:
        os.remove(cert)
        os.remove(key)
        os.rmdir(d)
    return ctx


def _pem(label, der):
    import binascii

    b64 = binascii.b2a_base64(der).decode().replace("\n", "")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label)


class Conn:
    READ_SIZE = READ_SIZE

    def __init__(self, ctx, sock):
        self.want_write = False
        self.pending = 0  # bytes of the last write that would block: the retry passes the same
        self.shaken = _MPY  # MicroPython hands the handshake to the first read/write
        self.s = ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        # CPython's TLS socket takes over the descriptor (the raw one is detached)
        self.poll_obj = sock if _MPY else self.s

    def _handshake(self):
        """CPython: drive the handshake; True once it is done."""
        try:
            self.s.do_handshake()
        except _tls.SSLWantReadError:
            return False
        except _tls.SSLWantWriteError:
            self.want_write = True
            return False
        self.shaken = True
        return True

    def read(self, n):
        self.want_write = False
        if _MPY:
            return self.s.read(n)  # None: would block; b"": closed
        if not self.shaken and not self._handshake():
            return None
        try:
            return self.s.recv(n)
        except _tls.SSLWantReadError:
            return None
        except _tls.SSLWantWriteError:
            self.want_write = True
            return None
        except _tls.SSLZeroReturnError:
            return b""

    def write(self, data):
        """Send from the start of data. After a write that would block, the next call must start
        with the same bytes (the caller only appends): the TLS layer has already made them
        into a record and reports them sent when that record goes out (mbedTLS returns the
        length passed to the retry), so the retry passes exactly that many bytes again."""
        self.want_write = False
        n = self.pending or min(len(data), WRITE_CHUNK)
        if _MPY:
            r = self.s.write(data[:n])
        elif not self.shaken and not self._handshake():
            r = None
        else:
            try:
                r = self.s.send(data[:n])
            except _tls.SSLWantWriteError:
                self.want_write = True
                r = None
            except _tls.SSLWantReadError:
                r = None
        if not r:
            self.pending = n
            return 0
        self.pending = 0
        return r

    def alpn(self):
        """The ALPN protocol agreed in the handshake (str), or None (none, or not yet)."""
        if not self.shaken and not _MPY:
            return None
        try:
            return self.s.selected_alpn_protocol()
        except (AttributeError, OSError):
            return None

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass
