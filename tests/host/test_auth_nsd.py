"""Differential test: our server vs NSD on the same zone files, answer for answer.

NSD (Debian package `nsd`) is started by this test on a loopback port with tests/zones/diff/
(minimal-responses: yes, RRL off), our server is the pure entry point Server.handle over the
blob compiled from the same files. >= 1,000 queries generated from the zones: every name x
several types, random non-existent names, wildcard hits, names below delegations, ANY, mixed
case, EDNS sizes none/512/1232/4096, DO bit, over UDP (and a TCP sample). For each: same rcode,
same AA and TC flags, same RRsets in answer/authority/additional (order-insensitive, owner
case-insensitive, TTLs included).

Deliberate differences (each is excluded from the comparison in `_expected_diff`):
1. Additional section of MX and SRV answers: we add the A/AAAA of targets inside our zones
   (RFC 1035 3.3.9, RFC 2782 "target ... A records SHOULD be in the additional section"), and
   for DO their RRSIGs (RFC 4035 3.1.1); NSD with minimal-responses omits them. Only those
   extra address RRsets and their signatures may differ.
2. EDNS options: NSD adds an Extended DNS Error (RFC 8914, code 20) to REFUSED answers; we
   send no EDE. Options are not compared.
3a. Referrals whose in-domain glue does not all fit (UDP): we set TC (RFC 9471 3, "MUST set
   TC"); NSD 4.6 sends the glue that fits without TC. Our additional must then be a subset
   of NSD's.
Special queries (test_special_queries_against_nsd), differences by design:
3. Trailing bytes after the question: FORMERR (RFC 1035 4.1: the counts describe the whole
   message; the issue asks FORMERR for malformed queries); NSD ignores them and answers.
4. NOTIFY: NOTIMP (we are no secondary, RFC 1996 is not implemented); NSD answers NXDOMAIN/NOTAUTH.
5. IXFR over UDP with no transfers configured (no auth-peer=): REFUSED; NSD (no provide-xfr)
   answers NOTAUTH. AXFR over UDP: NOTIMP from both (RFC 5936 4.2). Transfers themselves are
   checked against NSD as a secondary in tests/host/test_transfer_nsd.py.
6. id.server / hostname.bind (CH TXT, RFC 4892): answered only when a boot variable names the
   server (nsid=...), else REFUSED; NSD answers with the host name by default.
7. Class HS: REFUSED with the question echoed (as for CH); NSD drops the question for HS only.
"""

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rdataclass
import dns.rdatatype
import dns.rrset

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "firmware"))

from dnsbox.auth import TCP, UDP  # noqa: E402
from dnsbox.auth.server import Server  # noqa: E402
from dnsbox.zone.compile import compile_files  # noqa: E402
from dnsbox.zonedb import open_blob  # noqa: E402
from nsdconf import nsd_conf  # noqa: E402
from ports import free_port  # noqa: E402

ZONE_DIR = os.path.join(ROOT, "tests", "zones", "diff")
NSD_START_S = 20  # seconds NSD may take to answer its first query
QUERY_TIMEOUT_S = 2.0
MIN_QUERIES = 1000
TYPES = ("A", "AAAA", "NS", "SOA", "MX", "TXT", "CNAME", "SRV", "PTR", "CAA", "DS", "DNAME")


NSD_TRIES = 3  # start attempts (a free port can be taken by another process before NSD binds)


def _start_nsd(zones):
    err = None
    for _ in range(NSD_TRIES):
        try:
            return _NSD(zones)
        except RuntimeError as e:
            err = e
    raise err


