"""TSIG (RFC 8945) HMAC-SHA256 for UPDATE: the HMAC (RFC 4231's test cases), a signed update
accepted and its response signed, and BADKEY / BADSIG / BADTIME / unsigned refused."""
import struct

from dnsbox.auth import dynzone as D
from dnsbox.auth import tsig as S
from dnsbox.wire import message as M
from dnsbox.wire import rcode as RC
from dnsbox.wire.name import Name
from dnsbox.wire import types as T
from tests.unit.test_dynzone import IN, ZONE, a, rec, upd

SECRET = b"0123456789abcdef0123456789abcdef"
NOW = 1764000000


def test_hmac_rfc4231():
    assert S.hmac_sha256(b"\x0b" * 20, b"Hi There").hex() == (
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    assert S.hmac_sha256(b"Jefe", b"what do ya want for nothing?").hex() == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    long_key = S.hmac_sha256(b"\xaa" * 131,
                             b"Test Using Larger Than Block-Size Key - Hash Key First")
    assert long_key.hex() == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"


def signed(q, keyname="upd.", secret=SECRET, when=NOW, alg="hmac-sha256."):
    """q with a client's TSIG record (what nsupdate -y sends)."""
    kn, an = Name.from_text(keyname), Name.from_text(alg)
    fudge = 300
    variables = (kn.lc + struct.pack(">HI", 255, 0) + an.lc +
                 struct.pack(">HIHHH", when >> 32, when & 0xFFFFFFFF, fudge, 0, 0))
    mac = S.hmac_sha256(secret, q + variables)
    rdata = an.wire + struct.pack(">HIHH", when >> 32, when & 0xFFFFFFFF, fudge, len(mac)) + mac + \
        struct.pack(">HHH", (q[0] << 8) | q[1], 0, 0)
    out = bytearray(q)
    out[11] += 1
    return bytes(out) + kn.wire + struct.pack(">HHIH", 250, 255, 0, len(rdata)) + rdata


def zone():
    return D.DynZone(ZONE, a("192.0.2.53"), S.Key("upd", SECRET))


def add(name="pc.dyn.test."):
    return upd(updates=[rec(name, T.A, IN, 60, a("192.0.2.10"))])


def test_signed_update_and_signed_response():
    z = zone()
    q = signed(add())
    r = z.update(q, NOW + 10)
    m = M.decode(r)
    assert m.rcode == 0 and z.count == 4
    assert m.tsig is not None
    # the response MAC: HMAC over the request MAC, the response without TSIG, the variables
    req = S.find(q, _tsig_start(q))
    resp = S.find(r, _tsig_start(r))
    body = bytearray(r[: resp.start])
    body[11] -= 1
    data = struct.pack(">H", len(req.mac)) + req.mac + bytes(body) + S._variables(
        resp, resp.signed, 0, b"")
    assert resp.mac == S.hmac_sha256(SECRET, data) and resp.signed == NOW + 10


def _tsig_start(msg):
    """Offset of the last record (the TSIG) of msg, found by skipping the others."""
    from dnsbox.wire.name import decode_name

    counts = struct.unpack_from(">HHHH", msg, 4)
    off = 12
    for _ in range(counts[0]):
        _n, off = decode_name(msg, off)
        off += 4
    total = counts[1] + counts[2] + counts[3]
    for i in range(total):
        start = off
        _n, off = decode_name(msg, off)
        off += 10 + ((msg[off + 8] << 8) | msg[off + 9])
    return start


def test_refusals_and_tsig_errors():
    z = zone()
    assert M.decode(z.update(add(), NOW)).rcode == RC.REFUSED  # unsigned
    for q, err in ((signed(add(), keyname="other."), S.BADKEY),
                   (signed(add(), secret=b"x" * 32), S.BADSIG),
                   (signed(add(), alg="hmac-md5.sig-alg.reg.int."), S.BADKEY)):
        r = z.update(q, NOW)
        assert M.decode(r).rcode == RC.NOTAUTH
        f = S.find(r, _tsig_start(r))
        assert f.error == err and f.mac == b""  # unsigned: the key is not trusted
    r = z.update(signed(add(), when=NOW - 301), NOW)  # outside the fudge
    f = S.find(r, _tsig_start(r))
    assert M.decode(r).rcode == RC.NOTAUTH and f.error == S.BADTIME and len(f.mac) == 32
    assert struct.unpack(">HI", f.other) == (0, NOW)  # our time, for the client
    assert z.count == 3  # nothing applied
    # a zone without a key: a signed update gets BADKEY
    r = D.DynZone(ZONE).update(signed(add()), NOW)
    assert M.decode(r).rcode == RC.NOTAUTH and S.find(r, _tsig_start(r)).error == S.BADKEY


def test_query_signed_with_the_update_key():
    """certbot's rfc2136 plugin signs its SOA queries with the update key: answered and signed
    (RFC 8945 5.3); the same key does not open zone transfers (those take xfr-key=)."""
    from dnsbox.auth.server import Server
    from tests.unit.authhelp import server

    z = zone()
    srv = Server(server().db, dyn=z, wall=lambda: NOW)
    q = signed(M.encode_query(Name.from_text(ZONE), T.SOA, T.CLASS_IN, 9, False, None))
    r = srv.handle_tcp(q, 0x7F000001)
    m = M.decode(r)
    assert m.rcode == 0 and m.aa and [x.rtype for x in m.answer] == [T.SOA]
    f = S.find(r, _tsig_start(r))
    assert f.error == 0 and len(f.mac) == 32 and f.keyname == Name.from_text("upd.")
    bad = signed(M.encode_query(Name.from_text(ZONE), T.SOA, T.CLASS_IN, 9, False, None),
                 secret=b"x" * 32)
    r = srv.handle_tcp(bad, 0x7F000001)
    assert M.decode(r).rcode == RC.NOTAUTH and S.find(r, _tsig_start(r)).error == S.BADSIG
    axfr = signed(M.encode_query(Name.from_text(ZONE), T.AXFR, T.CLASS_IN, 9, False, None))
    r = srv.handle_tcp(axfr, 0x7F000001)
    assert M.decode(r).rcode == RC.NOTAUTH and S.find(r, _tsig_start(r)).error == S.BADKEY
