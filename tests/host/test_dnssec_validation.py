"""DNSSEC validation against a signed tree on loopback (tools/dnssecbed.py: zones signed by
dnssec-signzone and ldns-signzone, served by NSD), in both resolver modes of the frozen host
firmware, next to a validating Unbound with the same trust anchor: for every probe the same
rcode, the same AD bit and the same answer; bogus data gets SERVFAIL with the Extended DNS
Error that says why (Unbound: the same code where it gives one).

Modes: recursing from the tree's root (hints=), and forwarding to a non-validating Unbound that
recurses the tree (the forwarder asks with DO and CD and validates itself).
"""
import os
import subprocess
import sys
import threading
import time

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import dnssecbed  # noqa: E402
import testnet  # noqa: E402
from ports import free_port  # noqa: E402

BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
BINARY = os.path.join(BUILD, "host", "dnsbox")
RUN_MAX_S = 300
TIMEOUT_S = 12

SECURE, INSECURE, BOGUS = "secure", "insecure", "bogus"
# (name, type, expected: secure / insecure / bogus, EDE code for bogus, what it covers)
PROBES = [
    ("www.secure.", "A", SECURE, None, "ECDSA P-256, NSEC: positive"),
    ("nx.secure.", "A", SECURE, None, "NXDOMAIN, NSEC"),
    ("www.secure.", "TXT", SECURE, None, "NODATA, NSEC"),
    ("x.wild.secure.", "A", SECURE, None, "wildcard expansion with its NSEC proof"),
    ("alias.secure.", "A", SECURE, None, "CNAME in a secure zone"),
    ("cross.secure.", "A", INSECURE, None, "CNAME from a secure into an insecure zone"),
    ("www.dn.secure.", "A", SECURE, None, "DNAME into an NSEC3 zone"),
    ("x.dn.secure.", "A", SECURE, None, "DNAME then NXDOMAIN with NSEC3"),
    ("www.sub.secure.", "A", INSECURE, None, "insecure delegation (no DS, NSEC proof)"),
    ("www.rsa.", "A", SECURE, None, "RSA/SHA-256"),
    ("www.rsa512.", "A", SECURE, None, "RSA/SHA-512"),
    ("www.rsasha1.", "A", SECURE, None, "RSA/SHA-1 (algorithm 5)"),
    ("www.nsec3rsa.", "A", SECURE, None, "RSA/SHA-1-NSEC3 (algorithm 7)"),
    ("nx.nsec3rsa.", "A", SECURE, None, "NXDOMAIN, NSEC3, algorithm 7"),
    ("www.p384.", "A", SECURE, None, "ECDSA P-384"),
    ("www.ed.", "A", SECURE, None, "Ed25519"),
    ("www.ed448.", "A", SECURE, None, "Ed448"),
    ("www.privalg.", "A", INSECURE, None, "the DS names only an algorithm nobody offers"),
    ("nx.ed.", "AAAA", SECURE, None, "Ed25519 NXDOMAIN"),
    ("www.nsec3.", "A", SECURE, None, "NSEC3 zone positive"),
    ("nx.nsec3.", "A", SECURE, None, "NXDOMAIN, NSEC3 closest encloser"),
    ("www.nsec3.", "TXT", SECURE, None, "NODATA, NSEC3"),
    ("y.wild.nsec3.", "A", SECURE, None, "wildcard with NSEC3"),
    ("www.optout.", "A", SECURE, None, "opt-out zone, signed name"),
    ("www.unsigned.optout.", "A", INSECURE, None, "NSEC3 opt-out delegation"),
    ("nx.iter.", "A", INSECURE, None, "NSEC3 with 200 iterations (RFC 9276)"),
    ("www.ldns.", "A", SECURE, None, "signed by ldns-signzone"),
    ("www.sha384.", "A", SECURE, None, "DS digest type 4 (SHA-384)"),
    ("tobogus.secure.", "A", BOGUS, 6, "CNAME from a secure into a bogus zone"),
    ("nx.ldns.", "A", SECURE, None, "ldns-signzone's NSEC"),
    ("www.insecure.", "A", INSECURE, None, "unsigned zone, no DS"),
    ("nx.insecure.", "A", INSECURE, None, "NXDOMAIN in an unsigned zone"),
    ("www.expired.", "A", BOGUS, 7, "expired signatures"),
    ("www.future.", "A", BOGUS, 8, "signatures not yet valid"),
    ("www.badds.", "A", BOGUS, 9, "DS matches no key"),
    ("www.nosig.", "A", BOGUS, 10, "RRSIG removed"),
    ("www.corrupt.", "A", BOGUS, 6, "signature altered"),
    ("nosuchtld.", "A", SECURE, None, "NXDOMAIN from the signed root"),
]


