"""The I/O of NOTIFY out (dnsbox.auth.notify): one UDP socket from a random port in the serving
loop, sends and resends from the loop's periodic hook, one log line per zone and secondary with
the outcome. The socket and the hook go away when every NOTIFY is answered or given up, and
come back when the update zone changes (changed(soa), its on_change)."""
import socket

from dnsbox import clock, log
from dnsbox.auth.notify import Notifier
from dnsbox.config.nets import peer_text

READS_PER_WAKE = 16  # answers read per poll wake-up
ANSWER_MAX = 512  # bytes read of one answer (a NOTIFY answer is a header and a question)


class Sender:
    def __init__(self, loop, n, targets):
        self.loop = loop
        self.n = n
        self.addrs = {}
        for t in targets:
            self.addrs[t] = socket.getaddrinfo(t[0], t[1])[0][-1]
        self.t0 = clock.now_ms()
        self.said = []
        self.s = None

    def _open(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(socket.getaddrinfo("0.0.0.0", 0)[0][-1])
        s.setblocking(False)
        self.s = s
        self.loop.watch(s, self.readable)
        self.loop.periodic.append(self.send)

    def report(self):
        for job in self.n.jobs:
            if job[5] != "pending" and job not in self.said:
                self.said.append(job)
                log.log("NOTIFY %s to %s#%d: %s" % (job[0], job[1][0], job[1][1], job[5]))
        if not self.n.busy() and self.s is not None:
            self.loop.unwatch(self.s)
            self.s.close()
            self.s = None
            if self.send in self.loop.periodic:
                self.loop.periodic.remove(self.send)

    def send(self):
        for target, wire, _job in self.n.due(clock.since_ms(self.t0)):
            try:
                self.s.sendto(wire, self.addrs[target])
            except OSError:
                pass  # counted as a try: resent later
        self.report()

    def readable(self, _events):
        for _ in range(READS_PER_WAKE):
            try:
                data, peer = self.s.recvfrom(ANSWER_MAX)
            except OSError:
                break
            self.n.reply(data, peer_text(peer))
        self.report()

    def changed(self, soa):
        """A zone changed (soa: its new SOA record): NOTIFY its secondaries now."""
        self.n.again(soa, clock.since_ms(self.t0))
        self.said = [j for j in self.said if j in self.n.jobs]
        if self.s is None:
            try:
                self._open()
            except OSError as e:
                log.log("NOTIFY %s: no socket (%s)" % (soa.name.to_text(), e))
                return
        self.send()


def start(loop, db, targets, rng, dyn=None):
    """NOTIFY every zone of db (and the update zone dyn, at start and after each change) to
    targets; the Sender."""
    n = Notifier(db, targets, rng)
    if dyn is not None:
        n.again(dyn.soa())
    io = Sender(loop, n, targets)
    io._open()
    io.send()
    if dyn is not None:
        dyn.on_change = io.changed
    return io
