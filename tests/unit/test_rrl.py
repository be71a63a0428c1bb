"""Response rate limiting (dnsbox.auth.rrl): classification of response bytes as NSD's RRL
classifies (rrl.c rrl_classify: the class and the name of the bucket), the buckets on a fake
clock (rate a second, slip, prefixes, classes, whitelist, allowed clients), the log lines.
The auth server's real responses: test_rrl_auth.py (it needs the zone compiler)."""
import struct

from dnsbox.auth import rrl
from dnsbox.config import parse
from dnsbox.config import serving
from tests.unit.helpers import unhex

APEX = b"\x07example\x03com\x00"
WWW = b"\x03www" + APEX


def wire(text):
    out = b""
    for label in text.rstrip(".").split("."):
        out += bytes((len(label),)) + label.encode()
    return out + b"\x00"


def rr(owner, rtype, rdata=b"\x00\x00\x00\x00"):
    return owner + struct.pack(">HHIH", rtype, 1, 300, len(rdata)) + rdata


def resp(qname, qtype=1, rcode=0, aa=True, an=(), ns=(), ar=(), qid=0x4242):
    """A response: header, the question, records given as bytes."""
    flags = 0x8000 | (0x0400 if aa else 0) | 0x0100 | rcode
    h = struct.pack(">HHHHHH", qid, flags, 1, len(an), len(ns), len(ar))
    return h + qname + struct.pack(">HH", qtype, 1) + b"".join(an) + b"".join(ns) + b"".join(ar)


SOA_RDATA = b"\xc0\x0c" * 2 + b"\x00" * 20  # names by pointer, serials and times


def v4(ip, port=53):
    """MicroPython's peer: a raw sockaddr_in (family little-endian, port and address in
    network order)."""
    return b"\x02\x00" + struct.pack(">H", port) + bytes(int(x) for x in ip.split(".")) + \
        bytes(8)


def v6(addr16, port=53):
    return b"\x0a\x00" + struct.pack(">H", port) + bytes(4) + addr16 + bytes(4)


def limiter(rate=5, slip=2, size=4096, **kw):
    lines = []
    lim = rrl.Limiter(rate, slip, 24, 56, size, log=lines.append, **kw)
    lim.lines = lines
    return lim


def flood(lim, r, peer, n, now):
    """(sent as is, sent truncated, dropped) of n copies of r to peer at now (ms)."""
    full = tc = dropped = 0
    for _ in range(n):
        out = lim.limit(r, peer, now)
        if out is None:
            dropped += 1
        elif out == r:
            full += 1
        else:
            assert out[2] & 2
            tc += 1
    return full, tc, dropped


# --- classification ------------------------------------------------------------------------
def test_positive_answer_is_counted_by_its_name_without_case():
    r = resp(b"\x03WwW\x07ExAmple\x03com\x00", an=[rr(b"\xc0\x0c", 1)])
    assert rrl.classify(r) == (rrl.POSITIVE, WWW)
    assert rrl._key(r, None) == ((hash(WWW) & 0xFFFFF) << 9) | rrl.POSITIVE


def test_qtype_classes_any_rrsig_dnskey():
    for qtype, cls in ((255, rrl.ANY), (46, rrl.RRSIG), (48, rrl.DNSKEY)):
        r = resp(WWW, qtype, an=[rr(b"\xc0\x0c", qtype)])
        assert rrl.classify(r) == (cls, WWW)
        assert rrl._key(r, None) == ((hash(WWW) & 0xFFFFF) << 9) | cls


def test_nxdomain_and_nodata_count_by_the_apex():
    soa = rr(b"\xc0\x13", 6, SOA_RDATA)  # owner: pointer to "example.com" in the question
    nx = resp(b"\x06nosuch" + APEX, rcode=3, ns=[soa])
    assert rrl.classify(nx) == (rrl.NXDOMAIN, APEX)
    other = resp(b"\x03zzz" + APEX, rcode=3, ns=[rr(b"\xc0\x10", 6, SOA_RDATA)])
    assert rrl._key(nx, None) == rrl._key(other, None)  # random names: one bucket
    nodata = resp(WWW, 15, ns=[rr(b"\xc0\x10", 6, SOA_RDATA)])
    assert rrl.classify(nodata) == (rrl.NODATA, APEX)


