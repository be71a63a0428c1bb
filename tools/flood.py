#!/usr/bin/env python3
"""A flood of random names at a resolver, with probes of names that must keep working.

  python3 tools/flood.py PORT ZONE [--names N] [--window W] [--probe NAME/TYPE/RCODE ...]

One client (127.0.0.1) asks N distinct random names under ZONE (e.g. wild.example.test., a
wildcard, so every name exists upstream) with at most W queries outstanding; a second client
(127.0.0.2, another address: fairness) asks each probe name every PROBE_EVERY_S seconds during
the flood and for AFTER_S seconds after it. The report: flood answers by rcode, unanswered,
rate; probes asked, answered within PROBE_DEADLINE_S with the expected rcode, the slowest;
then how long a new name under ZONE takes to resolve once the flood ends.

Loopback only; bounded in count (N) and time (MAX_S); the resolver is never stopped here.
"""
import os
import select
import socket
import struct
import sys
import time

WINDOW = 200  # flood queries outstanding at once
FLOOD_TIMEOUT_S = 3.0  # a flood query unanswered this long is counted lost (its slot reused)
PROBE_EVERY_S = 0.1  # each probe asked this often
PROBE_DEADLINE_S = 1.0  # a probe must be answered within this
AFTER_S = 2.0  # probing goes on this long after the flood
MAX_S = 600  # the whole run stops after this long whatever happened
PROBE_SRC = "127.0.0.2"  # the probes' client address (the flood's is 127.0.0.1)


def encode_query(name, qtype, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for lab in name.strip(".").split("."):
        if lab:
            q += bytes((len(lab),)) + lab.encode()
    return q + b"\x00" + struct.pack(">HH", qtype, 1)


def _sock(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.setblocking(False)
    return s


class Probes:
    """Each (name, qtype, rcode) asked every PROBE_EVERY_S from PROBE_SRC."""

    def __init__(self, port, probes):
        self.port = port
        self.probes = probes
        self.s = _sock(PROBE_SRC)
        self.out = {}  # qid -> (probe index, sent)
        self.next_qid = 1
        self.last = 0.0
        self.asked = self.ok = self.wrong = self.late = 0
        self.slowest = 0.0

    def tick(self, now):
        if self.probes and now - self.last >= PROBE_EVERY_S:
            self.last = now
            for i, (name, qtype, _rc) in enumerate(self.probes):
                qid = self.next_qid
                self.next_qid = (self.next_qid + 1) & 0xFFFF or 1
                self.s.sendto(encode_query(name, qtype, qid), ("127.0.0.1", self.port))
                self.out[qid] = (i, now)
                self.asked += 1
        for qid in [q for q, v in self.out.items() if now - v[1] > PROBE_DEADLINE_S]:
            del self.out[qid]
            self.late += 1

    def read(self, now):
        while True:
            try:
                data = self.s.recv(65535)
            except BlockingIOError:
                return
            qid = (data[0] << 8) | data[1]
            v = self.out.pop(qid, None)
            if v is None:
                continue
            took = now - v[1]
            self.slowest = max(self.slowest, took)
            if data[3] & 15 == self.probes[v[0]][2]:
                self.ok += 1
            else:
                self.wrong += 1


def flood(port, zone, names=100000, window=WINDOW, probes=(), seed=None):
    """Run the flood; returns a dict of figures (see the module text)."""
    rnd = seed or os.urandom(4).hex()
    fs = _sock("127.0.0.1")
    pr = Probes(port, probes)
    out = {}  # qid -> sent
    rcodes = {}
    sent = lost = 0
    t0 = time.time()
    end = t0 + MAX_S
    qid = 0
    while (sent < names or out) and time.time() < end:
        now = time.time()
        while sent < names and len(out) < window:
            qid = (qid + 1) & 0xFFFF
            if qid in out:
                break
            fs.sendto(encode_query("f%s-%d.%s" % (rnd, sent, zone), 1, qid), ("127.0.0.1", port))
            out[qid] = now
            sent += 1
        pr.tick(now)
        r, _w, _x = select.select([fs, pr.s], [], [], 0.05)
        now = time.time()
        if fs in r:
            while True:
                try:
                    data = fs.recv(65535)
                except BlockingIOError:
                    break
                k = (data[0] << 8) | data[1]
                if out.pop(k, None) is not None:
                    rc = data[3] & 15
                    rcodes[rc] = rcodes.get(rc, 0) + 1
        if pr.s in r:
            pr.read(now)
        for k in [k for k, v in out.items() if now - v > FLOOD_TIMEOUT_S]:
            del out[k]
            lost += 1
    flood_s = time.time() - t0
    after_end = time.time() + AFTER_S
    while time.time() < after_end:
        now = time.time()
        pr.tick(now)
        r, _w, _x = select.select([pr.s], [], [], 0.05)
        if r:
            pr.read(time.time())
    end = time.time() + PROBE_DEADLINE_S
    while pr.out and time.time() < end:  # the last probes' answers, no new probes
        r, _w, _x = select.select([pr.s], [], [], 0.05)
        if r:
            pr.read(time.time())
    pr.late += len(pr.out)  # what is still out is late
    fresh = fresh_name_s(port, "after-%s.%s" % (rnd, zone))
    fs.close()
    pr.s.close()
    return {"sent": sent, "rcodes": rcodes, "lost": lost, "flood_s": flood_s,
            "probes_asked": pr.asked, "probes_ok": pr.ok, "probes_wrong": pr.wrong,
            "probes_late": pr.late, "probe_slowest_s": pr.slowest, "fresh_s": fresh}


def fresh_name_s(port, name, limit_s=5.0):
    """Seconds until name resolves with NOERROR (asked every 0.1 s, any of the asks' answers
    counts), or -1 after limit_s."""
    s = _sock(PROBE_SRC)
    t0 = time.time()
    try:
        n = 0
        last = 0.0
        while time.time() - t0 < limit_s:
            if time.time() - last >= 0.1:
                n += 1
                last = time.time()
                s.sendto(encode_query(name, 1, n), ("127.0.0.1", port))
            r, _w, _x = select.select([s], [], [], 0.02)
            if r:
                data = s.recv(65535)
                if 0 < (data[0] << 8) | data[1] <= n and data[3] & 15 == 0:
                    return time.time() - t0
        return -1.0
    finally:
        s.close()


def report(fig):
    rc = ", ".join("%s %d" % ({0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}
                              .get(k, k), v) for k, v in sorted(fig["rcodes"].items()))
    return ("flood: %d names in %.1f s (%.0f/s): %s, %d unanswered; probes: %d asked, %d ok, "
            "%d wrong, %d late (> %.1f s), slowest %.3f s; a new name after the flood: %.2f s"
            % (fig["sent"], fig["flood_s"], fig["sent"] / max(fig["flood_s"], 1e-9), rc,
               fig["lost"], fig["probes_asked"], fig["probes_ok"], fig["probes_wrong"],
               fig["probes_late"], PROBE_DEADLINE_S, fig["probe_slowest_s"], fig["fresh_s"]))


def _parse_probe(text):
    name, t, rc = text.split("/")
    return name, {"A": 1, "AAAA": 28, "TXT": 16, "SOA": 6, "NS": 2}[t.upper()], int(rc)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    port, zone = int(argv[0]), argv[1]
    names = int(argv[argv.index("--names") + 1]) if "--names" in argv else 100000
    window = int(argv[argv.index("--window") + 1]) if "--window" in argv else WINDOW
    probes = [_parse_probe(argv[i + 1]) for i, a in enumerate(argv) if a == "--probe"]
    print(report(flood(port, zone, names, window, probes)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
