"""Malformed queries of every kind the codec rejects (dnsbox.wire: header, question, names,
records, OPT and its options, TSIG placement, rdata) and the opcodes and EDNS versions it does
not serve, sent as raw bytes over UDP and TCP to the running firmware (the frozen host binary)
in both modes: authoritative (its compiled-in zone) and resolver (forwarding to a fake
upstream). Each gets FORMERR, NOTIMP, BADVERS or silence as listed, and the well-formed query
sent right after it on the same socket (or connection) is answered: the server still serves.
Nothing malformed reaches the upstream.

The same bytes go to the reference servers, started here: NSD 4.6 and Knot 3.2 serving the
same zone file (zones/example.com.zone), Unbound 1.17 as a resolver (local data for the good
query, everything else REFUSED: no upstream). What each answered is listed with the case and
checked again in the test, so the table stays true. Outcomes: an rcode, "-" (no reply, and the
next query is answered), "closed" (TCP: the connection closed without a reply); "UDP/TCP" when
the two differ. The references agree with dnsbox on most cases; Knot drops most malformed
questions without a reply (and closes a TCP connection), NSD and Unbound close some.

Where dnsbox differs, by design:
- trailing bytes after the question: FORMERR (RFC 1035 4.1: the counts describe the whole
  message), as Knot; NSD and Unbound ignore them and answer.
- a query with an answer record: FORMERR, as NSD and Unbound; Knot answers.
- an OPT record whose owner is not the root: FORMERR, as NSD and Unbound; Knot answers. An OPT
  option that runs past the OPT's rdata: FORMERR, as NSD and Knot; Unbound answers.
- malformed COOKIE, CLIENT-SUBNET, TCP-KEEPALIVE and EDE options: FORMERR (RFC 7873 5.2.2 for
  the cookie; RFC 7871 and RFC 7828 for the next two); the references, which do not handle
  these options in this set-up (NSD and Unbound answer cookies only when configured to),
  ignore them and answer.
- a TSIG record with an unknown key: NOTAUTH (BADKEY) from the authoritative server, as NSD and
  Knot (RFC 8945 5.2.1); the resolver has no keys and answers REFUSED (Unbound: FORMERR).
- NOTIFY: NOTIMP (no secondary zones here); NSD NXDOMAIN, Knot NOTAUTH, Unbound REFUSED.
  UPDATE without an update zone: NOTIMP, as NSD and Unbound; Knot FORMERR.
- a UDP query longer than 1232 bytes (our advertised payload, the read size,
  dnsbox.net.server.UDP_MAX_QUERY): read cut, so FORMERR; the references read the whole
  datagram and answer. Over TCP dnsbox answers it too.
- an empty message, 11 bytes, a response: silence, and over TCP the connection goes on (the
  references close it).
"""
import struct

import pytest

from tests.abuse import raw, refs
from tests.host.fakeupstream import FakeUpstream

QNAME = b"\x03www\x07example\x03com\x00"
Q = QNAME + b"\x00\x01\x00\x01"  # www.example.com. A IN
BAD_ID = 0xABCD


def hdr(qd=1, an=0, ns=0, ar=0, flags=0x0100, qid=BAD_ID):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def opt(options=b"", version=0, payload=1232, owner=b"\x00"):
    return owner + struct.pack(">HHBBHH", 41, payload, 0, version, 0, len(options)) + options


def option(code, data):
    return struct.pack(">HH", code, len(data)) + data


def rr(owner, rtype, rdata, rclass=1, ttl=60):
    return owner + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def tsig(rclass=255):
    """A well-formed TSIG record (hmac-sha256, 32-byte MAC) for key k. (unknown anywhere)."""
    alg = b"\x0bhmac-sha256\x00"
    rd = alg + b"\x00\x00\x65\x00\x00\x00" + struct.pack(">HH", 300, 32) + bytes(32)
    rd += struct.pack(">HHH", BAD_ID, 0, 0)
    return rr(b"\x01k\x00", 250, rd, rclass, 0)


A_AT_QNAME = rr(b"\xc0\x0c", 1, bytes(4))


def opcode(op):
    return hdr(flags=(op << 11) | 0x0100) + Q


