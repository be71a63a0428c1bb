"""Signed zones served by the authoritative path (issue 12): the zones of tests/zones/diff/
signed at test time by BIND's dnssec-signzone (keys made here by dnssec-keygen, ECDSA P-256;
sib.diff.test. stays unsigned), compiled by our compiler without warnings, then:

1. the NSD differential (tests/host/test_auth_nsd.py's query set, DO set on three queries of
   four) for three signings: NSEC; NSEC3 with opt-out and no salt (RFC 9276); NSEC3 with a
   salt and one extra iteration. Same rcode, AA, TC, and RRsets in every section.
2. a validating Unbound (stub zones at our server, the zones' DS as its trust anchors) gives
   AD for positive, NODATA, NXDOMAIN, wildcard, CNAME, DNAME and delegation answers, the
   unsigned child insecure, in both denial styles.
3. an AXFR of each signed zone passes dnssec-verify and ldns-verify-zone.

Deliberate differences from NSD (each excluded below; a (NSEC3) and b (NSEC) checked to occur):
a. Names at or below an NSEC3 owner name (RFC 5155 7.2.8: NSEC3 owner names do not exist):
   we answer NXDOMAIN proven from the apex; NSD takes the hashed name as the closest encloser
   and sends one unrelated NSEC3.
b. NXDOMAIN behind a DNAME into another signed zone: NSD's proof lacks the NSEC covering the
   synthesized target name; ours has it (RFC 4035 3.1.3.2), which Unbound validates (part 2).
c. Truncated answers (TC=1): which RRsets of the authority section fit is compared no further
   (rcode, flags and the answer section still are); the client retries over TCP.
"""
import os
import shutil
import subprocess
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rdatatype
import dns.zone
import pytest

from dnsbox.auth import TCP, UDP
from dnsbox.auth.server import Server
from dnsbox.net import server as net
from dnsbox.zone.compile import compile_files
from dnsbox.zonedb import open_blob
from ports import free_port
from tests.host import test_auth_nsd as T

CMD_TIMEOUT_S = 120
SIGNED = ("diff.test.", "other.test.")
# dnssec-signzone options per variant
VARIANTS = {
    "nsec": [],
    "nsec3-optout": ["-3", "-", "-A"],
    "nsec3-salt": ["-3", "ab12cd", "-H", "1"],
}
UNBOUND_START_S = 20


