"""The zone blob: round trip (zone -> blob -> records == zone), header checks, index hash,
lookup outcomes."""

from dnsbox.wire import message as M
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.zone.compile import compile_text, load_text
from dnsbox.zonedb import K_ANSWER, K_DELEG_NS, K_GLUE, djb2x16, open_blob
from dnsbox.zonedb import lookup as L
from tests.unit.authhelp import ZONE
from tests.unit.helpers import raises


def _blob():
    return compile_text(ZONE, "example.com.")[0]


def blob_records(db):
    """Every record stored in the blob, as lower-case text lines."""
    out = []
    for e in db.entries():
        if db.kind(e) not in (K_ANSWER, K_DELEG_NS, K_GLUE):
            continue
        key = db.key(e)
        rtype = (key[-4] << 8) | key[-3]
        m = M.decode(b"\x00\x00" + db.response(e))
        for r in m.answer:
            if r.rtype == rtype and r.name.wire == key[:-4]:
                out.append(r.to_text().lower())
    return sorted(out)


def test_round_trip_zone_blob_records():
    z, _w = load_text(ZONE, "example.com.")
    want = sorted(r.name.to_text().lower() + " %d IN %s %s" % (
        r.ttl, T.type_to_text(r.rtype), r.rdata.to_text().lower()) for r in z.records())
    db = open_blob(_blob())
    assert blob_records(db) == [w.replace(" IN ", " in ").lower() for w in want]
    assert db.record_count() == len(want) == z.record_count()
    assert db.zone_names() == ["example.com."]


def test_bad_blobs_refused():
    b = _blob()
    assert "magic" in str(raises(ValueError, open_blob, b"x" * 64))
    assert "truncated" in str(raises(ValueError, open_blob, b[:-1]))
    assert "version" in str(raises(ValueError, open_blob, b[:8] + b"\x00\x09" + b[10:]))
    assert raises(ValueError, open_blob, b"")


def test_index_hash_is_micropython_bytes_hash():
    # djb2 with xor, 16 bits (docs/blob.md); on MicroPython it is the builtin hash of bytes
    assert djb2x16(b"") == 5381
    assert djb2x16(b"a") == (5381 * 33) & 0xFFFF ^ 97
    import sys

    if sys.implementation.name == "micropython":
        for k in (b"", b"abc", b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"):
            assert hash(k) == djb2x16(k)


def test_find_every_key():
    db = open_blob(_blob())
    n = 0
    for e in db.entries():
        assert db.find(db.key(e)) == e
        n += 1
    assert n > 40
    assert db.find(b"\x03zzz\x00\x00\x01\x00\x01") == -1


def _lk(name, qtype):
    db = open_blob(_blob())
    return L.lookup(db, Name.from_text(name).wire.lower(), qtype)


def test_lookup_outcomes():
    assert _lk("www.example.com.", T.A).kind == L.ANSWER
    assert _lk("www.example.com.", T.MX).kind == L.NODATA
    assert _lk("ent.example.com.", T.A).kind == L.NODATA
    assert _lk("ftp.example.com.", T.A).kind == L.CNAME
    assert _lk("ftp.example.com.", T.CNAME).kind == L.ANSWER
    assert _lk("nx.example.com.", T.A).kind == L.NXDOMAIN
    o = _lk("a.b.sub.example.com.", T.A)
    assert o.kind == L.DELEGATION and o.owner == b"\x03sub\x07example\x03com\x00"
    assert _lk("sub.example.com.", T.DS).kind == L.NODATA
    o = _lk("q.wild.example.com.", T.A)
    assert o.kind == L.ANSWER and o.wild and o.owner[:2] == b"\x01*"
    assert _lk("x.dn.example.com.", T.A).kind == L.DNAME
    assert _lk("example.com.", T.ANY).kind == L.ANY
    assert _lk("example.org.", T.A).kind == L.NOT_AUTH
    assert _lk(".", T.A).kind == L.NOT_AUTH
