"""Fuzz the wire decoder (CPython): mutate seed messages, check that nothing but WireError
escapes and that what decodes re-encodes to the same content.

Usage: python3 tools/fuzz_wire.py [--seconds N] [--max-inputs N] [--seed N] [--no-save]
Bounded by time (default 60 s) and by count (default 10,000,000 inputs). Every input that
breaks a check is written to tests/vectors/wire/fuzz-<sha1>.txt ('# expect: any'), which
tests/unit/test_wire_vectors.py replays on both interpreters; the run then exits 1.
tests/host/test_wire_fuzz.py runs the same check() for a few seconds under hypothesis.
"""

import hashlib
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (ROOT, os.path.join(ROOT, "firmware")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from dnsbox.wire import message as M  # noqa: E402
from dnsbox.wire import rdata as R  # noqa: E402
from dnsbox.wire.errors import TextError, WireError  # noqa: E402

VECTORS = os.path.join(ROOT, "tests", "vectors", "wire")
MAX_FINDINGS = 20  # stop after this many distinct failing inputs


class Finding(Exception):
    """A check failed: `what` says which."""


def _texts(m):
    # case-folded names: compression may point a name at an earlier one differing in case
    out = [(q.name.lc, q.qtype, q.qclass) for q in m.question]
    for sec in (m.answer, m.authority, m.additional):
        out.append("--")
        out += [(r.name.lc, r.rtype, r.rclass, r.ttl, r.rdata.to_canonical()) for r in sec]
    return out


def check(buf):
    """Run every oracle on one input; raise Finding on a violation. Returns the Message or
    None (rejected with WireError)."""
    outcomes = []
    m = None
    for fn in (lambda: M._decode(buf, False), lambda: M._decode(buf, True), lambda: M._peek(buf)):
        try:
            r = fn()
            outcomes.append(True)
            if m is None and isinstance(r, M.Message):
                m = r
        except WireError:
            outcomes.append(False)
        except Exception as e:  # anything else escaping is the bug we hunt
            raise Finding("%s escaped: %s" % (type(e).__name__, e))
    full_ok, partial_ok, peek_ok = outcomes
    if full_ok != peek_ok:
        raise Finding("decode %s but decode_question %s" % (full_ok, peek_ok))
    if full_ok and not partial_ok:
        raise Finding("decode ok but partial decode failed")
    if not full_ok:
        m = None
    if m is None:
        return None
    try:
        w = M.encode(m)
        m2 = M.decode(w)
    except (WireError, ValueError) as e:
        raise Finding("re-encoding failed: %r" % e)
    if _texts(m2) != _texts(m) and not m2.tc:
        raise Finding("re-encoded content differs")
    if (m2.id, m2.rcode, m2.edns) != (m.id, m.rcode, m.edns):
        raise Finding("re-encoded header/EDNS differ")
    for sec in (m.answer, m.authority, m.additional):
        for r in sec:
            try:
                back = R.from_text(r.rtype, r.rdata.to_text(), None)
            except TextError as e:
                raise Finding("to_text of %s not parsed back: %s" % (r.to_text(), e))
            if back != r.rdata or back.to_wire() != r.rdata.to_wire():
                raise Finding("text round trip changed %s" % r.to_text())
    return m


def load_seeds():
    """Seed messages: every pinned vector (hex with comments)."""
    seeds = []
    for f in sorted(os.listdir(VECTORS)):
        if f.endswith(".txt"):
            with open(os.path.join(VECTORS, f)) as fh:
                text = fh.read()
            digits = "".join("".join(line.split("#", 1)[0].split()) for line in text.split("\n"))
            seeds.append(bytes.fromhex(digits))
    return seeds


def mutate(rng, data, seeds):
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        n = len(b)
        if op == 0 and n:  # flip bits of one byte
            b[rng.randrange(n)] ^= 1 << rng.randrange(8)
        elif op == 1 and n:  # set a byte to an interesting value
            b[rng.randrange(n)] = rng.choice(
                (0, 1, 0x3F, 0x40, 0x80, 0xC0, 0xC0 | rng.randrange(64), 0xFF)
            )
        elif op == 2 and n:  # drop a range
            i = rng.randrange(n)
            del b[i : i + rng.randint(1, 16)]
        elif op == 3:  # insert random bytes
            i = rng.randrange(n + 1)
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 4 and n > 12:  # change a header count
            i = 4 + 2 * rng.randrange(4)
            b[i : i + 2] = rng.choice((0, 1, 2, 3, 0xFFFF, rng.randrange(65536))).to_bytes(
                2, "big"
            )
        elif op == 5 and n:  # truncate
            del b[rng.randrange(n) :]
        elif op == 6 and n > 2:  # a compression pointer to a random offset
            i = rng.randrange(n - 1)
            p = rng.randrange(max(n, 1))
            b[i : i + 2] = bytes((0xC0 | (p >> 8) & 0x3F, p & 0xFF))
        elif op == 7:  # splice in a piece of another seed
            s = rng.choice(seeds)
            if s:
                i = rng.randrange(len(s))
                b[rng.randrange(n + 1) :] = s[i : i + rng.randint(1, 64)]
        elif op == 8 and n > 14:  # duplicate a range
            i = rng.randrange(12, n)
            b[i:i] = b[i : i + rng.randint(1, 32)]
    return bytes(b[:65535])


def save(buf, why):
    h = hashlib.sha1(buf).hexdigest()[:12]
    path = os.path.join(VECTORS, "fuzz-%s.txt" % h)
    lines = ["# found by tools/fuzz_wire.py: %s" % why.replace("\n", " ")[:200], "# expect: any"]
    for i in range(0, len(buf), 32):
        lines.append(buf[i : i + 32].hex())
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run(seconds, max_inputs, seed, do_save=True, out=print):
    rng = random.Random(seed)
    seeds = load_seeds()
    for s in seeds:
        check(s)
    corpus = list(seeds)
    findings = {}
    n = 0
    accepted = 0
    t_end = time.monotonic() + seconds
    while n < max_inputs and time.monotonic() < t_end and len(findings) < MAX_FINDINGS:
        buf = mutate(rng, rng.choice(corpus), seeds)
        n += 1
        try:
            if check(buf) is not None:
                accepted += 1
                if len(corpus) < 5000 and rng.random() < 0.05:
                    corpus.append(buf)  # keep some valid variants as new parents
        except Finding as e:
            key = str(e)[:60]
            if key not in findings:
                findings[key] = buf
                path = save(buf, str(e)) if do_save else "-"
                out("FINDING %s -> %s" % (e, path))
    out(
        "%d inputs, %d decoded, %d rejected, %d findings"
        % (n, accepted, n - accepted, len(findings))
    )
    return n, findings


def main(argv):
    seconds, max_inputs, seed, do_save = 60.0, 10_000_000, 1, True
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--seconds":
            seconds = float(argv[i + 1])
            i += 1
        elif a == "--max-inputs":
            max_inputs = int(argv[i + 1])
            i += 1
        elif a == "--seed":
            seed = int(argv[i + 1])
            i += 1
        elif a == "--no-save":
            do_save = False
        else:
            print(__doc__)
            return 2
        i += 1
    _, findings = run(seconds, max_inputs, seed, do_save)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