def _run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=CMD_TIMEOUT_S)
    assert p.returncode == 0, "%s: %s" % (" ".join(cmd), p.stdout[-500:] + p.stderr[-500:])
    return p.stdout


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    if shutil.which("dnssec-signzone") is None:
        raise RuntimeError("dnssec-signzone missing (apt-get install bind9-utils)")
    d = str(tmp_path_factory.mktemp("keys"))
    for z in SIGNED:
        _run(["dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "-f", "KSK", z], d)
        _run(["dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", z], d)
    return d


def _sign(keys, variant, out):
    """tests/zones/diff signed as `variant` into directory out; returns [(origin, path)] and
    {zone: its DS lines}."""
    os.makedirs(out, exist_ok=True)
    files = []
    ds = {}
    for origin, path in T._zone_files():
        dst = os.path.join(out, os.path.basename(path))
        if origin not in SIGNED:
            shutil.copy(path, dst)
        else:
            src = os.path.join(out, "src-" + os.path.basename(path))
            shutil.copy(path, src)
            _run(["dnssec-signzone", "-q", "-S", "-K", keys, "-d", out, "-o", origin, "-f", dst]
                 + VARIANTS[variant] + [src], out)
            with open(os.path.join(out, "dsset-" + origin)) as f:
                ds[origin] = [" ".join(x.split()).replace(" IN DS ", " DS ") for x in f
                              if x.strip()]
        files.append((origin, dst))
    return files, ds


def _hashed(qname, zones):
    """Difference a: a name at or below an NSEC3 owner name."""
    n = dns.name.from_text(qname)
    for z in zones:
        for owner in z.nsec3:
            if n.is_subdomain(dns.name.from_text(owner.to_text())):
                return True
    return False


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_signed_differential_against_nsd(keys, tmp_path, variant):
    files, _ds = _sign(keys, variant, str(tmp_path))
    blob, zones, warnings = compile_files([p for _o, p in files])
    assert not warnings, warnings
    srv = Server(open_blob(blob))
    qs = T._queries(zones)
    nsd = T._start_nsd(files)
    failures = []
    seen = {"a": 0, "b": 0, "c": 0}
    try:
        for i, (qname, qtype, payload, do) in enumerate(qs):
            do = i % 4 != 3
            payload = payload or (1232 if do else None)
            q = T._make(qname, qtype, payload, do)
            tcp = i % 10 == 0
            theirs = nsd.ask(q, tcp)
            ours = dns.message.from_wire(srv.handle(q.to_wire(), TCP if tcp else UDP),
                                         ignore_trailing=True)
            p = T._compare(q, ours, theirs)
            if p and variant != "nsec" and _hashed(qname, zones):
                seen["a"] += 1
                continue
            if p and ".dn.diff.test." in qname and ours.rcode() == 3 == theirs.rcode():
                seen["b"] += 1
                continue
            if p and ours.flags & theirs.flags & dns.flags.TC:
                seen["c"] += 1
                p = [x for x in p if x.startswith(("rcode", "AA", "TC", "answer"))]
            if p:
                failures.append("%s %s edns=%s do=%s tcp=%s: %s" % (
                    qname, qtype, payload, do, tcp, "; ".join(p)))
    finally:
        nsd.stop()
    assert not failures, "%d of %d differ:\n%s" % (len(failures), len(qs),
                                                   "\n".join(failures[:30]))
    assert seen["b"] if variant == "nsec" else seen["a"], seen  # the differences are real


class _Ours:
    """Our authoritative path (CPython) on a loopback port, UDP and TCP."""

    def __init__(self, blob):
        for _ in range(20):
            port = free_port()
            try:
                self.s = net.Server(Server(open_blob(blob)).handle, "127.0.0.1", port)
                break
            except OSError:
                continue
        self.port = port
        self.t = threading.Thread(target=self.s.serve, daemon=True)
        self.t.start()

    def stop(self):
        self.s.stop()
        self.t.join(2)
        self.s.close()


def _unbound(run_dir, port, ours, ds):
    os.makedirs(run_dir, exist_ok=True)
    conf = ["server:", "  interface: 127.0.0.1", "  port: %d" % port, "  do-ip6: no",
            "  num-threads: 1", '  username: ""', '  chroot: ""',
            '  directory: "%s"' % run_dir, '  pidfile: "%s/unbound.pid"' % run_dir,
            "  use-syslog: no", '  logfile: "%s/unbound.log"' % run_dir,
            "  do-not-query-localhost: no", '  module-config: "validator iterator"',
            "  access-control: 127.0.0.0/8 allow", '  local-zone: "test." nodefault',
            "  val-log-level: 2", "  qname-minimisation: no"]
    for lines in ds.values():
        conf += ['  trust-anchor: "%s"' % x for x in lines]
    for z in ("diff.test.", "other.test.", "sib.diff.test."):
        conf += ["stub-zone:", '  name: "%s"' % z, "  stub-addr: 127.0.0.1@%d" % ours]
    path = os.path.join(run_dir, "unbound.conf")
    with open(path, "w") as f:
        f.write("\n".join(conf) + "\n")
    p = subprocess.Popen(["/usr/sbin/unbound", "-d", "-c", path], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    end = time.time() + UNBOUND_START_S
    while time.time() < end:
        try:
            dns.query.udp(dns.message.make_query("diff.test.", "SOA"), "127.0.0.1", port=port,
                          timeout=0.5)
            return p
        except (dns.exception.Timeout, OSError):
            if p.poll() is not None:
                break
            time.sleep(0.1)
    p.terminate()
    p.wait(5)
    raise RuntimeError("unbound did not start (%s)" % run_dir)


# (name, type, rcode, secure): what a validating resolver must conclude
PROBES = [
    ("www.diff.test.", "A", 0, True),
    ("www.diff.test.", "MX", 0, True),  # NODATA
    ("nx1.diff.test.", "A", 3, True),  # NXDOMAIN
    ("nx2.deep.diff.test.", "TXT", 3, True),
    ("ent2.diff.test.", "A", 0, True),  # empty non-terminal NODATA
    ("abc.wild.diff.test.", "A", 0, True),  # wildcard
    ("abc.wild.diff.test.", "AAAA", 0, True),  # wildcard NODATA
    ("x.y.c.ent2.diff.test.", "TXT", 0, True),  # wildcard below empty non-terminals
    ("c1.diff.test.", "A", 0, True),  # CNAME chain
    ("cwild.diff.test.", "A", 0, True),  # CNAME to a wildcard
    ("cdangle.diff.test.", "A", 3, True),  # CNAME to nothing
    ("x.dn.diff.test.", "TXT", 0, True),  # DNAME into other.test.
    ("nx.dn.diff.test.", "A", 3, True),  # DNAME, then NXDOMAIN (difference b)
    ("mail.other.test.", "A", 0, True),
    ("www.sib.diff.test.", "A", 0, False),  # the unsigned child: insecure
    ("diff.test.", "DNSKEY", 0, True),
    ("_sip._tcp.diff.test.", "SRV", 0, True),
]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_validating_unbound_accepts_our_answers(keys, tmp_path, variant):
    """With opt-out, an NSEC3 covering a name proves no more than "insecure" (RFC 5155 9.2):
    those answers must come without AD, never SERVFAIL."""
    if not os.path.exists("/usr/sbin/unbound"):
        raise RuntimeError("unbound is not installed (apt-get install unbound)")
    files, ds = _sign(keys, variant, str(tmp_path / "zones"))
    blob, _zones, _w = compile_files([p for _o, p in files])
    ours = _Ours(blob)
    port = free_port()
    ub = _unbound(str(tmp_path / "unbound"), port, ours.port, ds)
    problems = []
    try:
        for name, rtype, rcode, secure in PROBES:
            q = dns.message.make_query(name, rtype, want_dnssec=True)
            r = dns.query.udp(q, "127.0.0.1", port=port, timeout=5)
            ad = bool(r.flags & dns.flags.AD)
            if variant == "nsec3-optout" and (rcode == 3 or "wild" in name or "ent2" in name):
                secure = ad  # opt-out: secure or insecure, the rcode must hold
            if r.rcode() != rcode or ad != secure:
                problems.append("%s %s: rcode %d AD %s (want %d, %s)" % (
                    name, rtype, r.rcode(), ad, rcode, secure))
    finally:
        ub.terminate()
        ub.wait(10)
        ours.stop()
    if problems:
        with open(str(tmp_path / "unbound" / "unbound.log")) as f:
            problems.append(f.read()[-3000:])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_transfer_of_a_signed_zone_verifies(keys, tmp_path, variant):
    """The AXFR carries exactly the signed file's records (signatures, NSEC/NSEC3 included)
    and passes BIND's and ldns' zone verifiers."""
    from dnsbox.auth.answer import General

    files, _ds = _sign(keys, variant, str(tmp_path / "zones"))
    blob, _zones, _w = compile_files([p for _o, p in files])
    gen = General(open_blob(blob), peers=[(0x7F000000, 0xFF000000)])
    for origin in SIGNED:
        got = set()
        for w in gen.handle(dns.message.make_query(origin, "AXFR").to_wire(), TCP, 0x7F000001):
            for rrset in dns.message.from_wire(w).answer:
                got |= {(rrset.name, rrset.rdtype, rrset.ttl, rd) for rd in rrset}
        z = dns.zone.from_file(dict(files)[origin], origin=origin, relativize=False)
        want = {(n, rds.rdtype, rds.ttl, rd) for n, node in z.nodes.items()
                for rds in node.rdatasets for rd in rds}
        # a delegation to a zone we serve too goes out with the child's apex NS RRset (the
        # blob keeps that one): its TTL, not the parent's (unsigned either way)
        sib = dns.name.from_text("sib.diff.test.")
        want = {(n, t, 900 if (n, t) == (sib, dns.rdatatype.NS) else ttl, rd)
                for n, t, ttl, rd in want}
        assert got == want, (origin, sorted(map(str, want - got))[:5],
                             sorted(map(str, got - want))[:5])
        path = str(tmp_path / (origin + "axfr"))
        with open(path, "w") as f:
            f.write("".join("%s %d IN %s %s\n" % (n, ttl, dns.rdatatype.to_text(t), rd)
                            for n, t, ttl, rd in sorted(got, key=str)))
        _run(["dnssec-verify", "-q", "-o", origin, path], str(tmp_path))
        if shutil.which("ldns-verify-zone"):
            _run(["ldns-verify-zone", path], str(tmp_path))
