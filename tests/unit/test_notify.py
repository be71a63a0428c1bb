"""NOTIFY out (dnsbox.auth.notify): the message (RFC 1996 3.7), retries with fresh IDs and
growing waits, answers matched by ID, opcode and source, and giving up."""
from dnsbox.auth.notify import FIRST_WAIT_MS, NOTIFY_TRIES, Notifier
from dnsbox.wire import message as M
from dnsbox.wire import types as T
from tests.unit.authhelp import server
from tests.unit.test_resolver import Rng

SEC1 = ("192.0.2.53", 53)
SEC2 = ("192.0.2.54", 5300)


def answer_to(wire, rcode=0, opcode=4):
    b = bytearray(wire[:12])
    b[2] = 0x80 | (opcode << 3) | 0x04
    b[3] = rcode
    return bytes(b)


def test_one_notify_per_zone_and_secondary():
    n = Notifier(server().db, [SEC1, SEC2], Rng())
    sent = n.due(0)
    assert [x[0] for x in sent] == [SEC1, SEC2]
    m = M.decode(sent[0][1])
    assert m.opcode == 4 and m.aa and not m.qr and not m.rd
    assert [(q.name.to_text(), q.qtype) for q in m.question] == [("example.com.", T.SOA)]
    assert [r.rtype for r in m.answer] == [T.SOA] and m.answer[0].rdata.serial == 2026112501
    assert sent[0][1][:2] != sent[1][1][:2]  # each its own ID
    assert n.due(FIRST_WAIT_MS - 1) == [] and n.busy()


def test_answers_match_id_opcode_and_source():
    n = Notifier(server().db, [SEC1], Rng())
    wire = n.due(0)[0][1]
    assert n.reply(answer_to(wire), SEC2) is None  # another source
    assert n.reply(answer_to(b"\x00\x00" + wire[2:]), SEC1) is None  # another ID
    assert n.reply(answer_to(wire, opcode=0), SEC1) is None  # not a NOTIFY answer
    assert n.reply(wire, SEC1) is None  # not an answer at all
    job = n.reply(answer_to(wire), SEC1)
    assert job is not None and job[5] == "answered" and not n.busy()
    assert n.due(100000) == []


def test_resends_with_new_ids_then_gives_up():
    n = Notifier(server().db, [SEC1], Rng())
    ids = []
    now = 0
    for i in range(NOTIFY_TRIES):
        sent = n.due(now)
        assert len(sent) == 1, i
        ids.append(sent[0][1][:2])
        now += FIRST_WAIT_MS << i
        assert n.due(now - 1) == []
    assert len(set(ids)) == NOTIFY_TRIES
    assert n.due(now) == [] and n.jobs[0][5] == "unanswered" and not n.busy()
    job = n.reply(answer_to(ids[-1] + b"\x00" * 10), SEC1)
    assert job is None  # too late: given up


def test_an_error_answer_ends_the_job():
    n = Notifier(server().db, [SEC1], Rng())
    wire = n.due(0)[0][1]
    assert n.reply(answer_to(wire, rcode=5), SEC1)[5] == "answered REFUSED"
    assert not n.busy()
