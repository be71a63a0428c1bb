"""Secondary zones (secondary=ZONE@IP[#port][,key]): pulled from a primary by AXFR, kept current
by IXFR (RFC 1995) on the SOA timers and on NOTIFY (RFC 1996) from the primary's address. Pure:
the clock (ms) comes in, dnsbox.net.xfrclient does the TCP.

The records come compact from the transfer (bytes, dnsbox.auth.xfrin.compact). Each copy is
compiled into a zone blob in RAM and served by its own dnsbox.auth.server.Server: an unsigned
zone by dnsbox.zone.lean in bounded steps from the serving loop (Zone.take gives the Build, the
loop calls step() between answers, then install()), a signed one (at most SIGNED_MAX_RECORDS) by
the build's own compiler (dnsbox.zone.check and dnsbox.zone.blob) in one go: the same lookups as
a compiled zone (wildcards, CNAME, DNAME, delegations and glue, negative answers), and AXFR out to
auth-peer= as any zone.

Memory: a copy (its records and blob) takes at most heap * COPY_SHARE / 100 bytes and all copies
together, with a build under way, heap * TOTAL_SHARE / 100 (Limits, from the heap read at start);
a transfer over them is refused with a log line saying the figures. A copy that fails (malformed, over the
limits, a zone the checks refuse) leaves the previous one serving. Past the SOA expire without a
refresh the zone answers SERVFAIL (as NSD). IXFR out comes from the differences received
(History: bounded; AXFR when it does not reach back).

Router puts the zones in front of the compiled zones' Server: a query whose name is in a
secondary zone goes to that zone's Server, a NOTIFY for it is answered here (NOERROR with AA
from the primary, REFUSED from anyone else).
"""
import struct

from dnsbox.auth import xfrin
from dnsbox.compat import const
from dnsbox.wire.name import Name
from dnsbox.wire.rcode import NOERROR, NOTAUTH, REFUSED, SERVFAIL
from dnsbox.wire.reply import error_for
from dnsbox.zonedb.lookup import under

MAX_ZONES = const(16)  # secondary= zones
COPY_SHARE = const(30)  # % of the heap: one zone's copy (compact records + blob)
TOTAL_SHARE = const(60)  # % of the heap: all copies, and the one being built, together: twice
# COPY_SHARE, so a zone of any allowed size can be refreshed while its old copy serves (auth
# mode only: the resolver's budget is not taken there; the rest stays for TCP, TLS, RRL)
BLOB_PER_RECORD = const(130)  # blob bytes per record assumed before the build (lean blob: ~120)
HISTORY_SHARE = const(3)  # % of the heap: one zone's IXFR differences (compact records)
SIGNED_MAX_RECORDS = const(3000)  # a signed zone is built in one go with objects: smaller
RETRY_FIRST_MS = const(5000)  # a zone never loaded is asked again this often
MIN_TIMER_MS = const(1000)  # shortest refresh/retry (a SOA with 0 would ask in a loop)
OPCODE_NOTIFY = const(4)


