"""Secondary zones of the frozen host firmware with Knot (knotd) and BIND (named) as primaries,
and NSD on ::1: each primary in its own temporary directory on a loopback port, started and
stopped by PID. TSIG-signed AXFR at boot (the key given by secondary=...,key= to one secondary
and by xfr-key= to the other; an unsigned secondary refused), answers the same as the primary's,
then a change on the primary reaching both secondaries by NOTIFY and IXFR: the primary logs an
outgoing IXFR and the secondaries log "by IXFR" (the time from the change to the new serial
answered is printed). Knot: journal-content: changes with zonefile-load: difference, the zone
file rewritten and `knotc zone-reload` on its control socket; BIND: ixfr-from-differences with
`rndc reload` (an rndc key in the directory). NSD on ::1 with secondary=ZONE@::1#PORT: AXFR and
NOTIFY over IPv6 (the NOTIFY's source checked against the IPv6 primary)."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import dns.exception
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.zone
import pytest

from nsdconf import nsd_conf
from ports import free_port
from tests.host.test_secondary import (KEY_NAME, KEY_SECRET, ORIGIN, QUESTIONS, READY_S,
                                       WAIT_S, Firmware, _view, ask, zone_text)

KEY_ARG = "%s:%s" % (KEY_NAME, KEY_SECRET)  # secondary=...,key= and xfr-key= (nsupdate -y form)

TOOLS = {"knot": ("knotd", "knot"), "knotc": ("knotc", "knot"), "bind": ("named", "bind9"),
         "rndc": ("rndc", "bind9-utils"), "nsd": ("nsd", "nsd")}  # program, Debian package


def _tool(name):
    """The program's path; a missing one fails the test with the package to install."""
    prog, pkg = TOOLS[name]
    path = shutil.which(prog) or shutil.which("/usr/sbin/" + prog)
    if path is None:
        pytest.fail("%s is not installed: apt-get install -y %s" % (prog, pkg))
    return path


def serial_at(ip, port):
    try:
        r = ask(port, ORIGIN, "SOA") if ip == "127.0.0.1" else _ask6(ip, port)
    except dns.exception.Timeout:
        return None
    for rrset in r.answer:
        return rrset[0].serial
    return None


def _ask6(ip, port, name=ORIGIN, rdtype="SOA"):
    q = dns.message.make_query(name, rdtype, use_edns=False)
    q.flags &= ~0x0100
    return dns.query.udp(q, ip, timeout=2, port=port)


class Peer:
    """A primary serving sec.test. in a temporary directory: start(), change(text), the log
    (its stderr), stop() by PID. Subclasses write the configuration."""

    name = ""
    ip = "127.0.0.1"

    def __init__(self, notify_ports, key=True):
        self.dir = tempfile.mkdtemp(prefix="dnsbox-peer-%s-" % self.name)
        self.port = free_port(self.ip)
        self.notify_ports = notify_ports
        self.key = key
        self.zone = os.path.join(self.dir, "sec.test.zone")
        self.logfile = os.path.join(self.dir, "stderr.log")
        self.proc = None

    def start(self):
        self.write(zone_text(1))
        cmd = self.configure()
        with open(self.logfile, "w") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=self.dir)
        deadline = time.monotonic() + READY_S
        while serial_at(self.ip, self.port) != 1:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise AssertionError("%s did not start:\n%s" % (self.name, self.log()))
            time.sleep(0.1)
        return self

    def write(self, text):
        with open(self.zone + ".tmp", "w") as f:
            f.write(text)
        os.rename(self.zone + ".tmp", self.zone)

    def change(self, text):
        """The new zone text on the primary: it computes the differences and NOTIFYs."""
        self.write(text)
        self.reload()

    def log(self):
        with open(self.logfile) as f:
            return f.read()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


