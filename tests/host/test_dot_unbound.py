"""The forwarder's DNS-over-TLS upstream (server=IP#PORT#NAME) checked for real: Unbound serves
DoT on loopback with a certificate for dot.test issued by a test CA this test makes (python
`cryptography`), and the host firmware trusts that CA through tls-ca=FILE (read at boot, no
rebuild; with --card the name is relative to the card's directory). The chain and the name
verified give the answer; a wrong name is SERVFAIL with EDE 23 and nothing reaches Unbound (no
plain-DNS retry); a wrong SPKI pin beside the right name likewise; a CA file that is not
trusted (absent, or broken) also refuses; several questions go on one kept connection
(Unbound's own counters: queries over TLS, TCP buffers in use). tools/bench_dot.py measures
the latency beside a plain upstream."""
import datetime
import os
import shutil
import socket
import subprocess
import tempfile
import time

import dns.edns
import dns.message
import dns.query
import dns.rcode
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import proctree
from ports import free_port
from tests.host.test_forwarder import Resolver

Q_TIMEOUT_S = 5
START_TIMEOUT_S = 10  # Unbound answering on its TLS port
NAME = "dot.test"  # the name in the upstream's certificate
ANSWER = "192.0.2.53"


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_pki(d, name=NAME):
    """A test CA and a server certificate for name (and 127.0.0.1) issued by it; returns the
    paths (ca.pem, server.pem, server.key). The server file holds the certificate then the CA
    (the chain a server sends)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dnsbox test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    crt = (x509.CertificateBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
           .issuer_name(ca_name).public_key(key.public_key())
           .serial_number(x509.random_serial_number())
           .not_valid_before(now - datetime.timedelta(days=1))
           .not_valid_after(now + datetime.timedelta(days=30))
           .add_extension(x509.SubjectAlternativeName([
               x509.DNSName(name), x509.IPAddress(__import__("ipaddress").ip_address(
                   "127.0.0.1"))]), False)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
           .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = [os.path.join(d, n) for n in ("ca.pem", "server.pem", "server.key")]
    _write(paths[0], ca.public_bytes(pem))
    _write(paths[1], crt.public_bytes(pem) + ca.public_bytes(pem))
    _write(paths[2], _key_pem(key))
    return paths


class UnboundDoT:
    """Unbound answering a.dot.example. (local data) over DNS over TLS on loopback (and over
    plain UDP on self.plain when plain: tools/bench_dot.py); its counters read with
    unbound-control."""

    def __init__(self, d, pem, key, plain=False):
        self.port, self.cport = free_port(), free_port()
        self.plain = free_port() if plain else None
        more = ["  interface: 127.0.0.1@%d" % self.plain] if plain else []
        self.conf = os.path.join(d, "unbound.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join([
                "server:", "  interface: 127.0.0.1@%d" % self.port, "  tls-port: %d" % self.port,
                "  tls-service-key: %s" % key, "  tls-service-pem: %s" % pem] + more + [
                "  do-ip6: no", "  do-udp: %s" % ("yes" if plain else "no"),
                "  num-threads: 1", '  username: ""',
                '  chroot: ""', '  directory: "%s"' % d, '  pidfile: ""', "  use-syslog: no",
                '  logfile: "%s/unbound.log"' % d, "  access-control: 127.0.0.0/8 allow",
                "  extended-statistics: yes", "  statistics-cumulative: yes",
                '  local-zone: "dot.example." static',
                '  local-data: "a.dot.example. 300 IN A %s"' % ANSWER,
                "remote-control:", "  control-enable: yes", "  control-interface: 127.0.0.1",
                "  control-port: %d" % self.cport, "  control-use-cert: no", ""]))
        self.proc = subprocess.Popen(["unbound", "-d", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                if self.stats() is not None:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        with open(os.path.join(d, "unbound.log")) as f:
            raise AssertionError("unbound did not start: " + f.read()[-2000:])

    def stats(self):
        """Unbound's counters (stats_noreset) as a dict of numbers, or None."""
        r = subprocess.run(["unbound-control", "-c", self.conf, "stats_noreset"],
                           capture_output=True, text=True, timeout=10)
        if r.returncode:
            return None
        out = {}
        for line in r.stdout.splitlines():
            k, _, v = line.partition("=")
            try:
                out[k] = float(v)
            except ValueError:
                pass
        return out

    def stop(self):
        proctree.stop(self.proc, 5)


@pytest.fixture(scope="module")
def pki():
    assert shutil.which("unbound") and shutil.which("unbound-control"), "unbound missing"
    with tempfile.TemporaryDirectory() as d:
        ca, pem, key = make_pki(d)
        u = UnboundDoT(d, pem, key)
        try:
            yield d, ca, u
        finally:
            u.stop()


def _ask(r, name="a.dot.example."):
    q = dns.message.make_query(name, "A", use_edns=0)
    return dns.query.udp(q, "127.0.0.1", timeout=Q_TIMEOUT_S, port=r.port)


def _ede(m):
    return [(o.code, o.text) for o in m.options if o.otype == dns.edns.EDE]


def _tls_queries(u):
    s = u.stats()
    return s.get("num.query.tls", 0)


def test_private_ca_chain_and_name_verified(pki):
    d, ca, u = pki
    r = Resolver(["mode=resolver", "dnssec=no", "tls-ca=" + ca,
                  "server=127.0.0.1#%d#%s" % (u.port, NAME)])
    try:
        assert any("tls-ca=" in x and "1 CA certificates" in x for x in r.lines), r.lines
        q0 = _tls_queries(u)
        m = _ask(r)
        assert m.rcode() == 0, (m.to_text(), r.lines)
        assert [rd.to_text() for rr in m.answer for rd in rr] == [ANSWER]
        assert _tls_queries(u) == q0 + 1
    finally:
        r.stop()


