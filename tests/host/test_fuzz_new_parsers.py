"""Generated bad input for the parsers added with DHCP, DNS over HTTPS and zone transfer: each
must give its documented error (ValueError, an HTTP error response, a DNS error rcode) and never
raise anything else, whatever the bytes."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnsbox.auth import TCP, UDP
from dnsbox.dhcp import packet as P
from dnsbox.dhcp.server import Dhcp
from dnsbox.net import doh
from tests.unit.test_dhcp import MASK, SERVER, good_bytes, ip
from tests.unit.test_transfer import HOME, _example

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _mutations():
    base = good_bytes()
    return st.one_of(
        st.binary(max_size=600),
        st.builds(lambda cut, tail: base[:cut] + tail, st.integers(0, len(base)),
                  st.binary(max_size=80)),
        st.builds(lambda i, b: base[:i] + bytes((b,)) + base[i + 1 :],
                  st.integers(0, len(base) - 1), st.integers(0, 255)),
    )


@SETTINGS
@given(_mutations(), st.integers(0, 10**6))
def test_dhcp_bytes_decode_or_valueerror_and_the_core_copes(data, now):
    d = Dhcp(SERVER, ip("198.51.100.50"), ip("198.51.100.60"), MASK, 600)
    try:
        p = P.decode(data)
    except ValueError:
        return
    r = d.handle(p, now)
    if r is not None:
        reply, dest = r
        assert len(reply) >= P.MIN_REPLY and dest > 0
        b = bytearray(reply)
        b[0] = P.BOOTREQUEST
        assert P.decode(bytes(b)).xid == p.xid  # our replies parse


_REQ = st.sampled_from([b"GET", b"POST", b"PUT", b"", b"G\x00T"])
_PATH = st.sampled_from([b"/dns-query", b"/x", b"", b"/dns-query?dns=", b"/dns-query?dns=AAAB"])


@SETTINGS
@given(st.one_of(
    st.binary(max_size=300),
    st.builds(lambda m, p, v, h, body: m + b" " + p + b" " + v + b"\r\n" + h + b"\r\n\r\n" + body,
              _REQ, _PATH, st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/9", b""]),
              st.binary(max_size=60), st.binary(max_size=60))))
def test_doh_request_never_raises(buf):
    n, q, keep, err, _f = doh.request(buf, b"/dns-query")
    assert 0 <= n <= len(buf)
    assert q is None or err is None
    if err is not None:
        assert err.startswith(b"HTTP/1.1 ") and n > 0
    if q is not None:
        assert len(q) >= 12 and not q[2] & 0x80 and n > 0
    assert doh.min_ttl(buf) >= 0


def _xfr_queries():
    from tests.unit.test_transfer import _ixfr
    from tests.unit.authhelp import T, query

    bases = [query("example.com.", T.AXFR, id=0x1234), _ixfr("example.com.", 5, id=0x1234)]
    return st.one_of(
        st.builds(lambda b, i, v: b[:i] + bytes((v,)) + b[i + 1 :], st.sampled_from(bases),
                  st.integers(2, 40), st.integers(0, 255)),
        st.builds(lambda b, cut: b[:cut], st.sampled_from(bases), st.integers(12, 60)),
        st.builds(lambda t: b"\x12\x34\x00\x00\x00\x01" + t, st.binary(min_size=6, max_size=80)),
    )


@SETTINGS
@given(_xfr_queries(), st.sampled_from([UDP, TCP]))
def test_transfer_requests_from_mutated_bytes(q, proto):
    # an answer, a stream of messages, or nothing; never an exception
    srv = _example()
    r = srv.handle_tcp(q, HOME) if proto == TCP else srv.handle(q, UDP)
    if r is not None and not isinstance(r, (bytes, bytearray)):
        for m in r:  # a transfer: every message is a response with our ID
            assert m[:2] == b"\x12\x34" and m[2] & 0x80
