"""The Huffman code of HPACK (RFC 7541 5.2, Appendix B): decoding only (we send literals).

The code is canonical (within one length, codes rise with the symbol: checked against the
RFC's table by tests/host/test_h2_clients.py), so the table is just each symbol's code length;
decode() walks the bits with the first code and the count of each length.
"""
from dnsbox.compat import const

EOS = const(256)  # the end-of-string symbol: never in a string (5.2)
MAX_BITS = const(30)  # the longest code
# Code lengths in bits of symbols 0..256 (Appendix B).
LENGTHS = (
    b"\x0d\x17\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x18\x1e\x1c\x1c\x1e\x1c\x1c"
    b"\x1c\x1c\x1c\x1c\x1c\x1c\x1e\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c"
    b"\x06\x0a\x0a\x0c\x0d\x06\x08\x0b\x0a\x0a\x08\x0b\x08\x06\x06\x06"
    b"\x05\x05\x05\x06\x06\x06\x06\x06\x06\x06\x07\x08\x0f\x06\x0c\x0a"
    b"\x0d\x06\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07"
    b"\x07\x07\x07\x07\x07\x07\x07\x07\x08\x07\x08\x0d\x13\x0d\x0e\x06"
    b"\x0f\x05\x06\x05\x06\x05\x06\x06\x06\x05\x07\x07\x06\x06\x06\x05"
    b"\x06\x07\x06\x05\x05\x06\x07\x07\x07\x07\x07\x0f\x0b\x0e\x0d\x1c"
    b"\x14\x16\x14\x14\x16\x16\x16\x17\x16\x17\x17\x17\x17\x17\x18\x17"
    b"\x18\x18\x16\x17\x18\x17\x17\x17\x17\x15\x16\x17\x16\x17\x17\x18"
    b"\x16\x15\x14\x16\x16\x17\x17\x15\x17\x16\x16\x18\x15\x16\x17\x17"
    b"\x15\x15\x16\x15\x17\x16\x17\x17\x14\x16\x16\x16\x17\x16\x16\x17"
    b"\x1a\x1a\x14\x13\x16\x17\x16\x19\x1a\x1a\x1a\x1b\x1b\x1a\x18\x19"
    b"\x13\x15\x1a\x1b\x1b\x1a\x1b\x18\x15\x15\x1a\x1a\x1c\x1b\x1b\x1b"
    b"\x14\x18\x14\x15\x16\x15\x15\x17\x16\x16\x19\x19\x18\x18\x1a\x17"
    b"\x1a\x1b\x1a\x1a\x1b\x1b\x1b\x1b\x1b\x1c\x1b\x1b\x1b\x1b\x1b\x1a"
    b"\x1e"
)

_first = None  # per length: its first code, its count, where its symbols start in _syms
_syms = None


def _tables():
    global _first, _syms
    order = sorted(range(257), key=lambda s: LENGTHS[s] * 512 + s)
    first = [(0, 0, 0)] * (MAX_BITS + 1)
    code = 0
    prev = LENGTHS[order[0]]
    start = 0
    k = 0
    while k < 257:
        n = LENGTHS[order[k]]
        code <<= n - prev
        prev = n
        j = k
        while j < 257 and LENGTHS[order[j]] == n:
            j += 1
        first[n] = (code, j - k, k)
        code += j - k
        k = j
    _syms = order
    _first = first


def decode(data):
    """The bytes coded in data; ValueError on EOS, padding longer than 7 bits or not ones."""
    if _first is None:
        _tables()
    first = _first
    syms = _syms
    out = bytearray()
    code = 0
    n = 0
    for b in data:
        bit = 0x80
        while bit:
            code = (code << 1) | (1 if b & bit else 0)
            bit >>= 1
            n += 1
            f = first[n]
            i = code - f[0]
            if 0 <= i < f[1]:
                s = syms[f[2] + i]
                if s == EOS:
                    raise ValueError("EOS in a string")
                out.append(s)
                code = 0
                n = 0
            elif n >= MAX_BITS:
                raise ValueError("no such code")
    if n > 7 or code != (1 << n) - 1:
        raise ValueError("bad padding")
    return bytes(out)
