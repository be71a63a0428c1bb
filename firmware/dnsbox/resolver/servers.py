"""Name-server selection for the recursive resolver: smoothed RTT, timeouts, back-off (sans-I/O).

Each server address (ip text) has a smoothed round-trip time and a variance (RFC 6298's
estimator, the one Unbound and BIND adapt), a timeout derived from them, and a count of
consecutive timeouts that doubles the timeout and, past DEAD_AFTER, holds the server back for
BACKOFF_MS * 2^k (capped) unless nothing better is left. The clock (`now`, ms) is passed in.
"""

from dnsbox.compat import const

UNKNOWN_RTT_MS = const(376)  # a server never measured looks this fast (Unbound: 376 ms)
MIN_TIMEOUT_MS = const(200)  # never wait less for one UDP attempt
MAX_TIMEOUT_MS = const(2000)  # never wait longer for one UDP attempt
TCP_TIMEOUT_MS = const(3000)  # one TCP attempt (connect, send, read)
DEAD_AFTER = const(2)  # consecutive timeouts before a server is held back
BACKOFF_MS = const(2000)  # first hold-back; doubles per further timeout
MAX_BACKOFF_MS = const(120000)  # longest hold-back (then it is tried again)
MAX_SERVERS = const(1024)  # addresses remembered; the stalest are forgotten first
SERVER_BYTES = const(128)  # what one remembered address takes (its text, an _Info object)


class _Info:
    def __init__(self):
        self.srtt = UNKNOWN_RTT_MS
        self.var = UNKNOWN_RTT_MS // 4  # first timeout srtt + 4 var = 752 ms
        self.fails = 0
        self.held = 0  # ms: not chosen before this time (unless every server is held)
        self.seen = 0  # ms: last use (for forgetting)


class Servers:
    def __init__(self, limit=MAX_SERVERS):
        self.limit = limit if limit < MAX_SERVERS else MAX_SERVERS
        self.info = {}
        self.notice = None  # notice(ip, up): ip held back (False) or answering again (True)

    def _get(self, ip, now):
        i = self.info.get(ip)
        if i is None:
            if len(self.info) >= self.limit:
                self._forget()
            i = _Info()
            self.info[ip] = i
        i.seen = now
        return i

    def _forget(self):
        # drop the stalest half (a rare, bounded sweep)
        ages = sorted([(i.seen, ip) for ip, i in self.info.items()])
        for _s, ip in ages[: len(ages) // 2 + 1]:
            del self.info[ip]

    def srtt(self, ip):
        i = self.info.get(ip)
        return UNKNOWN_RTT_MS if i is None else i.srtt

    def timeout(self, ip, now):
        """How long to wait for one UDP answer from ip (ms)."""
        i = self._get(ip, now)
        t = i.srtt + 4 * i.var
        k = i.fails
        while k > 0 and t < MAX_TIMEOUT_MS:
            t *= 2
            k -= 1
        if t < MIN_TIMEOUT_MS:
            t = MIN_TIMEOUT_MS
        return t if t < MAX_TIMEOUT_MS else MAX_TIMEOUT_MS

    def order(self, ips, now):
        """ips sorted best first: servers never measured (each gets tried once), then those
        not held back by smoothed RTT, then held ones by the end of their hold. Equal keys keep
        the given order (positions break ties: MicroPython's sort is not stable)."""
        keyed = []
        for n in range(len(ips)):
            i = self.info.get(ips[n])
            if i is None or (i.srtt == UNKNOWN_RTT_MS and not i.fails):
                keyed.append((0, 0, n, ips[n]))  # never measured: tried once first
            elif i.held > now:
                keyed.append((1, i.held, n, ips[n]))
            else:
                keyed.append((0, i.srtt, n, ips[n]))
        keyed.sort()
        return [k[3] for k in keyed]

    def good(self, ip, rtt, now):
        """An answer came from ip after rtt ms (RFC 6298 2.2, 2.3 with alpha 1/8, beta 1/4)."""
        i = self._get(ip, now)
        if i.fails >= DEAD_AFTER and self.notice is not None:
            self.notice(ip, True)
        if rtt < 1:
            rtt = 1
        if i.fails or i.srtt == UNKNOWN_RTT_MS:
            i.srtt = rtt
            i.var = rtt // 2
        else:
            d = i.srtt - rtt
            i.var = (3 * i.var + (d if d >= 0 else -d)) // 4
            i.srtt = (7 * i.srtt + rtt) // 8
        i.fails = 0
        i.held = 0

    def bad(self, ip, now):
        """ip did not answer in time (or refused the connection)."""
        i = self._get(ip, now)
        i.fails += 1
        if i.fails == DEAD_AFTER and self.notice is not None:
            self.notice(ip, False)
        if i.fails >= DEAD_AFTER:
            b = BACKOFF_MS
            k = i.fails - DEAD_AFTER
            while k > 0 and b < MAX_BACKOFF_MS:
                b *= 2
                k -= 1
            i.held = now + (b if b < MAX_BACKOFF_MS else MAX_BACKOFF_MS)

    def held(self, ip, now):
        i = self.info.get(ip)
        return i is not None and i.held > now
