"""Resolution limits against a hostile Internet (tests/abuse/evilnet.py), with the upstream
queries each resolver sent counted at the servers: NXNS (a delegation to 30 NS names that do
not exist), CNAME chains (8 links: answered; 20 links and a loop: stopped), referral loops
(upward, to the same zone, ever deeper) and an NS cycle. dnsbox (the frozen host firmware,
recursing) must stop within its named limits (dnsbox.resolver.iterate) with SERVFAIL and an
Extended DNS Error, and still answer a plain name afterwards. Unbound 1.17 (Debian), recursing
from the same root, is the reference: its outcome is checked, and both counts are printed.

Measured when this was written (queries counted as in CASES / all queries of the question;
dnsbox, then Unbound): NXNS 3/4, 6/7 (SERVFAIL both); CNAME chain of 8 links 9/10, 9/10
(answered both); 20 links 9/9, 12/12 (SERVFAIL both); CNAME loop 2/2, 2/2; upward referral 1/2,
1/3 (SERVFAIL both); referral to the same zone 1/2 SERVFAIL, 1/2 NOERROR with an empty answer;
one label deeper each time 11/12 SERVFAIL, 10/12 NOERROR with an empty answer; NS cycle 3/3,
5/5 (SERVFAIL both). Unbound's empty NOERROR for the last two is its choice (a referral that
goes nowhere read as no data); dnsbox answers SERVFAIL with the reason.
"""
import re

import dns.edns
import dns.message
import dns.query
import dns.rcode
import pytest

from dnsbox.resolver import iterate as I
from tests.abuse import evilnet

QUERY_TIMEOUT_S = 12  # longer than either resolver's own deadline for one question
DEEP = ".".join("d%d" % i for i in range(30)) + ".deep.evil."  # 30 labels below deep.evil.

# (name, type, what, dnsbox: (rcode, most queries counted, counted: (server number or None for
#  any, pattern of the names asked or None for any)), Unbound's rcode)
CASES = [
    ("www.nxns.evil.", "A", "NXNS: 30 NS names in victim., none exists",
     ("SERVFAIL", I.MAX_NS_LOOKUPS, (3, r"n\d+\.victim")), "SERVFAIL"),
    ("k0.chain.evil.", "A", "CNAME chain of 8 links, one per answer",
     ("NOERROR", evilnet.OK_CHAIN + 1, (2, r"k\d+\.chain\.evil")), "NOERROR"),
    ("l0.chain.evil.", "A", "CNAME chain of 20 links, one per answer",
     ("SERVFAIL", I.MAX_CNAME + 1, (2, r"l\d+\.chain\.evil")), "SERVFAIL"),
    ("x0.chain.evil.", "A", "CNAME loop of two names",
     ("SERVFAIL", 2, (2, r"x\d+\.chain\.evil")), "SERVFAIL"),
    ("www.up.evil.", "A", "upward referral (to evil.) for every question",
     ("SERVFAIL", I.MAX_TRIES_PER_STEP, (6, None)), "SERVFAIL"),
    ("www.same.evil.", "A", "referral to the same zone for every question",
     ("SERVFAIL", I.MAX_TRIES_PER_STEP, (7, None)), "NOERROR"),
    (DEEP, "A", "a referral one label deeper for every question (30 labels)",
     ("SERVFAIL", I.MAX_REFERRALS + 1, (8, None)), "NOERROR"),
    ("www.cyc.evil.", "A", "NS cycle: cyc.evil. by ns.cyc.victim., cyc.victim. by ns.cyc.evil.",
     ("SERVFAIL", I.MAX_QUERIES, (None, None)), "SERVFAIL"),
]


def ask(port, name, rdtype="A"):
    q = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
    return dns.query.udp(q, "127.0.0.1", port=port, timeout=QUERY_TIMEOUT_S)


@pytest.mark.parametrize("case", CASES, ids=[c[2].split(":")[0] for c in CASES])
def test_limit_with_upstream_query_counts(recursors, case):
    name, rdtype, what, (rc, most, (server, pattern)), ub_rc = case
    net = recursors.net
    figures = []
    for who, port, src in recursors.both():
        mark = net.mark()
        r = ask(port, name, rdtype)
        every = net.queries(mark, src=src)
        counted = [x for x in net.queries(mark, src=src, server=server)
                   if pattern is None or re.fullmatch(pattern, x[2])]
        figures.append("%s %s: %d queries (%d counted), %s" % (
            who, dns.rcode.to_text(r.rcode()), len(every), len(counted), what))
        if who == "unbound":
            assert dns.rcode.to_text(r.rcode()) == ub_rc, figures[-1]
            continue
        assert dns.rcode.to_text(r.rcode()) == rc, figures[-1]
        assert len(counted) <= most, (figures[-1], counted)
        assert len(every) <= I.MAX_QUERIES, (figures[-1], every)
        if rc == "SERVFAIL":
            ede = [o for o in r.options if o.otype == dns.edns.EDE]
            assert ede, "SERVFAIL without an Extended DNS Error: " + figures[-1]
        # still answering: a plain name of the same net
        ok = ask(port, "www.evil.")
        assert [a.to_text() for rr in ok.answer for a in rr] == ["192.0.2.1"]
    print("\n".join(figures))
