"""System test: boot the armhf image in qemu-system-arm (virt, TCG) and ask it DNS questions.

The expected answers come from the example zone's master file, read at test time with dnspython
(an independent parser), and are compared as record sets with answers from dig and dnspython over
UDP and TCP. qemu listens on a free high loopback port (never 5353, which a developer's
`./build.sh run` may hold), is started and stopped by PID here, and every wait is bounded.
"""
import os
import random
import shutil
import socket
import subprocess
import sys

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import qemu_run  # noqa: E402
from ports import free_port  # noqa: E402

BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
BOARD_DIR = os.path.join(ROOT, "board", "qemu-arm")
IMAGE_DIR = os.path.join(BUILD, "qemu-arm")
ZONE_FILE = os.path.join(ROOT, "zones", "example.com.zone")
ORIGIN = dns.name.from_text("example.com.")

BOOT_TIMEOUT_S = 90  # kernel + firmware under TCG take ~3-6 s; generous for a loaded machine
QUERY_TIMEOUT_S = 3.0  # one DNS query (TCG guest, ~1 ms per answer when idle)
MAX_QUESTIONS = 120  # (name, type) pairs checked per transport, to bound the run
DIG_QUESTIONS = 25  # of those, how many also go through dig per transport
PORT_TRIES = 5  # attempts at a free loopback port
# Types the issue requires the server to answer; every RRset of these in the zone is checked.
CHECKED_TYPES = ("SOA", "NS", "A", "AAAA", "MX", "TXT", "CNAME")


# ---------------------------------------------------------------- the zone, as dnspython reads it


def load_zone():
    assert os.path.isfile(ZONE_FILE), "the example zone %s is missing" % ZONE_FILE
    return dns.zone.from_file(ZONE_FILE, origin=ORIGIN, relativize=False, check_origin=True)


def zone_cuts(zone):
    """Names below the apex that hold NS records: delegations, answered by referral."""
    return [n for n, node in zone.nodes.items()
            if n != zone.origin and node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NS)]


def below_cut(name, cuts):
    return any(name.is_subdomain(c) for c in cuts)


def positive_questions(zone):
    """(name, type, rrset) for every authoritative RRset of a checked type, apex first."""
    cuts = zone_cuts(zone)
    out = []
    for name in sorted(zone.nodes, key=lambda n: (n != zone.origin, n.to_text())):
        if below_cut(name, cuts) or name.is_wild():
            continue  # referrals and wildcard semantics are the full authoritative issue's
        for rds in zone.nodes[name].rdatasets:
            tname = dns.rdatatype.to_text(rds.rdtype)
            if tname in CHECKED_TYPES:
                out.append((name, rds.rdtype, dns.rrset.from_rdata_list(name, rds.ttl, rds)))
    return out[:MAX_QUESTIONS]


def zone_soa(zone):
    rds = zone.nodes[zone.origin].get_rdataset(dns.rdataclass.IN, dns.rdatatype.SOA)
    return dns.rrset.from_rdata_list(zone.origin, rds.ttl, rds)


# ---------------------------------------------------------------- the guest


def boot(words, log_name, wait="dnsbox ready", image_dir=IMAGE_DIR, disk=None):
    """Start qemu with these boot variables; return (guest, port) once the console shows the
    line `wait` (wait=None: at once, for tests that read the console themselves). disk: a
    state disk image (qemu_run.make_disk) attached as the guest's /dev/vda."""
    for name in ("vmlinuz", "initrd.xz"):
        path = os.path.join(image_dir, name)
        assert os.path.isfile(path), "%s missing: run ./build.sh first" % path
    assert shutil.which("qemu-system-arm"), "qemu-system-arm missing (./build.sh installs it)"
    log_dir = os.path.join(BUILD, "test-logs")
    os.makedirs(log_dir, exist_ok=True)
    last = ""
    for _ in range(PORT_TRIES):
        port = free_port()
        tls_port, https_port = free_port(), free_port()  # forwarded when words ask for them
        cmd = qemu_run.command(BOARD_DIR, image_dir, words, host_port=port,
                               tls_host_port=tls_port, https_host_port=https_port, disk=disk)
        guest = qemu_run.Guest(cmd, log_path=os.path.join(log_dir, log_name))
        guest.tls_port, guest.https_port = tls_port, https_port
        if wait is None or guest.wait_for(wait, BOOT_TIMEOUT_S):
            return guest, port
        exited = guest.proc.poll() is not None
        guest.stop()
        last = guest.console()
        if "host forwarding rule" not in last:  # a port race is retried; anything else fails
            break
    pytest.fail("no %r line (%s); console tail:\n%s" % (
        wait, "qemu exited" if exited else "waited %d s" % BOOT_TIMEOUT_S, last[-3000:]))


