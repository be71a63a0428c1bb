"""The build's self-signed certificate names the appliance's addresses (tools/tlscert.py --san,
build.sh TLS_SAN=), and the host firmware's DNS over TLS speaks TLS 1.3 and 1.2: clients that
check the server's IP address against the certificate (dig and kdig with a CA file and no host
name) and openssl s_client pinned to each version."""
import os
import subprocess
import tempfile

import pytest

from ports import free_port
from tests.host.test_forwarder import BUILD, Resolver

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "tlscert.py")
CERT = os.path.join(BUILD, "tls", "dnsbox.crt")
RUN_S = 10  # the longest one client run may take


def _san(path):
    out = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-ext", "subjectAltName"],
                         capture_output=True, text=True, check=True).stdout
    return out.split("\n", 1)[1].strip()


def _tool(d, san):
    p = subprocess.run(["python3", TOOL, "-o", os.path.join(d, "m.py"), "--dir",
                        os.path.join(d, "tls"), "--san", san], capture_output=True, text=True)
    return p.returncode, p.stdout.strip()


def test_tool_san_change_keeps_key():
    with tempfile.TemporaryDirectory() as d:
        rc, out1 = _tool(d, "dns.lan,192.168.1.53,::1")
        assert rc == 0
        crt = os.path.join(d, "tls", "dnsbox.crt")
        assert _san(crt) == ("DNS:dnsbox, DNS:dns.lan, IP Address:192.168.1.53, "
                             "IP Address:0:0:0:0:0:0:0:1")
        with open(crt) as f:
            first = f.read()
        rc, out2 = _tool(d, "dns.lan,192.168.1.53,::1")  # same list: the same certificate
        with open(crt) as f:
            assert f.read() == first
        rc, out3 = _tool(d, "Other.Lan.")
        assert rc == 0 and _san(crt) == "DNS:dnsbox, DNS:other.lan"
        pin = out1.rsplit("sha256/", 1)[1]
        assert pin in out2 and pin in out3  # the key, hence the pin, is kept
        rc, out = _tool(d, "bad_name!")
        assert rc == 1 and "neither an IP address nor a host name" in out
        # an end-entity certificate (Firefox refuses CA:TRUE on a server); a directory from
        # before (dnsbox.san without the profile) gets a new one for the same key
        text = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-text"],
                              capture_output=True, text=True).stdout
        assert "CA:FALSE" in text and "TLS Web Server Authentication" in text
        with open(os.path.join(d, "tls", "dnsbox.san"), "w") as f:
            f.write("DNS:dnsbox,DNS:other.lan\n")
        with open(crt) as f:
            before = f.read()
        rc, out4 = _tool(d, "Other.Lan.")
        with open(crt) as f:
            assert rc == 0 and f.read() != before and pin in out4


@pytest.fixture(scope="module")
def dot():
    assert os.path.exists(CERT), "%s missing: run ./build.sh" % CERT
    port = free_port()
    r = Resolver(["mode=auth", "tls-port=%d" % port])
    r.tls_port = port
    yield r
    r.stop()


def test_build_certificate_names_loopback():
    san = _san(CERT)
    if os.environ.get("TLS_SAN") is None:
        assert "IP Address:127.0.0.1" in san and "IP Address:0:0:0:0:0:0:0:1" in san
    assert san.startswith("DNS:dnsbox")


def test_dig_checks_the_ip_address(dot):
    p = subprocess.run(["dig", "+tls", "+tls-ca=%s" % CERT, "@127.0.0.1", "-p",
                        str(dot.tls_port), "www.example.com", "A", "+short", "+tries=1",
                        "+time=5"], capture_output=True, text=True, timeout=RUN_S)
    assert p.returncode == 0 and p.stdout.strip(), p.stdout + p.stderr


def test_kdig_checks_the_ip_address(dot):
    p = subprocess.run(["kdig", "+tls", "+tls-ca=%s" % CERT, "@127.0.0.1", "-p",
                        str(dot.tls_port), "www.example.com", "A", "+short", "+timeout=5",
                        "+retry=0"], capture_output=True, text=True, timeout=RUN_S)
    assert p.returncode == 0 and p.stdout.strip(), p.stdout + p.stderr


def test_kdig_wrong_name_refused(dot):
    p = subprocess.run(["kdig", "+tls", "+tls-ca=%s" % CERT, "+tls-hostname=not.this.box",
                        "@127.0.0.1", "-p", str(dot.tls_port), "www.example.com", "A",
                        "+timeout=5", "+retry=0"], capture_output=True, text=True,
                       timeout=RUN_S)
    assert "NOERROR" not in p.stdout


@pytest.mark.parametrize("version", ["-tls1_3", "-tls1_2"])
def test_openssl_versions(dot, version):
    p = subprocess.run(["openssl", "s_client", version, "-connect",
                        "127.0.0.1:%d" % dot.tls_port, "-CAfile", CERT, "-verify_ip",
                        "127.0.0.1", "-verify_return_error", "-brief"],
                       input="", capture_output=True, text=True, timeout=RUN_S)
    want = "TLSv1.3" if version == "-tls1_3" else "TLSv1.2"
    assert "Protocol version: " + want in p.stderr, p.stderr
    assert "Verification: OK" in p.stderr, p.stderr