def test_the_soa_is_found_behind_other_authority_records():
    # DO answers: NSEC records may come first (NSD's order for NXDOMAIN)
    nsec = rr(b"\x01a" + APEX, 47, b"\x00\x00\x06\x00\x00\x00\x00\x03")
    r = resp(b"\x06nosuch" + APEX, rcode=3, ns=[nsec, rr(b"\xc0\x13", 6, SOA_RDATA)])
    assert rrl.classify(r) == (rrl.NXDOMAIN, APEX)
    # after a CNAME in the answer section
    soa = rr(b"\xc0\x0f", 6, SOA_RDATA)
    r = resp(b"\x02cn" + APEX, rcode=3, an=[rr(b"\xc0\x0c", 5, b"\x02xx\xc0\x0f")], ns=[soa])
    assert rrl.classify(r) == (rrl.NXDOMAIN, APEX)


def test_referral_counts_by_the_delegation():
    sub = b"\x03sub" + APEX
    r = resp(b"\x01x" + sub, aa=False, ns=[rr(b"\xc0\x0e", 2, b"\x02ns\xc0\x0e")])
    assert rrl.classify(r) == (rrl.REFERRAL, sub)
    # the same shape with AA set is an authoritative NODATA, not a referral
    r = resp(b"\x01x" + sub, aa=True, ns=[rr(b"\xc0\x0e", 6, SOA_RDATA)])
    assert rrl.classify(r)[0] == rrl.NODATA


def test_errors_count_by_the_apex_or_no_name():
    assert rrl.classify(resp(WWW, rcode=5)) == (rrl.ERROR, b"")
    r = resp(WWW, rcode=2, ns=[rr(b"\xc0\x10", 6, SOA_RDATA)])
    assert rrl.classify(r) == (rrl.ERROR, APEX)
    formerr = struct.pack(">HHHHHH", 1, 0x8001, 0, 0, 0, 0)
    assert rrl.classify(formerr) == (rrl.ERROR, b"")


def test_wildcard_by_the_hint():
    r = resp(b"\x01a\x04wild" + APEX, an=[rr(b"\xc0\x0c", 1)])
    star = b"\x01*\x04wild" + APEX
    assert rrl.classify(r, star) == (rrl.WILDCARD, star)
    assert rrl._key(r, star) == ((hash(star) & 0xFFFFF) << 9) | rrl.WILDCARD


def test_truncated_without_a_question_is_the_header():
    assert rrl.truncated(b"\x00\x01\x80\x01" + bytes(8)) == b"\x00\x01\x82\x01" + bytes(8)
    assert rrl.truncated(b"\x00\x01\x80") is None


def test_malformed_bytes_never_raise():
    seed = 12345
    base = resp(b"\x06nosuch" + APEX, rcode=3, ns=[rr(b"\xc0\x13", 6, SOA_RDATA)])
    lim = limiter(rate=3, slip=1)
    for i in range(400):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        b = bytearray(base[: seed % (len(base) + 1)])
        for _ in range(seed % 5):
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            if b:
                b[seed % len(b)] = (seed >> 8) & 255
        b = bytes(b)
        c = rrl.classify(b)
        assert c[0] in [bit for _, bit in rrl.NAMES]
        out = lim.limit(b, v4("192.0.2.1"), 1000)
        assert out is None or out == b or out[2] & 2 or len(out) <= len(b)


# --- buckets on a fake clock ----------------------------------------------------------------
def test_rate_a_second_then_slip_every_second_one():
    lim = limiter(rate=5, slip=2)
    r = resp(WWW, an=[rr(b"\xc0\x0c", 1)])
    peer = v4("192.0.2.7")
    assert flood(lim, r, peer, 25, 10000) == (5, 10, 10)
    assert flood(lim, r, peer, 3, 10999) == (0, 1, 2)  # the same second
    assert flood(lim, r, peer, 25, 11000) == (5, 10, 10)  # a new second: 5 more
    assert lim.stats == {"rrl_dropped": 22, "rrl_slipped": 21, "rrl_limited": 2}


