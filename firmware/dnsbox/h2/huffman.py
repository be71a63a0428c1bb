"""The Huffman code of HPACK (RFC 7541 5.2, Appendix B): decoding only (we send literals).

The code is canonical (within one length, codes rise with the symbol: checked against the
RFC's table by tests/host/test_h2_clients.py), so the table is just each symbol's code length;
decode() runs a nibble automaton built from them at first use (16 KB: 256 states x 16), four
bits per step instead of one.
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

_table = None  # array('I') of 256 states x 16 nibbles: next state << 4 | symbol << 12 | what << 20
_ACCEPT = None  # bytes: 1 for the states a string may end in (padding: <= 7 one bits, 5.2)
_EMIT = const(1)  # what: a symbol ends within this nibble
_FAIL = const(2)  # what: EOS ends within this nibble
_EMITTED = const(0x100000)  # an entry at or above this ends a symbol (_EMIT << 20)
_FAILED = const(0x200000)  # and at or above this it is EOS (_FAIL << 20)


def _tree():
    """The code's binary tree from its lengths (canonical: within one length, codes rise with
    the symbol): child[2 * node + bit] is an inner node (>= 0) or -1 - symbol. 257 symbols,
    a complete code: 256 inner nodes, each with two children."""
    order = sorted(range(257), key=lambda s: LENGTHS[s] * 512 + s)
    child = [0] * 512
    nodes = 1
    code = 0
    prev = LENGTHS[order[0]]
    for sym in order:
        n = LENGTHS[sym]
        code <<= n - prev
        prev = n
        node = 0
        for k in range(n - 1, 0, -1):  # every bit but the last: inner nodes
            j = 2 * node + ((code >> k) & 1)
            if not child[j]:
                child[j] = nodes
                nodes += 1
            node = child[j]
        child[2 * node + (code & 1)] = -1 - sym
        code += 1
    return child


def _tables():
    """The nibble automaton (as nghttp2 decodes, built here from the lengths): from each inner
    node, the 4 bits of a nibble lead to a node, passing at most one leaf (the shortest code
    has 5 bits)."""
    global _table, _ACCEPT
    from array import array

    child = _tree()
    table = array("I", bytes(4 * 256 * 16))
    for state in range(256):
        for x in range(16):
            node = state
            what = sym = 0
            for k in (3, 2, 1, 0):
                c = child[2 * node + ((x >> k) & 1)]
                if c < 0:
                    sym = -1 - c
                    what = _FAIL if sym == EOS else _EMIT
                    node = 0
                else:
                    node = c
            table[state * 16 + x] = (node << 4) | ((sym & 255) << 12) | (what << 20)
    accept = bytearray(256)
    node = 0
    for _ in range(8):  # the root and the all-ones path below it, up to 7 bits deep
        accept[node] = 1
        node = child[2 * node + 1]
    _ACCEPT = bytes(accept)
    _table = table


def decode(data):
    """The bytes coded in data; ValueError on EOS, padding longer than 7 bits or not ones."""
    if _table is None:
        _tables()
    table = _table
    out = bytearray(len(data) * 8 // 5)  # the most symbols: 5 bits each at the shortest
    n = 0
    t = 0  # the current entry: its state bits (t & 0xFF0) start the next lookup
    for b in data:
        t = table[(t & 0xFF0) | (b >> 4)]
        if t >= _EMITTED:
            if t >= _FAILED:
                raise ValueError("EOS in a string")
            out[n] = (t >> 12) & 255
            n += 1
        t = table[(t & 0xFF0) | (b & 15)]
        if t >= _EMITTED:
            if t >= _FAILED:
                raise ValueError("EOS in a string")
            out[n] = (t >> 12) & 255
            n += 1
    if not _ACCEPT[(t >> 4) & 255]:
        raise ValueError("bad padding")
    return bytes(out[:n])
