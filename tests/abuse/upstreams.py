"""tests/host/fakeupstream.py's fake upstream, extended for the abuse tests (the first label of
the query name picks the behaviour, as there).

SpoofingUpstream, for the forwarder's poisoning tests:
  wrongsrc  first the poison (6.6.6.6) with the right ID and question, from another address
            (127.0.0.2, the same port when it is free), then the right answer
  idflood   first FLOOD poisons with wrong IDs, then the right answer
StallingUpstream, an upstream whose TCP side never answers (UDP: TC for these names):
  tchang    TCP: the query is read, nothing is ever sent (the connection stays open)
  tchalf    TCP: the length of the answer and half of it, then nothing
  tcpclose  TCP: the query is read, the connection closed without an answer
  (other names: as FakeUpstream, over TCP too, one thread per connection)
"""
import socket
import struct
import threading
import time

import dns.flags
import dns.message
import dns.rrset

from tests.host.fakeupstream import FakeUpstream

FLOOD = 50  # spoofed answers before the right one
GAP_S = 0.05  # the right answer follows the poison after this long
OTHER_IP = "127.0.0.2"


class SpoofingUpstream(FakeUpstream):
    def __init__(self):
        FakeUpstream.__init__(self)
        self.spoofer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.spoofer.bind((OTHER_IP, self.port))
        except OSError:
            self.spoofer.bind((OTHER_IP, 0))

    def stop(self):
        FakeUpstream.stop(self)
        self.spoofer.close()

    def _answer(self, q, proto):
        plan = FakeUpstream._answer(self, q, proto)
        name = q.question[0].name
        kind = name.labels[0].decode().lower().split("-")[0]
        if kind not in ("wrongsrc", "idflood") or proto != "udp":
            return plan
        p = dns.message.make_response(q)
        p.answer.append(dns.rrset.from_text(name, 3600, "IN", "A", "6.6.6.6"))
        right = [(GAP_S, w, other) for _d, w, other in plan]
        if kind == "wrongsrc":
            return [(0, p.to_wire(), self.spoofer)] + right
        out = []
        for i in range(FLOOD):
            p.id = (q.id + 1 + i) & 0xFFFF
            out.append((0, p.to_wire(), False))
        return out + right

    def _send_plan(self, plan, peer):
        for delay, wire, other in plan:
            if delay:
                time.sleep(delay)
            sock = other if isinstance(other, socket.socket) else (
                self.other if other else self.udp)
            try:
                sock.sendto(wire, peer)
            except OSError:
                return


STALL_S = 30  # a stalled connection is held this long at most (then closed)


class StallingUpstream(FakeUpstream):
    def __init__(self):
        self.tcp_conns = 0
        self.ended = threading.Event()
        FakeUpstream.__init__(self)

    def stop(self):
        self.ended.set()
        FakeUpstream.stop(self)

    def _answer(self, q, proto):
        kind = q.question[0].name.labels[0].decode().lower().split("-")[0]
        if kind in ("tchang", "tchalf", "tcpclose") and proto == "udp":
            FakeUpstream._answer(self, q, proto)  # counted
            t = dns.message.make_response(q)
            t.flags |= dns.flags.TC
            return [(0, t.to_wire(), False)]
        return FakeUpstream._answer(self, q, proto)

    def _serve_tcp(self):
        while not self.stopped:
            try:
                c, _ = self.tcp.accept()
            except OSError:
                return
            with self.lock:
                self.tcp_conns += 1
            threading.Thread(target=self._conn, args=(c,), daemon=True).start()

    def _conn(self, c):
        c.settimeout(2)
        try:
            n = struct.unpack(">H", _recv(c, 2))[0]
            q = dns.message.from_wire(_recv(c, n))
        except (OSError, struct.error, Exception):
            c.close()
            return
        kind = q.question[0].name.labels[0].decode().lower().split("-")[0]
        plan = self._answer(q, "tcp")
        if kind == "tcpclose":
            c.close()
            return
        if kind in ("tchang", "tchalf"):
            if kind == "tchalf":
                w = plan[0][1]
                c.sendall(struct.pack(">H", len(w)) + w[: len(w) // 2])
            self.ended.wait(STALL_S)
            c.close()
            return
        try:
            for _d, wire, _o in plan:
                c.sendall(struct.pack(">H", len(wire)) + wire)
        except OSError:
            pass
        c.close()


def _recv(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise OSError("closed")
        b += d
    return b
