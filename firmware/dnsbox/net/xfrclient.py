"""The I/O of secondary zones (dnsbox.auth.secondary): one non-blocking TCP connection per
transfer in the serving loop (connect, the framed query, frames fed to dnsbox.auth.xfrin.Reader),
started from the loop's periodic hook when a zone's timer is due or at once on a NOTIFY; a
transfer is given XFR_MS in all (IPv4 or IPv6: the socket's family is the primary's). The new
copy's blob is built in steps from the loop's work list (dnsbox.auth.secondary.Zone.take: at
most BUILD_MS of steps per loop turn, answers served in between from the old copy). After a copy
that changed the serial, NOTIFY to also-notify= (dnsbox.net.notifier). One log line per
outcome, with the heap taken (gc.mem_alloc before and after)."""
import gc
import os
import socket
import struct

from dnsbox import clock, log
from dnsbox.auth import secondary as _sec
from dnsbox.auth import xfrin
from dnsbox.compat import const

XFR_MS = const(30000)  # a transfer taking longer is abandoned (the copy serves on)
READ_MAX = const(16384)  # bytes read per readable event
BUILD_MS = const(5)  # build steps per loop turn stop once they took this long
# A transfer collects garbage after each COLLECT_BYTES read: the records it keeps then sit
# packed low in the heap instead of strewn among the dead messages, which left no hole for the
# record list or the blob (a 10,000-record zone failed at the board's 8 MB heap without it).
COLLECT_BYTES = const(16384)
_EINPROGRESS = const(115)


