"""dnsbox.net.watch without sockets: a stand-in serving loop and an injected clock (the module's
`clock` global replaced for the test). The busy minute's summary comes from tick() once a minute
of the clock has passed with answers, also across MicroPython's tick wrap; events (an UPDATE)
are logged without extended-statistics, plain answers then cost no line and no count.

Why a unit test and not a host test for the summary: the firmware's minute is 60 s of its own
clock, and a host test would wait over a minute for one line (the suite's time); the wiring from
observe() through tick() to the console is what this test drives, with the clock in hand."""
from dnsbox.net import server as net
from dnsbox.net import watch
from dnsbox.wire.reply import UDP

# www.example.com. A query, no EDNS: header, 3www7example3com0, type 1, class 1
Q = bytes.fromhex("123401000001000000000000") + b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"
R = bytes.fromhex("123485000001000000000000") + Q[12:]  # its answer: QR AA, NOERROR
# an UPDATE (opcode 5) of zone dyn.test. SOA IN, and its REFUSED answer
U = bytes.fromhex("abcd28000001000000000000") + b"\x03dyn\x04test\x00\x00\x06\x00\x01"
UR = bytes.fromhex("abcda8050001000000000000") + U[12:]
PEER = ("192.0.2.7", 5353)
WRAP = 1 << 30  # MicroPython's ticks_ms period


class Clock:
    """now_ms/diff_ms/since_ms as dnsbox.clock has them, with a wrapping value set by hand."""

    def __init__(self, t):
        self.t = t % WRAP

    def now_ms(self):
        return self.t

    def diff_ms(self, later, earlier):
        d = (later - earlier) % WRAP
        return d - WRAP if d >= WRAP // 2 else d

    def since_ms(self, start):
        return self.diff_ms(self.t, start)

    def step(self, ms):
        self.t = (self.t + ms) % WRAP


class Loop:
    def __init__(self):
        self.observe = None
        self.events = None
        self.pages = None
        self.periodic = []
        self.woke = 0
        self.stats = [0, 0, 0, 0, 0]
        self.conns = {}
        self.faults = 0
        self.unsent = 0


def make(start, count=True):
    old = watch.clock
    c = Clock(start)
    watch.clock = c
    lines = []
    loop = Loop()
    w = watch.Watch(loop, "auth", None, False, count, lines.append)
    return w, loop, c, lines, old


def test_summary_after_a_busy_minute():
    w, loop, c, lines, old = make(5000)
    try:
        assert loop.periodic == [w.tick] and loop.observe == w.observe
        for _ in range(3):
            loop.observe(Q, R, UDP, PEER, net.OBS_HANDLER)
        c.step(59999)
        w.tick()
        assert lines == []  # the minute is not over
        c.step(1)
        w.tick()
        assert lines == ["3 queries in the last minute: 3 auth"]
        c.step(60000)
        w.tick()
        assert len(lines) == 1  # a quiet minute: no line
    finally:
        watch.clock = old


def test_summary_across_the_tick_wrap():
    w, loop, c, lines, old = make(WRAP - 30000)  # the clock wraps half a minute in
    try:
        loop.observe(Q, R, UDP, PEER, net.OBS_HANDLER)
        for _ in range(60):
            c.step(1000)
            w.tick()
        assert lines == ["1 queries in the last minute: 1 auth"]
        assert w.stats.history() == [(1, 0, 0)]
    finally:
        watch.clock = old


def test_events_without_counting():
    w, loop, c, lines, old = make(0, count=False)
    try:
        assert loop.observe is None and loop.events == w.observe_events
        loop.events(Q, R, UDP, PEER, net.OBS_HANDLER)  # (the loop passes only other opcodes)
        loop.events(U, UR, UDP, PEER, net.OBS_HANDLER)
        assert lines == ["UPDATE from 192.0.2.7 for zone dyn.test.: REFUSED"]
        assert w.stats.total() == 0  # counted only from the loop's counters, once a second
    finally:
        watch.clock = old
