"""The I/O of secondary zones (dnsbox.auth.secondary): one non-blocking TCP connection per
transfer in the serving loop (connect, the framed query, frames fed to dnsbox.auth.xfrin.Reader),
started from the loop's periodic hook when a zone's timer is due or at once on a NOTIFY; a
transfer is given XFR_MS in all. After a copy that changed the serial, NOTIFY to also-notify=
(dnsbox.net.notifier). One log line per outcome."""
import os
import socket
import struct

from dnsbox import clock, log
from dnsbox.auth import secondary as _sec
from dnsbox.auth import xfrin
from dnsbox.compat import const

XFR_MS = const(30000)  # a transfer taking longer is abandoned (the copy serves on)
READ_MAX = const(16384)  # bytes read per readable event
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
        reader = xfrin.Reader(qid, z.name, qtype, z.serial(), z.key, mac, wall)
        z.busy = True
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        except OSError as e:
            z.failed(now, "socket: %s" % e)
            return
        s.setblocking(False)
        try:
            s.connect(socket.getaddrinfo(z.primary[0], z.primary[1])[0][-1])
        except OSError as e:
            if not e.args or e.args[0] != _EINPROGRESS:
                s.close()
                self._log(z, "connect failed (%s)" % e)
                z.failed(now, "connect failed")
                return
        job = [s, reader, struct.pack(">H", len(q)) + q, b"", now]
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
        try:
            changed = z.take(job[1].result, now, lambda b: self.make_server(z, b), others)
        except (xfrin.XfrError, MemoryError) as e:
            self._log(z, "transfer refused: %s (%s)" % (e, self._kept(z)))
            z.failed(now, str(e))
            return
        if job[1].result[0] != "current":
            self._log(z, z.last)
        if changed and self.notify:  # a new serial: tell also-notify= (RFC 1996)
            from dnsbox.net import notifier

            notifier.start(self.loop, z.db, self.notify, os.urandom)

    def _kept(self, z):
        if z.records is None:
            return "no copy yet: SERVFAIL"
        return "serial %d serves on" % z.serial()

    def _log(self, z, text):
        log.log("secondary %s from %s#%d: %s" % (z.name.to_text(), z.primary[0], z.primary[1],
                                                 text))


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
        log.log("secondary %s from %s#%d%s (at most %d records, %d bytes compiled)" % (
            name, primary[0], primary[1], ", TSIG key " + key.name.to_text() if key else "",
            xfrin.MAX_RECORDS, _sec.MAX_ZONE_BYTES))
    t0 = clock.now_ms()
    r = _sec.Router(srv, zones, lambda: clock.since_ms(t0))

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
