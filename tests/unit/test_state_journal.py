"""The state files' record framing (dnsbox.state.journal) and the files (dnsbox.state.store):
append and read back, a torn tail, a bad checksum, the read limits, compaction into a snapshot,
and the update zone's changes replayed from them (dnsbox.state.zonestate)."""
import io
import os
import struct

from dnsbox.state import journal as J
from dnsbox.state import store as S
from dnsbox.state import zonestate as Z
from tests.unit import test_dynzone as TD


def _records(data, max_bytes=1 << 20, max_records=1000):
    r = J.Reader(io.BytesIO(data), max_bytes, max_records)
    return [bytes(p) for p in r], r


def test_frame_is_length_crc_payload():
    # b"abc": length 3, CRC-32 0x352441c2 (the zlib/PNG CRC of "abc")
    assert J.frame(b"abc") == bytes.fromhex("00000003352441c2") + b"abc"


def test_records_read_back_in_order():
    data = J.frame(b"one") + J.frame(b"") + J.frame(b"three")
    got, r = _records(data)
    assert got == [b"one", b"", b"three"]
    assert r.problem is None and r.good == len(data) and r.count == 3


def test_torn_tail_cut_at_last_good_record():
    good = J.frame(b"first") + J.frame(b"second")
    for cut in range(1, len(J.frame(b"third"))):
        got, r = _records(good + J.frame(b"third")[:cut])
        assert got == [b"first", b"second"]
        assert r.good == len(good) and r.problem is not None


def test_bad_checksum_stops_reading():
    third = bytearray(J.frame(b"third"))
    third[-1] ^= 1
    data = J.frame(b"a") + bytes(third) + J.frame(b"after")
    got, r = _records(data)
    assert got == [b"a"] and r.problem == "bad checksum" and r.where() == "byte 9 (record 2)"


def test_limits_of_bytes_records_and_length():
    data = J.frame(b"x" * 10) * 5
    got, r = _records(data, max_records=3)
    assert len(got) == 3 and "records" in r.problem
    got, r = _records(data, max_bytes=40)
    assert len(got) == 2 and "bytes" in r.problem
    got, r = _records(struct.pack(">II", J.MAX_RECORD + 1, 0))
    assert got == [] and "length" in r.problem
    try:
        J.frame(b"x" * (J.MAX_RECORD + 1))
    except ValueError:
        pass
    else:
        raise AssertionError("a record over MAX_RECORD was framed")


def _tmpdir():
    d = "/tmp/dnsbox-state-%s" % "".join("%02x" % b for b in os.urandom(6))
    os.mkdir(d)
    return d


def _rmtree(d):
    for n in os.listdir(d):
        os.remove(d + "/" + n)
    os.rmdir(d)


def _read(st, which):
    out = []
    r = st.read(which, lambda p: out.append(bytes(p)))
    return out, r


def test_store_append_compact_and_torn_journal():
    d = _tmpdir()
    try:
        st = S.Store(d, "t", 1 << 20, 1000, 30)
        assert st.read("jnl", None) is None and st.read("snap", None) is None
        st.append(b"one")
        assert not st.full()
        st.append(b"two" * 10)
        assert st.full() and _read(st, "jnl")[0] == [b"one", b"two" * 10]
        st.compact([b"snap1", b"snap2"])
        assert _read(st, "snap")[0] == [b"snap1", b"snap2"]
        assert _read(st, "jnl")[0] == [] and st.size == 0
        st.append(b"three")
        st.close()
        f = open(st.jnl, "ab")
        f.write(J.frame(b"torn")[:6])
        f.close()
        st2 = S.Store(d, "t", 1 << 20, 1000, 30)
        got, r = _read(st2, "jnl")
        assert got == [b"three"] and r.problem == "record header cut short"
        assert S.usable(d) is None and S.usable(d + "/nothere") is not None
    finally:
        _rmtree(d)


def _update(z, name, ip):
    return TD.rcode(z.update(TD.upd(updates=[TD.rec(name, 1, TD.IN, 300, TD.a(ip))])))


def _delete(z, name):
    return TD.rcode(z.update(TD.upd(updates=[TD.rec(name, 255, TD.ANY)])))