@pytest.fixture(scope="module")
def zone():
    return load_zone()


_boot_failure = []  # a failed boot is reported once, not retried by every test of the module


@pytest.fixture(scope="module")
def guest():
    if _boot_failure:
        pytest.fail("the appliance did not boot (see the first failing test)")
    try:
        # the host reaches the guest through qemu's user network, from its gateway 10.0.2.2
        g, port = boot(["auth-peer=10.0.2.2", "tls-port=853", "https-port=443"],
                       "qemu-default.log")
    except BaseException:
        _boot_failure.append(True)
        raise
    yield g, port
    g.stop()


# ---------------------------------------------------------------- asking


def ask(port, name, rdtype, tcp):
    q = dns.message.make_query(name, rdtype)
    q.flags &= ~dns.flags.RD
    if tcp:
        return dns.query.tcp(q, "127.0.0.1", timeout=QUERY_TIMEOUT_S, port=port)
    return dns.query.udp(q, "127.0.0.1", timeout=QUERY_TIMEOUT_S, port=port)


def dig(port, name, rdtype, tcp):
    """(rcode text, flags, answer RRsets, authority RRsets) parsed from dig's output."""
    argv = ["dig", "@127.0.0.1", "-p", str(port), name.to_text(),
            dns.rdatatype.to_text(rdtype), "+norecurse", "+time=3", "+tries=1",
            "+noall", "+comments", "+answer", "+authority"]
    if tcp:
        argv.append("+tcp")
    out = subprocess.run(argv, capture_output=True, text=True, timeout=15)
    assert out.returncode == 0, "dig failed: %s%s" % (out.stdout, out.stderr)
    status, flags, sections = None, "", {"answer": [], "authority": []}
    section = None
    for line in out.stdout.split("\n"):
        line = line.strip()
        if "status:" in line:
            status = line.split("status:")[1].split(",")[0].strip()
        elif line.startswith(";; flags:"):
            flags = line.split(";; flags:")[1].split(";")[0].split()
        elif line.startswith(";; ANSWER SECTION"):
            section = "answer"
        elif line.startswith(";; AUTHORITY SECTION"):
            section = "authority"
        elif line.startswith(";") or not line:
            if line.startswith(";;") and "SECTION" in line:
                section = None
            continue
        elif section:
            sections[section].append(line)
    return status, flags, rrsets_from_lines(sections["answer"]), \
        rrsets_from_lines(sections["authority"])


def rrsets_from_lines(lines):
    """RRsets from presentation-format lines, grouped by (name, type)."""
    groups = {}
    for line in lines:
        owner, ttl, cls, rtype, rdata = line.split(None, 4)
        key = (owner, rtype)
        groups.setdefault(key, (int(ttl), []))[1].append(rdata)
    return [dns.rrset.from_text_list(o, ttl, "IN", t, rd) for (o, t), (ttl, rd) in groups.items()]


def same_rrset(got, want):
    """Owner, type, records and TTL equal (dnspython's == ignores the TTL)."""
    return got == want and got.ttl == want.ttl


def find(rrsets, name, rdtype):
    for r in rrsets:
        if r.name == name and r.rdtype == rdtype:
            return r
    return None


# ---------------------------------------------------------------- tests


def test_ready_line_and_startup_steps(guest):
    g, _ = guest
    console = g.console()
    assert "HALTED" not in console
    ready = [line for line in console.split("\n") if "dnsbox ready" in line]
    assert len(ready) == 1, ready
    assert "port 53" in ready[0]


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_dnspython_answers_match_zone(guest, zone, tcp):
    _, port = guest
    questions = positive_questions(zone)
    assert questions, "the example zone has no records of the checked types"
    names = set(q[0] for q in questions)
    assert len(names) >= 1
    for name, rdtype, want in questions:
        r = ask(port, name, rdtype, tcp)
        what = "%s %s over %s" % (name, dns.rdatatype.to_text(rdtype), "tcp" if tcp else "udp")
        assert r.rcode() == dns.rcode.NOERROR, what
        assert r.flags & dns.flags.AA, what + ": AA not set"
        assert not (r.flags & dns.flags.TC), what + ": truncated"
        got = r.find_rrset(r.answer, name, dns.rdataclass.IN, rdtype)
        assert same_rrset(got, want), "%s: got %s, zone has %s" % (what, got, want)


