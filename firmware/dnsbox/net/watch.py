"""What the operator sees: the query log, event lines, the busy-minute summary and the HTTP
pages (status page, /metrics), glued to the serving loop (dnsbox.net.server's observe and pages
hooks). The counting and formatting are pure (dnsbox.stats, dnsbox.metrics); this module reads
the clock, the peers and the cores' counters.

With extended-statistics (or log-queries) every answer is counted as it goes out (how it was
made, rcode, query type: about 2 us a query on a PC, a fifth of an authoritative answer's
cost); without, nothing is counted per query: once a second the serving loop's and the cache's
counters give the minute's answers by how (zone and local answers together, no rcodes or
types), and only UDP answers to other opcodes than QUERY and the TCP answers pass
observe_events (the serving loop tests one header byte per UDP query), so that the events are
logged all the same. With log-queries each answer
also gets a console line: client, name, type, rcode, how, latency in ms (from the poll wake-up
that brought the query to the answer; a question answered later is remembered by client and
ID, at most PENDING_MAX at once, for PENDING_MS). At most QUERY_LINES_PER_S such lines a
second; the rest are counted and reported in one line. Events (UPDATE, zone transfers, NOTIFY
received, DHCP leases, upstreams down/up) are always logged, at most EVENT_LINES_PER_S a second. A
zone transfer gets a line when it starts (peer, zone, serial) and one when its stream ends
(messages sent, or cut short and why; a client that leaves mid-stream ends it unseen: no second
line).
"""
from dnsbox import clock, log
from dnsbox import stats as S
from dnsbox.compat import const
from dnsbox.config.nets import allowed, parse_network, peer_ip, peer_text
from dnsbox.net.server import OBS_FAST, OBS_HANDLER, OBS_LATER
from dnsbox.wire.reply import TCP, UDP

QUERY_LINES_PER_S = const(20)  # log-queries lines a second (more: one line says how many not)
EVENT_LINES_PER_S = const(20)  # event lines a second (a flood of updates or lame servers)
PENDING_MAX = const(512)  # questions answered later whose start is remembered (log-queries)
PENDING_MS = const(30000)  # and for how long (the longest a client may be owed an answer)
SERVERS_SHOWN = const(16)  # recursion servers on /metrics (the most recently used)
_NOTIFY = const(4)
_UPDATE = const(5)
_AXFR = const(252)
_IXFR = const(251)
_LOOPBACK = (parse_network("127.0.0.0/8"), parse_network("::1"))


def client_text(client, proto):
    """The client's address (ip text) of a UDP peer or a TCP connection."""
    peer = client if proto == UDP else client.peer
    try:
        return peer_text(peer)[0]
    except (TypeError, IndexError):
        return "?"


def question_text(msg):
    """("name.", "TYPE") of a message's question, or ("?", "?")."""
    from dnsbox.wire import types as _t
    from dnsbox.wire.name import decode_name

    try:
        name, _off = decode_name(bytes(msg), 12)
        return name.to_text(), _t.type_to_text(S.qtype_of(msg))
    except Exception:  # noqa: BLE001 - a log line never fails a query
        return "?", "?"


