"""DNS opcodes (RFC 1035 4.1.1, RFC 1996, RFC 2136, RFC 8490)."""

from dnsbox.compat import const

QUERY = const(0)
IQUERY = const(1)
STATUS = const(2)
NOTIFY = const(4)
UPDATE = const(5)
DSO = const(6)

_TEXT = ("QUERY", "IQUERY", "STATUS", None, "NOTIFY", "UPDATE", "DSO")


def to_text(value):
    """Mnemonic of an opcode, or its number as text."""
    if 0 <= value < len(_TEXT) and _TEXT[value] is not None:
        return _TEXT[value]
    return str(value)


def from_text(text):
    """Opcode from a mnemonic or a number 0..15; raises ValueError."""
    up = text.upper()
    for i in range(len(_TEXT)):
        if _TEXT[i] == up:
            return i
    if up.isdigit() and int(up) < 16:
        return int(up)
    raise ValueError("unknown opcode %r" % text)
