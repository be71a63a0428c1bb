"""DNS UPDATE end to end: BIND's nsupdate (a real client) against the frozen host firmware with
update-zone= and allow-update=: adds and deletes seen by dig, prerequisites, the serial, and
the refusals (UDP, a source outside allow-update=, a zone that overlaps a compiled one)."""
import subprocess

import dns.message
import dns.query
import dns.rcode
import pytest

from tests.host.test_forwarder import Resolver

ZONE = "dyn.test."


@pytest.fixture(scope="module")
def fw():
    r = Resolver(["mode=auth", "update-zone=" + ZONE, "allow-update=127.0.0.1"])
    yield r
    r.stop()


def nsupdate(fw, lines, tcp=True, local=None, zone=ZONE):
    script = ["server 127.0.0.1 %d" % fw.port]
    if local:
        script.append("local %s" % local)
    script += ["zone " + zone] + lines + ["send"]
    p = subprocess.run(["nsupdate"] + (["-v"] if tcp else []) + ["-t", "5"],
                       input="\n".join(script) + "\n", capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def rrs(fw, name, rdtype):
    m = fw.ask(name, rdtype)
    return dns.rcode.to_text(m.rcode()), sorted(r.to_text() for rr in m.answer for r in rr)


def serial(fw):
    return fw.ask(ZONE, "SOA").answer[0][0].serial


def test_add_then_delete_with_nsupdate(fw):
    s0 = serial(fw)
    rc, out = nsupdate(fw, ["update add laptop.dyn.test. 300 A 192.0.2.10",
                            "update add laptop.dyn.test. 300 AAAA 2001:db8::10",
                            'update add laptop.dyn.test. 300 TXT "owner: alice"'])
    assert rc == 0, out
    assert rrs(fw, "laptop.dyn.test.", "A") == ("NOERROR", ["192.0.2.10"])
    assert rrs(fw, "laptop.dyn.test.", "AAAA") == ("NOERROR", ["2001:db8::10"])
    assert serial(fw) == s0 + 1
    m = dns.query.tcp(dns.message.make_query("laptop.dyn.test.", "TXT"), "127.0.0.1",
                      port=fw.port, timeout=5)
    assert m.answer[0][0].to_text() == '"owner: alice"'
    rc, out = nsupdate(fw, ["update delete laptop.dyn.test. AAAA"])
    assert rc == 0 and rrs(fw, "laptop.dyn.test.", "AAAA") == ("NOERROR", [])
    rc, out = nsupdate(fw, ["update delete laptop.dyn.test."])
    assert rc == 0 and rrs(fw, "laptop.dyn.test.", "A") == ("NXDOMAIN", [])
    assert serial(fw) == s0 + 3


def test_prerequisites_with_nsupdate(fw):
    assert nsupdate(fw, ["prereq nxdomain pc.dyn.test.",
                         "update add pc.dyn.test. 60 A 192.0.2.20"])[0] == 0
    rc, out = nsupdate(fw, ["prereq nxdomain pc.dyn.test.",
                            "update add pc.dyn.test. 60 A 192.0.2.21"])
    assert rc != 0 and "YXDOMAIN" in out
    rc, out = nsupdate(fw, ["prereq yxrrset pc.dyn.test. A 192.0.2.99",
                            "update delete pc.dyn.test. A"])
    assert rc != 0 and "NXRRSET" in out
    assert rrs(fw, "pc.dyn.test.", "A") == ("NOERROR", ["192.0.2.20"])


def test_refusals(fw):
    rc, out = nsupdate(fw, ["update add u.dyn.test. 60 A 192.0.2.30"], tcp=False)
    assert rc != 0 and "REFUSED" in out  # over UDP
    rc, out = nsupdate(fw, ["update add u.dyn.test. 60 A 192.0.2.30"], local="127.0.0.2")
    assert rc != 0 and "REFUSED" in out  # not in allow-update=
    assert rrs(fw, "u.dyn.test.", "A") == ("NXDOMAIN", [])
    assert any("update-zone dyn.test.: in memory, DNS UPDATE over TCP from 127.0.0.1/32" in x
               for x in fw.lines)


def test_a_zone_inside_a_compiled_one_is_not_served():
    r = Resolver(["mode=auth", "update-zone=dyn.example.com", "allow-update=127.0.0.1"])
    try:
        assert any("overlaps the compiled zone example.com." in x for x in r.lines), r.lines
        rc, out = nsupdate(r, ["update add x.dyn.example.com. 60 A 192.0.2.1"],
                           zone="dyn.example.com.")
        assert rc != 0 and "NOTIMP" in out, out  # no zone takes updates there
    finally:
        r.stop()


SECRET_B64 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # 32 bytes


def test_tsig_signed_updates():
    """update-key=: nsupdate -y (over UDP) and dnspython's signed UPDATE are applied, and both
    check the signature of our response (they fail on a bad one); a wrong secret gets BADSIG,
    an unsigned update REFUSED."""
    import dns.tsig
    import dns.tsigkeyring
    import dns.update

    r = Resolver(["mode=auth", "update-zone=" + ZONE,
                  "update-key=hmac-sha256:upd:" + SECRET_B64])
    try:
        key = ["-y", "hmac-sha256:upd:" + SECRET_B64]
        script = "server 127.0.0.1 %d\nzone %s\nupdate add s.dyn.test. 60 A 192.0.2.44\nsend\n" % (
            r.port, ZONE)
        p = subprocess.run(["nsupdate"] + key, input=script, capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr
        assert rrs(r, "s.dyn.test.", "A") == ("NOERROR", ["192.0.2.44"])
        ring = dns.tsigkeyring.from_text({"upd.": ("hmac-sha256", SECRET_B64)})
        u = dns.update.Update(ZONE, keyring=ring, keyname="upd.")
        u.replace("s", 60, "A", "192.0.2.45")
        m = dns.query.tcp(u, "127.0.0.1", port=r.port, timeout=5)  # verifies our TSIG
        assert m.rcode() == dns.rcode.NOERROR and m.had_tsig
        assert rrs(r, "s.dyn.test.", "A") == ("NOERROR", ["192.0.2.45"])
        bad = ["-y", "hmac-sha256:upd:" + "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHg="]
        p = subprocess.run(["nsupdate"] + bad, input=script, capture_output=True, text=True,
                           timeout=30)
        assert p.returncode != 0 and "BADSIG" in p.stdout + p.stderr
        rc, out = nsupdate(r, ["update add u.dyn.test. 60 A 192.0.2.46"])
        assert rc != 0 and "REFUSED" in out
        assert rrs(r, "u.dyn.test.", "A") == ("NXDOMAIN", [])
        assert any("DNS UPDATE signed with key upd. (TSIG)" in x for x in r.lines)
    finally:
        r.stop()


def test_signed_update_over_udp_checked_against_allow_update():
    """update-key= with allow-update=: a signed UPDATE over UDP (nsupdate -y, lego) from an
    allowed address is applied, from another address REFUSED (the datagram's source is
    checked, as over TCP)."""
    r = Resolver(["mode=auth", "update-zone=" + ZONE, "allow-update=127.0.0.1",
                  "update-key=hmac-sha256:upd:" + SECRET_B64])
    try:
        key = ["-y", "hmac-sha256:upd:" + SECRET_B64]
        for local, name, want in (("127.0.0.1", "ok", 0), ("127.0.0.2", "no", 1)):
            script = ("server 127.0.0.1 %d\nlocal %s\nzone %s\n"
                      "update add %s.dyn.test. 60 A 192.0.2.50\nsend\n" % (
                          r.port, local, ZONE, name))
            p = subprocess.run(["nsupdate"] + key, input=script, capture_output=True,
                               text=True, timeout=30)  # UDP: no -v
            assert (p.returncode != 0) == bool(want), p.stdout + p.stderr
        assert rrs(r, "ok.dyn.test.", "A") == ("NOERROR", ["192.0.2.50"])
        assert rrs(r, "no.dyn.test.", "A") == ("NXDOMAIN", [])
        assert r.ask("www.example.com.").rcode() == 0  # queries still answered with the peer
    finally:
        r.stop()


class _FakeNtp:
    """An SNTP server on loopback that tells a time `shift` seconds from the real one."""

    def __init__(self, shift):
        import socket
        import struct
        import threading

        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.s.settimeout(0.5)
        self.port = self.s.getsockname()[1]
        self.asked = 0
        self.stop = False

        def serve():
            import time

            while not self.stop:
                try:
                    data, src = self.s.recvfrom(512)
                except OSError:
                    continue
                self.asked += 1
                t = time.time() + shift + 2208988800
                r = bytes((0x24, 2)) + bytes(22) + data[40:48] + bytes(8) + struct.pack(
                    ">II", int(t), int((t % 1) * 4294967296))
                self.s.sendto(r, src)

        self.t = threading.Thread(target=serve, daemon=True)
        self.t.start()

    def close(self):
        self.stop = True
        self.t.join(2)
        self.s.close()


@pytest.mark.parametrize("shift", [0, 7200])
def test_tsig_time_comes_from_ntp_server(shift):
    """ntp-server=: the firmware's wall clock follows the NTP server; nsupdate signs with this
    machine's time, so a server two hours off makes the update BADTIME, a right one works."""
    import time

    ntp = _FakeNtp(shift)
    r = Resolver(["mode=auth", "update-zone=" + ZONE, "update-key=hmac-sha256:upd:" + SECRET_B64,
                  "ntp-server=127.0.0.1#%d" % ntp.port])
    try:
        end = time.monotonic() + 10
        while time.monotonic() < end and not any("clock set from NTP" in x for x in r.lines):
            time.sleep(0.1)
        assert any("clock set from NTP 127.0.0.1#%d: offset %+d s" % (ntp.port, shift) in x
                   for x in r.lines), r.lines
        script = "server 127.0.0.1 %d\nzone %s\nupdate add n.dyn.test. 60 A 192.0.2.50\nsend\n" % (
            r.port, ZONE)
        p = subprocess.run(["nsupdate", "-y", "hmac-sha256:upd:" + SECRET_B64], input=script,
                           capture_output=True, text=True, timeout=30)
        if shift:
            assert p.returncode != 0 and "BADTIME" in p.stdout + p.stderr, p.stdout + p.stderr
        else:
            assert p.returncode == 0, p.stdout + p.stderr
            assert rrs(r, "n.dyn.test.", "A") == ("NOERROR", ["192.0.2.50"])
    finally:
        r.stop()
        ntp.close()


def test_the_update_zone_can_be_transferred():
    import dns.zone

    r = Resolver(["mode=auth", "update-zone=" + ZONE, "allow-update=127.0.0.1",
                  "auth-peer=127.0.0.1"])
    try:
        rc, out = nsupdate(r, ["update add t1.dyn.test. 60 A 192.0.2.61",
                               "update add t2.dyn.test. 60 AAAA 2001:db8::62"])
        assert rc == 0, out
        z = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", ZONE, port=r.port, relativize=False,
                                            timeout=5, lifetime=10), relativize=False)
        names = sorted(n.to_text() for n in z.nodes)
        assert names == ["dyn.test.", "ns.dyn.test.", "t1.dyn.test.", "t2.dyn.test."]
        assert z.find_rdataset(ZONE, "SOA")[0].serial == 2
    finally:
        r.stop()