class Firmware:
    def __init__(self, words):
        assert os.path.isfile(BINARY), "%s missing: run ./build.sh first" % BINARY
        self.port = free_port()
        env = dict(os.environ)
        env.pop("MICROPYPATH", None)
        self.proc = subprocess.Popen(
            [BINARY, "-X", "heapsize=8M", "-m", "dnsbox.main", "--host", "--max-s=%d" %
             RUN_MAX_S, "port=%d" % self.port, "mode=resolver",
             "do-not-query-localhost=no"] + list(words),  # the bed lives on loopback
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()
        end = time.time() + 10
        while time.time() < end and not any("dnsbox ready" in x for x in self.lines):
            time.sleep(0.05)
        assert any("dnsbox ready" in x for x in self.lines), "\n".join(self.lines)

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def ask(port, name, rtype, do=True, cd=False, ad=True):
    q = dns.message.make_query(name, rtype, want_dnssec=do, use_edns=0, payload=1232)
    if cd:
        q.flags |= dns.flags.CD
    if ad:
        q.flags |= dns.flags.AD  # as dig sets it (RFC 6840 5.7)
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=TIMEOUT_S, ignore_trailing=True,
                      raise_on_truncation=False)
    if r.flags & dns.flags.TC:
        r = dns.query.tcp(q, "127.0.0.1", port=port, timeout=TIMEOUT_S)
    return r


def summary(r):
    """(rcode, secure, answer RRsets without signatures, EDE codes)."""
    sets = sorted("%s %s %s" % (s.name.to_text().lower(), dns.rdatatype.to_text(s.rdtype),
                                " ".join(sorted(x.to_text().lower() for x in s)))
                  for s in r.answer if s.rdtype != dns.rdatatype.RRSIG)
    ede = [o.code for o in r.options if o.otype == dns.edns.EDE]
    return dns.rcode.to_text(r.rcode()), bool(r.flags & dns.flags.AD), sets, ede


@pytest.fixture(scope="module")
def bed():
    b = dnssecbed.DnssecBed().start()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def unbound(bed):
    u = bed.unbound(free_port())
    yield u
    u.stop()


@pytest.fixture(scope="module", params=["recursing", "forwarding"])
def ours(request, bed):
    upstream = None
    if request.param == "recursing":
        words = ["hints=" + bed.hints]
    else:
        upstream = testnet.Unbound(free_port(), bed.hints,
                                   run_dir=os.path.join(bed.dir, "plain-unbound"))
        words = ["server=127.0.0.1#%d" % upstream.port]
    fw = Firmware(words + ["trust-anchor=" + bed.anchor])
    yield fw
    fw.stop()
    if upstream is not None:
        upstream.stop()


def test_same_verdicts_as_a_validating_unbound(ours, unbound):
    problems = []
    for name, rtype, want, code, what in PROBES:
        o = summary(ask(ours.port, name, rtype))
        u = summary(ask(unbound.port, name, rtype))
        state = BOGUS if o[0] == "SERVFAIL" else (SECURE if o[1] else INSECURE)
        if state != want:
            problems.append("%s %s (%s): ours %s %r" % (name, rtype, what, state, o))
        if (o[0], o[1], o[2]) != (u[0], u[1], u[2]):
            problems.append("%s %s (%s): ours %r, Unbound %r" % (name, rtype, what, o, u))
        if want == BOGUS and code not in o[3]:
            problems.append("%s %s (%s): EDE %r, expected %d" % (name, rtype, what, o[3], code))
    # insecure, and why (RFC 8914): NSEC3 over the iteration cap (RFC 9276 3.2), a DS with
    # only an algorithm nobody offers
    for name, code in (("nx.iter.", 27), ("www.privalg.", 1)):
        o = summary(ask(ours.port, name, "A"))
        if code not in o[3]:
            problems.append("%s A: EDE %r, expected %d" % (name, o[3], code))
    assert not problems, "\n".join(problems)


