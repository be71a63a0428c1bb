"""NOTIFY out (RFC 1996): at start, and for the update zone after each change (again()), tell
the secondaries of also-notify= that each zone has the serial it has now, so that they transfer
it (AXFR or IXFR, dnsbox.auth.transfer) without waiting for their refresh timer. Pure: due(now)
says what to send, reply(data, src) takes the answers; the I/O is dnsbox.net.notifier (one UDP
socket in the serving loop).

Each (zone, secondary) gets a NOTIFY (opcode 4, AA, the zone's SOA question, its SOA in the
answer section, RFC 1996 3.7) with a fresh random ID, resent after 1, 2, 4, 8 s until an answer
with that ID and opcode comes from that address and port, at most NOTIFY_TRIES times.
"""
import struct

from dnsbox.compat import const
from dnsbox.wire import rcode as _rc

NOTIFY_TRIES = const(5)  # sends per (zone, secondary) before giving up
FIRST_WAIT_MS = const(1000)  # wait after the first send; doubled after each
OPCODE_NOTIFY = const(4)


class Notifier:
    """db: the zone blob (dnsbox.zonedb); targets: [(ip text, port)]; rng(n) -> n random bytes."""

    def __init__(self, db, targets, rng):
        from dnsbox.zonedb.rrsets import soa_of

        self.jobs = []  # [zone apex text, target, id, tries, next send (ms), state]
        self.messages = {}
        for zi in range(db.nzones):
            soa = soa_of(db, zi)
            for t in targets:
                self.jobs.append([soa.name.to_text(), t, 0, 0, 0, "pending"])
            self.messages[soa.name.to_text()] = _message(soa)
        self.rng = rng
        self.targets = targets

    def again(self, soa, now=0):
        """The zone of soa (a record) changed: its NOTIFY to every secondary afresh (a pending
        one is replaced: the secondary needs only the newest serial)."""
        zone = soa.name.to_text()
        self.messages[zone] = _message(soa)
        self.jobs = [j for j in self.jobs if j[0] != zone]
        for t in self.targets:
            self.jobs.append([zone, t, 0, 0, now, "pending"])

    def due(self, now):
        """[(target, wire, job)] to send at now (ms); jobs out of tries become 'unanswered'."""
        out = []
        for job in self.jobs:
            if job[5] != "pending" or now < job[4]:
                continue
            if job[3] >= NOTIFY_TRIES:
                job[5] = "unanswered"
                continue
            r = self.rng(2)
            job[2] = (r[0] << 8) | r[1]
            job[4] = now + (FIRST_WAIT_MS << job[3])
            job[3] += 1
            out.append((job[1], struct.pack(">H", job[2]) + self.messages[job[0]], job))
        return out

    def reply(self, data, src):
        """An answer from src (ip text, port): the job it answers, or None (ignored)."""
        if len(data) < 12 or not data[2] & 0x80 or (data[2] >> 3) & 0xF != OPCODE_NOTIFY:
            return None
        qid = (data[0] << 8) | data[1]
        for job in self.jobs:
            if job[5] == "pending" and job[1] == src and job[2] == qid and job[3]:
                rc = data[3] & 0xF
                job[5] = "answered" if rc == 0 else "answered " + _rc.to_text(rc)
                return job
        return None

    def busy(self):
        return any(job[5] == "pending" for job in self.jobs)


def _message(soa):
    """The NOTIFY after its ID: opcode 4, AA; question (apex, SOA, IN); the SOA as answer."""
    from dnsbox.wire import message as _msg
    from dnsbox.wire import types as _t
    from dnsbox.wire.rr import Question

    m = _msg.Message(0)
    m.opcode = OPCODE_NOTIFY
    m.aa = True
    m.question.append(Question(soa.name, _t.SOA, _t.CLASS_IN))
    m.answer.append(soa)
    return _msg.encode(m)[2:]
