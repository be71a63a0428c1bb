"""The I/O of NOTIFY out (dnsbox.auth.notify): one UDP socket from a random port in the serving
loop, sends and resends from the loop's periodic hook, one log line per zone and secondary with
the outcome. The socket and the hook go away when every NOTIFY is answered or given up."""
import socket

from dnsbox import clock, log
from dnsbox.auth.notify import Notifier
from dnsbox.config.nets import peer_text

READS_PER_WAKE = 16  # answers read per poll wake-up
ANSWER_MAX = 512  # bytes read of one answer (a NOTIFY answer is a header and a question)


def start(loop, db, targets, rng):
    n = Notifier(db, targets, rng)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(socket.getaddrinfo("0.0.0.0", 0)[0][-1])
    s.setblocking(False)
    addrs = {}
    for t in targets:
        addrs[t] = socket.getaddrinfo(t[0], t[1])[0][-1]
    t0 = clock.now_ms()
    said = []

    def report():
        for job in n.jobs:
            if job[5] != "pending" and job not in said:
                said.append(job)
                log.log("NOTIFY %s to %s#%d: %s" % (job[0], job[1][0], job[1][1], job[5]))
        if not n.busy():
            loop.unwatch(s)
            s.close()
            if send in loop.periodic:
                loop.periodic.remove(send)

    def send():
        for target, wire, _job in n.due(clock.since_ms(t0)):
            try:
                s.sendto(wire, addrs[target])
            except OSError:
                pass  # counted as a try: resent later
        report()

    def readable(_events):
        for _ in range(READS_PER_WAKE):
            try:
                data, peer = s.recvfrom(ANSWER_MAX)
            except OSError:
                break
            n.reply(data, peer_text(peer))
        report()

    loop.watch(s, readable)
    loop.periodic.append(send)
    send()
    return n