def test_zone_transfer_from_the_guest(guest, zone):
    """AXFR over TCP (auth-peer= allows the host's side of qemu's network): the whole zone, as
    dnspython reads the master file; AXFR over UDP: NOTIMP."""
    _, port = guest
    got = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", ORIGIN, port=port, timeout=QUERY_TIMEOUT_S,
                                          lifetime=30, relativize=False), relativize=False)

    def records(z):
        return sorted((n.to_text().lower(), rds.rdtype, rds.ttl, rd.to_text().lower())
                      for n, node in z.nodes.items() for rds in node.rdatasets for rd in rds)

    assert records(got) == records(zone)
    r = dns.query.udp(dns.message.make_query(ORIGIN, "AXFR"), "127.0.0.1", port=port,
                      timeout=QUERY_TIMEOUT_S)
    assert r.rcode() == dns.rcode.NOTIMP


def test_dns_over_tls_from_the_guest(guest):
    """DNS over TLS on the guest's port 853 with the certificate the build froze in, verified
    by dig against build/tls/dnsbox.crt (the build's self-signed one)."""
    g, _port = guest
    cert = os.path.join(BUILD, "tls", "dnsbox.crt")
    out = subprocess.run(["dig", "+tls", "+tls-ca=%s" % cert, "+tls-hostname=dnsbox",
                          "@127.0.0.1", "-p", str(g.tls_port), "www.example.com", "A", "+short",
                          "+tries=1", "+time=10"], capture_output=True, text=True, timeout=60)
    assert sorted(out.stdout.split()) == ["192.0.2.80", "192.0.2.81"], out.stdout + out.stderr
    assert "DNS over TLS on 0.0.0.0 port 853, certificate SPKI pin sha256/" in g.console()


def test_dns_over_https_from_the_guest(guest):
    """DNS over HTTPS (RFC 8484 GET) on the guest's port 443, the certificate verified."""
    import base64
    import http.client
    import ssl

    g, _port = guest
    ctx = ssl.create_default_context(cafile=os.path.join(BUILD, "tls", "dnsbox.crt"))
    ctx.check_hostname = False  # the certificate names "dnsbox"; its chain is verified
    c = http.client.HTTPSConnection("127.0.0.1", g.https_port, timeout=30, context=ctx)
    w = dns.message.make_query("www.example.com.", "A").to_wire()
    c.request("GET", "/dns-query?dns=" + base64.urlsafe_b64encode(w).decode().rstrip("="))
    r = c.getresponse()
    body = r.read()
    c.close()
    assert r.status == 200 and r.getheader("Content-Type") == "application/dns-message"
    m = dns.message.from_wire(body)
    assert sorted(rd.to_text() for rrset in m.answer for rd in rrset) == ["192.0.2.80",
                                                                         "192.0.2.81"]
    assert r.getheader("Cache-Control") == "max-age=300"


WWW_A = ["192.0.2.80", "192.0.2.81"]  # www.example.com A in zones/example.com.zone


def _guest_cert():
    cert = os.path.join(BUILD, "tls", "dnsbox.crt")
    assert os.path.isfile(cert), "%s missing: run ./build.sh" % cert
    return cert


def _run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_alpn_h2_http11_and_dot_from_the_guest(guest):
    """The armhf firmware's TLS picks h2 (offered with http/1.1) and http/1.1 alone on 443, dot
    on 853 (RFC 7301, RFC 7858/8310), and DNS over TLS answers on the dot connection; h2 alone
    on 853 is refused in the handshake."""
    import ssl
    import struct

    g, _port = guest
    for port, offer, chosen in ((g.https_port, ["h2", "http/1.1"], "h2"),
                                (g.https_port, ["http/1.1"], "http/1.1"),
                                (g.tls_port, ["dot"], "dot")):
        ctx = ssl.create_default_context(cafile=_guest_cert())
        ctx.set_alpn_protocols(offer)
        raw = socket.create_connection(("127.0.0.1", port), timeout=30)
        s = ctx.wrap_socket(raw, server_hostname="dnsbox")
        try:
            assert s.selected_alpn_protocol() == chosen, (port, offer)
            if chosen == "dot":
                w = dns.message.make_query("www.example.com.", "A").to_wire()
                s.sendall(struct.pack("!H", len(w)) + w)
                r = dns.message.from_wire(_read_exactly(s, struct.unpack(
                    "!H", _read_exactly(s, 2))[0]))
                assert sorted(rd.to_text() for rrset in r.answer for rd in rrset) == WWW_A
        finally:
            s.close()
    ctx = ssl.create_default_context(cafile=_guest_cert())
    ctx.set_alpn_protocols(["h2"])
    raw = socket.create_connection(("127.0.0.1", g.tls_port), timeout=30)
    try:  # DoT offers only dot: the handshake ends in no_application_protocol (RFC 7301 3.2)
        with pytest.raises(ssl.SSLError, match="no application protocol"):
            ctx.wrap_socket(raw, server_hostname="dnsbox")
    finally:
        raw.close()


