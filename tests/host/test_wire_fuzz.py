"""Bounded fuzzing of the decoder (the longer run is tools/fuzz_wire.py): nothing but WireError
escapes, decode/partial/peek agree, what decodes re-encodes to the same content and its rdata
text parses back. Failing inputs are saved as regression vectors (tests/vectors/wire/fuzz-*)."""

import fuzz_wire
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SEEDS = fuzz_wire.load_seeds()


def _check(buf):
    try:
        fuzz_wire.check(buf)
    except fuzz_wire.Finding as e:
        path = fuzz_wire.save(buf, str(e))
        raise AssertionError("%s (saved as %s)" % (e, path))


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=600))
def test_random_bytes(buf):
    _check(buf)


@st.composite
def mutated(draw):
    seed = draw(st.sampled_from(SEEDS))
    b = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        if not b:
            break
        i = draw(st.integers(0, len(b) - 1))
        kind = draw(st.integers(0, 3))
        if kind == 0:
            b[i] = draw(st.integers(0, 255))
        elif kind == 1:
            del b[i : i + draw(st.integers(1, 8))]
        elif kind == 2:
            b[i:i] = draw(st.binary(min_size=1, max_size=8))
        else:
            b[i] = 0xC0 | draw(st.integers(0, 63))
    return bytes(b)


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated())
def test_mutated_vectors(buf):
    _check(buf)


def test_mutation_fuzzer_for_a_few_seconds():
    n, findings = fuzz_wire.run(seconds=5, max_inputs=200_000, seed=20261125, out=lambda s: None)
    assert n > 1000 and not findings, list(findings)
