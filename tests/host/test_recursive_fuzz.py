"""Fuzz the iterator: every answer from the in-memory mini-Internet (tests/unit/iterhelp.py) is
mutated (bytes flipped after the question, records cut, counts changed), and resolution must
still end in a Result (never an exception), within MAX_QUERIES, with only scrubbed data: no
answer record outside the name chain asked for. Seeded: failures reproduce."""
import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [ROOT, os.path.join(ROOT, "firmware")]

from dnsbox.resolver import iterate as I  # noqa: E402
from dnsbox.wire import types as T  # noqa: E402
from dnsbox.wire.name import Name  # noqa: E402
from tests.unit.iterhelp import Net, env  # noqa: E402

NAMES = ["www.example.test.", "alias.example.test.", "x.dn.example.test.", "www.oob.test.",
         "a.b.c.d.example.test.", "nx.example.test.", "www.a.test.", "c0.example.test."]
RUNS = 600  # resolutions, each with its own seed


class MutatingNet(Net):
    def __init__(self, rnd):
        Net.__init__(self)
        self.rnd = rnd

    def answer(self, a):
        r = Net.answer(self, a)
        if r is None or self.rnd.random() < 0.75:
            return r  # some answers stay intact so resolution gets somewhere
        b = bytearray(r)
        qend = len(a.wire) - 11  # the question ends where our query's OPT record starts
        kind = self.rnd.randrange(4)
        if kind == 0 and len(b) > qend:  # flip bytes after the question
            for _ in range(self.rnd.randrange(1, 6)):
                i = self.rnd.randrange(qend, len(b))
                b[i] = self.rnd.randrange(256)
        elif kind == 1:  # cut the message
            b = b[: self.rnd.randrange(12, len(b) + 1)]
        elif kind == 2:  # change a count
            i = self.rnd.choice((6, 7, 8, 9, 10, 11))
            b[i] = self.rnd.randrange(256)
        else:  # flip header flag bits (TC, AA, rcode)
            b[2] ^= self.rnd.choice((0x02, 0x04, 0x00))
            b[3] = (b[3] & 0xF0) | self.rnd.randrange(16)
        return bytes(b)


def test_mutated_answers_never_crash_the_iterator():
    outcomes = {}
    for seed in range(RUNS):
        rnd = random.Random(seed)
        name = NAMES[seed % len(NAMES)]
        e = env(qmin=bool(seed & 1))
        net = MutatingNet(rnd)
        it = I.Iteration(e, Name.from_text(name), T.A, 0)
        r = net.run(it, limit=400)
        assert isinstance(r, I.Result), (seed, r)
        assert it.queries <= I.MAX_QUERIES, seed
        # scrubbed: every answer record is on the chain from the name asked
        chain = [Name.from_text(name)]
        for rr in r.answer:
            if rr.rtype == T.DNAME:
                assert chain[-1].is_subdomain(rr.name), (seed, rr)
                continue
            assert rr.name in chain, (seed, rr, chain)
            if rr.rtype == T.CNAME:
                chain.append(rr.rdata.target)
        outcomes[r.rcode] = outcomes.get(r.rcode, 0) + 1
    assert len(outcomes) >= 2, outcomes  # both answers and failures were seen
