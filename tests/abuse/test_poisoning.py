"""Cache poisoning attempts against both resolver modes.

Recursing (tests/abuse/evilnet.py; dnsbox and Unbound 1.17 from the same root, both checked):
- spoofed answers that arrive before the right one: wrong ID, a burst of 50 wrong IDs, wrong
  question, from another port, from another address: the right answer (192.0.2.11) is served
  and cached, never 6.6.6.6;
- a server that adds out-of-bailiwick records (answers for www.victim. and other.evil.) and
  injects NS records for its parent (evil.), the root and victim., with glue naming the
  attacker's server: the client gets the one record it asked for; afterwards those names are
  asked of their real servers (counted there), and the attacker's server is never asked.
Unbound serves no poison either (checked in each test) and the right answer in every case but
one: the answer to another question, from the server asked, fails Unbound's try, and as every
try meets one, it answers SERVFAIL; dnsbox ignores it and takes the right answer after it.

Forwarding (the fake upstream of tests/host/fakeupstream.py, extended in upstreams.py): the
poison from another address (same port), and a burst of 50 wrong IDs before the right answer.
(Wrong ID, wrong question, wrong port, junk bytes and out-of-bailiwick extras of the forwarder
are tests/host/test_forwarder.py's test_poisoning_attempts_rejected.) Unbound forwarding to the
same fake is the reference: it serves the right answer in both cases too.
"""
import dns.message
import dns.query
import dns.rcode
import pytest

from tests.abuse import refs
from tests.abuse.upstreams import SpoofingUpstream

SPOOFED = ("wrongid", "idflood", "wrongq", "wrongport", "wrongsrc")


def ask(port, name, rdtype="A"):
    q = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
    return dns.query.udp(q, "127.0.0.1", port=port, timeout=12)


def records(m):
    return sorted("%s %s" % (rr.name.to_text().lower(), a.to_text()) for rr in m.answer
                  for a in rr)


# Unbound's outcomes where it differs: an answer to another question from the server asked
# fails its try, and every try meets the same (five asks, then SERVFAIL, no poison served)
UNBOUND = {"wrongq": "SERVFAIL"}


@pytest.mark.parametrize("kind", SPOOFED)
def test_spoofed_answers_before_the_right_one(recursors, kind):
    name = "%s.spoof.evil." % kind
    for who, port, _src in recursors.both():
        for _ in range(2):  # the answer, then the cached answer
            m = ask(port, name)
            assert "6.6.6.6" not in m.to_text(), (who, kind, m.to_text())
            if who == "unbound" and kind in UNBOUND:
                assert dns.rcode.to_text(m.rcode()) == UNBOUND[kind], (who, m.to_text())
                continue
            assert records(m) == [name + " 192.0.2.11"], (who, kind, m.to_text())


def test_injected_records_are_not_used(recursors):
    net = recursors.net
    for who, port, src in recursors.both():
        m = ask(port, "www.child.evil.")
        assert records(m) == ["www.child.evil. 192.0.2.9"], (who, m.to_text())
        assert not m.authority or all(rr.name.to_text().lower().endswith("child.evil.")
                                      for rr in m.authority), (who, m.to_text())
        for name, addr, server in (("www.victim.", "192.0.2.3", 3),
                                   ("other.evil.", "192.0.2.2", 2)):
            mark = net.mark()
            m = ask(port, name)
            assert records(m) == [name + " " + addr], (who, m.to_text())
            asked = net.queries(mark, src=src, server=server, under=name)
            assert asked, "%s: %s not asked of its own server" % (who, name)
        mark = net.mark()
        m = ask(port, "fresh.evil.")  # a new name under the injected parent: its real server
        assert m.rcode() == dns.rcode.NXDOMAIN, (who, m.to_text())
        assert net.queries(mark, src=src, server=2, under="fresh.evil.")
        m = ask(port, "nosuchtld.")  # and the injected root NS: the real root
        assert m.rcode() == dns.rcode.NXDOMAIN, (who, m.to_text())
        stolen = [x for x in net.queries(0, src=src, server=10)
                  if not (x[2] == "attacker" or x[2].endswith(".attacker"))]
        assert not stolen, (who, stolen)


@pytest.fixture(scope="module")
def forwarders():
    up = SpoofingUpstream()
    started = []
    try:
        fw = refs.dnsbox(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port])
        started.append(fw)
        ub = refs.unbound(["access-control: 127.0.0.0/8 allow", "forward-zone:",
                           '  name: "."', "  forward-addr: 127.0.0.1@%d" % up.port])
        started.append(ub)
        yield up, [("dnsbox", fw.port), ("unbound", ub.port)]
    finally:
        refs.stop(*started)
        up.stop()


@pytest.mark.parametrize("kind", ["wrongsrc", "idflood"])
def test_forwarder_spoofed_answers(forwarders, kind):
    up, servers = forwarders
    for who, port in servers:
        name = "%s-%s.example." % (kind, who)
        for _ in range(2):
            m = ask(port, name)
            assert records(m) == [name + " 192.0.2.1"], (who, m.to_text())
        assert up.count(name) == 1, (who, up.count(name))  # asked once, then cached
