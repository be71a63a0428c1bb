"""Shared by the abuse tests that recurse: the hostile mini-Internet (tests/abuse/evilnet.py),
dnsbox recursing from its root (the frozen host firmware) and Unbound doing the same, started
once for tests/abuse and stopped by PID. Unbound sends from 127.0.0.2 and dnsbox from
127.0.0.1, so the upstream queries of each are counted apart in the same net."""
import os
import shutil
import tempfile

import pytest

from tests.abuse import evilnet, refs

DNSBOX_SRC = "127.0.0.1"
UNBOUND_SRC = "127.0.0.2"


class Recursors:
    def __init__(self, net, dnsbox, unbound):
        self.net = net
        self.dnsbox = dnsbox  # port
        self.unbound = unbound  # port

    def both(self):
        """(name, port, source address of its upstream queries) of each resolver."""
        return [("dnsbox", self.dnsbox, DNSBOX_SRC), ("unbound", self.unbound, UNBOUND_SRC)]


@pytest.fixture(scope="package")
def recursors():
    net = evilnet.EvilNet().start()
    started = []
    d = tempfile.mkdtemp(prefix="dnsbox-abuse-hints-")
    try:
        fw = refs.dnsbox(["mode=resolver", "dnssec=no", "hints=" + net.hints,
                          "do-not-query-localhost=no"])
        started.append(fw)
        hints = evilnet.hints_file(os.path.join(d, "root.hints"), net.hints)
        ub = refs.unbound(['root-hints: "%s"' % hints, "qname-minimisation: yes",
                           "use-caps-for-id: yes", "outgoing-interface: %s" % UNBOUND_SRC,
                           "access-control: 127.0.0.0/8 allow"])
        started.append(ub)
        yield Recursors(net, fw.port, ub.port)
    finally:
        refs.stop(*started)
        net.stop()
        shutil.rmtree(d, ignore_errors=True)
