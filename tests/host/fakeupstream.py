"""A fault-injecting upstream DNS server for the forwarder tests (CPython, loopback only).

The first label of the query name picks the behaviour (the rest is any name):
  ok        answer A 192.0.2.1 (TTL from the label's suffix: ok-ttl5 -> 5; default 300)
  drop      never answer
  delay     answer after DELAY_S
  tc        UDP: empty answer with TC set; TCP: the full answer (a TXT of 5 x 200 bytes)
  big       AA and BIG_TXT TXT records (over BIG_BYTES in all), over UDP too: whole, without
            TC (a server that ignores the EDNS size it was given); TCP: the same
  wrongid   first a response with another ID (poison 6.6.6.6), then the right one
  wrongq    first a response to another question (poison), then the right one
  wrongport first the poison from another socket (another source port), then the right one
  junk      first malformed bytes with the right ID, then the right one
  poison    the right answer plus out-of-bailiwick records in answer/authority/additional
  servfail  SERVFAIL
  nx        NXDOMAIN with an SOA (TTL 60, minimum 30)
Every query received is counted per (qname, transport) in `seen`. With `silent` set, nothing is
answered any more (a server gone silent).
"""
import socket
import struct
import threading
import time

import dns.flags
import dns.message
import dns.rcode
import dns.rrset

DELAY_S = 0.3
BIG_TXT = 20  # records of the big answer (250 bytes of text each)
BIG_BYTES = 5000  # the big answer is longer than this (over the resolver's 4,096-byte read)


def big_strings(i):
    """The text of the big answer's record i (one 250-byte string)."""
    return ("%03d" % i + "b" * 247).encode()