def test_pipelined_on_one_connection(pki):
    d, ca, u = pki
    r = Resolver(["mode=resolver", "dnssec=no", "tls-ca=" + ca,
                  "server=127.0.0.1#%d#%s" % (u.port, NAME)])
    try:
        deadline = time.monotonic() + Q_TIMEOUT_S  # earlier tests' connections closed
        while u.stats().get("total.tcpusage") and time.monotonic() < deadline:
            time.sleep(0.1)
        s0 = u.stats()
        assert s0.get("total.tcpusage") == 0, s0
        names = ["p%d.dot.example." % i for i in range(8)]  # NXDOMAIN: not cached as one
        socks = []
        for n in names:  # all sent before any answer is read: they overlap in the forwarder
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(Q_TIMEOUT_S)
            s.sendto(dns.message.make_query(n, "A", use_edns=0).to_wire(),
                     ("127.0.0.1", r.port))
            socks.append(s)
        for s in socks:
            a = dns.message.from_wire(s.recv(4096))
            s.close()
            assert a.rcode() == dns.rcode.NXDOMAIN, a.to_text()
        assert _ask(r).rcode() == 0
        s1 = u.stats()
        assert s1["num.query.tls"] - s0.get("num.query.tls", 0) == len(names) + 1
        # all of them over one TLS connection, still open (Unbound's TCP buffers in use)
        assert s1.get("num.query.tcp", 0) - s0.get("num.query.tcp", 0) == len(names) + 1
        assert s1.get("total.tcpusage") == 1, s1
    finally:
        r.stop()


def test_wrong_name_refused_nothing_sent(pki):
    d, ca, u = pki
    r = Resolver(["mode=resolver", "dnssec=no", "tls-ca=" + ca,
                  "server=127.0.0.1#%d#other.test" % u.port])
    try:
        q0 = u.stats().get("num.queries", 0)
        m = _ask(r)
        assert m.rcode() == dns.rcode.SERVFAIL and not m.answer
        ede = _ede(m)
        assert ede and ede[0][0] == 23 and "tls:" in ede[0][1], ede
        assert u.stats().get("num.queries", 0) == q0  # no query reached Unbound at all
    finally:
        r.stop()


def test_ca_not_given_or_broken_refused(pki):
    d, ca, u = pki
    broken = os.path.join(d, "broken.pem")
    with open(ca) as f:
        text = f.read()
    with open(broken, "w") as f:
        f.write(text.replace("-----END CERTIFICATE-----", ""))
    for words in ([], ["tls-ca=" + broken], ["tls-ca=" + os.path.join(d, "absent.pem")]):
        r = Resolver(["mode=resolver", "dnssec=no",
                      "server=127.0.0.1#%d#%s" % (u.port, NAME)] + words)
        try:
            if words:
                assert any("tls-ca=" in x and "not trusted" in x for x in r.lines), r.lines
            q0 = u.stats().get("num.queries", 0)
            m = _ask(r)
            assert m.rcode() == dns.rcode.SERVFAIL and not m.answer
            assert _ede(m)[0][0] == 23
            assert u.stats().get("num.queries", 0) == q0
        finally:
            r.stop()


def test_tls_ca_relative_to_the_card(pki, tmp_path):
    """With --card=DIR a relative tls-ca= is read from DIR (as conf-file= and addn-hosts=)."""
    from dnsbox import config, main
    from dnsbox.net import cert

    d, ca, u = pki
    shutil.copy(ca, tmp_path / "private-ca.pem")
    cfg = config.parse(["mode=resolver", "tls-ca=private-ca.pem"], True)
    lines = []
    old = main.log.log
    main.log.log = lines.append
    try:
        got = main.load_tls_ca(cfg, str(tmp_path))
        cfg.tls_ca = "absent.pem"
        none = main.load_tls_ca(cfg, str(tmp_path))
    finally:
        main.log.log = old
    with open(ca) as f:
        assert got == tuple(cert.pem_ders(f.read())) and len(got) == 1
    assert none == ()
    assert "tls-ca=private-ca.pem: 1 CA certificates" in lines[0], lines
    assert "absent.pem" in lines[1] and "not trusted" in lines[1], lines


def _pin(pem_path):
    import base64
    import hashlib

    with open(pem_path, "rb") as f:
        crt = x509.load_pem_x509_certificate(f.read())  # the first: the server's own
    spki = crt.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def test_name_and_pin_together(pki):
    """NAME and sha256/PIN both given: both must hold (the right pin answers, a wrong pin with
    the right name and CA is refused and nothing is sent)."""
    d, ca, u = pki
    good = _pin(os.path.join(d, "server.pem"))
    bad = "A" * 43 + "="
    for pin, ok in ((good, True), (bad, False)):
        r = Resolver(["mode=resolver", "dnssec=no", "tls-ca=" + ca,
                      "server=127.0.0.1#%d#%s#sha256/%s" % (u.port, NAME, pin)])
        try:
            q0 = u.stats().get("num.queries", 0)
            m = _ask(r)
            if ok:
                assert m.rcode() == 0 and ANSWER in m.to_text(), (m.to_text(), r.lines)
            else:
                assert m.rcode() == dns.rcode.SERVFAIL and not m.answer
                ede = _ede(m)
                assert ede and ede[0][0] == 23 and "SPKI pin mismatch" in ede[0][1], ede
                assert u.stats().get("num.queries", 0) == q0
        finally:
            r.stop()
