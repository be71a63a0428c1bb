"""DNS over HTTPS requests and responses (dnsbox.net.doh): RFC 8484 GET and POST, HTTP/1.1
framing, the error statuses, and the Cache-Control lifetime from the answer's TTLs."""
import binascii

from dnsbox.net import doh
from dnsbox.wire import message as M
from dnsbox.wire import types as T
from dnsbox.wire.name import Name

EP = b"/dns-query"
Q = M.encode_query(Name.from_text("www.example.com."), T.A, T.CLASS_IN, 0, True, None)


def b64url(b):
    return binascii.b2a_base64(b).strip().replace(b"+", b"-").replace(b"/", b"_").rstrip(b"=")


def get(q=Q, path=EP, version=b"HTTP/1.1", extra=b""):
    return b"GET " + path + b"?dns=" + b64url(q) + b" " + version + b"\r\nHost: x\r\n" + extra + \
        b"\r\n"


def post(body=Q, ctype=b"application/dns-message", length=True, extra=b""):
    h = b"POST " + EP + b" HTTP/1.1\r\nHost: x\r\nContent-Type: " + ctype + b"\r\n"
    if length:
        h += b"Content-Length: %d\r\n" % len(body)
    return h + extra + b"\r\n" + body


def status(resp):
    return int(resp.split(b" ", 2)[1])


def test_get_and_post_give_the_query():
    for req in (get(), post()):
        n, q, keep, err, _f = doh.request(req, EP)
        assert (n, q, keep, err) == (len(req), Q, True, None)


def test_base64url_with_or_without_padding_and_other_parameters():
    padded = binascii.b2a_base64(Q).strip().replace(b"+", b"-").replace(b"/", b"_")
    req = b"GET " + EP + b"?ct=x&dns=" + padded + b" HTTP/1.1\r\n\r\n"
    assert doh.request(req, EP)[1] == Q


def test_incomplete_requests_wait():
    for req in (get(), post()):
        for cut in (1, 10, len(req) - 1):
            assert doh.request(req[:cut], EP) == (0, None, True, None, doh.WIRE)


def test_pipelined_requests_one_at_a_time():
    buf = get() + post() + get()[:5]
    n1, q1, _k, _e, _f = doh.request(buf, EP)
    n2, q2, _k, _e, _f = doh.request(buf[n1:], EP)
    assert q1 == q2 == Q
    assert doh.request(buf[n1 + n2 :], EP)[0] == 0


def test_http10_and_connection_close_do_not_keep():
    assert doh.request(get(version=b"HTTP/1.0"), EP)[2] is False
    assert doh.request(get(extra=b"Connection: close\r\n"), EP)[2] is False
    assert doh.request(get(version=b"HTTP/1.0", extra=b"Connection: keep-alive\r\n"), EP)[2]


