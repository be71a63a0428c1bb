"""Response rate limiting end to end: the frozen host firmware (build/host/dnsbox) flooded with
identical queries from loopback (bounded in count and time, paced so that no socket buffer
overflows). The reference behaviour is NSD's RRL (rrl-ratelimit, rrl-slip, prefix /24): past
the rate a second, every rrl-slip-th response goes out as header + question with TC=1 and the
rest are dropped; TCP is never limited; rrl-ratelimit=0 answers all. The bands are computed from
the flood's own duration (a loaded machine only stretches it), never from the speed."""
import socket

import dns.message
import dns.query
import dns.rcode
import pytest

from bench_rrl import flood, query
from tests.host.fakeupstream import FakeUpstream
from tests.host.test_forwarder import Resolver

RATE = 20  # rrl-ratelimit= of these tests: small, so a short flood shows it
COUNT = 600  # queries in one flood
FLOOD_S = 1.5  # over this long (400 a second)
SPILL_S = 0.5  # the server may see the flood this much longer than the sender did
Q_TIMEOUT_S = 4


def band(out):
    """The full answers one bucket may give for a flood: at least one second's worth (the
    flood lasts over a second at many times the rate), at most the rate for every second the
    server may have seen it in."""
    seconds = int(out["elapsed"] + SPILL_S) + 2
    return RATE, RATE * seconds


def check_slip(out, slip=2):
    """Of the limited queries every slip-th got a TC reply and the rest none."""
    limited = out["sent"] - out["answered"]
    assert abs(out["tc"] - limited // slip) <= 1, out
    assert abs(out["none"] - (limited - limited // slip)) <= 1, out
    assert out["longer"] == 0, out  # a TC reply is never longer than the query


@pytest.fixture(scope="module")
def auth():
    r = Resolver(["mode=auth", "rrl-ratelimit=%d" % RATE])
    yield r
    r.stop()


def test_identical_queries_past_the_rate_are_dropped_or_truncated(auth):
    out = flood(auth.port, [query("www.example.com.", 1)], COUNT, FLOOD_S)
    lo, hi = band(out)
    assert lo <= out["answered"] <= hi, (out, lo, hi)
    check_slip(out)
    assert any("rrl: limiting responses to 127.0.0.0/24 (positive www.example.com.) at 20/s"
               in x for x in auth.lines), auth.lines


def test_tcp_is_never_limited(auth):
    flood(auth.port, [query("mail.example.com.", 1)], 200, 0.3)
    for _ in range(3 * RATE):  # more than a second's rate, during the limiting
        m = dns.query.tcp(dns.message.make_query("mail.example.com.", "A"), "127.0.0.1",
                          port=auth.port, timeout=Q_TIMEOUT_S)
        assert m.rcode() == 0 and m.answer and not m.flags & 0x0200


def test_random_names_of_one_zone_share_the_apex_bucket(auth):
    wires = [query("r%d.example.com." % i, 1) for i in range(COUNT)]  # NXDOMAIN, as NSD
    out = flood(auth.port, wires, COUNT, FLOOD_S)
    lo, hi = band(out)
    assert lo <= out["answered"] <= hi, (out, lo, hi)
    assert out["rcodes"] == {dns.rcode.NXDOMAIN: out["answered"] + out["tc"]}


def test_rate_limit_zero_answers_all():
    r = Resolver(["mode=auth", "rrl-ratelimit=0"])
    try:
        out = flood(r.port, [query("www.example.com.", 1)], COUNT, FLOOD_S)
        assert out["answered"] == COUNT and out["tc"] == 0, out
        assert any("rrl: off" in x for x in r.lines)
    finally:
        r.stop()


def test_resolver_limits_outsiders_only():
    up = FakeUpstream()
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port,
                  "allow=127.0.0.1/32", "rrl-ratelimit=%d" % RATE])
    try:
        wire = query("www.example.com.", 1)  # a compiled-in zone: answered to everyone
        mine = flood(r.port, [wire], COUNT, FLOOD_S)
        assert mine["answered"] == COUNT, mine  # allow=: not limited
        other = flood(r.port, [wire], COUNT, FLOOD_S, source="127.0.0.2")
        lo, hi = band(other)
        assert lo <= other["answered"] <= hi, (other, lo, hi)
        check_slip(other)
        refused = flood(r.port, [query("ok.example.", 1)], COUNT, FLOOD_S, source="127.0.0.3")
        assert lo <= refused["answered"] <= RATE * (int(refused["elapsed"] + SPILL_S) + 2)
        assert set(refused["rcodes"]) == {dns.rcode.REFUSED}, refused
        q = dns.message.make_query("stats.dnsbox.", "TXT", "CH")
        m = dns.query.udp(q, "127.0.0.1", port=r.port, timeout=Q_TIMEOUT_S)
        words = dict(w.decode().split("=") for w in m.answer[0][0].strings)
        assert int(words["rrl_dropped"]) >= other["none"] and int(words["rrl_slipped"]) > 0
    finally:
        r.stop()
        up.stop()


def test_flood_helper_counts_what_it_sees():
    """The counting itself, against a trivial loopback responder: every other query answered,
    one reply in three truncated (so a miscount cannot pass the tests above)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.2)
    import threading

    stop = []

    def serve():
        n = 0
        while not stop:
            try:
                data, peer = s.recvfrom(512)
            except OSError:
                continue
            n += 1
            if n % 2:
                reply = bytearray(data)
                reply[2] |= 0x80 | (2 if n % 3 == 0 else 0)
                s.sendto(bytes(reply), peer)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        out = flood(s.getsockname()[1], [query("a.example.", 1)], 60, 0.3)
    finally:
        stop.append(1)
        t.join(2)
        s.close()
    assert (out["answered"], out["tc"], out["none"]) == (20, 10, 30), out
