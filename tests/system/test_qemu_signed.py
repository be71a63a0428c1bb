"""A zone signed at build time, served by the armhf image in qemu-system-arm (issue 12).

The test makes keys for example.com. (tools/zonekeys.py, in a temporary keys directory with an
NSEC3 policy), builds a second image with them (`DNSBOX_KEYS=... DNSBOX_BUILD=... ./build.sh
build`, the build directory a copy of this one so only the zones, the firmware's frozen data and
the images are made again), boots it and asks with kdig +dnssec: answers carry RRSIGs, an
NXDOMAIN its NSEC3 proof; a validating Unbound with the printed DS as its trust anchor (stub
zone at the guest) gives AD for a positive answer and an NXDOMAIN. Every process is stopped by
PID; every wait is bounded."""
import os
import shutil
import subprocess
import sys
import time

import dns.flags
import dns.message
import dns.query
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import testnet  # noqa: E402
from ports import free_port  # noqa: E402
from tests.system.test_qemu_boot import BUILD, boot  # noqa: E402

# What the second build reuses from this one (downloads, sources, objects, kernel image parts).
REUSE = ("dl", "src", "apt", "stamps", "gen", "crypto", "host", "armhf", "qemu-arm", "tls",
         "card", "qemu-bpo")
BUILD_TIMEOUT_S = 600
QUERY_TIMEOUT_S = 10.0
UNBOUND_START_S = 20


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    base = tmp_path_factory.mktemp("signed")
    keys = str(base / "keys")
    build = str(base / "build")
    os.makedirs(keys)
    os.makedirs(build)
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "zonekeys.py"),
                          "example.com.", "--keys", keys], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    ds = [x for x in out.stdout.splitlines() if " DS " in x and not x.startswith(";")]
    assert len(ds) == 1, out.stdout
    with open(os.path.join(keys, "example.com.policy"), "w") as f:
        f.write("nsec3\n")
    for d in REUSE:
        if os.path.exists(os.path.join(BUILD, d)):
            subprocess.run(["cp", "-a", os.path.join(BUILD, d), build], check=True, timeout=300)
    env = dict(os.environ, DNSBOX_BUILD=build, DNSBOX_KEYS=keys)
    b = subprocess.run([os.path.join(ROOT, "build.sh"), "build"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    assert b.returncode == 0, b.stdout[-2000:] + b.stderr[-2000:]
    assert "signed example.com.: algorithm 13" in b.stdout + b.stderr
    g, port = boot([], "qemu-signed.log", "dnsbox ready",
                   image_dir=os.path.join(build, "qemu-arm"))
    try:
        yield g, port, " ".join(ds[0].split()).replace(" IN DS ", " DS ")
    finally:
        g.stop()
        shutil.rmtree(build, ignore_errors=True)


def kdig(port, *args):
    out = subprocess.run(["kdig", "@127.0.0.1", "-p", str(port), "+dnssec", "+timeout=5",
                          "+retry=2"] + list(args), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_kdig_gets_signatures_and_proofs(signed):
    g, port, _ds = signed
    assert "zone example.com.: signed, signatures valid until" in g.console()
    out = kdig(port, "www.example.com", "A")
    assert "status: NOERROR" in out and "RRSIG\tA 13" in out, out
    assert "Flags: qr aa" in out, out
    out = kdig(port, "nothere.example.com", "A")
    assert "status: NXDOMAIN" in out and "NSEC3\t1 0 0 -" in out, out
    assert "RRSIG\tNSEC3 13" in out and "RRSIG\tSOA 13" in out, out
    out = kdig(port, "example.com", "DNSKEY")
    assert "DNSKEY\t257 3 13" in out and "RRSIG\tDNSKEY 13" in out, out
    out = kdig(port, "+tcp", "example.com", "NSEC3PARAM")
    assert "NSEC3PARAM\t1 0 0 -" in out, out


def test_validating_unbound_trusts_the_guest(signed, tmp_path):
    g, port, ds = signed
    run_dir = str(tmp_path)
    uport = free_port()
    conf = ["server:", "  interface: 127.0.0.1", "  port: %d" % uport, "  do-ip6: no",
            "  num-threads: 1", '  username: ""', '  chroot: ""',
            '  directory: "%s"' % run_dir, '  pidfile: "%s/unbound.pid"' % run_dir,
            "  use-syslog: no", '  logfile: "%s/unbound.log"' % run_dir,
            "  do-not-query-localhost: no", '  module-config: "validator iterator"',
            "  access-control: 127.0.0.0/8 allow", '  trust-anchor: "%s"' % ds,
            "stub-zone:", '  name: "example.com."', "  stub-addr: 127.0.0.1@%d" % port]
    with open(os.path.join(run_dir, "unbound.conf"), "w") as f:
        f.write("\n".join(conf) + "\n")
    p = subprocess.Popen(["/usr/sbin/unbound", "-d", "-c", os.path.join(run_dir,
                                                                          "unbound.conf")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.time() + UNBOUND_START_S
        while not testnet.answers("127.0.0.1", "example.com.", uport, 0.5):
            assert time.time() < end and p.poll() is None, "unbound did not start"
        for name, rcode in (("www.example.com.", 0), ("nothere.example.com.", 3)):
            q = dns.message.make_query(name, "A", want_dnssec=True)
            r = dns.query.udp(q, "127.0.0.1", port=uport, timeout=QUERY_TIMEOUT_S)
            assert r.rcode() == rcode and r.flags & dns.flags.AD, (name, r.to_text())
    finally:
        p.terminate()
        p.wait(10)