class Knot(Peer):
    """knotd: the journal keeps the changes (journal-content: changes) and a reloaded zone file
    becomes a difference (zonefile-load: difference); knotc zone-reload over the control socket
    in the directory; NOTIFY to the secondaries, transfers to 127.0.0.0/8 (with the key)."""

    name = "knot"

    def configure(self):
        d = self.dir
        key = "    key: %s\n" % KEY_NAME if self.key else ""
        conf = ['server:\n    rundir: "%s"\n    listen: 127.0.0.1@%d\n' % (d, self.port),
                "    udp-workers: 1\n    tcp-workers: 1\n    background-workers: 1\n",
                'database:\n    storage: "%s"\n' % d,
                "log:\n  - target: stderr\n    any: info\n"]
        if self.key:
            conf.append("key:\n  - id: %s\n    algorithm: hmac-sha256\n    secret: %s\n" % (
                KEY_NAME, KEY_SECRET))
        conf.append("remote:\n" + "".join("  - id: sec%d\n    address: 127.0.0.1@%d\n%s" % (
            i, p, key) for i, p in enumerate(self.notify_ports)))
        conf.append("acl:\n  - id: xfr\n    address: 127.0.0.0/8\n    action: transfer\n" + key)
        conf.append('zone:\n  - domain: %s\n    file: "%s"\n    storage: "%s"\n' % (
            ORIGIN, self.zone, d))
        conf.append("    zonefile-sync: -1\n    zonefile-load: difference\n"
                    "    journal-content: changes\n    semantic-checks: off\n    acl: xfr\n"
                    "    notify: [%s]\n" % ", ".join(
                        "sec%d" % i for i in range(len(self.notify_ports))))
        self.conf = os.path.join(d, "knot.conf")
        with open(self.conf, "w") as f:
            f.write("".join(conf))
        self.sock = os.path.join(d, "knot.sock")
        return [_tool("knot"), "-c", self.conf, "-s", self.sock]

    def reload(self):
        out = subprocess.run([_tool("knotc"), "-c", self.conf, "-s", self.sock, "zone-reload",
                              ORIGIN], capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, out.stdout + out.stderr

    def ixfr_logged(self, serial):
        # knotd: "[sec.test.] IXFR, outgoing, remote 127.0.0.1@N, started, serial 1 -> 2"
        return [x for x in self.log().splitlines()
                if "IXFR, outgoing" in x and "-> %d" % serial in x]


class Bind(Peer):
    """named -g (foreground, logging to stderr): ixfr-from-differences keeps a journal of each
    reloaded zone file's differences; rndc reload with an rndc key and a control port in the
    directory; NOTIFY at once (notify-delay 0) to the secondaries, signed with the key."""

    name = "bind"

    def configure(self):
        d = self.dir
        self.rndc_port = free_port()
        k = ' key "%s"' % KEY_NAME.rstrip(".") if self.key else ""
        allow = 'key "%s";' % KEY_NAME.rstrip(".") if self.key else "127.0.0.0/8;"
        notify = "".join("127.0.0.1 port %d%s; " % (p, k) for p in self.notify_ports)
        rndc_key = 'key "rndc-key" { algorithm hmac-sha256; secret "%s"; };\n' % KEY_SECRET
        conf = [
            "options {\n",
            '  directory "%s";\n  pid-file "%s/named.pid";\n' % (d, d),
            '  session-keyfile "%s/session.key";\n  managed-keys-directory "%s";\n' % (d, d),
            "  listen-on port %d { 127.0.0.1; };\n  listen-on-v6 { none; };\n" % self.port,
            "  recursion no;\n  dnssec-validation no;\n  notify explicit;\n",
            "  notify-delay 0;\n  also-notify { %s};\n" % notify,
            "  allow-transfer { %s };\n  ixfr-from-differences yes;\n" % allow,
            "  minimal-responses yes;\n};\n",
            rndc_key,
            'controls { inet 127.0.0.1 port %d allow { 127.0.0.1; } keys { "rndc-key"; }; };\n'
            % self.rndc_port,
        ]
        if self.key:
            conf.append('key "%s" { algorithm hmac-sha256; secret "%s"; };\n' % (
                KEY_NAME.rstrip("."), KEY_SECRET))
        conf.append('zone "%s" { type primary; file "%s"; };\n' % (ORIGIN.rstrip("."),
                                                                 self.zone))
        self.conf = os.path.join(d, "named.conf")
        with open(self.conf, "w") as f:
            f.write("".join(conf))
        self.rndc_conf = os.path.join(d, "rndc.conf")
        with open(self.rndc_conf, "w") as f:
            f.write(rndc_key + 'options { default-key "rndc-key"; default-server 127.0.0.1; '
                    "default-port %d; };\n" % self.rndc_port)
        return [_tool("bind"), "-g", "-n", "1", "-4", "-c", self.conf]

    def reload(self):
        out = subprocess.run([_tool("rndc"), "-c", self.rndc_conf, "reload",
                              ORIGIN.rstrip(".")], capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, out.stdout + out.stderr

    def ixfr_logged(self, serial):
        # named: "client @0x.. 127.0.0.1#N (sec.test): transfer of 'sec.test/IN': IXFR started
        # (serial 2)", then "IXFR ended"
        return [x for x in self.log().splitlines()
                if "transfer of 'sec.test/IN': IXFR" in x and "serial %d" % serial in x]


PEERS = {"knot": Knot, "bind": Bind}


@pytest.fixture(scope="module", params=sorted(PEERS))
def peered(request):
    """A primary with the key, two signed secondaries (secondary=...,key= and xfr-key=)."""
    ports = [free_port(), free_port()]
    peer = PEERS[request.param](ports).start()
    primary = "%s@127.0.0.1#%d" % (ORIGIN, peer.port)
    secs = [Firmware(ports[0], ["secondary=%s,key=%s" % (primary, KEY_ARG)]),
            Firmware(ports[1], ["secondary=" + primary, "xfr-key=" + KEY_ARG,
                                "auth-peer=127.0.0.1"])]
    try:
        for s in secs:
            s.wait_line("serial 1 by AXFR")
        yield peer, secs
    finally:
        for s in secs:
            s.stop()
        peer.stop()


def test_signed_axfr_at_boot_answers_as_the_primary(peered):
    peer, secs = peered
    assert any("TSIG key %s" % KEY_NAME in x for x in secs[0].lines)
    assert any("TSIG key %s" % KEY_NAME in x for x in secs[1].lines)
    for name, t in QUESTIONS:
        want = _view(ask(peer.port, name, t))
        for s in secs:
            got = _view(s.ask(name, t))
            if t == "ANY":  # RFC 8482: either side may shorten ANY
                assert got[0] == want[0] and got[2]
                continue
            assert got == want, (peer.name, name, t, got, want)


def test_unsigned_secondary_is_refused(peered):
    peer, _secs = peered
    s = Firmware(free_port(), ["secondary=%s@127.0.0.1#%d" % (ORIGIN, peer.port)])
    try:
        s.wait_line("transfer failed")
        assert s.ask("www.sec.test.").rcode() == dns.rcode.SERVFAIL
    finally:
        s.stop()


def test_notify_then_ixfr(peered):
    peer, secs = peered
    new = serial_at("127.0.0.1", secs[0].port) + 1
    t0 = time.monotonic()
    peer.change(zone_text(new, last=9))
    took = {}
    deadline = t0 + WAIT_S
    while len(took) < len(secs) and time.monotonic() < deadline:
        for i, s in enumerate(secs):
            if i not in took and serial_at("127.0.0.1", s.port) == new:
                took[i] = time.monotonic() - t0
        time.sleep(0.005)
    sys.stdout.write("\n%s: change to answer (reload, NOTIFY, IXFR, build): %s\n" % (
        peer.name, ", ".join("secondary %d %.0f ms" % (i + 1, took[i] * 1000) for i in took)))
    assert len(took) == len(secs), "not every secondary has serial %d: %r\n%s" % (
        new, took, peer.log())
    for s in secs:
        s.wait_line("serial %d by IXFR" % new)
        assert [x.to_text() for x in s.ask("www.sec.test.").answer[0]] == ["192.0.2.9"]
    deadline = time.monotonic() + WAIT_S  # the primary's log line may come after the answer
    while not peer.ixfr_logged(new):
        assert time.monotonic() < deadline, "no outgoing IXFR in %s's log:\n%s" % (
            peer.name, peer.log())
        time.sleep(0.05)
    want = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", ORIGIN, port=peer.port, lifetime=10,
                                           keyring=_keyring(), keyname=KEY_NAME))
    got = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", ORIGIN, port=secs[1].port, lifetime=10,
                                          keyring=_keyring(), keyname=KEY_NAME))
    assert got == want  # the copy after the IXFR is the primary's zone
    # the primaries sign their NOTIFYs with the key: our answers are signed and verify
    assert "failed to verify TSIG" not in peer.log() and "tsig verify failure" not in \
        peer.log().lower(), peer.log()