class Limits:
    """The byte bounds of secondary copies for a heap of `heap` bytes."""

    def __init__(self, heap):
        self.heap = heap
        self.copy = heap * COPY_SHARE // 100
        self.total = heap * TOTAL_SHARE // 100
        self.history = heap * HISTORY_SHARE // 100

    def text(self):
        return "a copy at most %d KB, all %d KB, IXFR history %d KB per zone (heap %d KB)" % (
            self.copy // 1024, self.total // 1024, self.history // 1024, self.heap // 1024)


LIMITS = Limits(8388608)  # replaced at start from the heap (dnsbox.net.xfrclient.router)


def held(records):
    """Heap bytes of compact records (each a bytes object)."""
    n = 0
    for r in records:
        n += len(r) + xfrin.REC_OVERHEAD
    return n


class _Rec:
    """A transferred record in the shape the zone checks take (dnsbox.zone.parser.Record)."""

    __slots__ = ("name", "rtype", "rclass", "ttl", "rdata", "file", "line")

    def __init__(self, rr, file):
        self.name = rr.name
        self.rtype = rr.rtype
        self.rclass = rr.rclass
        self.ttl = rr.ttl
        self.rdata = rr.rdata
        self.file = file
        self.line = 0

    def where(self):
        return self.file


def compile_zone(origin, records, file):
    """(blob bytes, warnings) of one zone from its records (RRs); ZoneError when the checks
    fail. The build's compiler, in one go (signed zones)."""
    from dnsbox.zone import blob, check

    z = check.build(origin, [_Rec(r, file) for r in records], file)
    return blob.build([z]), z.warnings


class _Whole:
    """The build's compiler as a one-step build (a signed zone: dnsbox.zone.lean takes none)."""

    def __init__(self, origin, records, where):
        self.origin = origin
        self.recs = records
        self.where = where
        self.blob = None
        self.steps = 0

    def step(self):
        self.steps += 1
        self.blob = compile_zone(self.origin, [xfrin.expand(r) for r in self.recs],
                                 self.where)[0]
        return True


def builder(origin, records, where):
    """The Build of a copy's blob: dnsbox.zone.lean's in steps, or the whole compiler."""
    from dnsbox.zone import lean

    if lean.signed(records):
        if len(records) > SIGNED_MAX_RECORDS:
            raise xfrin.XfrError("signed zone of %d records: at most %d" % (
                len(records), SIGNED_MAX_RECORDS))
        return _Whole(origin, records, where)
    return lean.Build(origin, records, where)


class Zone:
    """One secondary zone: its primary, key, current copy and timers (ms on the loop clock)."""

    def __init__(self, name, primary, key=None):
        self.name = Name.from_text(name if name.endswith(".") else name + ".")
        self.lc = self.name.lc
        self.primary = primary  # (ip text, port)
        self.key = key  # a dnsbox.auth.tsig.Key or None
        self.records = None  # the copy: [SOA, records...] (compact)
        self.server = None  # a dnsbox.auth.server.Server over the copy's blob
        self.db = None
        self.size = 0  # heap bytes of the copy (blob and compact records)
        self.next_ms = 0  # when to ask the primary next
        self.expire_ms = 0  # the copy is served until then
        self.busy = False  # a transfer is under way
        self.notified = False  # a NOTIFY came while busy: ask again when it ends
        self.history = []  # [(old SOA, deleted, new SOA, added)] compact, oldest first
        self.last = ""  # the last outcome (log text)

    def serial(self):
        return None if self.records is None else xfrin.soa_serial(self.records[0])

    def soa(self):
        return xfrin.expand(self.records[0])

    def serving(self, now):
        return self.server is not None and now < self.expire_ms

    def due(self, now):
        return not self.busy and now >= self.next_ms

    def notify(self, now):
        """A NOTIFY from the primary: refresh now (RFC 1996 4.7)."""
        if self.busy:
            self.notified = True
        else:
            self.next_ms = now

    def failed(self, now, reason):
        """The transfer failed: the copy (if any) serves on until expire; ask again at retry."""
        self.busy = False
        self.last = reason
        wait = RETRY_FIRST_MS
        if self.records is not None:
            wait = max(MIN_TIMER_MS, self.soa().rdata.retry * 1000)
        self.next_ms = now + (0 if self.notified else wait)
        self.notified = False

    def fresh(self, now):
        """The primary answered: the timers start again from the copy's SOA."""
        soa = self.soa().rdata
        self.next_ms = now + (0 if self.notified else max(MIN_TIMER_MS, soa.refresh * 1000))
        self.expire_ms = now + soa.expire * 1000
        self.busy = False
        self.notified = False

    def take(self, result, now, others=0):
        """Apply a transfer's outcome (dnsbox.auth.xfrin.Reader.result). others: heap bytes of
        the other secondary zones. None when the copy is current, else a Build to step (then
        install); XfrError (the copy unchanged) when the new copy cannot be used."""
        kind = result[0]
        if kind == "current":
            if self.records is None:
                raise xfrin.XfrError("the primary says current, we have no copy")
            self.fresh(now)
            self.last = "serial %d current" % self.serial()
            return None
        if kind == "ixfr":
            if self.records is None:
                raise xfrin.XfrError("IXFR differences, we have no copy")
            records = xfrin.apply(self.records, self.serial(), result[2])
        else:
            records = result[1]
        need = held(records) + len(records) * BLOB_PER_RECORD
        lim = LIMITS
        if need > lim.copy or need + others + self.size > lim.total:
            raise xfrin.XfrError("%d records need about %d KB: over the limits (%s)" % (
                len(records), need // 1024, lim.text()))
        b = builder(self.name, records, "secondary " + self.name.to_text())
        b.result = result
        b.others = others
        b.soa = records[0]
        return b

    def install(self, b, now, server):
        """The Build b is done: its blob serves (server: a Server over it). True if the
        serial changed; XfrError when the copy is over the limits."""
        size = len(b.blob) + held(b.recs)
        if size > LIMITS.copy or size + b.others > LIMITS.total:
            raise xfrin.XfrError("copy of %d KB over the limits (%s)" % (
                size // 1024, LIMITS.text()))
        old = self.serial()
        self._remember(b.result)
        recs = b.recs  # the build sorted them: the SOA goes first again
        i = recs.index(b.soa)
        recs[0], recs[i] = recs[i], recs[0]
        self.records = recs
        self.server = server
        self.db = server.db
        self.size = size
        self.fresh(now)
        self.last = "serial %d by %s, %d records, %d bytes blob, %d KB held" % (
            self.serial(), "IXFR" if b.result[0] == "ixfr" else "AXFR", len(b.recs),
            len(b.blob), size // 1024)
        return old != self.serial()

    def _remember(self, result):
        """IXFR differences kept for IXFR out, bounded in bytes (LIMITS.history)."""
        if result[0] == "ixfr":
            for d in result[2]:
                self.history.append((d[0], d[1], d[2], d[3], held(d[1]) + held(d[3]) + 64))
        else:
            self.history = []  # a full copy: no differences from before it
        total = 0
        for d in self.history:
            total += d[4]
        while self.history and total > LIMITS.history:
            total -= self.history.pop(0)[4]

    def differences(self, serial):
        """The history from serial to now ([(old SOA, dels, new SOA, adds)] as RRs), or None."""
        ex = xfrin.expand
        for i in range(len(self.history)):
            if xfrin.soa_serial(self.history[i][0]) == serial:
                return [(ex(o), [ex(r) for r in d], ex(n), [ex(r) for r in a])
                        for o, d, n, a, _s in self.history[i:]]
        return None


class Router:
    """The query handler in front of the compiled zones' one (main: handle(q, proto) and
    handle_tcp(q, ip)); zones: [Zone]; now(): the loop clock in ms; wake(): a transfer may
    be due (a NOTIFY came)."""

    def __init__(self, main, zones, now, wake=None, wall=None):
        self.main = main
        self.zones = zones
        self.now = now
        self.wake = wake
        self.wall = wall or (lambda: 0)  # the wall clock (s): TSIG's time

    def zone_of(self, q):
        """The secondary Zone holding the question's name, or None."""
        n = len(q)
        if n < 17 or (q[4] | q[5]) != 1:
            return None
        i = 12
        while i < n and q[i]:
            if q[i] > 63:
                return None
            i += q[i] + 1
        if i >= n:
            return None
        name = bytes(q[12 : i + 1]).lower()
        for z in self.zones:
            if under(name, z.lc):
                return z
        return None

    def handle(self, q, proto, peer=None):
        z = self.zone_of(q)
        if z is None:
            return self.main.handle(q, proto) if peer is None else \
                self.main.handle_from(q, proto, peer)
        if (q[2] >> 3) & 0xF == OPCODE_NOTIFY:
            return self._notify(q, z, peer)
        if not z.serving(self.now()):
            return error_for(q, SERVFAIL, None, False)
        return z.server.handle(q, proto)

    def handle_tcp(self, q, ip, peer=None):
        z = self.zone_of(q)
        if z is None:
            return self.main.handle_tcp(q, ip)
        if (q[2] >> 3) & 0xF == OPCODE_NOTIFY:
            return self._notify(q, z, peer)
        if not z.serving(self.now()):
            return error_for(q, SERVFAIL, None, False)
        return z.server.handle_tcp(q, ip)

    def _notify(self, q, z, peer):
        """RFC 1996 3.7, 4.7: NOERROR with AA from the primary's address, REFUSED otherwise. A
        NOTIFY signed with TSIG (RFC 8945) is checked with the zone's key and answered signed;
        a bad signature or another key gets NOTAUTH with the TSIG error (5.2) and changes
        nothing."""
        from dnsbox.config.nets import peer_text

        if q[2] & 0x80:
            return None  # a response: never answered
        signed = self._signed(q, z)
        if signed is not None and signed[0]:
            return self._sign(_notify_reply(q, NOTAUTH), z, signed)
        who = peer_text(peer) if peer is not None else None
        ok = who is not None and who[0] == z.primary[0]
        if ok:
            z.notify(self.now())
            if self.wake is not None:
                self.wake()
        r = _notify_reply(q, NOERROR if ok else REFUSED)
        return r if signed is None else self._sign(r, z, signed)

    def _signed(self, q, z):
        """None for an unsigned message, else (TSIG error or 0, its fields, the request MAC)."""
        from dnsbox.auth import tsig as _tsig
        from dnsbox.wire import message as _msg

        try:
            off = _msg.decode_question(q).tsig_off
            if off < 0:
                return None
            f = _tsig.find(q, off)
        except Exception:  # noqa: BLE001 - a malformed TSIG record: a bad signature
            return (_tsig.BADSIG, None, b"")
        err, rmac = _tsig.check(q, f, z.key, self.wall())
        return (err, f, rmac)

    def _sign(self, r, z, signed):
        from dnsbox.auth import tsig as _tsig

        if signed[1] is None or z.key is None:
            return r  # nothing to sign with (BADKEY goes unsigned: RFC 8945 5.3.2)
        return _tsig.sign(r, z.key, signed[1], signed[2], self.wall(), signed[0])


def _notify_reply(q, rcode):
    """The NOTIFY response: ID, QR, opcode 4, AA, rcode, the question echoed."""
    i = 12
    while q[i]:
        i += q[i] + 1
    flags = 0x8000 | (OPCODE_NOTIFY << 11) | 0x0400 | rcode
    return q[:2] + struct.pack(">HHHHH", flags, 1, 0, 0, 0) + bytes(q[12 : i + 5])


def soa_text(z):
    s = z.soa().rdata
    return "serial %d refresh %d retry %d expire %d" % (s.serial, s.refresh, s.retry, s.expire)

