"""The NTP client's socket (dnsbox.sntp holds the packets and the offset): one UDP socket in the
serving loop that asks the server at start until it answers, then every RESYNC_S."""
import socket
import time

from dnsbox import sntp


def start(loop, ip, port, rng, log):
    """Ask ip:port in the serving loop until it answers, then every RESYNC_S."""
    v6 = ":" in ip
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(socket.getaddrinfo("::" if v6 else "0.0.0.0", 0)[0][-1])
    s.setblocking(False)
    dest = socket.getaddrinfo(ip, port)[0][-1]
    state = {"nonce": b"", "sent": 0.0, "next": 0.0}

    def ask():
        now = time.time()
        if now < state["next"]:
            return
        state["nonce"] = rng(8)
        state["sent"] = now
        state["next"] = now + sntp.RETRY_S
        try:
            s.sendto(sntp.request(state["nonce"]), dest)
        except OSError:
            pass

    def readable(_events):
        while True:
            try:
                data, _peer = s.recvfrom(sntp.PACKET * 2)
            except OSError:
                return
            try:
                t = sntp.parse(data, state["nonce"])
            except ValueError:
                continue
            first = not sntp.synced()
            sntp.set_offset(t, state["sent"], time.time())
            state["next"] = time.time() + sntp.RESYNC_S
            if first:
                log("clock set from NTP %s#%d: offset %+d s" % (ip, port, sntp.wall() -
                                                                 int(time.time())))

    loop.watch(s, readable)
    loop.periodic.append(ask)
    ask()
