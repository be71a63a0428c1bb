"""DNS over HTTPS (RFC 8484) over HTTP/1.1 (RFC 9112): requests in, DNS queries out, and the
HTTP responses around DNS answers. Pure: bytes in, bytes out; the serving loop does the I/O.

  n, query, keep, err, fmt = request(buf, endpoint)
      n: bytes of buf the request used (0: incomplete, wait for more);
      query: the DNS message (bytes) or None; err: an HTTP error response (bytes) or None;
      keep: False when the connection closes after the response (HTTP/1.0, Connection: close,
      or an error that leaves the stream unreadable); fmt: WIRE or JSON, how to answer.
  request(buf, endpoint, pages, client): the same, and a GET of another path goes to
      pages(path, keep, client) -> a whole response (bytes) or None (404): the status pages
      (dnsbox.net.watch) on the DoH listener and on the plain http-port= one.
  answer(dns_message, keep, fmt) -> the 200 response (application/dns-message, or the JSON
      API's application/dns-json; Cache-Control max-age = the smallest TTL of the answer, else
      the authority section, RFC 8484 5.1).
  route(method, path, params, ctype, accept, body, endpoint) -> (query, fmt, status): the DoH
      request's meaning, shared with HTTP/2 (dnsbox.net.doh2): status 0 (query made), an HTTP
      error status, or NOT_MINE (another path: the pages).

GET /endpoint?dns=BASE64URL and POST /endpoint with Content-Type application/dns-message; the
JSON API (dnsbox.net.dnsjson) at GET /resolve?name=..&type=.. and at the endpoint when Accept
asks for application/dns-json. HTTP/2 (chosen by ALPN or the client preface) is dnsbox.net.doh2.
"""
import binascii

from dnsbox.compat import const
from dnsbox.wire.reply import TCP_MAX

MAX_HEAD = const(8192)  # bytes of request line + headers
MAX_HEADERS = const(64)  # header lines
MAX_BODY = TCP_MAX  # a DNS message
MIN_QUERY = const(12)  # a DNS header
MEDIA = b"application/dns-message"
WIRE = const(0)  # answer as application/dns-message
JSON = const(1)  # answer as application/dns-json
NOT_MINE = const(-1)  # route(): not a DoH path
_REASONS = {
    200: b"OK", 400: b"Bad Request", 403: b"Forbidden", 404: b"Not Found",
    405: b"Method Not Allowed",
    411: b"Length Required", 413: b"Content Too Large", 415: b"Unsupported Media Type",
    431: b"Request Header Fields Too Large", 501: b"Not Implemented",
    505: b"HTTP Version Not Supported",
}


def error(status, keep=False):
    """A small text/plain error response."""
    body = _REASONS.get(status, b"Error") + b"\n"
    extra = b"Allow: GET, POST\r\n" if status == 405 else b""
    return _response(status, b"text/plain", body, keep, extra)


def answer(msg, keep=True, fmt=WIRE):
    age = min_ttl(msg)
    ctype, body = render(msg, fmt)
    return _response(200, ctype, body, keep, b"Cache-Control: max-age=%d\r\n" % age)


def render(msg, fmt):
    """(content type, body) of the answer msg in the format asked."""
    if fmt == JSON:
        from dnsbox.net import dnsjson

        return dnsjson.MEDIA, dnsjson.render(msg)
    return MEDIA, msg


def page(ctype, body, keep):
    """A 200 response with a page (not cached: the counters change)."""
    return _response(200, ctype, body, keep, b"Cache-Control: no-store\r\n")


def _response(status, ctype, body, keep, extra=b""):
    return b"".join((
        b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"Error")),
        b"Content-Type: ", ctype, b"\r\n",
        b"Content-Length: %d\r\n" % len(body),
        extra,
        b"" if keep else b"Connection: close\r\n",
        b"\r\n", body))


