"""ACME DNS-01 through the appliance (issue 15, item 4): the frozen host firmware is the
authoritative server of an update zone (update-zone=, update-key=, state=DIR); the
_acme-challenge TXT records are added and removed by TSIG-signed UPDATE and survive a kill -9
of the firmware; certbot (its rfc2136 plugin) and lego each get a certificate from pebble
(Let's Encrypt's test ACME server) on loopback, pebble resolving the challenge through the
firmware (-dnsserver); in certbot's run the firmware is killed and restarted while the
challenge is pending (in its propagation wait).

The tools are Debian packages (build.sh installs them); a missing one fails the test, loudly.
Everything listens on loopback; every wait is bounded and every process ended by its PID.
"""
import base64
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from ports import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
BINARY = os.path.join(BUILD, "host", "dnsbox")
ZONE = "acme.test."
DOMAIN = "www.acme.test"  # the certificate's name: inside update-zone=, so pebble asks us
CHALLENGE = "_acme-challenge." + DOMAIN + "."
KEY_NAME = "acme-key."
READY_TIMEOUT_S = 10  # the firmware's boot on the host
Q_TIMEOUT_S = 3.0  # one DNS query
ACME_TIMEOUT_S = 180  # one certbot or lego run, all in (it takes a few seconds)
PEBBLE_TIMEOUT_S = 15  # pebble listening
WAIT_PENDING_S = 60  # the challenge TXT appearing in the zone during a client's run
DELAY_S = 8  # the client's wait between its UPDATE and the validation: the firmware is
# killed and restarted inside it
# Debian package of each tool the tests run
TOOLS = {"pebble": "pebble", "certbot": "certbot", "lego": "lego",
         "nsupdate": "bind9-dnsutils", "openssl": "openssl"}
RFC2136_PLUGIN = "/usr/lib/python3/dist-packages/certbot_dns_rfc2136"


def need(*tools):
    """Fail (not skip) when a tool is missing: the suite is incomplete without it."""
    for t in tools:
        if shutil.which(t) is None:
            pytest.fail("%s missing: apt-get install %s (./build.sh installs it)" % (t, TOOLS[t]))
    if "certbot" in tools and not os.path.isdir(RFC2136_PLUGIN):
        pytest.fail("certbot's rfc2136 plugin missing: apt-get install python3-certbot-dns-rfc2136")


