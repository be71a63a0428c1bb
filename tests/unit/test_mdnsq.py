"""The .local question by multicast DNS (dnsbox.resolver.mdnsq): the query it
sends, the answers it takes (source port 5353 on an allowed network, its ID and question), the
second try, and NXDOMAIN when nobody answers."""
from dnsbox.resolver import mdnsq
from dnsbox.resolver.ask import Ask, Result
from dnsbox.wire import message as M
from dnsbox.wire import rcode as RC
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from tests.unit.test_resolver import A, Rng

NETS = [(0xC6336400, 0xFFFFFF00)]  # 198.51.100.0/24
PEER = ("198.51.100.2", 5353)


def _query():
    return mdnsq.MdnsQuery(Name.from_text("printer.local."), T.A, Rng(), NETS)


def _answer(ask, qname="printer.local.", addr=(198, 51, 100, 2)):
    q = M.decode(ask.wire)
    r = M.make_response(q)
    r.aa = True
    r.question = [M.Question(Name.from_text(qname), T.A)]
    r.answer = [A(qname, 10, addr)]
    return M.encode(r)


def test_query_and_answer():
    m = _query()
    ask = m.start(0)
    assert isinstance(ask, Ask) and (ask.ip, ask.port) == ("224.0.0.251", 5353)
    q = M.decode(ask.wire)
    assert not q.rd and q.question[0].name == Name.from_text("printer.local.")
    res = m.reply(ask, _answer(ask, "PRINTER.local."), PEER, 5)
    assert isinstance(res, Result) and res.rcode == 0 and res.life == 10
    assert [r.to_text() for r in res.answer] == ["printer.local. 10 IN A 198.51.100.2"]


def test_answers_it_does_not_take():
    m = _query()
    ask = m.start(0)
    good = _answer(ask)
    assert m.reply(ask, good, ("198.51.100.2", 5354), 1) is None  # not port 5353
    assert m.reply(ask, good, ("203.0.113.9", 5353), 1) is None  # not an allowed network
    assert m.reply(ask, b"\x00\x00" + good[2:], PEER, 1) is None  # another ID
    assert m.reply(ask, _answer(ask, "scanner.local."), PEER, 1) is None  # another question
    assert m.reply(ask, good[:20], PEER, 1) is None  # cut
    assert isinstance(m.reply(ask, good, PEER, 1), Result)


def test_second_try_then_nxdomain():
    m = _query()
    first = m.start(0)
    second = m.failed(first, 500, "timed out")
    assert isinstance(second, Ask) and second.wire[:2] != first.wire[:2]  # a new ID
    assert m.reply(first, _answer(first), PEER, 600) is None  # the first one's answer: too late
    res = m.failed(second, 1000, "timed out")
    assert isinstance(res, Result) and res.rcode == RC.NXDOMAIN and res.life == 0
    assert m.failed(second, 1500, "timed out") is None