def _read_exactly(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        assert d, "the guest closed the connection after %d of %d bytes" % (len(buf), n)
        buf += d
    return buf


def test_doh_over_http2_from_the_guest(guest):
    """DoH over HTTP/2 on the guest's 443: dig +https (POST) and +https-get, kdig +https and
    +tls, curl --http2 (wire and JSON API), all verifying build/tls/dnsbox.crt (its SAN holds
    127.0.0.1, so no +tls-hostname is needed)."""
    g, _port = guest
    cert = _guest_cert()
    for mode in ("+https", "+https-get"):
        out = _run(["dig", mode, "+tls-ca=%s" % cert, "@127.0.0.1", "-p", str(g.https_port),
                    "www.example.com", "A", "+short", "+tries=1", "+time=15"])
        assert sorted(out.stdout.split()) == WWW_A, (mode, out.stdout + out.stderr)
    for args in (["+https", "-p", str(g.https_port)], ["+tls", "-p", str(g.tls_port)]):
        out = _run(["kdig"] + args + ["+tls-ca=%s" % cert, "+tls-hostname=dnsbox",
                                      "@127.0.0.1", "www.example.com", "A", "+short",
                                      "+time=15", "+retry=0"])
        assert sorted(out.stdout.split()) == WWW_A, (args, out.stdout + out.stderr)
    import base64
    import json

    w = dns.message.make_query("www.example.com.", "A")
    w.id = 0  # RFC 8484 4.1
    for path in ("/dns-query?dns=" + base64.urlsafe_b64encode(w.to_wire()).decode().rstrip("="),
                 "/resolve?name=www.example.com&type=A"):
        out = subprocess.run(["curl", "-s", "-m", "30", "--http2", "--cacert", cert,
                              "-w", "\n%{http_version} %{http_code}",
                              "https://127.0.0.1:%d%s" % (g.https_port, path)],
                             capture_output=True, timeout=60)
        body, _nl, tail = out.stdout.rpartition(b"\n")
        assert tail == b"2 200", (path, out.stdout[-300:], out.stderr)
        if path.startswith("/resolve"):
            got = [a["data"] for a in json.loads(body)["Answer"]]
        else:
            got = [rd.to_text() for rrset in dns.message.from_wire(body).answer for rd in rrset]
        assert sorted(got) == WWW_A, path


def test_doh_http2_streams_from_the_guest(guest):
    """Sixteen streams at once on one HTTP/2 connection to the guest (GET and POST mixed, the
    h2 package's client from tests/host/test_h2_clients), then a PING answered."""
    import h2.events

    from tests.host.test_h2_clients import _H2

    g, port = guest
    c = _H2(g.https_port)
    try:
        want = {}
        names = ["www.example.com.", "example.com.", "nothere.example.com."]
        for i in range(16):  # the firmware's SETTINGS_MAX_CONCURRENT_STREAMS
            name = names[i % len(names)]
            want[c.get(name) if i % 2 else c.post(name)] = name
        c.flush()
        c.wait(list(want))
        for sid, name in want.items():
            assert sid in c.bodies, "stream %d (%s) unanswered" % (sid, name)
            r = dns.message.from_wire(c.bodies[sid])
            direct = ask(port, dns.name.from_text(name), dns.rdatatype.A, False)
            assert r.rcode() == direct.rcode() and r.answer == direct.answer, name
        c.c.ping(b"dnsbox!!")
        sid = c.get("www.example.com.")
        c.flush()
        c.wait([sid])
        assert sid in c.bodies and any(isinstance(e, h2.events.PingAckReceived)
                                       for e in c.events)
    finally:
        c.s.close()


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_cname_answers_an_address_question(guest, zone, tcp):
    """A question for A at an alias gets the CNAME (and, if present, the target's own A RRset)."""
    _, port = guest
    aliases = [(n, rds) for n, node in zone.nodes.items()
               for rds in node.rdatasets if rds.rdtype == dns.rdatatype.CNAME]
    assert aliases, "the example zone has no CNAME"
    for name, rds in aliases:
        r = ask(port, name, dns.rdatatype.A, tcp)
        assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA, name
        assert r.answer and r.answer[0].rdtype == dns.rdatatype.CNAME, r.answer
        want = dns.rrset.from_rdata_list(name, rds.ttl, rds)
        assert same_rrset(r.answer[0], want), (r.answer[0], want)
        target = rds[0].target
        node = zone.get_node(target)
        got = find(r.answer, target, dns.rdatatype.A)
        if got is not None:  # in-zone chasing (RFC 1034 4.3.2 step 3a): must match the zone
            wrds = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.A)
            assert same_rrset(got, dns.rrset.from_rdata_list(target, wrds.ttl, wrds))


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_dig_answers_match_zone(guest, zone, tcp):
    _, port = guest
    assert shutil.which("dig"), "dig missing (apt package dnsutils; build.sh installs it)"
    questions = positive_questions(zone)
    # www first (the README's example), then the rest up to the bound
    questions.sort(key=lambda q: q[0] != dns.name.from_text("www", ORIGIN))
    for name, rdtype, want in questions[:DIG_QUESTIONS]:
        status, flags, answer, _ = dig(port, name, rdtype, tcp)
        what = "dig %s %s%s" % (name, dns.rdatatype.to_text(rdtype), " +tcp" if tcp else "")
        assert status == "NOERROR", "%s: status %s" % (what, status)
        assert "aa" in flags, "%s: flags %s" % (what, flags)
        got = find(answer, name, rdtype)
        assert got is not None and same_rrset(got, want), "%s: got %s, zone has %s" % (
            what, answer, want)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_nxdomain_has_soa_in_authority(guest, zone, tcp):
    _, port = guest
    name = dns.name.from_text("no-such-name-%d" % random.randint(0, 10**9), ORIGIN)
    assert zone.get_node(name) is None
    r = ask(port, name, dns.rdatatype.A, tcp)
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert r.flags & dns.flags.AA
    assert not r.answer
    soa = find(r.authority, ORIGIN, dns.rdatatype.SOA)
    assert soa is not None and soa == zone_soa(zone), r.authority
    status, flags, answer, authority = dig(port, name, dns.rdatatype.A, tcp)
    assert status == "NXDOMAIN" and "aa" in flags and not answer
    assert find(authority, ORIGIN, dns.rdatatype.SOA) == zone_soa(zone)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_nodata_has_soa_in_authority(guest, zone, tcp):
    _, port = guest
    cuts = zone_cuts(zone)
    # A name with data, asked for a type it does not have (HINFO is in no example zone).
    for name in sorted(zone.nodes):
        if below_cut(name, cuts):
            continue
        node = zone.nodes[name]
        if name.is_wild() or node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME):
            continue
        if not node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.HINFO):
            break
    else:
        pytest.fail("no name without HINFO in the zone")
    r = ask(port, name, dns.rdatatype.HINFO, tcp)
    assert r.rcode() == dns.rcode.NOERROR, name
    assert r.flags & dns.flags.AA
    assert not r.answer, r.answer
    assert find(r.authority, ORIGIN, dns.rdatatype.SOA) == zone_soa(zone), r.authority


def test_malformed_boot_variable_is_reported_and_default_used(zone):
    """port=abc: the console names the variable, and the appliance serves on the default 53."""
    g, port = boot(["port=abc"], "qemu-port-abc.log")
    try:
        console = g.console()
        reports = [line for line in console.split("\n") if "dnsbox:" in line and "port=abc" in line]
        assert len(reports) == 1, "no firmware line names port=abc:\n" + console[-2000:]
        ready = g.wait_for("dnsbox ready", 1)
        assert "port 53" in ready
        # qemu_run forwards to the guest's default port 53 when port= is malformed
        r = ask(port, ORIGIN, dns.rdatatype.SOA, False)
        assert r.rcode() == dns.rcode.NOERROR
        assert r.find_rrset(r.answer, ORIGIN, dns.rdataclass.IN, dns.rdatatype.SOA) == \
            zone_soa(zone)
    finally:
        g.stop()