def test_slip_zero_drops_all_and_one_truncates_all():
    r = resp(WWW, an=[rr(b"\xc0\x0c", 1)])
    assert flood(limiter(rate=2, slip=0), r, v4("192.0.2.7"), 10, 0) == (2, 0, 8)
    assert flood(limiter(rate=2, slip=1), r, v4("192.0.2.7"), 10, 0) == (2, 8, 0)


def test_a_prefix_shares_its_bucket_and_other_prefixes_do_not():
    lim = limiter(rate=4)
    r = resp(WWW, an=[rr(b"\xc0\x0c", 1)])
    assert flood(lim, r, v4("198.51.100.1"), 4, 0)[0] == 4
    assert flood(lim, r, v4("198.51.100.250", 4000), 2, 0)[0] == 0  # same /24, other port
    assert flood(lim, r, v4("198.51.101.1"), 4, 0)[0] == 4
    assert flood(lim, r, v4("203.0.113.9"), 4, 0)[0] == 4


def test_classes_and_names_have_their_own_buckets():
    lim = limiter(rate=3)
    peer = v4("192.0.2.1")
    soa = rr(b"\xc0\x10", 6, SOA_RDATA)
    for i in range(10):  # a random-name flood: all NXDOMAIN of one zone, one bucket
        flood(lim, resp(b"\x03" + ("r%02d" % i).encode() + APEX, rcode=3, ns=[soa]), peer, 1, 0)
    assert lim.stats["rrl_dropped"] + lim.stats["rrl_slipped"] == 7
    assert flood(lim, resp(WWW, an=[rr(b"\xc0\x0c", 1)]), peer, 3, 0)[0] == 3
    assert flood(lim, resp(b"\x04mail" + APEX, an=[rr(b"\xc0\x0c", 1)]), peer, 3, 0)[0] == 3


def test_ipv6_prefixes_and_cpython_peers():
    lim = limiter(rate=2)
    r = resp(WWW, an=[rr(b"\xc0\x0c", 1)])
    a = unhex("20010db8aaaabb00") + bytes(7) + b"\x01"
    b = unhex("20010db8aaaabbff") + b"\xff" * 8  # same /56
    c = unhex("20010db8aaaabc00") + bytes(8)  # the next /56
    assert flood(lim, r, v6(a), 2, 0)[0] == 2
    assert flood(lim, r, v6(b), 2, 0)[0] == 0
    assert flood(lim, r, ("2001:db8:aaaa:bb12::53", 5300, 0, 0), 1, 0)[0] == 0  # CPython form
    assert flood(lim, r, v6(c), 2, 0)[0] == 2
    assert rrl.prefix_text(v6(b), 24, 56) == "2001:db8:aaaa:bb00::/56"
    mapped = bytes(10) + b"\xff\xff" + bytes((192, 0, 2, 77))  # ::ffff:192.0.2.77
    assert rrl.prefix_text(v6(mapped), 24, 56) == "192.0.2.0/24"
    assert flood(lim, r, ("192.0.2.5", 1), 2, 0)[0] == 2
    assert flood(lim, r, v6(mapped), 1, 0)[0] == 0  # an IPv4 client: the same bucket
    assert rrl.sockaddr(("192.0.2.5", 258)) == v4("192.0.2.5", 258)


def test_whitelisted_classes_get_their_own_rate():
    nx = resp(b"\x06nosuch" + APEX, rcode=3, ns=[rr(b"\xc0\x13", 6, SOA_RDATA)])
    lim = limiter(rate=2, wl_rate=6, wl=rrl.class_bits("nxdomain,nodata"))
    assert flood(lim, nx, v4("192.0.2.1"), 10, 0)[0] == 6
    assert flood(lim, resp(WWW, an=[rr(b"\xc0\x0c", 1)]), v4("192.0.2.1"), 10, 0)[0] == 2
    free = limiter(rate=2, wl_rate=0, wl=rrl.NXDOMAIN)
    assert flood(free, nx, v4("192.0.2.1"), 50, 0)[0] == 50