class FakeUpstream:
    def __init__(self, port=0):
        self._bind_pair(port)
        self.tcp.listen(8)
        self.other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.other.bind(("127.0.0.1", 0))
        self.seen = {}
        self.ids = []
        self.sources = []
        self.lock = threading.Lock()
        self.stopped = False
        self.silent = False  # True: every query counted, none answered
        self.threads = [threading.Thread(target=self._serve_udp, daemon=True),
                        threading.Thread(target=self._serve_tcp, daemon=True)]
        for t in self.threads:
            t.start()

    def _bind_pair(self, port, tries=50):
        """UDP and TCP on one port. With port 0 the kernel picks a UDP port whose TCP twin may
        be taken by another process: try again with a new one (bounded)."""
        for _ in range(tries):
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", port))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind(("127.0.0.1", self.port))
                return
            except OSError:
                self.udp.close()
                self.tcp.close()
                if port:
                    raise
        raise OSError("no free UDP+TCP port pair on 127.0.0.1 after %d tries" % tries)

    def count(self, name, proto="udp"):
        with self.lock:
            return self.seen.get((name.lower().rstrip("."), proto), 0)

    def total(self):
        with self.lock:
            return sum(self.seen.values())

    def stop(self):
        self.stopped = True
        for s in (self.udp, self.tcp, self.other):
            try:
                s.close()
            except OSError:
                pass

    # --- answers ----------------------------------------------------------------------------
    def _answer(self, q, proto):
        """[(delay, bytes, use_other_socket)] for query q (a dns.message.Message)."""
        name = q.question[0].name
        label = name.labels[0].decode().lower()
        kind = label.split("-")[0]
        qname = name.to_text().lower().rstrip(".")
        with self.lock:
            self.seen[(qname, proto)] = self.seen.get((qname, proto), 0) + 1
        if self.silent:
            return []
        r = dns.message.make_response(q)
        r.flags |= dns.flags.RA
        ttl = 300
        if "-ttl" in label:
            ttl = int(label.split("-ttl")[1])
        good = dns.rrset.from_text(name, ttl, "IN", "A", "192.0.2.1")
        if q.question[0].rdtype == 16:
            good = dns.rrset.from_text(name, ttl, "IN", "TXT", " ".join(['"%s"' % ("x" * 200)] * 5))
        poison = dns.message.make_response(q)
        poison.answer.append(dns.rrset.from_text(name, 3600, "IN", "A", "6.6.6.6"))
        if kind == "drop":
            return []
        if kind == "servfail":
            r.set_rcode(dns.rcode.SERVFAIL)
            return [(0, r.to_wire(), False)]
        if kind == "nx":
            r.set_rcode(dns.rcode.NXDOMAIN)
            r.authority.append(dns.rrset.from_text(
                name.parent(), 60, "IN", "SOA", "ns.test. host.test. 1 7200 900 86400 30"))
            return [(0, r.to_wire(), False)]
        if kind == "big":
            r.flags |= dns.flags.AA
            r.answer.append(dns.rrset.from_text(name, ttl, "IN", "TXT", *[
                '"%s"' % big_strings(i).decode() for i in range(BIG_TXT)]))
            wire = r.to_wire(max_size=65535)  # not cut to the query's EDNS size
            assert len(wire) > BIG_BYTES
            return [(0, wire, False)]
        r.answer.append(good)
        if kind == "tc" and proto == "udp":
            t = dns.message.make_response(q)
            t.flags |= dns.flags.TC
            return [(0, t.to_wire(), False)]
        if kind == "delay":
            return [(DELAY_S, r.to_wire(), False)]
        if kind == "wrongid":
            poison.id = (q.id + 1) & 0xFFFF
            return [(0, poison.to_wire(), False), (0.05, r.to_wire(), False)]
        if kind == "wrongq":
            other = dns.message.make_query("other." + qname + ".", "A")
            other.id = q.id
            bad = dns.message.make_response(other)
            bad.answer.append(dns.rrset.from_text("other." + qname + ".", 3600, "IN", "A", "6.6.6.6"))
            return [(0, bad.to_wire(), False), (0.05, r.to_wire(), False)]
        if kind == "wrongport":
            return [(0, poison.to_wire(), True), (0.05, r.to_wire(), False)]
        if kind == "junk":
            return [(0, struct.pack(">H", q.id) + b"\x81\x80\x00\x01\x00\x05junk", False),
                    (0.05, r.to_wire(), False)]
        if kind == "poison":
            r.answer.append(dns.rrset.from_text("www.bank.test.", 3600, "IN", "A", "6.6.6.6"))
            r.authority.append(dns.rrset.from_text("bank.test.", 3600, "IN", "NS", "ns.evil.test."))
            r.additional.append(dns.rrset.from_text("ns.evil.test.", 3600, "IN", "A", "6.6.6.6"))
        return [(0, r.to_wire(), False)]

    def _serve_udp(self):
        while not self.stopped:
            try:
                data, peer = self.udp.recvfrom(4096)
            except OSError:
                return
            try:
                q = dns.message.from_wire(data)
            except Exception:
                continue
            with self.lock:
                self.ids.append(q.id)
                self.sources.append(peer[1])
            plan = self._answer(q, "udp")
            if plan:
                threading.Thread(target=self._send_plan, args=(plan, peer), daemon=True).start()

    def _send_plan(self, plan, peer):
        for delay, wire, other in plan:
            if delay:
                time.sleep(delay)
            try:
                (self.other if other else self.udp).sendto(wire, peer)
            except OSError:
                return

    def _serve_tcp(self):
        while not self.stopped:
            try:
                c, _ = self.tcp.accept()
            except OSError:
                return
            c.settimeout(2)
            try:
                hdr = c.recv(2)
                n = struct.unpack(">H", hdr)[0]
                data = b""
                while len(data) < n:
                    d = c.recv(n - len(data))
                    if not d:
                        break
                    data += d
                q = dns.message.from_wire(data)
                for delay, wire, other in self._answer(q, "tcp"):
                    c.sendall(struct.pack(">H", len(wire)) + wire)
            except (OSError, struct.error, Exception):
                pass
            finally:
                c.close()
