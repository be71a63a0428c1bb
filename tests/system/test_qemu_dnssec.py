"""DNSSEC validation in the armhf image booted in qemu-system-arm: the guest forwards to a
non-validating Unbound on the host (which recurses the signed tree of tools/dnssecbed.py) and
validates itself with the tree's trust anchor: a signed name gets AD, a corrupted one SERVFAIL
with EDE 6. qemu and the servers are started and stopped by PID; every wait is bounded."""
import os
import sys

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import dnssecbed  # noqa: E402
import testnet  # noqa: E402
from ports import free_port  # noqa: E402
from tests.system.test_qemu_boot import boot  # noqa: E402

HOST = "10.0.2.2"  # the host's loopback as the guest sees it (qemu user network)
QUERY_TIMEOUT_S = 15.0  # the guest validates under TCG: several key questions


@pytest.fixture(scope="module")
def guest():
    bed = dnssecbed.DnssecBed().start()
    up = None
    g = None
    try:
        up = testnet.Unbound(free_port(), bed.hints, run_dir=os.path.join(bed.dir, "qemu-ub"))
        g, port = boot(["mode=resolver", "server=%s#%d" % (HOST, up.port),
                        "trust-anchor=" + bed.anchor], "qemu-dnssec.log", "dnsbox ready")
        yield g, port
    finally:
        if g is not None:
            g.stop()
        if up is not None:
            up.stop()
        bed.stop()


def ask(port, name):
    q = dns.message.make_query(name, "A", want_dnssec=True)
    q.flags |= dns.flags.AD
    return dns.query.udp(q, "127.0.0.1", port=port, timeout=QUERY_TIMEOUT_S)


def test_signed_name_gets_ad_in_the_guest(guest):
    g, port = guest
    r = ask(port, "www.secure.")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AD, g.console()[-2000:]
    assert [x.to_text() for s in r.answer for x in s if s.rdtype == 1] == ["192.0.2.1"]
    r = ask(port, "www.corrupt.")
    ede = [o.code for o in r.options if o.otype == dns.edns.EDE]
    assert r.rcode() == dns.rcode.SERVFAIL and ede == [6]
    r = ask(port, "www.insecure.")
    assert r.rcode() == dns.rcode.NOERROR and not r.flags & dns.flags.AD