def test_allowed_clients_are_not_limited_unless_asked():
    allow = [(0x7F000000, 0xFF000000), (0xC0000200, 0xFFFFFF00)]  # 127/8, 192.0.2.0/24
    r = resp(WWW, an=[rr(b"\xc0\x0c", 1)])
    lim = limiter(rate=2, nets=allow)
    assert flood(lim, r, v4("127.0.0.1"), 50, 0)[0] == 50
    assert flood(lim, r, ("192.0.2.9", 53), 50, 0)[0] == 50
    assert flood(lim, r, v4("198.51.100.1"), 50, 0)[0] == 2  # everyone else
    lim = limiter(rate=2, nets=allow, allow_rate=7)
    assert flood(lim, r, v4("127.0.0.1"), 50, 0)[0] == 7


def test_log_when_limiting_starts_not_while_it_goes_on():
    lim = limiter(rate=2)
    r = resp(WWW, an=[rr(b"\xc0\x0c", 1)])
    for second in range(5):  # a flood for 5 s: one line
        flood(lim, r, v4("192.0.2.1"), 10, second * 1000)
    assert len(lim.lines) == 1, lim.lines
    assert "192.0.2.0/24 (positive www.example.com.) at 2/s" in lim.lines[0]
    flood(lim, r, v4("192.0.2.1"), 10, 30000)  # starts again after a pause
    flood(lim, r, v4("198.51.100.1"), 10, 31000)  # and another one 1 s later: counted
    assert len(lim.lines) == 2 and "so far" in lim.lines[1]
    flood(lim, r, v4("203.0.113.1"), 10, 45000)
    assert len(lim.lines) == 3 and "1 more since the last line" in lim.lines[2]


def test_buckets_fit_the_heap():
    assert rrl.buckets(16384, 8 << 20) == 16384
    assert rrl.buckets(262144, 1 << 20) == (1 << 20) // rrl.HEAP_DIV // rrl.BUCKET_BYTES
    lim = rrl.Limiter(200, 2, 24, 56, 1000)
    assert len(lim.b) == 2000  # a second and a count per bucket: BUCKET_BYTES each


def test_a_tiny_table_still_limits():
    lim = limiter(rate=1, size=1)  # every key in one bucket: it limits more, never less
    r = resp(WWW, an=[rr(b"\xc0\x0c", 1)])
    assert flood(lim, r, v4("192.0.2.1"), 1, 0)[0] == 1
    assert flood(lim, r, v4("203.0.113.1"), 1, 0)[0] == 0


# --- settings -----------------------------------------------------------------------------
def test_settings():
    cfg = parse([], True)
    assert (cfg.rrl_rate, cfg.rrl_slip, cfg.rrl_v4, cfg.rrl_v6) == (200, 2, 24, 56)
    assert (cfg.rrl_wl_rate, cfg.rrl_allow_rate, cfg.rrl_whitelist) == (2000, 0, "")
    cfg = parse(["rrl-ratelimit=0", "rrl-slip=1", "rrl-ipv4-prefix-length=32",
                 "rrl-ipv6-prefix-length=48", "rrl-whitelist=NXDOMAIN,nodata",
                 "rrl-whitelist-ratelimit=0", "rrl-size=1024", "rrl-allow-ratelimit=50"], True)
    assert not cfg.problems, [str(p) for p in cfg.problems]
    assert (cfg.rrl_rate, cfg.rrl_slip, cfg.rrl_v4, cfg.rrl_v6, cfg.rrl_size) == (
        0, 1, 32, 48, 1024)
    assert rrl.class_bits(cfg.rrl_whitelist) == rrl.NXDOMAIN | rrl.NODATA
    assert cfg.rrl_allow_rate == 50 and cfg.rrl_wl_rate == 0
    bad = parse(["rrl-ratelimit=lots", "rrl-ipv6-prefix-length=65", "rrl-whitelist=big",
                 "rrl-size=10", "rrl-ratelimit=99999"], True)
    assert [p.key for p in bad.problems] == ["rrl-ratelimit", "rrl-ipv6-prefix-length",
                                            "rrl-whitelist", "rrl-size", "rrl-ratelimit"]
    assert not bad.fatal() and bad.rrl_rate == 200  # reported; the defaults stay


def test_settings_agree_with_the_limiter():
    assert serving.RRL_CLASSES == tuple(n for n, _ in rrl.NAMES)
    assert serving.RRL_RATE_MAX == rrl.RATE_MAX