# (label, bytes, dnsbox, "NSD Knot Unbound"). An outcome is "UDP" when UDP and TCP agree, else
# "UDP/TCP"; dnsbox's is the same in both modes unless given as "auth|resolver".
CASES = [
    ("empty message", b"", "-", "-/closed -/closed -/closed"),
    ("11 bytes: no whole header", hdr()[:11], "-", "-/closed -/closed -/closed"),
    ("a response (QR set)", hdr(flags=0x8100) + Q, "-", "-/closed - -/closed"),
    ("header only, QDCOUNT 1", hdr(), "FORMERR", "FORMERR/closed -/closed FORMERR"),
    ("QDCOUNT 0", hdr(qd=0), "FORMERR", "FORMERR/closed FORMERR FORMERR"),
    ("QDCOUNT 2", hdr(qd=2) + Q + Q, "FORMERR", "FORMERR -/closed FORMERR"),
    ("QDCOUNT 256", hdr(qd=256) + Q, "FORMERR", "FORMERR -/closed FORMERR"),
    ("label type 0x40 (extended)", hdr() + b"\x41" + b"a" * 65 + b"\x00\x00\x01\x00\x01",
     "FORMERR", "FORMERR -/closed FORMERR"),
    ("label type 0x80 (reserved)", hdr() + b"\x80\x01a\x00\x00\x01\x00\x01", "FORMERR",
     "FORMERR -/closed FORMERR"),
    ("pointer forward", hdr() + b"\x03www\xc0\x14\x00\x01\x00\x01\x00", "FORMERR",
     "FORMERR -/closed FORMERR"),
    ("pointer to itself", hdr() + b"\xc0\x0c\x00\x01\x00\x01", "FORMERR",
     "FORMERR -/closed FORMERR"),
    ("pointer into the header", hdr() + b"\xc0\x04\x00\x01\x00\x01", "FORMERR",
     "FORMERR -/closed FORMERR"),
    ("pointer cut", hdr() + b"\x03www\xc0", "FORMERR", "FORMERR -/closed FORMERR"),
    ("name over 255 octets", hdr() + (b"\x3f" + b"a" * 63) * 4 + b"\x00\x00\x01\x00\x01",
     "FORMERR", "FORMERR -/closed FORMERR"),
    ("label past the end", hdr() + b"\x03www\x07exa", "FORMERR", "FORMERR -/closed FORMERR"),
    ("question cut (no class)", hdr() + QNAME + b"\x00\x01", "FORMERR",
     "FORMERR -/closed FORMERR"),
    ("trailing byte", hdr() + Q + b"\x00", "FORMERR", "NOERROR FORMERR NOERROR"),
    ("answer record in a query", hdr(an=1) + Q + A_AT_QNAME, "FORMERR",
     "FORMERR NOERROR FORMERR"),
    ("ARCOUNT 1, no record", hdr(ar=1) + Q, "FORMERR", "FORMERR FORMERR FORMERR"),
    ("record header cut", hdr(ar=1) + Q + b"\x00\x00\x29\x04", "FORMERR",
     "FORMERR FORMERR FORMERR"),
    ("rdata past the end", hdr(ar=1) + Q + rr(b"\x00", 1, bytes(4))[:-2], "FORMERR",
     "FORMERR FORMERR FORMERR"),
    ("OPT in the answer section", hdr(an=1) + Q + opt(), "FORMERR", "FORMERR FORMERR FORMERR"),
    ("two OPT records", hdr(ar=2) + Q + opt() + opt(), "FORMERR", "FORMERR FORMERR FORMERR"),
    ("OPT owner not the root", hdr(ar=1) + Q + opt(owner=b"\xc0\x0c"), "FORMERR",
     "FORMERR NOERROR FORMERR"),
    ("OPT option header cut", hdr(ar=1) + Q + opt(b"\x00\x0a\x00"), "FORMERR",
     "FORMERR FORMERR NOERROR"),
    ("OPT option past its rdata", hdr(ar=1) + Q + opt(b"\x00\x0a\x00\x09" + bytes(8)),
     "FORMERR", "FORMERR FORMERR NOERROR"),
    ("COOKIE of 5 bytes", hdr(ar=1) + Q + opt(option(10, b"12345")), "FORMERR",
     "NOERROR NOERROR NOERROR"),
    ("CLIENT-SUBNET of 3 bytes", hdr(ar=1) + Q + opt(option(8, b"\x00\x01\x08")), "FORMERR",
     "NOERROR NOERROR NOERROR"),
    ("CLIENT-SUBNET bits past its prefix",
     hdr(ar=1) + Q + opt(option(8, b"\x00\x01\x04\x00\x0f")), "FORMERR",
     "NOERROR NOERROR NOERROR"),
    ("TCP-KEEPALIVE of 1 byte", hdr(ar=1) + Q + opt(option(11, b"\x00")), "FORMERR",
     "NOERROR NOERROR NOERROR"),
    ("EDE of 1 byte", hdr(ar=1) + Q + opt(option(15, b"\x00")), "FORMERR",
     "NOERROR NOERROR NOERROR"),
    ("EDNS version 1", hdr(ar=1) + Q + opt(version=1), "BADVERS", "BADVERS BADVERS BADVERS"),
    ("TSIG before OPT", hdr(ar=2) + Q + tsig() + opt(), "FORMERR", "FORMERR FORMERR FORMERR"),
    ("TSIG of class IN", hdr(ar=1) + Q + tsig(1), "FORMERR", "FORMERR NOTAUTH FORMERR"),
    ("TSIG with an unknown key", hdr(ar=1) + Q + tsig(), "NOTAUTH|REFUSED",
     "NOTAUTH NOTAUTH FORMERR"),
    ("A record of 5 bytes", hdr(ar=1) + Q + rr(b"\x00", 1, bytes(5)), "FORMERR",
     "FORMERR FORMERR FORMERR"),
    ("NS rdata name cut", hdr(ar=1) + Q + rr(b"\x00", 2, b"\x03www\x07exa"), "FORMERR",
     "FORMERR FORMERR FORMERR"),
    ("record owner pointing to itself",
     hdr(ar=1) + Q + b"\xc0\x21" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes(4), "FORMERR",
     "FORMERR FORMERR FORMERR"),
    ("opcode STATUS (2)", opcode(2), "NOTIMP", "NOTIMP NOTIMP NOTIMP"),
    ("opcode 3 (unassigned)", opcode(3), "NOTIMP", "NOTIMP NOTIMP NOTIMP"),
    ("opcode NOTIFY (4)", opcode(4), "NOTIMP", "NXDOMAIN NOTAUTH REFUSED"),
    ("opcode UPDATE (5)", opcode(5), "NOTIMP", "NOTIMP FORMERR NOTIMP"),
    ("opcode 15", opcode(15), "NOTIMP", "NOTIMP NOTIMP NOTIMP"),
    ("1400-byte query (padding)", hdr(ar=1) + Q + opt(option(12, bytes(1340))),
     "FORMERR/NOERROR", "NOERROR NOERROR NOERROR"),
]
REFS = ("nsd", "knot", "unbound")


