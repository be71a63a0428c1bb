"""The update zone (dnsbox.auth.dynzone) on the state disk: at boot its snapshot is loaded and
the journal of changes replayed over it; afterwards each change is appended to the journal (on
the disk before the UPDATE is answered) and the journal is compacted into a new snapshot past
COMPACT_AT bytes. A journal with a torn or corrupt tail is cut at its last good record (a log
line says where) by compacting at once. The files: update-ZONE.snap and update-ZONE.jnl.
"""
import gc

from dnsbox import clock
from dnsbox.auth import dynhistory as _hist
from dnsbox.compat import const
from dnsbox.state.store import Store
from dnsbox.wire.errors import WireError

COMPACT_AT = const(262144)  # journal bytes past which it is compacted into a snapshot
READ_BYTES = const(4194304)  # bytes read of the snapshot or of the journal at boot
MAX_REPLAY = const(32768)  # records read of the snapshot or of the journal at boot
_HALF = const(0x80000000)


def _newer(a, b):
    d = (a - b) & 0xFFFFFFFF  # RFC 1982 serial arithmetic
    return 0 < d < _HALF


def attach(dyn, dirpath, log):
    """Load dyn's state from dirpath and journal its changes there from now on."""
    name = "update-" + (dyn.origin.to_text().rstrip(".").lower() or "root")
    st = Store(dirpath, name, READ_BYTES, MAX_REPLAY, COMPACT_AT)
    t0 = clock.now_ms()
    cut = _load_snapshot(dyn, st, log)
    done = [0, 0, None]  # applied, skipped (already in the snapshot), why replay stopped

    def each(p):
        if done[2] is not None:
            return
        try:
            frm, to, dels, adds = _hist.decode_change(p)
        except (ValueError, WireError) as e:
            done[2] = "bad change record (%s)" % e
            return
        if dyn.apply_change(frm, to, dels, adds, p):
            done[0] += 1
        elif not _newer(to, dyn.serial):
            done[1] += 1
        else:
            done[2] = "change %d -> %d does not follow serial %d" % (frm, to, dyn.serial)

    r = st.read("jnl", each)
    if r is not None and (r.problem or done[2]):
        why = r.problem or done[2]
        log("state: %s.jnl cut at %s: %s" % (name, r.where(), why))
        cut = True
    log("state: update zone %s at serial %d, %d records: %d changes replayed (%d bytes) in "
        "%d ms" % (dyn.origin.to_text(), dyn.serial, dyn.count, done[0], st.size,
                   clock.since_ms(t0)))
    if cut or st.full():
        _compact(dyn, st, log)

    def journal(payload):
        try:
            st.append(payload)
        except OSError as e:
            log("state: %s.jnl: write failed (%s): the update is refused" % (name, e))
            raise
        if st.full():
            _compact(dyn, st, log)  # dyn holds the change already (see DynZone._update)

    dyn.journal = journal
    gc.collect()  # the replay's garbage, before the serving loop takes its buffers
    return st


def _load_snapshot(dyn, st, log):
    """Load the snapshot into dyn; True if it was bad (then a new one is due)."""
    got = [None, []]

    def each(p):
        kind, v = _hist.decode_snapshot_part(p)
        if kind == "S":
            got[0] = v
        else:
            got[1].extend(v)

    try:
        r = st.read("snap", each)
    except (ValueError, WireError) as e:
        log("state: %s: bad record (%s): not used" % (st.snap, e))
        return True
    if r is None:
        return False
    if r.problem or got[0] is None:
        log("state: %s: %s: not used" % (st.snap, r.problem or "no serial"))
        return True
    for rr in got[1]:
        if not dyn.contains(rr.name.lc):
            log("state: %s: %s is not in the zone: not used" % (st.snap, rr.name.to_text()))
            return True
    dyn.load_snapshot(got[0], got[1])
    return False


def _compact(dyn, st, log):
    try:
        st.compact(dyn.snapshot())
    except (OSError, ValueError) as e:
        log("state: snapshot of %s failed (%s): the journal goes on" % (dyn.origin.to_text(), e))
