"""Secondary zones (secondary=ZONE@IP[#port][,key]): pulled from a primary by AXFR, kept current
by IXFR (RFC 1995) on the SOA timers and on NOTIFY (RFC 1996) from the primary's address. Pure:
the clock (ms) comes in, dnsbox.net.xfrclient does the TCP.

Each copy is compiled into a zone blob in RAM by the build's own compiler (dnsbox.zone.check and
dnsbox.zone.blob) and served by its own dnsbox.auth.server.Server: the same answers as a compiled
zone by construction (wildcards, CNAME, DNAME, delegations and glue, negative answers, DNSSEC
records as data), and AXFR out to auth-peer= as any zone. A copy that fails (malformed, over the
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
from dnsbox.wire.rcode import NOERROR, REFUSED, SERVFAIL
from dnsbox.wire.reply import error_for

MAX_ZONES = const(16)  # secondary= zones
MAX_ZONE_BYTES = const(4194304)  # the compiled copy of one zone (blob bytes)
MAX_TOTAL_BYTES = const(6291456)  # the compiled copies of all secondary zones together
MAX_HISTORY = const(4096)  # records kept in the IXFR differences of one zone (IXFR out)
RETRY_FIRST_MS = const(5000)  # a zone never loaded is asked again this often
MIN_TIMER_MS = const(1000)  # shortest refresh/retry (a SOA with 0 would ask in a loop)
OPCODE_NOTIFY = const(4)


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
    """(blob bytes, warnings) of one zone from its records; ZoneError when the checks fail."""
    from dnsbox.zone import blob, check

    z = check.build(origin, [_Rec(r, file) for r in records], file)
    return blob.build([z]), z.warnings


class Zone:
    """One secondary zone: its primary, key, current copy and timers (ms on the loop clock)."""

    def __init__(self, name, primary, key=None):
        self.name = Name.from_text(name if name.endswith(".") else name + ".")
        self.lc = self.name.lc
        self.primary = primary  # (ip text, port)
        self.key = key  # a dnsbox.auth.tsig.Key or None
        self.records = None  # the copy: [SOA, records...]
        self.server = None  # a dnsbox.auth.server.Server over the copy's blob
        self.db = None
        self.size = 0  # bytes of the copy's blob
        self.next_ms = 0  # when to ask the primary next
        self.expire_ms = 0  # the copy is served until then
        self.busy = False  # a transfer is under way
        self.notified = False  # a NOTIFY came while busy: ask again when it ends
        self.history = []  # [(old serial, new serial, deleted, added)], oldest first
        self.last = ""  # the last outcome (log text)

    def serial(self):
        return None if self.records is None else self.records[0].rdata.serial

    def soa(self):
        return self.records[0]

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

    def take(self, result, now, make_server, others=0):
        """Apply a transfer's outcome (dnsbox.auth.xfrin.Reader.result). make_server(blob bytes)
        -> Server. others: bytes held by the other secondary zones. True if the serial changed;
        XfrError (the copy unchanged) when the new copy cannot be used."""
        from dnsbox.zone.errors import ZoneError

        kind = result[0]
        if kind == "current":
            if self.records is None:
                raise xfrin.XfrError("the primary says current, we have no copy")
            self.fresh(now)
            self.last = "serial %d current" % self.serial()
            return False
        if kind == "ixfr":
            if self.records is None:
                raise xfrin.XfrError("IXFR differences, we have no copy")
            records = xfrin.apply(self.records, self.serial(), result[2])
        else:
            records = result[1]
        try:
            blob, _w = compile_zone(self.name, records, "secondary " + self.name.to_text())
        except ZoneError as e:
            raise xfrin.XfrError("zone refused: %s" % e)
        if len(blob) > MAX_ZONE_BYTES or len(blob) + others > MAX_TOTAL_BYTES:
            raise xfrin.XfrError("compiled zone of %d bytes over the limit" % len(blob))
        server = make_server(blob)
        old = self.serial()
        self._remember(result, old, records)
        self.records = records
        self.server = server
        self.db = server.db
        self.size = len(blob)
        self.fresh(now)
        self.last = "serial %d by %s, %d records, %d bytes" % (
            self.serial(), "IXFR" if kind == "ixfr" else "AXFR", len(records), len(blob))
        return old != self.serial()

    def _remember(self, result, old, records):
        if result[0] == "ixfr":
            for o, dels, n, adds in result[2]:
                self.history.append((o, dels, n, adds))
        else:
            self.history = []  # a full copy: no differences from before it
        total = sum(len(d) + len(a) for _o, d, _n, a in self.history)
        while self.history and total > MAX_HISTORY:
            o, d, n, a = self.history.pop(0)
            total -= len(d) + len(a)

    def differences(self, serial):
        """The history from serial to now ([(old SOA, dels, new SOA, adds)]), or None."""
        for i in range(len(self.history)):
            if self.history[i][0].rdata.serial == serial:
                return self.history[i:]
        return None


class Router:
    """The query handler in front of the compiled zones' one (main: handle(q, proto) and
    handle_tcp(q, ip)); zones: [Zone]; now(): the loop clock in ms; wake(): a transfer may
    be due (a NOTIFY came)."""

    def __init__(self, main, zones, now, wake=None):
        self.main = main
        self.zones = zones
        self.now = now
        self.wake = wake

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
            if xfrin._under(name, z.lc):
                return z
        return None

    def handle(self, q, proto, peer=None):
        z = self.zone_of(q)
        if z is None:
            return self.main.handle(q, proto)
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
        """RFC 1996 3.7, 4.7: NOERROR with AA from the primary's address, REFUSED otherwise."""
        from dnsbox.config.nets import peer_text

        if q[2] & 0x80:
            return None  # a response: never answered
        who = peer_text(peer) if peer is not None else None
        ok = who is not None and who[0] == z.primary[0]
        if ok:
            z.notify(self.now())
            if self.wake is not None:
                self.wake()
        return _notify_reply(q, NOERROR if ok else REFUSED)


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

