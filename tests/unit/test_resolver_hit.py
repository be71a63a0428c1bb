"""The serving loop's fast path (dnsbox.net.upstream.Resolver.hit): which queries the cache's reply
buffer answers directly, and which go on to the driver. No sockets: the glue is attached to a
bare object in place of the serving loop (it only sets the loop's hooks on it), and hit() is
called as the loop calls it, with a raw sockaddr_in peer (MicroPython's form) or an (ip, port)
tuple (CPython's): the same path on both interpreters."""
from dnsbox.net import server as net
from dnsbox.net import upstream
from dnsbox.wire import edns as E
from dnsbox.wire import message as M
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from tests.unit.test_resolver import A, fwd, query, reply, take

LOOP_PEER = b"\x02\x00\x13\x88\x7f\x00\x00\x01" + bytes(8)  # 127.0.0.1 port 5000
FOREIGN_PEER = b"\x02\x00\x13\x88\xc6\x33\x64\x07" + bytes(8)  # 198.51.100.7


class Loop:
    """Where the glue sets the serving loop's hooks (handler, with_peer, timer, fast)."""

    def __init__(self):
        self.fast = None
        self.periodic = []


def cached_forwarder():
    """A forwarder whose cache holds www.example.org. A (TTL 300), learnt at time 0."""
    f = fwd()
    assert f.query(query("www.example.org."), net.UDP, "c", 0x7F000001, 0) is None
    send = take(f, "send")[0]
    f.upstream_reply(send[1], reply(send, [A("www.example.org.", 300, (192, 0, 2, 80))]),
                     (send[2], send[3]), 0)
    f.actions = []
    return f


def test_fast_path_answers_plain_hits_and_passes_the_rest_on():
    f = cached_forwarder()
    loop = Loop()
    r = upstream.Resolver(f, loop)
    assert loop.handler == r.handle and loop.timer is r and loop.with_peer
    assert loop.fast == r.hit and loop.periodic == [r.reap]
    r._now = 2500  # the clock reading of the poll round
    out = r.hit(query("www.example.org.", qid=0x4242), LOOP_PEER)
    m = M.decode(bytes(out))
    assert m.id == 0x4242 and m.qr and m.ra and m.rd and m.rcode == 0
    assert [x.to_text() for x in m.answer] == ["www.example.org. 298 IN A 192.0.2.80"]
    assert r.hit(query("www.example.org.", qid=7), LOOP_PEER) is out  # one buffer, reused
    assert r.hit(query("www.example.org.", qid=8), ("127.0.0.1", 5000)) is out  # CPython's peer
    assert r.hit(query("www.example.org."), ("198.51.100.7", 5000)) is None
    # the handler's turn: a foreign client, EDNS, RD clear, another case, a miss, junk
    assert r.hit(query("www.example.org."), FOREIGN_PEER) is None
    assert r.hit(query("www.example.org.", rd=False), LOOP_PEER) is None
    assert r.hit(query("WWW.example.org."), LOOP_PEER) is None
    assert r.hit(query("other.example.org."), LOOP_PEER) is None
    assert r.hit(query("www.example.org.", T.AAAA), LOOP_PEER) is None
    assert r.hit(b"\x00\x01\x01\x00\x00\x01", LOOP_PEER) is None
    resp = bytearray(query("www.example.org."))
    resp[2] |= 0x80  # a response sent to us: never answered
    assert r.hit(bytes(resp), LOOP_PEER) is None
    r._now = 300000  # expired: gone from the cache, the forwarder asks upstream again
    assert r.hit(query("www.example.org."), LOOP_PEER) is None
    assert len(f.cache) == 0


def test_fast_path_with_a_bare_opt_record():
    f = cached_forwarder()
    r = upstream.Resolver(f, Loop())
    r._now = 1500
    out = r.hit(query("www.example.org.", qid=9, edns=E.Edns(4096)), LOOP_PEER)
    m = M.decode(bytes(out))
    assert m.id == 9 and m.edns is not None and m.edns.payload == 1232 and not m.edns.do
    assert [x.to_text() for x in m.answer] == ["www.example.org. 299 IN A 192.0.2.80"]
    plain = r.hit(query("www.example.org."), LOOP_PEER)
    assert M.decode(bytes(plain)).edns is None and len(out) == len(plain) + 11
    r._now = 4500  # both buffers counted down together
    m = M.decode(bytes(r.hit(query("www.example.org.", edns=E.Edns(512, 0, True)), LOOP_PEER)))
    assert [x.ttl for x in m.answer] == [296] and m.edns.payload == 1232
    assert [x.ttl for x in M.decode(bytes(r.hit(query("www.example.org."), LOOP_PEER))).answer] \
        == [296]
    # the general path's: options (a cookie), another EDNS version, anything after the OPT
    cookie = E.Edns(1232, 0, False, 0, [E.Cookie(bytes(8))])
    assert r.hit(query("www.example.org.", edns=cookie), LOOP_PEER) is None
    assert r.hit(query("www.example.org.", edns=E.Edns(1232, 1)), LOOP_PEER) is None
    assert r.hit(query("www.example.org.", edns=E.Edns(1232)) + b"\x00", LOOP_PEER) is None
    assert upstream.opt_limit(query("x.", edns=E.Edns(100))) == 512
    assert upstream.opt_limit(query("x.", edns=E.Edns(1000))) == 1000
    assert upstream.opt_limit(query("x.", edns=E.Edns(65535))) == 1232


def test_refused_for_foreign_clients_through_the_handler():
    f = cached_forwarder()
    r = upstream.Resolver(f, Loop())
    r._now = 1000
    out = r.handle(query("www.example.org."), net.UDP, ("198.51.100.7", 5000))
    m = M.decode(out)
    assert m.rcode == 5 and m.answer == []  # REFUSED: never an open resolver
    out = r.handle(query("www.example.org."), net.UDP, ("127.0.0.1", 5000))
    assert [x.to_text() for x in M.decode(out).answer] == [
        "www.example.org. 299 IN A 192.0.2.80"]
    assert Name.from_text("www.example.org.").lc + b"\x00\x01\x00\x01" in f.cache.lru_keys()