class Firmware:
    """The host firmware on a given port; kill() ends it by PID with SIGKILL (a power cut)."""

    def __init__(self, port, words):
        assert os.path.isfile(BINARY), "%s missing: run ./build.sh first" % BINARY
        self.port = port
        self.proc = subprocess.Popen(
            [BINARY, "-m", "dnsbox.main", "--host", "port=%d" % port] + list(words),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if any("dnsbox ready" in x for x in self.lines):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise AssertionError("firmware did not start:\n" + "\n".join(self.lines))

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self._t.join(2)


class Box:
    """The appliance under test: update zone, TSIG key, state directory; restartable."""

    def __init__(self, state, updaters=True):
        self.state = state
        self.updaters = updaters
        self.secret = base64.b64encode(os.urandom(32)).decode()
        self.port = free_port()
        self.fw = None
        self.restarts = 0

    def words(self):
        return ["mode=auth", "update-zone=" + ZONE,
                "update-key=hmac-sha256:%s:%s" % (KEY_NAME.rstrip("."), self.secret),
                "state=" + self.state] + (["allow-update=127.0.0.1"] if self.updaters else [])

    def start(self):
        self.fw = Firmware(self.port, self.words())

    def restart(self):
        """kill -9 by PID, then start again on the same port with the same state."""
        self.fw.kill()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:  # the port is free again once the kernel has closed the dead sockets
            try:
                self.start()
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.restarts += 1

    def txt(self, name=CHALLENGE):
        """(rcode text, sorted TXT strings) of name, asked over UDP."""
        q = dns.message.make_query(name, "TXT")
        r = dns.query.udp(q, "127.0.0.1", port=self.port, timeout=Q_TIMEOUT_S)
        texts = sorted(b"".join(rd.strings).decode() for rr in r.answer
                       if rr.rdtype == dns.rdatatype.TXT for rd in rr)
        return dns.rcode.to_text(r.rcode()), texts

    def nsupdate(self, commands):
        script = "server 127.0.0.1 %d\nzone %s\n%s\nsend\n" % (self.port, ZONE, commands)
        out = subprocess.run(
            ["nsupdate", "-v", "-y", "hmac-sha256:%s:%s" % (KEY_NAME, self.secret)],
            input=script, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, "nsupdate failed: %s%s" % (out.stdout, out.stderr)

    def stop(self):
        if self.fw is not None:
            self.fw.kill()


@pytest.fixture
def box(request):
    d = tempfile.mkdtemp(prefix="dnsbox-acme-")
    # lego sends its UPDATE over UDP, where the firmware does not see the client's address:
    # allow-update= would refuse it, so lego's box has the key alone (from any address)
    b = Box(os.path.join(d, "state"), updaters="lego" not in request.node.name)
    os.mkdir(b.state)
    b.start()
    b.tmp = d
    yield b
    b.stop()
    shutil.rmtree(d)


def test_challenge_txt_survives_kill_and_restart(box):
    need("nsupdate")
    box.nsupdate('update add %s 60 TXT "token-one"\nupdate add %s 60 TXT "token-two"' % (
        CHALLENGE, CHALLENGE))
    assert box.txt() == ("NOERROR", ["token-one", "token-two"])
    box.restart()
    assert box.txt() == ("NOERROR", ["token-one", "token-two"]), box.fw.lines
    # the client's clean-up: one value removed (class NONE delete), then the other
    box.nsupdate('update delete %s TXT "token-one"' % CHALLENGE)
    box.restart()
    assert box.txt() == ("NOERROR", ["token-two"]), box.fw.lines
    box.nsupdate('update delete %s TXT "token-two"' % CHALLENGE)
    box.restart()
    assert box.txt() == ("NXDOMAIN", [])
    # an UPDATE with a wrong key changes nothing
    good = box.secret
    box.secret = base64.b64encode(os.urandom(32)).decode()
    script = "server 127.0.0.1 %d\nzone %s\nupdate add %s 60 TXT \"forged\"\nsend\n" % (
        box.port, ZONE, CHALLENGE)
    out = subprocess.run(["nsupdate", "-v", "-y", "hmac-sha256:%s:%s" % (KEY_NAME, box.secret)],
                         input=script, capture_output=True, text=True, timeout=30)
    box.secret = good
    assert out.returncode != 0 and box.txt() == ("NXDOMAIN", [])


# ---------------------------------------------------------------- pebble and the clients


def tls_files(d):
    """A throw-away CA and pebble's server certificate for 127.0.0.1 (the Debian package has
    no test certificates): (ca.pem, cert.pem, key.pem)."""
    ca, ca_key = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    cert, key, csr = (os.path.join(d, n) for n in ("cert.pem", "key.pem", "req.csr"))
    ext = os.path.join(d, "san.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for argv in (["req", "-x509"] + ec + ["-keyout", ca_key, "-out", ca, "-days", "2",
                                          "-subj", "/CN=dnsbox test ACME CA"],
                 ["req"] + ec + ["-keyout", key, "-out", csr, "-subj", "/CN=localhost"],
                 ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                  "-out", cert, "-days", "2", "-extfile", ext]):
        out = subprocess.run(["openssl"] + argv, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, "openssl %s: %s" % (argv[0], out.stderr)
    return ca, cert, key


class Pebble:
    """pebble on loopback, its challenges resolved through the firmware."""

    def __init__(self, d, dns_port):
        self.ca, cert, key = tls_files(d)
        self.port = free_port()
        conf = os.path.join(d, "pebble.json")
        with open(conf, "w") as f:
            f.write('{"pebble": {"listenAddress": "127.0.0.1:%d", '
                    '"managementListenAddress": "127.0.0.1:%d", "certificate": "%s", '
                    '"privateKey": "%s", "httpPort": %d, "tlsPort": %d, '
                    '"ocspResponderURL": "", "externalAccountBindingRequired": false}}\n' % (
                        self.port, free_port(), cert, key, free_port(), free_port()))
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_VA_ALWAYS_VALID="0",
                   PEBBLE_WFE_NONCEREJECT="0")
        self.log = open(os.path.join(d, "pebble.log"), "w+")
        self.proc = subprocess.Popen(
            ["pebble", "-config", conf, "-dnsserver", "127.0.0.1:%d" % dns_port],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + PEBBLE_TIMEOUT_S
        while "Listening on" not in self.text():
            assert self.proc.poll() is None, "pebble exited:\n" + self.text()
            assert time.monotonic() < deadline, "pebble not listening:\n" + self.text()
            time.sleep(0.1)
        self.url = "https://127.0.0.1:%d/dir" % self.port

    def text(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


def restart_when_pending(box, done, seen):
    """In a thread: once the challenge TXT is in the zone, kill -9 the firmware and start it
    again (the record must come back from the state directory before pebble looks)."""
    deadline = time.monotonic() + WAIT_PENDING_S
    while time.monotonic() < deadline and not done.is_set():
        try:
            rcode, texts = box.txt()
        except Exception:  # a query lost while the clients run: asked again
            rcode, texts = "", []
        if texts:
            seen.append(texts)
            box.restart()
            return
        time.sleep(0.1)


def acme_run(box, argv, env, restart=True):
    """Run an ACME client (argv), with restart the firmware restarted while its challenge is
    pending: (completed process, seconds)."""
    done, seen = threading.Event(), []
    t = threading.Thread(target=restart_when_pending, args=(box, done, seen), daemon=True)
    if restart:
        t.start()
    t0 = time.monotonic()
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=ACME_TIMEOUT_S,
                             env=dict(os.environ, **env))
    finally:
        done.set()
        if restart:
            t.join(READY_TIMEOUT_S + 5)
    took = time.monotonic() - t0
    assert not restart or seen and box.restarts == 1, "the challenge TXT never showed up"
    return out, took


def check_certificate(path, pebble):
    out = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-subject", "-issuer",
                          "-ext", "subjectAltName"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "DNS:" + DOMAIN in out.stdout and "Pebble" in out.stdout, out.stdout


@pytest.fixture
def pebble(box):
    need("pebble", "openssl")
    p = Pebble(box.tmp, box.port)
    yield p
    p.stop()


def test_certbot_dns01_through_the_appliance(box, pebble):
    need("certbot")
    d = box.tmp
    cred = os.path.join(d, "rfc2136.ini")
    with open(cred, "w") as f:
        f.write("dns_rfc2136_server = 127.0.0.1\ndns_rfc2136_port = %d\n"
                "dns_rfc2136_name = %s\ndns_rfc2136_secret = %s\n"
                "dns_rfc2136_algorithm = HMAC-SHA256\n" % (box.port, KEY_NAME, box.secret))
    os.chmod(cred, 0o600)
    argv = ["certbot", "certonly", "-n", "--agree-tos", "--register-unsafely-without-email",
            "--server", pebble.url, "--config-dir", os.path.join(d, "cb-config"),
            "--work-dir", os.path.join(d, "cb-work"), "--logs-dir", os.path.join(d, "cb-logs"),
            "--authenticator", "dns-rfc2136", "--dns-rfc2136-credentials", cred,
            "--dns-rfc2136-propagation-seconds", str(DELAY_S), "-d", DOMAIN]
    out, took = acme_run(box, argv, {"REQUESTS_CA_BUNDLE": pebble.ca})
    assert out.returncode == 0, "certbot failed:\n%s%s\nfirmware:\n%s\npebble:\n%s" % (
        out.stdout, out.stderr, "\n".join(box.fw.lines[-20:]), pebble.text()[-3000:])
    print("certbot run: %.1f s (%d s of it its propagation wait)" % (took, DELAY_S))
    check_certificate(os.path.join(d, "cb-config", "live", DOMAIN, "fullchain.pem"), pebble)
    assert box.txt() == ("NXDOMAIN", [])  # certbot's clean-up removed the record


def test_lego_dns01_through_the_appliance(box, pebble):
    need("lego")
    d = box.tmp
    env = {"LEGO_CA_CERTIFICATES": pebble.ca,
           "RFC2136_NAMESERVER": "127.0.0.1:%d" % box.port,
           "RFC2136_TSIG_KEY": KEY_NAME, "RFC2136_TSIG_SECRET": box.secret,
           "RFC2136_TSIG_ALGORITHM": "hmac-sha256.",
           "RFC2136_PROPAGATION_TIMEOUT": "60", "RFC2136_POLLING_INTERVAL": "1"}
    # --dns.resolvers: lego finds the zone through the firmware, never this machine's
    # resolver; --dns.disable-cp: no query to the zone's NS names (ns.acme.test is nowhere)
    argv = ["lego", "--server", pebble.url, "--accept-tos", "--email", "admin@" + DOMAIN,
            "--path", os.path.join(d, "lego"), "--dns", "rfc2136", "--dns.disable-cp",
            "--dns.resolvers", "127.0.0.1:%d" % box.port, "--domains", DOMAIN, "run"]
    # lego asks pebble at once (no wait to restart the firmware in: certbot's test does that)
    out, took = acme_run(box, argv, env, restart=False)
    assert out.returncode == 0, "lego failed:\n%s%s\nfirmware:\n%s" % (
        out.stdout, out.stderr, "\n".join(box.fw.lines[-20:]))
    print("lego run: %.1f s" % took)
    check_certificate(os.path.join(d, "lego", "certificates", DOMAIN + ".crt"), pebble)
    assert box.txt() == ("NXDOMAIN", [])