class _NSD:
    def __init__(self, zones):
        self.dir = tempfile.mkdtemp(prefix="dnsbox-nsd-")
        self.port = free_port()
        d = self.dir
        conf = nsd_conf(d, "127.0.0.1", self.port, zones,
                        ["hide-version: yes", "minimal-responses: yes", "round-robin: no"])
        with open(os.path.join(d, "nsd.conf"), "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen(
            ["nsd", "-d", "-c", os.path.join(d, "nsd.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + NSD_START_S
        while time.time() < deadline:
            try:
                q = dns.message.make_query(zones[0][0], "SOA")
                dns.query.udp(q, "127.0.0.1", port=self.port, timeout=0.5)
                return
            except Exception:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.2)
        log = ""
        try:
            with open(os.path.join(d, "nsd.log")) as f:
                log = f.read()[-500:]
        except OSError:
            pass
        self.stop()
        raise RuntimeError("nsd did not start: %s" % log)

    def ask(self, q, tcp=False):
        if tcp:
            return dns.query.tcp(q, "127.0.0.1", port=self.port, timeout=QUERY_TIMEOUT_S)
        return dns.query.udp(q, "127.0.0.1", port=self.port, timeout=QUERY_TIMEOUT_S,
                             ignore_trailing=True, raise_on_truncation=False)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()  # by PID: this Popen's own child
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def _zone_files():
    out = []
    for f in sorted(os.listdir(ZONE_DIR)):
        if f.endswith(".zone"):
            out.append((f[: -len(".zone")] + ".", os.path.join(ZONE_DIR, f)))
    return out


def _mixcase(rng, text):
    return "".join(c.upper() if rng.random() < 0.5 else c for c in text)


def _queries(zones):
    """(qname text, qtype text, edns payload or None, DO) tuples, deterministic."""
    rng = random.Random(20261125)
    names = set()
    for z in zones:
        for r in z.records():
            n = r.name
            while n != z.origin:  # the name and its empty non-terminals
                names.add(n.to_text())
                n = n.parent()
            names.add(n.to_text())
    names = sorted(names)
    out = []
    edns_choices = (None, 512, 1232, 4096)
    for n in names:
        for t in TYPES:
            out.append((n, t, rng.choice(edns_choices), rng.random() < 0.2))
    for i in range(300):  # non-existent names, at several depths
        base = rng.choice(names)
        label = "nx%d" % rng.randrange(1000000)
        if rng.random() < 0.3:
            label += ".deeper"
        out.append((label + "." + base, rng.choice(("A", "AAAA", "MX", "TXT")),
                    rng.choice(edns_choices), False))
    for i in range(60):  # wildcard hits, incl. below empty non-terminals
        w = rng.choice(("x%d.wild.diff.test." % i, "a.b%d.wild.diff.test." % i,
                        "q%d.ent.wild2.diff.test." % i, "z%d.c.ent2.diff.test." % i))
        out.append((w, rng.choice(("A", "TXT", "MX", "AAAA", "ANY")), 1232, False))
    for i in range(60):  # below delegations
        d = rng.choice(("sub.diff.test.", "deleg.ent3.diff.test.", "sib.diff.test.",
                        "bigdeleg.diff.test."))
        out.append(("h%d.%s" % (i, d), rng.choice(("A", "NS", "DS", "MX")),
                    rng.choice(edns_choices), rng.random() < 0.3))
    for n in names[:40]:  # ANY, mixed case
        out.append((n, "ANY", rng.choice(edns_choices), False))
        out.append((_mixcase(rng, n), rng.choice(("A", "MX", "TXT")), None, False))
    for i in range(40):  # DNAME below, refused names, CH class comes elsewhere
        out.append(("h%d.dn.diff.test." % i, rng.choice(("A", "TXT")), 1232, False))
        out.append(("h%d.example.org." % i, "A", rng.choice(edns_choices), False))
    return out


def _make(qname, qtype, payload, do):
    q = dns.message.make_query(qname, qtype, use_edns=payload is not None,
                               payload=payload or 512, want_dnssec=do)
    q.flags &= ~dns.flags.RD  # authoritative queries
    q.id = 4242
    return q


def _sets(section):
    return sorted(
        (r.name.to_text().lower(), r.rdtype, r.ttl, sorted(x.to_text().lower() for x in r))
        for r in section
    )


def _expected_diff(q, ours, theirs):
    """Remove the deliberate differences (module docstring) before comparing."""
    qtype = q.question[0].rdtype
    if qtype in (dns.rdatatype.MX, dns.rdatatype.SRV):
        nsd_add = _sets(theirs.additional)
        ours_add = [s for s in _sets(ours.additional)
                    if s in nsd_add or s[1] not in (dns.rdatatype.A, dns.rdatatype.AAAA) and
                    not (s[1] == dns.rdatatype.RRSIG and s[3][0].split()[0] in ("a", "aaaa"))]
        return ours_add, nsd_add
    return _sets(ours.additional), _sets(theirs.additional)


def _glue_tc(ours, theirs):
    """Difference 3a: a referral truncated for glue by us (RFC 9471), not by NSD."""
    tc = dns.flags.TC
    return (ours.flags & tc and not theirs.flags & tc and not ours.flags & dns.flags.AA
            and not ours.answer and _sets(ours.authority) == _sets(theirs.authority)
            and set(map(str, _sets(ours.additional))) <= set(map(str, _sets(theirs.additional))))


def _compare(q, ours, theirs):
    if _glue_tc(ours, theirs):
        return []
    problems = []
    if ours.rcode() != theirs.rcode():
        problems.append("rcode %s vs NSD %s" % (ours.rcode(), theirs.rcode()))
    for flag, name in ((dns.flags.AA, "AA"), (dns.flags.TC, "TC")):
        if bool(ours.flags & flag) != bool(theirs.flags & flag):
            problems.append("%s %s vs NSD %s" % (name, bool(ours.flags & flag),
                                                   bool(theirs.flags & flag)))
    if (ours.edns >= 0) != (theirs.edns >= 0):
        problems.append("EDNS presence differs")
    if _sets(ours.answer) != _sets(theirs.answer):
        problems.append("answer %s vs NSD %s" % (_sets(ours.answer), _sets(theirs.answer)))
    if _sets(ours.authority) != _sets(theirs.authority):
        problems.append("authority %s vs NSD %s" % (_sets(ours.authority),
                                                      _sets(theirs.authority)))
    a, b = _expected_diff(q, ours, theirs)
    if a != b:
        problems.append("additional %s vs NSD %s" % (a, b))
    return problems


def test_differential_against_nsd():
    if shutil.which("nsd") is None:
        raise RuntimeError("nsd is not installed (apt-get install nsd)")
    files = _zone_files()
    blob, zones, _w = compile_files([p for _o, p in files])
    srv = Server(open_blob(blob))
    qs = _queries(zones)
    assert len(qs) >= MIN_QUERIES, len(qs)
    nsd = _start_nsd(files)
    failures = []
    try:
        for i, (qname, qtype, payload, do) in enumerate(qs):
            q = _make(qname, qtype, payload, do)
            tcp = i % 10 == 0  # a TCP sample: no truncation there
            theirs = nsd.ask(q, tcp)
            raw = srv.handle(q.to_wire(), TCP if tcp else UDP)
            ours = dns.message.from_wire(raw, ignore_trailing=True)
            assert ours.id == q.id
            p = _compare(q, ours, theirs)
            if p:
                failures.append("%s %s edns=%s do=%s tcp=%s: %s" % (
                    qname, qtype, payload, do, tcp, "; ".join(p)))
    finally:
        nsd.stop()
    assert not failures, "%d of %d differ:\n%s" % (len(failures), len(qs),
                                                   "\n".join(failures[:40]))


def _special():
    """(label, wire, expected deliberate difference or None)."""
    out = []
    w = _make("www.diff.test.", "A", None, False).to_wire()
    out.append(("trailing byte", w + b"\x00", "3"))
    out.append(("question cut", w[:-2], None))
    out.append(("header only", w[:12], None))
    out.append(("qdcount 2", w[:5] + b"\x02" + w[6:], None))
    for op, diff in ((4, "4"), (5, None), (3, None), (15, None)):
        out.append(("opcode %d" % op, w[:2] + bytes(((op << 3) | (w[2] & 0x87),)) + w[3:], diff))
    out.append(("Z bit", w[:3] + bytes((w[3] | 0x40,)) + w[4:], None))
    out.append(("TC in query", w[:2] + bytes((w[2] | 0x02,)) + w[3:], None))
    q = _make("www.diff.test.", "A", 1232, False)
    q.use_edns(1)
    out.append(("EDNS version 1", q.to_wire(), None))
    for t in ("OPT", "TSIG", "MAILA", "MAILB"):
        out.append(("qtype " + t, _make("www.diff.test.", t, None, False).to_wire(), None))
    for t, diff in (("AXFR", None), ("IXFR", "5")):
        out.append(("qtype " + t, _make("diff.test.", t, None, False).to_wire(), diff))
    for cls, diff in (("CH", None), ("ANY", None), ("HS", "7")):
        q = dns.message.make_query("www.diff.test.", "A", rdclass=cls)
        out.append(("class " + cls, q.to_wire(), diff))
    q = dns.message.make_query("id.server.", "TXT", rdclass="CH")
    out.append(("id.server", q.to_wire(), "6"))
    for code, data in ((65001, b"x"), (10, b"12345678")):
        q = dns.message.make_query("www.diff.test.", "A", use_edns=0,
                                   options=[dns.edns.GenericOption(code, data)])
        out.append(("EDNS option %d" % code, q.to_wire(), None))
    for payload in (512, 600, 1232, 4096):
        for name, t in (("bigset.diff.test.", "A"), ("long.diff.test.", "TXT"),
                        ("x.sub.diff.test.", "A"), ("x.bigdeleg.diff.test.", "A")):
            diff = "3a" if name.startswith("x.bigdeleg") and payload < 1232 else None
            out.append(("%s %s payload %d" % (name, t, payload),
                        _make(name, t, payload, False).to_wire(), diff))
    return out


def _udp(port, wire):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(QUERY_TIMEOUT_S)
    try:
        s.sendto(wire, ("127.0.0.1", port))
        return s.recv(65535)
    except socket.timeout:
        return None
    finally:
        s.close()


def _summary(raw):
    if raw is None:
        return None
    m = dns.message.from_wire(raw, ignore_trailing=True)
    return (m.rcode(), m.opcode(), bool(m.flags & dns.flags.AA), bool(m.flags & dns.flags.TC),
            [q.to_text().lower() for q in m.question], _sets(m.answer), _sets(m.authority),
            _sets(m.additional), m.edns)


def test_special_queries_against_nsd():
    files = _zone_files()
    blob, _zones, _w = compile_files([p for _o, p in files])
    srv = Server(open_blob(blob))
    nsd = _start_nsd(files)
    failures = []
    differ = 0
    try:
        for label, wire, diff in _special():
            ours = _summary(srv.handle(wire, UDP))
            theirs = _summary(_udp(nsd.port, wire))
            if diff is not None:
                differ += ours != theirs
                continue
            if ours != theirs:
                failures.append("%s: ours %s\n   NSD %s" % (label, ours, theirs))
    finally:
        nsd.stop()
    assert not failures, "\n".join(failures)
    assert differ >= 6  # the listed differences are real (else drop them from the list)