class Watch:
    """mode: "auth" or "resolver"; drv: the resolver's driver (or None); log_queries: on/off."""

    def __init__(self, loop, mode, drv=None, log_queries=False, count=True, out=log.log):
        self.loop = loop
        self.mode = mode
        self.drv = drv
        self.out = out
        self.log_queries = log_queries
        # the minutes are counted in ms since start (not the clock's value: MicroPython's
        # ticks wrap after 2**30 ms, about 12 days, and Stats subtracts plainly)
        self.last = clock.now_ms()
        self.elapsed = 0
        self.stats = S.Stats(0)
        self.lines = S.LineLimit(QUERY_LINES_PER_S)
        self.events = S.LineLimit(EVENT_LINES_PER_S)
        self.pending = {}  # (client key, ID bytes) -> (start ms, proto)
        self.zones = []  # [(name text, serial, signature expiry)] (set_zones)
        self.dyn = None  # the update-zone (its serial changes)
        self.rrl = None  # the rate limiter (its stats)
        self.dhcp = None  # the DHCP core (its leases)
        self.wall = None  # the wall clock (signature expiry)
        self.nets = _LOOPBACK  # who may read the pages (plus loopback)
        self.seen = [0, 0, 0]  # without count: queries, cache hits, misses at the last tick
        self.counting = count or log_queries
        loop.observe = self.observe if self.counting else None
        loop.events = self.observe_events  # used while observe is None
        loop.pages = self.pages
        loop.periodic.append(self.tick)

    # --- the sources ----------------------------------------------------------------------
    def set_zones(self, db):
        from dnsbox.zonedb.rrsets import soa_of

        names = db.zone_names()
        for i in range(db.nzones):
            try:
                serial = soa_of(db, i).rdata.serial
            except Exception:  # noqa: BLE001 - a zone without SOA: shown as serial 0
                serial = 0
            self.zones.append((names[i], serial, db.sig_expiry(i) or 0))

    def watch_upstreams(self):
        """Log the driver's upstreams going down and coming back."""
        drv = self.drv
        if drv is None:
            return
        if drv.ups is not None:
            drv.ups.notice = lambda ip, port, up: self.event("upstream %s#%d %s" % (
                ip, port, "answers again" if up else "down (%d failures in a row): asked "
                "last" % _down_after()))
        if drv.env is not None:
            drv.env.servers.notice = lambda ip, up: self.event("name server %s %s" % (
                ip, "answers again" if up else "held back after timeouts"))

    def watch_transfers(self):
        """Wrap the loop's TCP handler (auth mode's, the only one that streams transfers) so
        that the end of each stream is logged."""
        handle = self.loop.tcp_handler
        if handle is None:
            return

        def tcp_handler(q, conn):
            r = handle(q, conn)
            if r is None or isinstance(r, (bytes, bytearray)):
                return r
            name, typ = question_text(q)
            return self._stream(r, "%s of %s to %s" % (typ, name, client_text(conn, TCP)))

        self.loop.tcp_handler = tcp_handler

    def _stream(self, s, text):
        n = 0
        try:
            for m in s:
                n += 1
                yield m
        except Exception as e:  # noqa: BLE001 - said, then the loop closes the connection
            self.event("%s: cut short after %d messages (%s)" % (text, n, e))
            raise
        self.event("%s: done, %d messages" % (text, n))

    # --- lines ------------------------------------------------------------------------------
    def event(self, text):
        if self.events.take(clock.now_ms()):
            self.out(text)

    def tick(self):
        """Periodic (about once a second): the busy minute's summary, the lines not logged."""
        now = clock.now_ms()
        if not self.counting:
            self._from_counters()
        self.elapsed += clock.diff_ms(now, self.last)
        self.last = now
        line = self.stats.tick(self.elapsed)
        if line is not None:
            self.out(line)
        n = self.lines.report(now)
        if n:
            self.out("%d query lines not logged (over %d a second)" % (n, QUERY_LINES_PER_S))
        n = self.events.report(now)
        if n:
            self.out("%d event lines not logged (over %d a second)" % (n, EVENT_LINES_PER_S))
        if self.pending:
            for k in [k for k, v in self.pending.items() if clock.diff_ms(now, v[0]) >
                      PENDING_MS]:
                del self.pending[k]

    def _from_counters(self):
        # the answers since the last tick by how, from the loop's query counts (UDP, TCP) and
        # the cache's hits and misses (misses went upstream)
        st = self.loop.stats
        cache = None if self.drv is None else self.drv.cache
        now = (st[0] + st[1], 0 if cache is None else cache.hits,
               0 if cache is None else cache.misses)
        d = [now[i] - self.seen[i] for i in range(3)]
        self.seen = now
        if d[1] > 0:
            self.stats.add(S.CACHE, d[1])
        if d[2] > 0:
            self.stats.add(S.RECURSED if self.drv.ups is None else S.FORWARDED, d[2])
        rest = d[0] - d[1] - d[2]
        if rest > 0:
            self.stats.add(S.AUTH if self.drv is None else S.LOCAL, rest)

    # --- the serving loop's observer --------------------------------------------------------
    def observe(self, q, r, proto, client, kind):
        """Count (and log) one query's outcome (see dnsbox.net.server.Server.observe)."""
        if kind == OBS_LATER:
            return self._later(r, proto, client)
        if r is None:
            if self.log_queries and kind != OBS_FAST and len(self.pending) < PENDING_MAX:
                self.pending[(_key(client, proto), bytes(q[:2]))] = (self.loop.woke, proto)
            return
        if len(q) > 2 and q[2] & 0x78:  # not a plain query: an event, not a count
            return self._opcode_event(q, r, proto, client)
        t = S.qtype_of(q)
        if not isinstance(r, (bytes, bytearray)) or t == _AXFR or t == _IXFR:
            return self._transfer_event(q, r, proto, client)
        how = S.CACHE if kind == OBS_FAST else self._how_now(q, r)
        self.stats.count(how, r[3] & 15, t)
        if self.log_queries:
            self._line(q, r, proto, client, how, self.loop.woke)

    def observe_events(self, q, r, proto, client, kind):
        """Without counts (no extended-statistics, no log-queries): the events only, which are
        always logged (an opcode other than QUERY; a transfer: TCP, or a stream)."""
        if r is None or kind != OBS_HANDLER or len(q) < 12:
            return
        if q[2] & 0x78:
            return self._opcode_event(q, r, proto, client)
        if proto == UDP and isinstance(r, (bytes, bytearray)):
            return
        t = S.qtype_of(q)
        if t == _AXFR or t == _IXFR or not isinstance(r, (bytes, bytearray)):
            self._transfer_event(q, r, proto, client)

    def _later(self, r, proto, client):
        if len(r) < 12:
            return
        how = self._how_later(r)
        self.stats.count(how, r[3] & 15, S.qtype_of(r))
        if self.log_queries:
            p = self.pending.pop((_key(client, proto), bytes(r[:2])), None)
            self._line(r, r, proto, client, how, None if p is None else p[0])

    def _how_now(self, q, r):
        """How an answer made at once was made: auth mode: a zone; resolver mode: a zone or a
        local name (AA), the cache (no AA, NOERROR or NXDOMAIN), else made here (errors)."""
        if self.drv is None:
            return S.AUTH
        if r[2] & 4:
            return S.AUTH if self._in_zones(q) else S.LOCAL
        rc = r[3] & 15
        return S.CACHE if rc == 0 or rc == 3 else S.LOCAL

    def _in_zones(self, q):
        drv = self.drv
        if not drv.zones:
            return False
        from dnsbox.resolver.front import in_zones
        from dnsbox.wire.name import decode_name

        try:
            name, _off = decode_name(bytes(q), 12)
        except Exception:  # noqa: BLE001 - not a name: not a zone's answer
            return False
        return in_zones(drv.zones, name.lc)

    def _how_later(self, r):
        """An answer that came later: from a server= upstream or by recursion."""
        drv = self.drv
        if drv is None or drv.env is None:
            return S.FORWARDED
        if drv.ups is None:
            return S.RECURSED
        from dnsbox.wire.name import decode_name

        try:
            name, _off = decode_name(bytes(r), 12)
        except Exception:  # noqa: BLE001
            return S.RECURSED
        return S.FORWARDED if drv.ups.route(name.lc) is not None else S.RECURSED

    def _line(self, q, r, proto, client, how, start):
        now = clock.now_ms()
        if not self.lines.take(now):
            return
        from dnsbox.wire import rcode as _rc

        name, typ = question_text(q)
        ms = "-" if start is None else "%d" % clock.diff_ms(now, start)
        self.out("query from %s: %s %s -> %s, %s, %s ms%s" % (
            client_text(client, proto), name, typ, _rc.to_text(r[3] & 15), S.HOW[how], ms,
            "" if proto == UDP else " (tcp)"))

    def _opcode_event(self, q, r, proto, client):
        from dnsbox.wire import rcode as _rc

        op = (q[2] >> 3) & 15
        what = {_NOTIFY: "NOTIFY received", _UPDATE: "UPDATE"}.get(op, "opcode %d" % op)
        name, _typ = question_text(q)
        outcome = "dropped" if r is None else _rc.to_text(r[3] & 15)
        self.event("%s from %s for zone %s: %s" % (what, client_text(client, proto), name,
                                                   outcome))

    def _transfer_event(self, q, r, proto, client):
        from dnsbox.wire import rcode as _rc

        name, typ = question_text(q)
        if isinstance(r, (bytes, bytearray)):
            outcome = "refused: " + _rc.to_text(r[3] & 15) if len(r) > 3 else "dropped"
            if len(r) > 3 and not r[3] & 15:
                outcome = "answered in one message"
        else:
            outcome = "sending, serial %d" % self.serial_of(name)
        self.event("%s of %s to %s: %s" % (typ, name, client_text(client, proto), outcome))

    def serial_of(self, name):
        low = name.lower()
        if self.dyn is not None and self.dyn.lc is not None and low == _zone_text(self.dyn):
            return self.dyn.serial
        for z in self.zones:
            if z[0].lower() == low:
                return z[1]
        return 0

    # --- HTTP pages ---------------------------------------------------------------------------
    def pages(self, path, keep, conn):
        """The GET of path (bytes) from conn: /, /metrics, else None (404); 403 for a client
        outside the allowed networks (loopback is always allowed)."""
        from dnsbox.net import doh

        if path != b"/" and path != b"/metrics":
            return None
        ip = peer_ip(conn.peer)
        if not allowed(_LOOPBACK, ip) and not allowed(self.nets, ip):
            return doh.error(403, keep)
        from dnsbox import metrics

        s = self.snapshot()
        if path == b"/metrics":
            return doh.page(metrics.CONTENT_TYPE, metrics.prometheus(s).encode(), keep)
        return doh.page(b"text/html; charset=utf-8", metrics.status_html(s).encode(), keep)

    def snapshot(self):
        """What the pages show (see dnsbox.metrics)."""
        s = {"uptime": log.uptime(), "mode": self.mode, "stats": self.stats,
             "wall": self.wall() if self.wall is not None else 0}
        zones = list(self.zones)
        if self.dyn is not None:
            zones.append((_zone_text(self.dyn), self.dyn.serial, 0))
        s["zones"] = zones
        drv = self.drv
        if drv is not None:
            c = drv.cache
            s["cache"] = (len(c), c.bytes, c.hits, c.misses)
            if drv.ups is not None:
                from dnsbox.resolver.forward import DOWN_AFTER

                s["upstreams"] = [("%s#%d" % drv.ups.ups[i], 0 if drv.ups.fails[i] >=
                                   DOWN_AFTER else 1, drv.ups.fails[i])
                                  for i in range(len(drv.ups.ups))]
            if drv.env is not None:
                s["servers"] = _servers(drv.env.servers)
        if self.dhcp is not None:
            s["leases"] = len([x for x in self.dhcp.leases.values() if x.bound])
        if self.rrl is not None:
            s["rrl"] = dict(self.rrl.stats)
        st = self.loop.stats
        s["loop"] = {"udp_queries_total": st[0], "tcp_queries_total": st[1],
                     "tcp_refused_total": st[2], "tcp_timed_out_total": st[4],
                     "tcp_connections": len(self.loop.conns), "faults_total": self.loop.faults,
                     "udp_unsent_total": self.loop.unsent}
        return s


def _down_after():
    from dnsbox.resolver.forward import DOWN_AFTER

    return DOWN_AFTER


def _zone_text(dyn):
    from dnsbox.wire.name import Name

    return Name(dyn.lc, dyn.lc).to_text().lower()


def _servers(servers):
    """[(ip, srtt ms, held 0/1)] of the SERVERS_SHOWN servers used most recently (held: as
    many timeouts in a row as hold a server back)."""
    from dnsbox.resolver.servers import DEAD_AFTER

    got = sorted([(-i.seen, ip) for ip, i in servers.info.items()])[:SERVERS_SHOWN]
    return [(ip, servers.info[ip].srtt, 1 if servers.info[ip].fails >= DEAD_AFTER else 0)
            for _s, ip in got]


def _key(client, proto):
    return client if proto == UDP else ("tcp", client.fd)
