"""The resolver's driver (dnsbox.resolver.driver) recursing, sans-I/O: client query bytes in,
actions out, performed against the in-memory mini-Internet of iterhelp."""

from dnsbox.resolver.driver import MAX_RESOLVE_MS
from dnsbox.wire import edns as E
from dnsbox.wire import message as M
from dnsbox.wire import rcode as R
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from tests.unit.iterhelp import Net, driver

LOOP = 0x7F000001  # 127.0.0.1 as an int
NETS = [(0x7F000000, 0xFF000000)]


class _A:  # what Net.answer reads from an Ask
    def __init__(self, ip, wire, proto):
        self.ip = ip
        self.wire = wire
        self.proto = proto


def make(size=100):
    return driver(size)


def q(name, qtype=T.A, id=0x4242, edns=True, qclass=T.CLASS_IN):
    return M.encode_query(Name.from_text(name), qtype, qclass, id, True,
                          E.Edns(1232) if edns else None)


def drive(rec, net, limit=200):
    """Perform sends until none is pending; returns the client answers [(client, bytes)]."""
    out = []
    for _ in range(limit):
        acts = rec.actions
        rec.actions = []
        sends = [a for a in acts if a[0] == "send"]
        out += [(a[1], a[3]) for a in acts if a[0] == "answer"]
        if not sends and not rec.inflight:
            return out
        if not sends:
            net.now = rec.next_deadline()
            rec.tick(net.now)
            continue
        for _k, tok, ip, port, wire, proto in sends:
            r = net.answer(_A(ip, wire, proto))
            net.sent.append(ip)
            if r is None:
                continue  # the deadline passes: tick
            net.now += 10
            rec.upstream_reply(tok, r, (ip, port), net.now)
    raise AssertionError("not finished")


def test_resolves_and_answers_the_waiting_client():
    rec = make()
    net = Net()
    assert rec.query(q("WwW.Example.TEST."), 0, "c1", LOOP, 0) is None
    answers = drive(rec, net)
    assert len(answers) == 1 and answers[0][0] == "c1"
    m = M.decode(answers[0][1])
    assert m.id == 0x4242 and m.qr and m.ra and m.rd and m.rcode == R.NOERROR
    assert m.question[0].name.wire == b"\x03WwW\x07Example\x04TEST\x00"  # client's case
    assert [r.to_text().lower() for r in m.answer] == ["www.example.test. 300 in a 192.0.2.1"]
    assert m.edns is not None


def test_cache_answers_at_once_without_upstream_queries():
    rec = make()
    net = Net()
    rec.query(q("www.example.test."), 0, "c1", LOOP, 0)
    drive(rec, net)
    n = rec.stats["upstream"]
    r = rec.query(q("www.example.test.", id=7), 0, "c2", LOOP, net.now + 1000)
    assert r is not None and M.decode(r).id == 7 and rec.stats["upstream"] == n
    assert rec.actions == []
    r = rec.query(q("www.example.test.", edns=False), 0, "c2", LOOP, net.now + 1000)
    assert M.decode(r).answer[0].ttl == 299  # TTL counted down


def test_identical_questions_in_flight_are_resolved_once():
    rec = make()
    net = Net()
    rec.query(q("www.oob.test.", id=1), 0, "c1", LOOP, 0)
    sends = len([a for a in rec.actions if a[0] == "send"])
    assert rec.query(q("www.oob.test.", id=2), 0, "c2", LOOP, 0) is None
    assert rec.stats["joined"] == 1 and sends == 1
    answers = drive(rec, net)
    assert sorted(c for c, _b in answers) == ["c1", "c2"]
    assert sorted(M.decode(b).id for _c, b in answers) == [1, 2]


def test_foreign_client_refused():
    rec = make()
    r = rec.query(q("www.example.test."), 0, "c", 0x0A000001, 0)
    assert M.decode(r).rcode == R.REFUSED and rec.actions == []


def test_failure_answered_with_ede_and_cached_briefly():
    rec = make()
    net = Net()
    rec.query(q("www.a.test."), 0, "c1", LOOP, 0)
    (c, b), = drive(rec, net)
    m = M.decode(b)
    assert m.rcode == R.SERVFAIL
    ede = [o for o in m.edns.options if o.code == 15]
    assert ede and ede[0].info_code == 22
    n = rec.stats["upstream"]
    r = rec.query(q("www.a.test."), 0, "c2", LOOP, net.now + 1000)
    assert M.decode(r).rcode == R.SERVFAIL and rec.stats["upstream"] == n  # RFC 9520
    assert rec.query(q("www.a.test."), 0, "c3", LOOP, net.now + 6000) is None  # expired: again
    assert rec.stats["upstream"] > n


def test_question_unresolved_for_too_long_gets_servfail():
    rec = make()
    rec.query(q("www.example.test."), 0, "c1", LOOP, 0)
    rec.actions = []  # nothing ever answers
    rec.tick(MAX_RESOLVE_MS)
    answers = [a for a in rec.actions if a[0] == "answer"]
    assert len(answers) == 1 and M.decode(answers[0][3]).rcode == R.SERVFAIL
    assert not rec.inflight and not rec.tokens
    assert ("done", 1) in rec.actions


def test_reply_from_elsewhere_is_ignored():
    rec = make()
    rec.query(q("www.example.test."), 0, "c1", LOOP, 0)
    _k, tok, ip, port, wire, proto = rec.actions[-1]
    r = Net().answer(_A(ip, wire, proto))
    rec.upstream_reply(tok, r, ("10.9.9.9", port), 5)
    assert rec.stats["ignored"] == 1 and rec.inflight
    rec.upstream_reply(tok + 99, r, (ip, port), 5)  # unknown token: nothing happens
    assert rec.stats["ignored"] == 1


def test_stats_for_allowed_clients():
    rec = make()
    r = M.decode(rec.query(q("stats.dnsbox.", T.TXT, qclass=T.CLASS_CH), 0, "c", LOOP, 0))
    words = [s.decode() for s in r.answer[0].rdata.strings]
    assert "upstream=0" in words and "started=0" in words
    r = M.decode(rec.query(q("stats.dnsbox.", T.TXT, qclass=T.CLASS_CH), 0, "c", 0x0A000001, 0))
    assert r.rcode == R.REFUSED
