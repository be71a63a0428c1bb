"""The forwarder's DNS-over-TLS upstreams (server=IP#PORT#NAME[#sha256/PIN], dnsbox.net.dotup)
on the host firmware, against a Python DoT upstream on loopback with a certificate this test
makes (python `cryptography`): the pinned answer, several queries on one connection and the
connection reused, the idle timeout, a wrong pin and an untrusted certificate refused with
SERVFAIL and EDE 23 (never a plain-DNS retry), and the config grammar's errors."""
import base64
import datetime
import hashlib
import os
import socket
import ssl
import tempfile
import threading
import time

import dns.edns
import dns.message
import dns.query
import dns.rcode
import dns.rrset
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ports import free_port
from tests.host.test_forwarder import Resolver

Q_TIMEOUT_S = 5
IDLE_WAIT_S = 14  # longer than dnsbox.net.dotup.IDLE_MS (10 s) and a periodic round


def _cert(d, name):
    key = ec.generate_private_key(ec.SECP256R1())
    n = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    c = (x509.CertificateBuilder().subject_name(n).issuer_name(n).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(days=1))
         .not_valid_after(now + datetime.timedelta(days=30))
         .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
         .sign(key, hashes.SHA256()))
    cp, kp = os.path.join(d, "up.crt"), os.path.join(d, "up.key")
    with open(cp, "wb") as f:
        f.write(c.public_bytes(serialization.Encoding.PEM))
    with open(kp, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return cp, kp, base64.b64encode(hashlib.sha256(spki).digest()).decode()


class DoTUpstream:
    """A DNS-over-TLS server on loopback answering every A question with 192.0.2.7 (TTL 1),
    each frame as it comes (pipelined); counts connections and queries."""

    def __init__(self, d, name="up.test"):
        self.cert, self.key, self.pin = _cert(d, name)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(self.cert, self.key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.conns = 0
        self.queries = 0
        self.open = 0
        self.stop_ = False
        self.t = threading.Thread(target=self._accept, daemon=True)
        self.t.start()

    def _accept(self):
        while not self.stop_:
            try:
                s, _ = self.sock.accept()
            except OSError:
                continue
            self.conns += 1
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    def _serve(self, raw):
        raw.settimeout(30)
        try:
            s = self.ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        self.open += 1
        buf = b""
        try:
            while not self.stop_:
                data = s.recv(4096)
                if not data:
                    break
                buf += data
                while len(buf) >= 2 and len(buf) >= 2 + (buf[0] << 8 | buf[1]):
                    n = buf[0] << 8 | buf[1]
                    q = dns.message.from_wire(buf[2 : 2 + n])
                    buf = buf[2 + n :]
                    self.queries += 1
                    r = dns.message.make_response(q)
                    r.answer.append(dns.rrset.from_text(q.question[0].name, 1, "IN", "A",
                                                        "192.0.2.7"))
                    w = r.to_wire()
                    s.sendall(bytes((len(w) >> 8, len(w) & 255)) + w)
        except (OSError, ssl.SSLError, dns.exception.DNSException):
            pass
        finally:
            self.open -= 1
            s.close()

    def stop(self):
        self.stop_ = True
        self.t.join(2)
        self.sock.close()


@pytest.fixture(scope="module")
def up():
    with tempfile.TemporaryDirectory() as d:
        u = DoTUpstream(d)
        yield u
        u.stop()


def _ede(m):
    return [(o.code, o.text) for o in m.options if o.otype == dns.edns.EDE]


def _ask(r, name):
    q = dns.message.make_query(name, "A", use_edns=0)
    return dns.query.udp(q, "127.0.0.1", timeout=Q_TIMEOUT_S, port=r.port)


def test_pinned_answer_pipelined_reused_and_idle(up):
    r = Resolver(["mode=resolver", "dnssec=no",
                  "server=127.0.0.1#%d#sha256/%s" % (up.port, up.pin)])
    try:
        c0 = up.conns
        m = _ask(r, "a.example.")
        assert m.rcode() == 0 and "192.0.2.7" in m.to_text()
        # several questions at once: all on the one kept connection
        qs = [dns.message.make_query("p%d.example." % i, "A", use_edns=0) for i in range(8)]
        socks = []
        for q in qs:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(Q_TIMEOUT_S)
            s.sendto(q.to_wire(), ("127.0.0.1", r.port))
            socks.append(s)
        for q, s in zip(qs, socks):
            a = dns.message.from_wire(s.recv(4096))
            s.close()
            assert a.id == q.id and a.rcode() == 0 and "192.0.2.7" in a.to_text()
        assert up.conns - c0 == 1, "one connection for all the questions"
        assert up.queries >= 9
        # idle: the firmware closes the connection; the next question opens a new one
        deadline = time.monotonic() + IDLE_WAIT_S + 5
        while up.open and time.monotonic() < deadline:
            time.sleep(0.2)
        assert up.open == 0, "idle connection not closed"
        m = _ask(r, "b.example.")
        assert m.rcode() == 0 and up.conns - c0 == 2
        assert any("(tls)" in x for x in r.lines), r.lines
    finally:
        r.stop()


def test_wrong_pin_is_servfail_with_ede(up):
    bad = base64.b64encode(bytes(32)).decode()
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d#sha256/%s" % (up.port, bad)])
    try:
        q0 = up.queries
        m = _ask(r, "pin.example.")
        assert m.rcode() == dns.rcode.SERVFAIL
        ede = _ede(m)
        assert ede and ede[0][0] == 23 and "SPKI pin mismatch" in ede[0][1], ede
        assert up.queries == q0  # nothing sent to a server that failed the check
    finally:
        r.stop()


def test_untrusted_name_is_servfail_with_ede(up):
    # the name is right but the test's self-signed certificate is in no CA bundle
    r = Resolver(["mode=resolver", "dnssec=no", "server=127.0.0.1#%d#up.test" % up.port])
    try:
        q0 = up.queries
        m = _ask(r, "name.example.")
        assert m.rcode() == dns.rcode.SERVFAIL
        ede = _ede(m)
        assert ede and ede[0][0] == 23 and "tls:" in ede[0][1], ede
        assert up.queries == q0
    finally:
        r.stop()