def test_zone_changes_journaled_and_replayed():
    d = _tmpdir()
    logs = []
    try:
        z = TD.zone()
        Z.attach(z, d, logs.append)
        for i in range(30):
            assert _update(z, "h%d.dyn.test." % i, "10.0.0.%d" % i) == 0
        assert _delete(z, "h3.dyn.test.") == 0
        want = TD.texts(z.records())
        z2 = TD.zone()
        st = Z.attach(z2, d, logs.append)
        assert TD.texts(z2.records()) == want and z2.serial == 32
        assert "31 changes replayed" in logs[-1]
        st.close()
        f = open(d + "/update-dyn.test.jnl", "ab")  # a torn record at the end
        f.write(b"\x00\x00\x01\x00garbage")
        f.close()
        z3 = TD.zone()
        Z.attach(z3, d, logs.append)
        assert TD.texts(z3.records()) == want
        assert [x for x in logs if "cut at byte" in x and "cut short" in x]
        z4 = TD.zone()  # compacted at once: the next boot finds a clean snapshot
        Z.attach(z4, d, logs.append)
        assert TD.texts(z4.records()) == want and "0 changes replayed" in logs[-1]
    finally:
        _rmtree(d)


def test_zone_compaction_past_its_size():
    d = _tmpdir()
    logs = []
    try:
        z = TD.zone()
        st = Z.attach(z, d, logs.append)
        st.compact_at = 400  # a few changes
        for i in range(40):
            assert _update(z, "c%d.dyn.test." % i, "10.1.0.%d" % i) == 0
        assert os.stat(st.snap)[6] > 0 and st.size < 400
        z2 = TD.zone()
        Z.attach(z2, d, logs.append)
        assert TD.texts(z2.records()) == TD.texts(z.records()) and z2.serial == 41
    finally:
        _rmtree(d)


def test_journal_write_failure_refuses_the_update():
    z = TD.zone()

    def broken(_payload):
        raise OSError(28)  # ENOSPC

    z.journal = broken
    before = TD.texts(z.records())
    assert _update(z, "x.dyn.test.", "10.2.0.1") == 2  # SERVFAIL
    assert TD.texts(z.records()) == before and z.serial == 1


class _Svc:  # what leasestate needs of dnsbox.net.dhcp.Service: the core and its clock
    def __init__(self, core):
        self.core = core
        self.secs = 0

    def now(self):
        return self.secs


def test_leases_journaled_and_bound_again():
    from dnsbox.dhcp import packet as P
    from dnsbox.state import leasestate as L
    from tests.unit import test_dhcp as TH

    d = _tmpdir()
    logs = []
    clock = [1000000]
    try:
        svc = _Svc(TH.core())
        L.attach(svc, d, logs.append, lambda: clock[0])
        for mac in (TH.MAC1, TH.MAC2):
            offer = TH.reply(svc.core.handle(TH.request(P.DISCOVER, mac=mac), 0))
            svc.core.handle(TH.request(P.REQUEST, mac=mac, requested=offer[1],
                                       server=TH.SERVER, name=b"pc"), 0)
        svc.core.handle(TH.request(P.RELEASE, mac=TH.MAC2, ciaddr=svc.core.leases[TH.MAC2].ip), 0)
        ip1 = svc.core.leases[TH.MAC1].ip
        clock[0] += 100  # a restart 100 s later: the lease has 500 s left
        svc2 = _Svc(TH.core())
        L.attach(svc2, d, logs.append, lambda: clock[0])
        got = svc2.core.leases
        assert list(got) == [TH.MAC1] and got[TH.MAC1].ip == ip1 and got[TH.MAC1].bound
        assert got[TH.MAC1].expires == 500 and got[TH.MAC1].name == "pc"
        assert "1 of 1 kept ones bound again" in logs[-1]
        clock[0] += 600  # after its end: not bound again
        svc3 = _Svc(TH.core())
        L.attach(svc3, d, logs.append, lambda: clock[0])
        assert svc3.core.leases == {}
    finally:
        _rmtree(d)


def test_lease_records_round_trip_and_reject_junk():
    from dnsbox.dhcp.server import Lease
    from dnsbox.state import leasestate as L

    mac = b"\x02\x00\x00\x00\x00\x09"
    p = L.encode(mac, Lease(mac, 0xC0000201, 0, "host", True), 1234)
    assert L.decode(p) == (mac, (0xC0000201, 1234, "host"))
    assert L.decode(L.encode(mac, None, 0)) == (mac, None)
    for bad in (b"", b"X\x01a", b"L\x06" + mac + b"\x00", p + b"!"):
        try:
            L.decode(bad)
        except ValueError:
            continue
        raise AssertionError("accepted %r" % bad)