def test_error_statuses():
    cases = [
        (get(path=b"/other"), 404, True),
        (b"PUT " + EP + b" HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, True),
        (post(ctype=b"text/plain"), 415, True),
        (post(length=False), 411, False),
        (b"GET " + EP + b"?dns=!!!! HTTP/1.1\r\n\r\n", 400, True),
        (b"GET " + EP + b" HTTP/1.1\r\n\r\n", 400, True),  # no dns= parameter
        (get(q=b"\x00\x01"), 400, True),  # shorter than a DNS header
        (get(q=b"\x00\x00\x80" + Q[3:]), 400, True),  # a response, not a query
        (b"GET " + EP + b" HTTP/2.0\r\n\r\n", 505, False),
        (b"GARBAGE\r\n\r\n", 400, False),
        (b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400, False),
        (post(extra=b"Transfer-Encoding: chunked\r\n"), 501, False),
        (b"POST " + EP + b" HTTP/1.1\r\nContent-Length: 70000\r\n\r\n", 413, False),
        (b"POST " + EP + b" HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400, False),
    ]
    for req, code, keep in cases:
        n, q, k, err, _f = doh.request(req, EP)
        assert q is None and err is not None and status(err) == code, (req, err)
        assert k is keep, req
        assert n > 0
        assert (b"Connection: close" in err) is (not keep)
    assert b"Allow: GET, POST" in doh.request(cases[1][0], EP)[3]


def test_oversized_head_is_431():
    req = b"GET " + EP + b"?dns=" + b"A" * (doh.MAX_HEAD + 10)
    n, q, keep, err, _f = doh.request(req, EP)
    assert status(err) == 431 and not keep and n == len(req)
    many = b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * (doh.MAX_HEADERS + 1) + b"\r\n"
    assert status(doh.request(many, EP)[3]) == 431


def _response_with(answer_ttls, authority_ttls):
    from dnsbox.wire import rd_std
    from dnsbox.wire.rr import RR

    m = M.decode(Q)
    m.qr = True
    n = Name.from_text("www.example.com.")
    m.answer = [RR(n, T.A, T.CLASS_IN, t, rd_std.A(b"\xc0\x00\x02\x01")) for t in answer_ttls]
    soa = rd_std.SOA(n, n, 1, 2, 3, 4, 5)
    m.authority = [RR(n, T.SOA, T.CLASS_IN, t, soa) for t in authority_ttls]
    return M.encode(m)


def test_cache_control_from_the_smallest_ttl():
    r = doh.answer(_response_with([300, 60, 900], [5]))
    assert r.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Type: application/dns-message\r\n" in r
    assert b"Cache-Control: max-age=60\r\n" in r
    head, body = r.split(b"\r\n\r\n", 1)
    assert b"Content-Length: %d\r\n" % len(body) in head + b"\r\n"
    assert doh.min_ttl(_response_with([], [30, 20])) == 20  # negative: the SOA's
    assert doh.min_ttl(_response_with([], [])) == 0
    assert doh.min_ttl(b"\x00" * 5) == 0  # malformed: no caching
    assert b"Connection: close" in doh.answer(_response_with([1], []), keep=False)


def test_json_api_query_and_render():
    from dnsbox.net import dnsjson
    from dnsbox.wire.rdata import decode as rd_decode

    q, why = dnsjson.query(b"name=www.Example.com&type=mx&do=1&cd=true")
    m = M.decode(q)
    assert why is None and m.rd and m.cd and m.edns.do and m.id == 0
    assert (m.question[0].name.to_text(), m.question[0].qtype) == ("www.Example.com.", T.MX)
    assert dnsjson.query(b"name=x.example&type=65")[0] is not None  # a number works too
    for bad in (b"type=A", b"name=a..b", b"name=x&type=NOPE", b"name=%zz"):
        assert dnsjson.query(bad)[0] is None, bad
    assert dnsjson.wanted(b"name=x", b"") and not dnsjson.wanted(b"dns=AAAA", b"")
    assert dnsjson.wanted(b"dns=AAAA", b"application/dns-json")
    # an answer: one A record (TTL 300) with a quote in its owner name
    r = M.decode(Q)
    r.qr = r.ra = True
    from dnsbox.wire.rr import RR

    rdata = rd_decode(T.A, b"\xc0\x00\x02\x50", 0, 4)
    r.answer.append(RR(Name.from_text('a\\".example.'), T.A, T.CLASS_IN, 300, rdata))
    text = dnsjson.render(M.encode(r)).decode()
    assert text.startswith('{"Status": 0, "TC": false, "RD": true, "RA": true, "AD": false')
    assert '"Question": [{"name": "www.example.com.", "type": 1}]' in text
    assert '"Answer": [{"name": "a\\\\\\".example.", "type": 1, "TTL": 300, ' \
           '"data": "192.0.2.80"}]' in text
    assert dnsjson.render(b"junk").startswith(b'{"Status": 2')


def test_route_json_paths_and_wire():
    assert doh.route(b"GET", b"/resolve", b"name=x.example", b"", b"", b"", EP)[1:] == (
        doh.JSON, 0)
    assert doh.route(b"GET", b"/resolve", b"", b"", b"", b"", EP)[1:] == (doh.JSON, 400)
    assert doh.route(b"GET", b"/resolve", b"name=x", b"", b"", b"", b"")[2] == doh.NOT_MINE
    assert doh.route(b"POST", EP, b"", b"application/dns-message", b"", Q, EP) == (
        Q, doh.WIRE, 0)
    assert doh.route(b"PUT", EP, b"", b"", b"", b"", EP)[2] == 405
    assert doh.route(b"GET", b"/other", b"", b"", b"", b"", EP)[2] == doh.NOT_MINE