def _keyring():
    import dns.tsigkeyring

    return dns.tsigkeyring.from_text({KEY_NAME: ("hmac-sha256", KEY_SECRET)})


class Nsd6(Peer):
    """NSD on ::1 only: transfers to ::1, NOTIFY to the secondary's ::1 port."""

    name = "nsd6"
    ip = "::1"

    def configure(self):
        opts = ["provide-xfr: ::1 NOKEY"]
        opts += ["notify: ::1@%d NOKEY" % p for p in self.notify_ports]
        conf = os.path.join(self.dir, "nsd.conf")
        with open(conf, "w") as f:
            f.write(nsd_conf(self.dir, "::1", self.port, [(ORIGIN, self.zone, opts)],
                             ["minimal-responses: yes"]))
        return [_tool("nsd"), "-d", "-c", conf]

    def reload(self):
        self.proc.send_signal(1)  # SIGHUP: NSD rereads its zone files, then NOTIFYs


def test_ipv6_primary_axfr_and_notify():
    """secondary=ZONE@::1#PORT: AXFR over IPv6 at boot, NSD's NOTIFY from ::1 accepted (the
    source checked against the IPv6 primary), a NOTIFY from 127.0.0.1 refused."""
    port = free_port()
    peer = Nsd6([port]).start()
    s = Firmware(port, ["secondary=%s@::1#%d" % (ORIGIN, peer.port)], ip6=True)
    try:
        s.wait_line("serial 1 by AXFR")
        assert any("secondary %s from ::1#%d" % (ORIGIN, peer.port) in x for x in s.lines)
        assert _view(_ask6("::1", port, "www.sec.test.", "A")) == _view(
            _ask6("::1", peer.port, "www.sec.test.", "A"))
        n = dns.message.make_query(ORIGIN, "SOA")
        n.set_opcode(dns.opcode.NOTIFY)
        n.flags |= 0x0400
        r = dns.query.udp(n, "127.0.0.1", timeout=2, port=port)  # not the primary's address
        assert r.rcode() == dns.rcode.REFUSED
        t0 = time.monotonic()
        peer.change(zone_text(2, last=9))
        deadline = t0 + WAIT_S
        while serial_at("::1", port) != 2:
            assert time.monotonic() < deadline, "\n".join(s.lines)
            time.sleep(0.005)
        sys.stdout.write("\nnsd on ::1: change to answer %.0f ms\n" % (
            (time.monotonic() - t0) * 1000))
        assert any("NOTIFY received from ::1" in x for x in s.lines), "\n".join(s.lines)
        assert _ask6("::1", port, "www.sec.test.", "A").answer[0][0].to_text() == "192.0.2.9"
    finally:
        s.stop()
        peer.stop()
