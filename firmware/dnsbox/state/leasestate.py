"""The DHCP server's leases (dnsbox.dhcp.server) on the state disk: each bound lease and each
lease gone is a journal record, on the disk before the ACK is sent; past COMPACT_AT bytes the
journal becomes a snapshot of the bound leases. At boot the snapshot and the journal are read
(the last record of a client wins) and the leases whose time is not over are bound again.
Lease ends are kept as wall-clock seconds (dnsbox.sntp.wall); a lease is never given back
longer than one lease time. The files: leases.snap and leases.jnl.

A record: b"L", the MAC's length and the MAC, the address (4 bytes), the end (4 bytes, seconds
since 1970), the name's length and the name; or b"F", the MAC's length and the MAC (gone).
"""
import struct

from dnsbox import clock
from dnsbox.compat import const
from dnsbox.state.store import Store

COMPACT_AT = const(65536)  # journal bytes past which it is compacted into a snapshot
READ_BYTES = const(1048576)  # bytes read of the snapshot or of the journal at boot
MAX_REPLAY = const(32768)  # records read of the snapshot or of the journal at boot


def encode(mac, lease, end):
    if lease is None:
        return b"F" + bytes((len(mac),)) + mac
    name = (lease.name or "").encode()
    return (b"L" + bytes((len(mac),)) + mac + struct.pack(">II", lease.ip, end & 0xFFFFFFFF)
            + bytes((len(name),)) + name)


def decode(p):
    """(mac, None) or (mac, (ip, end, name or None)); ValueError if malformed."""
    if len(p) < 2 or p[0] not in (0x46, 0x4C) or len(p) < 2 + p[1]:
        raise ValueError("not a lease record")
    mac = bytes(p[2 : 2 + p[1]])
    off = 2 + p[1]
    if p[0] == 0x46:
        if off != len(p):
            raise ValueError("trailing bytes")
        return mac, None
    if off + 9 > len(p) or off + 9 + p[off + 8] != len(p):
        raise ValueError("bad lease record length")
    ip, end = struct.unpack_from(">II", p, off)
    name = bytes(p[off + 9 :]).decode() if p[off + 8] else None
    return mac, (ip, end, name)


def attach(svc, dirpath, log, wall=None):
    """Bind svc's (a dnsbox.net.dhcp.Service) kept leases again and journal its changes."""
    if wall is None:
        from dnsbox.sntp import wall
    core = svc.core
    st = Store(dirpath, "leases", READ_BYTES, MAX_REPLAY, COMPACT_AT)
    t0 = clock.now_ms()
    kept = {}
    bad = []

    def each(p):
        if bad:
            return
        try:
            mac, v = decode(p)
        except (ValueError, UnicodeError) as e:
            bad.append(str(e))
            return
        kept[mac] = v

    cut = False
    for which in ("snap", "jnl"):
        r = st.read(which, each)
        if r is not None and (r.problem or bad):
            log("state: leases.%s cut at %s: %s" % (which, r.where(), r.problem or bad[0]))
            cut = True
            del bad[:]
    now = svc.now()
    w = wall()
    back = 0
    for mac, v in kept.items():
        if v is not None and core.restore(mac, v[0], v[1] - w, v[2], now):
            back += 1
    log("state: DHCP leases: %d of %d kept ones bound again in %d ms" % (
        back, len([v for v in kept.values() if v is not None]), clock.since_ms(t0)))
    written = {}  # mac -> True for the macs with a lease on the disk

    def snapshot():
        for mac, lease in core.leases.items():
            if lease.bound:
                yield encode(mac, lease, wall() + lease.expires - svc.secs)

    def compact():
        try:
            st.compact(snapshot())
        except (OSError, ValueError) as e:
            log("state: snapshot of the DHCP leases failed (%s)" % e)

    def on_lease(mac, lease):
        if lease is None and mac not in written:
            return
        try:
            st.append(encode(mac, lease, wall() + lease.expires - svc.secs if lease else 0))
        except (OSError, ValueError) as e:
            log("state: leases.jnl: write failed (%s)" % e)
            return
        if lease is None:
            del written[mac]
        else:
            written[mac] = True
        if st.full():
            compact()

    for mac, lease in core.leases.items():
        if lease.bound:
            written[mac] = True
    if cut or st.full():
        compact()
    core.on_lease = on_lease
    return st
