"""ANY and amplification: bytes out / bytes in over UDP for every name and type of the zones,
ANY included, from the authoritative server and from the resolver (for an allowed client).

The bound the design gives (dnsbox.wire.reply): a UDP reply is at most 512 bytes without EDNS
and at most min(the client's payload, 1232) with it (RFC 6891 6.2.5; what does not fit gets TC
and the client asks over TCP, where amplification needs a handshake first). The smallest query
is 17 bytes (root name, no EDNS) and 28 with an OPT record, so no UDP reply is more than
512 / 17 or 1232 / 28 times its query. ANY (RFC 8482 4.1): the authoritative server answers
with one RRset of the name, over UDP and TCP alike, never all of them.

Measured when this was written (the largest ratio of reply to query bytes over UDP; printed
by the tests):
  example.com. (compiled in)  dnsbox 3.4 (NS, no EDNS), NSD 5.2, Knot 3.4
  amp.test. (tests/abuse/zones)  dnsbox 16.2 (40 A records, EDNS 1232), NSD 17.9, Knot 16.2
  through the resolver        dnsbox 16.2 (the same); Unbound 99.2: it answers ANY for the
                              4 KB TXT name from its cache in 4069 bytes to a client offering
                              4096 (dnsbox: TC, 41 bytes)
  ANY at the apex (7 RRsets)  one RRset from dnsbox (SOA, 88 bytes), NSD 4.6 (SOA, even with
                              refuse-any: no) and Knot 3.2 (A, 53 bytes), over UDP and TCP
Through the resolver, ANY is not minimised: recursing, dnsbox answers NOTIMP (Unbound resolves
it); forwarding, it passes on the upstream's answer as it came, every RRset, within the UDP
bound (test_any_through_the_resolver).
"""
import os

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone
import pytest

from dnsbox.wire.reply import UDP_MAX, UDP_PLAIN
from tests.abuse import raw, refs

HERE = os.path.dirname(os.path.abspath(__file__))
AMP_ZONE = os.path.join(HERE, "zones", "amp.test.zone")
PAYLOADS = (None, 512, 1232, 4096)  # the client's EDNS payload (None: no EDNS)


def names_and_types(path, origin):
    z = dns.zone.from_file(path, origin, relativize=False)
    out = []
    for name, node in z.nodes.items():
        for rds in node.rdatasets:
            out.append((name.to_text(), dns.rdatatype.to_text(rds.rdtype)))
        out.append((name.to_text(), "ANY"))
    out.append(("nx." + origin, "A"))
    return sorted(out)


def exchange(port, name, rdtype, payload, rd=False):
    """(query bytes, reply bytes) over UDP (RD clear: authoritative; set: to a resolver)."""
    q = raw.query(name, rdtype, qid=0x4242, edns=None if payload is None else 0,
                  payload=payload or 512, rd=rd)
    s = raw.udp_socket()
    try:
        s.sendto(q, ("127.0.0.1", port))
        return q, s.recv(65535)
    finally:
        s.close()


def bound(payload):
    if payload is None:
        return UDP_PLAIN
    return max(UDP_PLAIN, min(payload, UDP_MAX))


def sweep(port, cases, rd=False):
    """{(name, type, payload): (bytes in, bytes out, reply)} over the cases and PAYLOADS."""
    out = {}
    for name, rdtype in cases:
        for p in PAYLOADS:
            q, r = exchange(port, name, rdtype, p, rd)
            out[(name, rdtype, p)] = (len(q), len(r), dns.message.from_wire(r))
    return out


def check_bounds(figures, who):
    problems = []
    for (name, rdtype, p), (n_in, n_out, _m) in figures.items():
        if n_out > bound(p):
            problems.append("%s %s %s payload %s: %d bytes" % (who, name, rdtype, p, n_out))
    return problems


def worst(figures):
    k = max(figures, key=lambda k: figures[k][1] / figures[k][0])
    return k, figures[k][1] / figures[k][0]


@pytest.fixture(scope="module")
def auth_servers():
    started = []
    try:
        frozen = refs.dnsbox(["mode=auth"])
        started.append(frozen)
        amp = refs.dnsbox(["mode=auth"], zones=[AMP_ZONE])  # the firmware source, CPython
        started.append(amp)
        zones = [("example.com.", refs.EXAMPLE_ZONE), ("amp.test.", AMP_ZONE)]
        nsd = refs.nsd(zones, ["minimal-responses: no", "refuse-any: no"])
        started.append(nsd)
        knot = refs.knot(zones)
        started.append(knot)
        yield {"example.com.": frozen.port, "amp.test.": amp.port, "nsd": nsd.port,
               "knot": knot.port}
    finally:
        refs.stop(*started)