def request(buf, endpoint, pages=None, client=None):
    """Parse one request at the start of buf (see the module docstring)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > MAX_HEAD:
            return len(buf), None, False, error(431), WIRE
        return 0, None, True, None, WIRE
    if end > MAX_HEAD:
        return len(buf), None, False, error(431), WIRE
    lines = buf[:end].split(b"\r\n")
    if len(lines) > MAX_HEADERS + 1:
        return len(buf), None, False, error(431), WIRE
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        return len(buf), None, False, error(400 if len(parts) != 3 else 505), WIRE
    method, target, version = parts
    headers = {}
    for line in lines[1:]:
        k, sep, v = line.partition(b":")
        if not sep or not k or k != k.strip():
            return len(buf), None, False, error(400), WIRE
        headers[k.lower()] = v.strip()
    keep = version == b"HTTP/1.1"
    conn = headers.get(b"connection", b"").lower()
    if conn == b"close":
        keep = False
    elif conn == b"keep-alive":
        keep = True
    if b"transfer-encoding" in headers:
        return len(buf), None, False, error(501), WIRE  # chunked bodies: not for DNS messages
    n = end + 4
    length = headers.get(b"content-length")
    size = 0
    if length is not None:
        if not length.isdigit() or len(length) > 6:
            return len(buf), None, False, error(400), WIRE
        size = int(length)
        if size > MAX_BODY:
            return len(buf), None, False, error(413), WIRE
        if len(buf) < n + size:
            return 0, None, True, None, WIRE
    body = buf[n : n + size]
    n += size
    path, _q, params = target.partition(b"?")
    if method == b"POST" and length is None and path == endpoint:
        return n, None, False, error(411), WIRE
    q, fmt, status = route(method, path, params, headers.get(b"content-type", b""),
                           headers.get(b"accept", b""), body, endpoint)
    if status == NOT_MINE:
        r = None
        if pages is not None and method == b"GET":
            r = pages(path, keep, client)
        return n, None, keep, error(404, keep) if r is None else r, WIRE
    if status:
        return n, None, keep, error(status, keep), fmt
    return n, q, keep, None, fmt


def route(method, path, params, ctype, accept, body, endpoint):
    """What a request means for DoH: (query, fmt, status), see the module docstring."""
    if not endpoint:
        return None, WIRE, NOT_MINE  # the plain HTTP listener: pages only
    if path == endpoint or path == b"/resolve":
        from dnsbox.net import dnsjson

        if method == b"GET" and (path != endpoint or dnsjson.wanted(params, accept)):
            q, _why = dnsjson.query(params)
            return q, JSON, 0 if q is not None else 400
    if path != endpoint:
        return None, WIRE, NOT_MINE
    if method == b"GET":
        q = _dns_param(params)
        if q is None:
            return None, WIRE, 400
    elif method == b"POST":
        if ctype.split(b";")[0].strip().lower() != MEDIA:
            return None, WIRE, 415
        q = body
    else:
        return None, WIRE, 405
    if len(q) < MIN_QUERY or q[2] & 0x80:
        return None, WIRE, 400  # not a DNS query
    return q, WIRE, 0


def _dns_param(query):
    """The DNS message of a `dns=` parameter (base64url, padding optional), or None."""
    for p in query.split(b"&"):
        if p.startswith(b"dns="):
            v = p[4:]
            if not v or len(v) > (MAX_BODY * 4) // 3 + 4:
                return None
            v = v.replace(b"-", b"+").replace(b"_", b"/")
            v += b"=" * (-len(v) % 4)
            try:
                return binascii.a2b_base64(v)
            except ValueError:  # binascii.Error is one on CPython
                return None
    return None


def split(resp):
    """(status, content type, body) of a whole HTTP/1.1 response made here (the pages, for
    HTTP/2)."""
    end = resp.find(b"\r\n\r\n")
    status = int(resp[9:12])
    ctype = b"text/plain"
    for line in resp[:end].split(b"\r\n")[1:]:
        k, _sep, v = line.partition(b":")
        if k.lower() == b"content-type":
            ctype = v.strip()
    return status, ctype, resp[end + 4 :]


def min_ttl(msg):
    """The smallest TTL in the answer section, else in the authority section, else 0. Reads
    the record headers only; a malformed message gives 0."""
    try:
        an = (msg[6] << 8) | msg[7]
        ns = (msg[8] << 8) | msg[9]
        off = 12
        for _ in range((msg[4] << 8) | msg[5]):
            off = _skip_name(msg, off) + 4
        best = -1
        for i in range(an + ns):
            if i == an and best >= 0:
                break
            off = _skip_name(msg, off)
            ttl = (msg[off + 4] << 24) | (msg[off + 5] << 16) | (msg[off + 6] << 8) | msg[off + 7]
            if best < 0 or ttl < best:
                best = ttl
            off += 10 + ((msg[off + 8] << 8) | msg[off + 9])
        return best if best > 0 else 0
    except IndexError:
        return 0


def _skip_name(msg, off):
    while True:
        c = msg[off]
        if c >= 0xC0:
            return off + 2
        if c == 0:
            return off + 1
        off += c + 1
