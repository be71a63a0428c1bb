"""Query statistics and log-line rate limits: pure counters, the clock is passed in (ms).

Stats counts answered queries by how they were answered (HOW), by rcode and by query type, and
keeps a ring of RING_MINUTES per-minute counts (queries, cache answers, upstream answers) for
the status page's graph. tick(now) closes the minute and returns its one-line summary (None
when it had no queries). LineLimit lets at most `per_s` lines through in each second and counts
the rest, for the one line that says how many were not logged. Memory is fixed at start:
arrays of RING_MINUTES entries, a query-type table of at most MAX_QTYPES keys.
"""
from array import array

from dnsbox.compat import const
from dnsbox.wire.reply import name_end

RING_MINUTES = const(60)  # per-minute counts kept: the status page's last hour
MAX_QTYPES = const(32)  # query types counted apart; the rest are counted as OTHER_QTYPE
OTHER_QTYPE = const(-1)
MINUTE_MS = const(60000)
# how an answer was made: index into Stats.how (and the names shown in logs and metrics)
AUTH = const(0)  # from a zone
CACHE = const(1)  # from the cache
FORWARDED = const(2)  # from a server= upstream
RECURSED = const(3)  # by recursion from the root
LOCAL = const(4)  # local names, CH TXT, errors made here (REFUSED, FORMERR...)
HOW = ("auth", "cache", "forwarded", "recursed", "local")
_RING_BYTES = 3 * 4 * RING_MINUTES  # the three rings' arrays (for the budget's accounting)
BYTES = _RING_BYTES + 2 * 16 * 8 + MAX_QTYPES * 32 + 512  # all of a Stats object, roughly


def qtype_of(msg):
    """The query type of a message's first question (bytes), or OTHER_QTYPE when it has none
    or its name runs past the end."""
    if len(msg) < 12 or not msg[5] and not msg[4]:
        return OTHER_QTYPE
    off = name_end(msg, 12)
    if off < 0 or off + 2 > len(msg):
        return OTHER_QTYPE
    return (msg[off] << 8) | msg[off + 1]


class Stats:
    def __init__(self, now):
        self.how = array("I", [0] * len(HOW))  # since start
        self.rcodes = array("I", [0] * 16)  # header rcodes since start
        self.qtypes = {}  # query type -> answers since start (at most MAX_QTYPES keys)
        self.min_how = array("I", [0] * len(HOW))  # the minute under way
        self.min_rcodes = array("I", [0] * 16)
        self.ring_q = array("I", [0] * RING_MINUTES)  # queries per closed minute
        self.ring_hit = array("I", [0] * RING_MINUTES)  # of them answered from the cache
        self.ring_up = array("I", [0] * RING_MINUTES)  # of them asked upstream (cache misses)
        self.pos = 0  # the ring's next slot (the oldest minute)
        self.minutes = 0  # minutes closed (the ring holds min(minutes, RING_MINUTES))
        self.start = now  # the minute under way began (ms)

    def count(self, how, rcode, qtype):
        """One answer: how (AUTH..LOCAL), its header rcode (0..15), the question's type."""
        self.how[how] += 1
        self.min_how[how] += 1
        self.rcodes[rcode] += 1
        self.min_rcodes[rcode] += 1
        t = self.qtypes
        if qtype not in t and len(t) >= MAX_QTYPES:
            qtype = OTHER_QTYPE
        t[qtype] = t.get(qtype, 0) + 1

    def add(self, how, n):
        """n answers made `how`, known only by number (the loop's counters, once a second)."""
        self.how[how] += n
        self.min_how[how] += n

    def total(self):
        n = 0
        for v in self.how:
            n += v
        return n

    def tick(self, now):
        """Close the minute if it is over (and the idle ones after it, at most a ring's worth):
        returns the closed minute's summary line, or None (not over, or no queries)."""
        gone = (now - self.start) // MINUTE_MS
        if gone < 1:
            return None
        line = summary(self.min_how, self.min_rcodes)
        m = self.min_how
        self._push(_sum(m), m[CACHE], m[FORWARDED] + m[RECURSED])
        for i in range(len(m)):
            m[i] = 0
        for i in range(16):
            self.min_rcodes[i] = 0
        idle = gone - 1
        if idle > RING_MINUTES:
            idle = RING_MINUTES
        for _ in range(idle):
            self._push(0, 0, 0)
        self.start += gone * MINUTE_MS
        return line

    def _push(self, q, hit, up):
        p = self.pos
        self.ring_q[p] = q
        self.ring_hit[p] = hit
        self.ring_up[p] = up
        self.pos = (p + 1) % RING_MINUTES
        self.minutes += 1

    def history(self):
        """[(queries, cache answers, upstream answers)] of the closed minutes, oldest first
        (at most RING_MINUTES)."""
        n = self.minutes if self.minutes < RING_MINUTES else RING_MINUTES
        out = []
        for k in range(n):
            i = (self.pos - n + k) % RING_MINUTES
            out.append((self.ring_q[i], self.ring_hit[i], self.ring_up[i]))
        return out


def _sum(a):
    n = 0
    for v in a:
        n += v
    return n


def summary(how, rcodes):
    """The busy minute's line: "N queries in the last minute: 5 auth, 3 cache; 1 NXDOMAIN", or
    None when there were none. Rcodes other than NOERROR are named."""
    n = _sum(how)
    if not n:
        return None
    from dnsbox.wire import rcode as _rc

    parts = ["%d %s" % (how[i], HOW[i]) for i in range(len(HOW)) if how[i]]
    codes = ["%d %s" % (rcodes[i], _rc.to_text(i)) for i in range(1, 16) if rcodes[i]]
    return "%d queries in the last minute: %s%s" % (n, ", ".join(parts),
                                                    "; " + ", ".join(codes) if codes else "")


class LineLimit:
    """At most per_s lines in one second; the rest are counted (over)."""

    def __init__(self, per_s):
        self.per_s = per_s
        self.sec = -1  # the second counted (now // 1000)
        self.used = 0  # lines let through in it
        self.over = 0  # lines held back since the last report
        self.held = -1  # the second a line was last held back in

    def take(self, now):
        """True when one more line may go out at now (ms)."""
        s = now // 1000
        if s != self.sec:
            self.sec = s
            self.used = 0
        if self.used >= self.per_s:
            self.over += 1
            self.held = s
            return False
        self.used += 1
        return True

    def report(self, now):
        """Once the second with lines held back is over: how many (and the count restarts);
        else 0."""
        if not self.over or now // 1000 == self.held:
            return 0
        n = self.over
        self.over = 0
        return n
