"""Zone transfers signed with TSIG (xfr-key=, RFC 8945 5.3.1): dnspython's transfer client
verifies every message of a multi-message AXFR (each MAC chained to the one before) from the
serving loop on CPython; NSD, a real secondary with the key, pulls the zone from the host
firmware; a wrong key and an unsigned request from an address not in auth-peer= get nothing."""
import socket
import subprocess
import threading
import time

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.tsig
import dns.tsigkeyring
import dns.zone
import pytest

from dnsbox.auth.server import Server
from dnsbox.auth.tsig import Key
from dnsbox.net import server as net
from dnsbox.zone.compile import compile_text
from dnsbox.zonedb import open_blob
from nsdconf import nsd_conf
from ports import free_port
from tests.host.test_forwarder import Resolver
from tests.host.test_transfer_nsd import ORIGIN, _expected, _zone_records

SECRET = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
WRONG = "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHg="
RING = dns.tsigkeyring.from_text({"xfr.": ("hmac-sha256", SECRET)})


def _big_zone():
    lines = ["$ORIGIN big.test.", "$TTL 60", "@ SOA ns h 7 1 1 1 1", "@ NS ns", "ns A 192.0.2.1"]
    for i in range(600):
        lines.append("h%d A 10.0.%d.%d" % (i, i >> 8, i & 255))
        lines.append('h%d TXT "%s"' % (i, "t" * 120))
    return "\n".join(lines) + "\n"


@pytest.fixture
def loop():
    import base64

    from dnsbox import sntp

    text = _big_zone()
    blob, _z, _w = compile_text(text, "big.test.")
    srv = Server(open_blob(blob), xfr_key=Key("xfr", base64.b64decode(SECRET)), wall=sntp.wall)
    port = free_port()
    s = net.Server(srv.handle, "127.0.0.1", port)
    s.tcp_handler = lambda q, conn: srv.handle_tcp(q, None)
    t = threading.Thread(target=s.serve, daemon=True)
    t.start()
    yield port, text
    s.stop()
    t.join(2)
    s.close()


def test_multi_message_transfer_verified_by_dnspython(loop):
    port, text = loop
    msgs = list(dns.query.xfr("127.0.0.1", "big.test.", port=port, keyring=RING, keyname="xfr.",
                              relativize=False, timeout=10, lifetime=30))
    assert len(msgs) >= 3 and all(m.had_tsig for m in msgs)  # each one verified
    n = sum(len(rr) for m in msgs for rr in m.answer)
    assert n == 1203 + 1  # every record, and the closing SOA
    bad = dns.tsigkeyring.from_text({"xfr.": ("hmac-sha256", WRONG)})
    with pytest.raises(Exception):
        list(dns.query.xfr("127.0.0.1", "big.test.", port=port, keyring=bad, keyname="xfr.",
                           timeout=5))
    with pytest.raises(dns.query.TransferError):  # unsigned, and no address is allowed
        list(dns.query.xfr("127.0.0.1", "big.test.", port=port, timeout=5))


def test_signed_queries(loop):
    """A plain query signed with the key is answered and the answer signed (dnspython checks
    it); one signed with an unknown key gets NOTAUTH with TSIG error BADKEY (RFC 8945 5.2.1),
    a wrong secret BADSIG, as from NSD and Knot; never the data unsigned."""
    port, _text = loop
    q = dns.message.make_query("h7.big.test.", "A")
    q.use_tsig(RING, keyname="xfr.")
    m = dns.query.udp(q, "127.0.0.1", port=port, timeout=3)
    assert m.had_tsig and [a.to_text() for rr in m.answer for a in rr] == ["10.0.0.7"]
    m = dns.query.tcp(q, "127.0.0.1", port=port, timeout=3)
    assert m.had_tsig and m.answer
    for ring, name, err in ((dns.tsigkeyring.from_text({"other.": ("hmac-sha256", SECRET)}),
                             "other.", dns.rcode.BADKEY),
                            (dns.tsigkeyring.from_text({"xfr.": ("hmac-sha256", WRONG)}),
                             "xfr.", dns.rcode.BADSIG)):
        q = dns.message.make_query("h7.big.test.", "A")
        q.use_tsig(ring, keyname=name)
        with pytest.raises(dns.tsig.PeerError) as e:  # dnspython reads the TSIG error
            dns.query.udp(q, "127.0.0.1", port=port, timeout=3)
        assert e.value.__class__ is {dns.rcode.BADKEY: dns.tsig.PeerBadKey,
                                     dns.rcode.BADSIG: dns.tsig.PeerBadSignature}[err]
    # a big answer signed over UDP still fits the client's limit (the TSIG room is kept)
    q = dns.message.make_query("big.test.", "NS", use_edns=None)
    q.use_tsig(RING, keyname="xfr.")
    wire = q.to_wire()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(wire, ("127.0.0.1", port))
    assert len(s.recv(65535)) <= 512
    s.close()


def test_nsd_secondary_with_the_key(tmp_path):
    fw = Resolver(["mode=auth", "xfr-key=hmac-sha256:xfr:" + SECRET])
    proc = None
    try:
        port = free_port()
        conf = nsd_conf(str(tmp_path), "127.0.0.1", port, [
            ("example.com", str(tmp_path / "example.com.zone"),
             ["request-xfr: AXFR 127.0.0.1@%d xfr." % fw.port,
              "provide-xfr: 127.0.0.1 NOKEY"])])
        key = 'key:\n  name: "xfr."\n  algorithm: hmac-sha256\n  secret: "%s"\n' % SECRET
        conf = conf.replace("zone:", key + "zone:", 1)
        (tmp_path / "nsd.conf").write_text(conf)
        proc = subprocess.Popen(["nsd", "-d", "-c", str(tmp_path / "nsd.conf")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 20
        loaded = False
        while time.monotonic() < end and proc.poll() is None and not loaded:
            try:
                m = dns.query.udp(dns.message.make_query(ORIGIN, "SOA"), "127.0.0.1", port=port,
                                  timeout=0.5)
                loaded = bool(m.answer)
            except (dns.exception.Timeout, OSError):
                pass
            time.sleep(0.2)
        log = (tmp_path / "nsd.log").read_text() if (tmp_path / "nsd.log").exists() else ""
        assert loaded, log[-2000:]
        z = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", ORIGIN, port=port, relativize=False,
                                            timeout=5, lifetime=10), relativize=False)
        assert _zone_records(z) == _expected()  # what NSD got through the signed transfer
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            proc.wait(5)
        fw.stop()
