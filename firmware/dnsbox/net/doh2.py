"""DNS over HTTPS over HTTP/2 (RFC 8484 5.2, RFC 9113): the serving loop's glue between a
connection (dnsbox.net.server's _Conn) and its HTTP/2 state (dnsbox.h2.conn, pure).

  wanted(c)            whether c speaks HTTP/2: ALPN chose h2, or its bytes begin with the
                       client preface (prior knowledge, RFC 9113 3.3)
  serve(server, c)     frames in c.inbuf -> requests -> the handler; answers and control
                       frames go to c.out
  answer_late(c, ref, data)  the answer respond() brings for the stream ref names
Each request is handed to the handler as a TCP query with a Ref as its client (its .peer and
.fd are the connection's), so a late answer finds its stream. What a request means (GET ?dns=,
POST, the JSON API, the pages) is dnsbox.net.doh.route: the same as over HTTP/1.1.
"""
from dnsbox.h2 import conn as _h2
from dnsbox.net import doh
from dnsbox.wire.reply import TCP


class Ref:
    """One stream's request as the handler's client."""

    def __init__(self, c, sid, fmt):
        self.conn = c
        self.peer = c.peer
        self.fd = c.fd
        self.sid = sid
        self.fmt = fmt


def wanted(c):
    if c.tls is not None and c.tls.alpn() == "h2":
        return True
    return c.inbuf[:4] == b"PRI "


def serve(server, c):
    h = c.h2
    if h is None:
        h = c.h2 = _h2.Conn()
    n = h.receive(c.inbuf)
    if n:
        server._consumed(c, c.inbuf[n:])
    while h.requests:
        _request(server, c, h, h.requests.pop(0))
    _out(c, h)


def _request(server, c, h, st):
    if st.status:
        return _error(h, st.sid, st.status)
    path, _q, params = st.path.partition(b"?")
    q, fmt, status = doh.route(st.method, path, params, st.ctype, st.accept, st.body, c.http)
    if status == doh.NOT_MINE:
        r = None
        if server.pages is not None and st.method == b"GET":
            r = server.pages(path, True, Ref(c, st.sid, fmt))
        if r is None:
            return _error(h, st.sid, 404)
        code, ctype, body = doh.split(r)
        h.respond(st.sid, code, [(b"content-type", ctype), (b"cache-control", b"no-store")],
                  body)
        return None
    if status:
        return _error(h, st.sid, status)
    server.stats[1] += 1
    ref = Ref(c, st.sid, fmt)
    r = server.handler(q, TCP, ref) if server.with_peer else server.handler(q, TCP)
    if server.observe is not None:
        server.observe(q, r, TCP, ref, 0)
    if r is None and server.with_peer:
        c.owed += 1  # respond() brings it (TCP_OWED_MS bounds the wait)
    elif isinstance(r, (bytes, bytearray)):
        _answer(h, st.sid, r, fmt)
    else:  # dropped, or a stream (a transfer is not offered over HTTP)
        _error(h, st.sid, 400)
    return None


def _answer(h, sid, msg, fmt):
    ctype, body = doh.render(msg, fmt)
    h.respond(sid, 200, [(b"content-type", ctype),
                         (b"cache-control", b"max-age=%d" % doh.min_ttl(msg))], body)


def _error(h, sid, status):
    h.respond(sid, status, [(b"content-type", b"text/plain")],
              doh.error(status).split(b"\r\n\r\n", 1)[1])


def answer_late(c, ref, data):
    if c.owed:
        c.owed -= 1
    h = c.h2
    _answer(h, ref.sid, data, ref.fmt)
    _out(c, h)


def _out(c, h):
    data = h.take()
    if data:
        c.out += data
    if h.closed or h.idle():
        c.eof = True  # closed once what is queued has gone out
        c.inbuf = b""
        c.owed = 0
