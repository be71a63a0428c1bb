"""Robustness: mutated and random queries never make Server.handle raise; every response it
returns parses (dnspython) and carries the query's ID. Deterministic (seeded), bounded."""

import os
import random
import sys

import dns.edns
import dns.message

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "firmware"))

from dnsbox.auth import TCP, UDP  # noqa: E402
from dnsbox.auth.server import Server  # noqa: E402
from dnsbox.zone.compile import compile_files  # noqa: E402
from dnsbox.zonedb import open_blob  # noqa: E402

ROUNDS = 20000  # mutated queries per run


def _seeds():
    out = []
    for name, t in (("www.diff.test.", "A"), ("nx.diff.test.", "MX"), ("x.sub.diff.test.", "A"),
                    ("a.wild.diff.test.", "TXT"), ("x.dn.diff.test.", "A"), ("diff.test.", "ANY"),
                    ("bigset.diff.test.", "A"), ("c1.diff.test.", "AAAA")):
        for edns in (None, 0):
            q = dns.message.make_query(name, t, use_edns=edns, payload=1232)
            out.append(q.to_wire())
        q = dns.message.make_query(name, t, use_edns=0, payload=1232, options=[
            dns.edns.GenericOption(10, b"12345678abcdefgh"), dns.edns.GenericOption(12, b"\0" * 9)])
        out.append(q.to_wire())
    return out


def test_mutated_queries_never_crash():
    d = os.path.join(ROOT, "tests", "zones", "diff")
    blob, _z, _w = compile_files([os.path.join(d, f) for f in sorted(os.listdir(d))
                                  if f.endswith(".zone")])
    srv = Server(open_blob(blob))
    rng = random.Random(7)
    seeds = _seeds()
    answered = 0
    for i in range(ROUNDS):
        q = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            if op < 0.5 and q:
                q[rng.randrange(len(q))] = rng.randrange(256)
            elif op < 0.7 and q:
                del q[rng.randrange(len(q)):]
            elif op < 0.85:
                q += bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            else:
                q = bytearray(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        q = bytes(q)
        r = srv.handle(q, TCP if i % 7 == 0 else UDP)
        if r is None:
            continue
        answered += 1
        assert r[:2] == q[:2], q.hex()
        assert len(r) <= (65535 if i % 7 == 0 else 1232), q.hex()
        dns.message.from_wire(r, ignore_trailing=False)  # raises if malformed
    assert answered > ROUNDS // 2
