"""Base of every rdata class, the RFC 3597 generic rdata, and helpers for the families."""

from dnsbox.wire import name as _name
from dnsbox.wire import text as _text
from dnsbox.wire.errors import ShortError, TextError, WireError


def need(buf, off, n, end):
    """Raise unless n bytes are available at off before end (the caller checked end <= len(buf):
    running past end is a malformed rdata, not a truncated message)."""
    if off + n > end:
        raise WireError(off, "rdata shorter than its fields")


def u8(buf, off, end):
    need(buf, off, 1, end)
    return buf[off]


def u16(buf, off, end):
    need(buf, off, 2, end)
    return (buf[off] << 8) | buf[off + 1]


def u32(buf, off, end):
    need(buf, off, 4, end)
    return (((buf[off] << 8) | buf[off + 1]) << 16) | (buf[off + 2] << 8) | buf[off + 3]


def name_at(buf, off, end):
    """Decode a name inside rdata; it must end at or before end."""
    if end < len(buf):
        # the rdata is followed by more data: a name running past `end` is caught below
        n, o = _name.decode_name(buf, off)
    else:
        n, o = _name_at_end(buf, off)
    if o > end:
        raise WireError(off, "name runs past the rdata")
    return n, o


def name_exact(buf, off, end):
    """A name that must fill buf[off:end] exactly."""
    n, o = name_at(buf, off, end)
    done(o, end)
    return n


def _name_at_end(buf, off):
    # the rdata ends the buffer: running out of data is malformed rdata, not truncation
    try:
        return _name.decode_name(buf, off)
    except ShortError as e:
        raise WireError(e.offset, "name runs past the rdata")


def string_at(buf, off, end):
    """One <character-string> -> (bytes, next offset)."""
    ln = u8(buf, off, end)
    need(buf, off + 1, ln, end)
    return buf[off + 1 : off + 1 + ln], off + 1 + ln


def done(off, end):
    if off != end:
        raise WireError(off, "rdata longer than its fields (%d bytes left)" % (end - off))


def check_uint(v, bits, what):
    """Range check before struct.pack (MicroPython truncates silently)."""
    if not isinstance(v, int) or v < 0 or v >> bits:
        raise ValueError("%s %r is not a uint%d" % (what, v, bits))
    return v


def write_name(out, n, comp):
    """Append name n to bytearray out, compressed against table comp (dict lower-case suffix
    wire -> offset) when comp is not None (RFC 1035 4.1.4)."""
    # few locals on purpose (MicroPython: frames over 11 words go on the heap)
    if comp is None:
        out += n.wire
        return
    lc = n.lc
    i = 0
    while lc[i]:
        p = comp.get(lc[i:])
        if p is not None:
            out += n.wire[:i]
            out.append(0xC0 | (p >> 8))
            out.append(p & 0xFF)
            return
        if len(out) + i < 0x4000:  # a pointer holds 14 bits
            comp[lc[i:]] = len(out) + i
        i += lc[i] + 1
    out += n.wire


class Rdata:
    """Base: subclasses set rtype and implement to_wire, to_text, from_tokens, decode.

    Equality and ordering use the canonical wire form (RFC 4034 6.2, 6.3): names in the
    rdata of the RFC 4034 6.2 types compare case-insensitively."""

    rtype = 0
    # True unless the constructor cannot refuse what decode() passes it (then rdata.decode
    # skips its try/except: cheaper on MicroPython)
    checked = True

    def to_wire(self):
        raise NotImplementedError

    def to_canonical(self):
        return self.to_wire()

    def encode(self, out, comp):
        """Append the rdata to out; only RFC 1035 types use comp (see NAME_COMPRESS)."""
        out += self.to_wire()

    def names(self):
        """Names inside the rdata (for glue and additional-section processing)."""
        return ()

    def __eq__(self, other):
        if not isinstance(other, Rdata):
            return False
        return self.rtype == other.rtype and self.to_canonical() == other.to_canonical()

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self.to_canonical())

    def __lt__(self, other):
        return self.to_canonical() < other.to_canonical()

    def __repr__(self):
        return "<%s %s>" % (self.__class__.__name__, self.to_text())


class Generic(Rdata):
    """Any type as opaque data (RFC 3597): text form '\\# <length> <hex>'."""

    def __init__(self, rtype, data):
        self.rtype = rtype
        self.data = bytes(data)

    def to_wire(self):
        return self.data

    def to_text(self):
        if not self.data:
            return "\\# 0"
        return "\\# %d %s" % (len(self.data), _text.hex_to_text(self.data))

    @classmethod
    def decode(cls, rtype, buf, off, end):
        return cls(rtype, buf[off:end])


def generic_text(rd):
    """The RFC 3597 form of rd: for rdata whose own form cannot carry it (an empty key or
    digest, say), so that every parser reads back the same wire."""
    return Generic(rd.rtype, rd.to_wire()).to_text()


def generic_from_tokens(rtype, tk):
    """The part after '\\#': length then hex words (RFC 3597 5)."""
    ln = tk.uint("generic rdata length", 65535)
    data = _text.hex_from_text(tk.rest(), "generic rdata")
    if len(data) != ln:
        raise TextError("generic rdata: length %d but %d octets of data" % (ln, len(data)))
    return Generic(rtype, data)


def name_from_token(tk, origin, what):
    t = tk.word(what)
    return _name.from_text(t, origin)