@pytest.fixture(scope="module")
def servers():
    """{name: (ip, port)} of every server the cases go to; the fake upstream behind dnsbox's
    resolver, to check that nothing reached it."""
    up = FakeUpstream()
    started = []
    try:
        auth = refs.dnsbox(["mode=auth"])
        started.append(auth)
        res = refs.dnsbox(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d" % up.port])
        started.append(res)
        zone = [("example.com.", refs.EXAMPLE_ZONE)]
        n = refs.nsd(zone)
        started.append(n)
        k = refs.knot(zone)
        started.append(k)
        # Unbound answers the good query from local data, everything else REFUSED: no upstream
        u = refs.unbound(['local-zone: "." refuse',
                          'local-data: "www.example.com. 300 A 192.0.2.80"'])
        started.append(u)
        yield {"auth": auth.port, "resolver": res.port, "nsd": n.port, "knot": k.port,
               "unbound": u.port}, up
    finally:
        refs.stop(*started)
        up.stop()


def _expected(text, mode, tcp):
    if "|" in text:
        text = text.split("|")[0 if mode == "auth" else 1]
    return text.split("/")[-1 if tcp else 0]


def _combined(u, t):
    return u if u == t else "%s/%s" % (u, t)


def test_malformed_then_still_answering(servers):
    ports, up = servers
    problems = []
    for label, wire, want, _refs in CASES:
        for mode in ("auth", "resolver"):
            for tcp, exchange in ((False, raw.udp_then_good), (True, raw.tcp_then_good)):
                got, answered = exchange("127.0.0.1", ports[mode], wire)
                if got != _expected(want, mode, tcp) or not answered:
                    problems.append("%s (%s, %s): %s, good query answered: %s; expected %s" % (
                        label, mode, "tcp" if tcp else "udp", got, answered,
                        _expected(want, mode, tcp)))
    assert not problems, "\n".join(problems)
    assert up.total() == 0  # nothing malformed went upstream


def test_references_answer_as_listed(servers):
    """The reference outcomes in CASES are what NSD, Knot and Unbound do (checked here, so
    that the table stays true when they change)."""
    ports, _up = servers
    problems = []
    for label, wire, _ours, listed in CASES:
        for ref, want in zip(REFS, listed.split()):
            u, _a = raw.udp_then_good("127.0.0.1", ports[ref], wire)
            t, _a = raw.tcp_then_good("127.0.0.1", ports[ref], wire)
            if _combined(u, t) != want:
                problems.append("%s: %s %s, listed %s" % (label, ref, _combined(u, t), want))
    assert not problems, "\n".join(problems)