def test_authoritative_replies_within_the_bound(auth_servers):
    problems = []
    report = []
    for origin, path in (("example.com.", refs.EXAMPLE_ZONE), ("amp.test.", AMP_ZONE)):
        cases = names_and_types(path, origin)
        ours = sweep(auth_servers[origin], cases)
        problems += check_bounds(ours, "dnsbox")
        for (name, rdtype, p), (_i, _o, m) in ours.items():
            if rdtype != "ANY" or m.rcode() != 0:
                continue
            # RFC 8482 4.1: one RRset; none in a referral (no AA) or when it does not fit (TC)
            want = 1 if m.flags & dns.flags.AA and not m.flags & dns.flags.TC else 0
            if len(m.answer) != want:
                problems.append("dnsbox ANY %s payload %s: %d RRsets" % (name, p,
                                                                        len(m.answer)))
        k, ratio = worst(ours)
        report.append("dnsbox %s: largest ratio %.1f (%s %s payload %s)" % (origin, ratio, *k))
        for ref in ("nsd", "knot"):
            theirs = sweep(auth_servers[ref], cases)
            k, ratio = worst(theirs)
            report.append("%s %s: largest ratio %.1f (%s %s payload %s)" % (ref, origin, ratio,
                                                                          *k))
    print("\n".join(report))
    assert not problems, "\n".join(problems)


# The answer to ANY at the apex of amp.test. (7 RRsets there), over UDP (EDNS payload 1232) and
# TCP alike: one RRset from each server (NSD 4.6 even with refuse-any: no).
APEX_ANY = {"dnsbox": ["SOA"], "nsd": ["SOA"], "knot": ["A"]}


def test_any_at_the_apex(auth_servers):
    got = {}
    for who, port in (("dnsbox", auth_servers["amp.test."]), ("nsd", auth_servers["nsd"]),
                      ("knot", auth_servers["knot"])):
        q, r = exchange(port, "amp.test.", "ANY", 1232)
        udp = [dns.rdatatype.to_text(x.rdtype) for x in dns.message.from_wire(r).answer]
        m = dns.query.tcp(dns.message.make_query("amp.test.", "ANY"), "127.0.0.1", port=port,
                          timeout=3)
        tcp = [dns.rdatatype.to_text(x.rdtype) for x in m.answer]
        assert udp == tcp, (who, udp, tcp)
        got[who] = udp
    assert got == APEX_ANY


@pytest.fixture(scope="module")
def resolvers():
    """dnsbox and Unbound forwarding to NSD (amp.test., full ANY answers: refuse-any no)."""
    started = []
    try:
        nsd = refs.nsd([("amp.test.", AMP_ZONE)], ["minimal-responses: no", "refuse-any: no"])
        started.append(nsd)
        fw = refs.dnsbox(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % nsd.port])
        started.append(fw)
        ub = refs.unbound(["access-control: 127.0.0.0/8 allow", 'local-zone: "test." '
                           "nodefault", "forward-zone:", '  name: "amp.test."',
                           "  forward-addr: 127.0.0.1@%d" % nsd.port])
        started.append(ub)
        yield {"dnsbox": fw.port, "unbound": ub.port}
    finally:
        refs.stop(*started)


# RRsets in the answer to ANY amp.test. through the resolver, over UDP with EDNS 1232, after
# the sweep: dnsbox asks NSD (one RRset); Unbound answers from the RRsets it has cached.
RESOLVER_ANY = {"dnsbox": 1, "unbound": 5}


def test_resolver_replies_within_the_bound(resolvers):
    cases = names_and_types(AMP_ZONE, "amp.test.")
    problems = []
    report = []
    for who in ("dnsbox", "unbound"):
        figs = sweep(resolvers[who], cases, rd=True)
        figs = sweep(resolvers[who], cases, rd=True)  # again: now from the cache
        if who == "dnsbox":
            problems += check_bounds(figs, who)
        k, ratio = worst(figs)
        report.append("%s resolver: largest ratio %.1f (%s %s payload %s)" % (who, ratio, *k))
    print("\n".join(report))
    assert not problems, "\n".join(problems)
    got = {}
    for who in ("dnsbox", "unbound"):
        q, r = exchange(resolvers[who], "amp.test.", "ANY", 1232, rd=True)
        got[who] = len(dns.message.from_wire(r).answer)
    assert got == RESOLVER_ANY, got


def test_any_through_the_resolver(recursors):
    """ANY for evil. (SOA and NS there; evilnet's servers answer ANY with every RRset):
    recursing, dnsbox does not resolve ANY (NOTIMP, a reply no larger than the query), Unbound
    passes on what the authority sent; forwarding, dnsbox passes on what its upstream sent,
    every RRset (within the UDP bound above: not minimised as an authority's answer is)."""
    got = {}
    for who, port, _src in recursors.both():
        q, r = exchange(port, "evil.", "ANY", 1232, rd=True)
        m = dns.message.from_wire(r)
        got[who] = (dns.rcode.to_text(m.rcode()), len(m.answer), len(r) <= len(q))
    fw = refs.dnsbox(["mode=resolver", "dnssec=no", "server=%s#53" % recursors.net.ip(2)])
    try:
        q, r = exchange(fw.port, "evil.", "ANY", 1232, rd=True)
        m = dns.message.from_wire(r)
        got["dnsbox forwarding"] = (dns.rcode.to_text(m.rcode()), len(m.answer), len(r) <= len(q))
    finally:
        refs.stop(fw)
    assert got == {"dnsbox": ("NOTIMP", 0, True), "unbound": ("NOERROR", 2, False),
                   "dnsbox forwarding": ("NOERROR", 2, False)}