def test_cd_do_and_ad_bits(ours):
    # CD: the bogus data itself, not validated (RFC 4035 3.2.2)
    r = ask(ours.port, "www.corrupt.", "A", cd=True)
    assert r.rcode() == dns.rcode.NOERROR and not r.flags & dns.flags.AD
    assert [x.to_text() for s in r.answer for x in s if s.rdtype == dns.rdatatype.A] == [
        "192.0.2.1"]
    # without DO: no signatures, no proofs; AD only when the query set AD (RFC 6840 5.8)
    r = ask(ours.port, "www.secure.", "A", do=False)
    assert r.flags & dns.flags.AD and not [s for s in r.answer if s.rdtype == 46]
    r = ask(ours.port, "www.secure.", "A", do=False, ad=False)
    assert not r.flags & dns.flags.AD
    r = ask(ours.port, "nx.secure.", "A", do=False)
    assert [s.rdtype for s in r.authority] == [dns.rdatatype.SOA]
    r = ask(ours.port, "nx.secure.", "A", do=True)
    assert {s.rdtype for s in r.authority} >= {dns.rdatatype.NSEC, dns.rdatatype.RRSIG}
    # the signed form again from the cache, and the plain one
    assert ask(ours.port, "www.secure.", "A").flags & dns.flags.AD
    r = ask(ours.port, "www.secure.", "A", do=True)
    assert [s for s in r.answer if s.rdtype == dns.rdatatype.RRSIG]


def test_negative_trust_anchor(bed):
    fw = Firmware(["hints=" + bed.hints, "trust-anchor=" + bed.anchor,
                   "domain-insecure=corrupt."])
    try:
        r = ask(fw.port, "www.corrupt.", "A")
        assert r.rcode() == dns.rcode.NOERROR and not r.flags & dns.flags.AD
        assert ask(fw.port, "www.secure.", "A").flags & dns.flags.AD
    finally:
        fw.stop()


def test_validation_off(bed):
    fw = Firmware(["hints=" + bed.hints, "trust-anchor=" + bed.anchor, "dnssec=no"])
    try:
        r = ask(fw.port, "www.corrupt.", "A")
        assert r.rcode() == dns.rcode.NOERROR and not r.flags & dns.flags.AD
    finally:
        fw.stop()


class StrippingProxy:
    """A UDP upstream that passes questions on to another resolver and removes every RRSIG
    from the answers (an old middlebox or a non-DNSSEC forwarder)."""

    def __init__(self, upstream_port):
        import socket

        self.up = upstream_port
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.s.settimeout(0.2)
        self.port = self.s.getsockname()[1]
        self.stopped = False
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _serve(self):
        while not self.stopped:
            try:
                data, peer = self.s.recvfrom(4096)
            except OSError:
                continue
            try:
                q = dns.message.from_wire(data)
                r = dns.query.udp(q, "127.0.0.1", port=self.up, timeout=5,
                                  raise_on_truncation=False)
                for sec in (r.answer, r.authority, r.additional):
                    sec[:] = [x for x in sec if x.rdtype != dns.rdatatype.RRSIG]
                self.s.sendto(r.to_wire(), peer)
            except Exception:  # noqa: BLE001 - a test helper: the client times out
                pass

    def stop(self):
        self.stopped = True
        self.t.join(2)
        self.s.close()


def test_an_upstream_that_strips_signatures_gives_bogus(bed):
    plain = testnet.Unbound(free_port(), bed.hints, run_dir=os.path.join(bed.dir, "strip-ub"))
    proxy = StrippingProxy(plain.port)
    fw = Firmware(["server=127.0.0.1#%d" % proxy.port, "trust-anchor=" + bed.anchor,
                   "domain-insecure=insecure."])
    try:
        r = ask(fw.port, "www.secure.", "A")
        ede = [o.code for o in r.options if o.otype == dns.edns.EDE]
        assert r.rcode() == dns.rcode.SERVFAIL and ede == [10]  # RRSIGs Missing
        r = ask(fw.port, "www.insecure.", "A")  # below a negative anchor: served, no AD
        assert r.rcode() == dns.rcode.NOERROR and not r.flags & dns.flags.AD
    finally:
        fw.stop()
        proxy.stop()
        plain.stop()