class Transfers:
    """loop: dnsbox.net.server.Server; zones: [secondary.Zone]; make_server(blob) -> Server;
    wall(): seconds since 1970 (TSIG); notify: [(ip, port)] of also-notify=."""

    def __init__(self, loop, zones, make_server, wall, notify=()):  # make_server(zone, blob)
        self.loop = loop
        self.zones = zones
        self.make_server = make_server
        self.wall = wall
        self.notify = notify
        self.running = {}  # zone name lc -> [socket, reader, query, buffer, started ms]
        loop.periodic.append(self.tick)

    def tick(self):
        now = self.now()
        for z in self.zones:
            job = self.running.get(z.lc)
            if job is not None and now - job[4] > XFR_MS:
                self._end(z, "no complete answer in %d ms" % XFR_MS)
            if z.due(now):
                self._start(z, now)
            if z.server is not None and now >= z.expire_ms and z.last != "expired":
                z.last = "expired"
                log.log("secondary %s: expired (SOA expire passed without a refresh): SERVFAIL" %
                        z.name.to_text())

    def _start(self, z, now):
        qid = (os.urandom(1)[0] << 8) | os.urandom(1)[0]
        qtype = xfrin.AXFR if z.records is None else xfrin.IXFR
        wall = self.wall()
        q, mac = xfrin.request(qid, z.name, qtype, z.soa() if z.records else None, z.key, wall)
        lim = _sec.LIMITS
        room = min(lim.copy, lim.total - sum(x.size for x in self.zones))
        reader = xfrin.Reader(qid, z.name, qtype, z.serial(), z.key, mac, wall, room)
        z.busy = True
        try:
            ai = socket.getaddrinfo(z.primary[0], z.primary[1])[0]
            s = socket.socket(ai[0], socket.SOCK_STREAM)
        except OSError as e:
            z.failed(now, "socket: %s" % e)
            return
        s.setblocking(False)
        try:
            s.connect(ai[-1])
        except OSError as e:
            if not e.args or e.args[0] != _EINPROGRESS:
                s.close()
                self._log(z, "connect failed (%s)" % e)
                z.failed(now, "connect failed")
                return
        gc.collect()  # the heap before the transfer, for the outcome's log line
        job = [s, reader, struct.pack(">H", len(q)) + q, b"", now, _alloc(), 0]
        self.running[z.lc] = job
        try:
            self.loop.watch(s, lambda ev: self._event(z, job, ev), 0x4 | 0x1)  # POLLOUT, POLLIN
        except Exception as e:  # noqa: BLE001 - MemoryError: no transfer this round
            s.close()
            del self.running[z.lc]
            z.failed(now, "watch: %s" % e)

    def _event(self, z, job, ev):
        s = job[0]
        try:
            if job[2]:
                n = s.send(job[2])
                job[2] = job[2][n:]
                if not job[2]:
                    self.loop.rewatch(s, 0x1)
                return
            data = s.recv(READ_MAX)
        except OSError as e:
            self._end(z, "connection: %s" % e)
            return
        except MemoryError:
            self._end(z, "out of memory reading the transfer")  # a lost read: never go on
            return
        if not data:
            self._end(z, "connection closed before the end of the transfer")
            return
        buf = job[3] + data
        reader = job[1]
        try:
            while len(buf) >= 2 and not reader.done:
                n = (buf[0] << 8) | buf[1]
                if len(buf) < 2 + n:
                    break
                reader.feed(buf[2 : 2 + n])
                buf = buf[2 + n :]
        except xfrin.XfrError as e:
            self._end(z, str(e))
            return
        except MemoryError:
            self._end(z, "out of memory parsing the transfer")
            return
        job[3] = buf
        job[6] += len(data)
        if job[6] >= COLLECT_BYTES:
            job[6] = 0
            gc.collect()
        if reader.done:
            self._end(z, None)

    def _end(self, z, error):
        job = self.running.pop(z.lc, None)
        if job is None:
            return
        self.loop.unwatch(job[0])
        job[0].close()
        now = self.now()
        if error is not None:
            self._log(z, "transfer failed: %s (%s)" % (error, self._kept(z)))
            z.failed(now, error)
            return
        others = sum(x.size for x in self.zones if x is not z)
        result = job[1].result
        began, heap0 = job[4], job[5]
        job = None
        try:
            b = z.take(result, now, others)
        except (xfrin.XfrError, MemoryError) as e:
            self._log(z, "transfer refused: %s (%s)" % (e, self._kept(z)))
            z.failed(now, str(e))
            return
        if b is None:
            return
        result = None
        gc.collect()
        b.heap_before = _alloc()
        b.heap_start = heap0
        b.xfr_ms = now - began
        b.started = now
        b.longest = 0
        self.loop.work.append(lambda: self._build(z, b))

    def _build(self, z, b):
        """Build steps for at most BUILD_MS (one at least); True when the build has ended."""
        t0 = clock.now_ms()
        try:
            while True:
                t1 = clock.now_ms()
                done = b.step()
                b.longest = max(b.longest, clock.since_ms(t1))
                if done or clock.since_ms(t0) >= BUILD_MS:
                    break
            if not done:
                return False
            server = self.make_server(z, b.blob)
            changed = z.install(b, self.now(), server)
        except Exception as e:  # noqa: BLE001 - ZoneError, XfrError, MemoryError: copy kept
            b.recs = b.blob = None
            self._log(z, "transfer refused: %s (%s)" % (e, self._kept(z)))
            z.failed(self.now(), str(e))
            return True
        b.blob = b.recs = None
        gc.collect()
        self._log(z, "%s; transfer %d ms, built in %d steps, %d ms (longest step %d ms), heap "
                  "%d KB before the transfer, %d KB with its records, %d KB after the build" % (
                      z.last, b.xfr_ms, b.steps, self.now() - b.started, b.longest,
                      b.heap_start // 1024, b.heap_before // 1024, _alloc() // 1024))
        if changed and self.notify:  # a new serial: tell also-notify= (RFC 1996)
            from dnsbox.net import notifier

            notifier.start(self.loop, z.db, self.notify, os.urandom)
        return True

    def _kept(self, z):
        if z.records is None:
            return "no copy yet: SERVFAIL"
        return "serial %d serves on" % z.serial()

    def _log(self, z, text):
        log.log("secondary %s from %s#%d: %s" % (z.name.to_text(), z.primary[0], z.primary[1],
                                                 text))


def _alloc():
    """Heap bytes in use (MicroPython's gc.mem_alloc; -1 under CPython)."""
    f = getattr(gc, "mem_alloc", None)
    return f() if f is not None else -1


def router(cfg, srv, xfr_key, wall):
    """The secondary zones of secondary= in front of srv (dnsbox.auth.server.Server): a
    dnsbox.auth.secondary.Router (its handle takes the UDP peer: net.Server(..., peer=True)),
    or None without secondary=. Zones that overlap a compiled zone are left out (log line)."""
    if not cfg.secondaries:
        return None
    from dnsbox.auth.server import Server
    from dnsbox.auth.tsig import Key
    from dnsbox.zonedb import open_blob
    from dnsbox.zonedb.lookup import under

    from dnsbox.resolver.budget import heap_size

    _sec.LIMITS = _sec.Limits(heap_size())
    log.log("secondary zones: %s" % _sec.LIMITS.text())
    zones = []
    for name, primary, pair in cfg.secondaries:
        key = Key(pair[0], pair[1]) if pair is not None else xfr_key
        z = _sec.Zone(name, primary, key)
        clash = [n for i, n in enumerate(srv.db.zone_names())
                 if under(srv.db.zone(i)[0].lower(), z.lc)
                 or under(z.lc, srv.db.zone(i)[0].lower())]
        if clash:
            log.log("secondary=%s overlaps the compiled zone %s: not served" % (name, clash[0]))
            continue
        zones.append(z)
        log.log("secondary %s from %s#%d%s (at most %d records)" % (
            name, primary[0], primary[1], ", TSIG key " + key.name.to_text() if key else "",
            xfrin.MAX_RECORDS))
    t0 = clock.now_ms()
    r = _sec.Router(srv, zones, lambda: clock.since_ms(t0), wall=wall)

    def make_server(z, blob):
        s = Server(open_blob(blob), nsid=cfg.hostname, peers=cfg.peers, xfr_key=xfr_key,
                   wall=wall)
        s.general.history = z.differences
        return s

    r.make_server = make_server
    return r


def serve(loop, r, wall, notify=()):
    """Start the transfers of router r's zones in loop; a NOTIFY wakes them at once."""
    t = Transfers(loop, r.zones, r.make_server, wall, notify)
    t.now = r.now
    r.wake = t.tick
    t.tick()
    return t
