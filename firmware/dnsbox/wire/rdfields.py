"""Rdata described by a layout: one code per field, each with its wire and presentation form.

A class sets `layout` (codes below) and `attrs` (one attribute name per code); Fields gives it
decode, to_wire, to_canonical, to_text and from_tokens. Codes:

  B H I   8, 16, 32-bit unsigned number (decimal; `words` may give mnemonics, `shown` says
          which are printed as their mnemonic)
  T       a record type (16 bits; its mnemonic or TYPEnnn)
  N       a domain name (never compressed: RFC 3597 4; lower-cased in canonical form when
          the class sets `lower`, the types RFC 4034 6.2 lists)
  S       a <character-string> (RFC 1035 3.3)
  A       an IPv4 address (4 octets)
  L       a 64-bit locator or node id, xxxx:xxxx:xxxx:xxxx (RFC 6742 2.3)
and, last only, a field that takes the rest of the rdata:
  x       hex      b   base64 (`chunk` characters a group in text)
  m       a type bitmap (RFC 4034 4.1.2)
  u       a string without length octet, one quoted string in text (URI, RFC 7553)
  o       an optional <character-string>: None when absent (ISDN's subaddress)
"""

import struct

from dnsbox.wire import rd_sec, rd_std
from dnsbox.wire import rdbase as B
from dnsbox.wire import text as T
from dnsbox.wire import types as RT
from dnsbox.wire.errors import TextError

_BITS = {"B": 8, "H": 16, "I": 32, "T": 16}
_SIZES = {"A": 4, "L": 8}  # octets of the fixed-size byte fields


def locator_to_text(b):
    return ":".join(["%02x%02x" % (b[i], b[i + 1]) for i in range(0, 8, 2)])


def locator_from_text(s):
    """Four groups of 1..4 hex digits (BIND prints them without leading zeros)."""
    parts = s.split(":")
    if len(parts) != 4 or [p for p in parts if not 1 <= len(p) <= 4]:
        raise TextError("locator %r is not xxxx:xxxx:xxxx:xxxx" % s)
    return T.hex_from_text([("000" + p)[-4:] for p in parts], "locator")


def _value(code, v, what):
    """v checked for field code (ValueError if it does not fit)."""
    bits = _BITS.get(code)
    if bits is not None:
        return B.check_uint(v, bits, what)
    if code == "N":
        if not hasattr(v, "wire"):
            raise ValueError("%s is not a Name" % what)
        return v
    if code == "m":
        return tuple(sorted(set([B.check_uint(t, 16, "type") for t in v])))
    if code == "o" and v is None:
        return None
    v = bytes(v)
    ln = _SIZES.get(code)
    if ln is not None and len(v) != ln:
        raise ValueError("%s must be %d octets" % (what, ln))
    if (code == "S" or code == "o") and len(v) > T.MAX_STRING:
        raise ValueError("%s longer than 255 octets" % what)
    return v


class Fields(B.Rdata):
    layout = ""
    attrs = ()
    lower = False  # names lower-cased in canonical form (RFC 4034 6.2, RFC 6840 5.1)
    words = {}  # attribute -> {MNEMONIC: number} accepted in text
    shown = ()  # attributes printed as their mnemonic (from words) when they have one
    chunk = 32  # base64 characters per group in text (0: one group), dnspython's choice

    def __init__(self, *values):
        if len(values) != len(self.layout):
            raise TypeError("%s takes %d values" % (self.__class__.__name__, len(self.layout)))
        for i in range(len(values)):
            setattr(self, self.attrs[i], _value(self.layout[i], values[i], self.attrs[i]))
        why = self.check()
        if why is not None:
            raise ValueError(why)

    def check(self):
        """None, or why the values do not make a valid rdata (subclasses)."""
        return None

    def _wire(self, lc):
        out = bytearray()
        for i in range(len(self.layout)):
            c = self.layout[i]
            v = getattr(self, self.attrs[i])
            if c == "B":
                out.append(v)
            elif c == "H" or c == "T":
                out += struct.pack("!H", v)
            elif c == "I":
                out += struct.pack("!I", v)
            elif c == "N":
                out += v.lc if lc else v.wire
            elif c == "S" or (c == "o" and v is not None):
                out.append(len(v))
                out += v
            elif c == "m":
                out += rd_sec.bitmap_to_wire(v)
            elif c != "o":
                out += v
        return bytes(out)

    def to_wire(self):
        return self._wire(False)

    def to_canonical(self):
        return self._wire(self.lower)

    def names(self):
        return tuple([getattr(self, a) for a, c in zip(self.attrs, self.layout) if c == "N"])

    def to_text(self):
        if self.layout[-1] in "xb" and not getattr(self, self.attrs[-1]):
            return B.generic_text(self)  # no form for empty hex or base64 that all parsers read
        parts = []
        for i in range(len(self.layout)):
            t = _field_text(self, self.layout[i], self.attrs[i])
            if t:
                parts.append(t)
        return " ".join(parts)

    @classmethod
    def from_tokens(cls, tk, origin):
        vals = []
        for i in range(len(cls.layout)):
            vals.append(_field_from_tokens(cls, cls.layout[i], cls.attrs[i], tk, origin))
        return cls(*vals)

    @classmethod
    def decode(cls, rtype, buf, off, end):
        vals = []
        for c in cls.layout:
            if c in _BITS:
                n = _BITS[c] >> 3
                B.need(buf, off, n, end)
                v = 0
                for k in range(n):
                    v = (v << 8) | buf[off + k]
                off += n
            elif c == "N":
                v, off = B.name_at(buf, off, end)
            elif c == "S" or (c == "o" and off < end):
                v, off = B.string_at(buf, off, end)
            elif c in _SIZES:
                B.need(buf, off, _SIZES[c], end)
                v = buf[off : off + _SIZES[c]]
                off += _SIZES[c]
            elif c == "m":
                v = rd_sec.bitmap_decode(buf, off, end)
                off = end
            elif c == "o":
                v = None
            else:
                v = buf[off:end]
                off = end
            vals.append(v)
        B.done(off, end)
        return cls(*vals)


def _field_text(rd, c, attr):
    v = getattr(rd, attr)
    if c in "BHI":
        names = rd.words.get(attr) if attr in rd.shown else None
        if names:
            for k in names:
                if names[k] == v:
                    return k
        return "%d" % v
    if c == "T":
        return RT.type_to_text(v)
    if c == "N":
        return v.to_text()
    if c == "S" or c == "u" or (c == "o" and v is not None):
        return T.quote(v)
    if c == "A":
        return rd_std.ipv4_to_text(v)
    if c == "L":
        return locator_to_text(v)
    if c == "x":
        return T.hex_to_text(v)
    if c == "b":
        return T.b64_to_text(v, rd.chunk or 1 << 30)
    if c == "m":
        return rd_sec.bitmap_to_text(v).strip()
    return ""


def _field_from_tokens(cls, c, attr, tk, origin):
    if c in "BHI":
        names = cls.words.get(attr)
        if names:
            w = tk.word(attr)
            v = names.get(w.upper())
            if v is not None:
                return v
            tk.i -= 1
        return tk.uint(attr, (1 << _BITS[c]) - 1)
    if c == "T":
        return RT.type_from_text(tk.word(attr))
    if c == "N":
        return B.name_from_token(tk, origin, attr)
    if c == "S" or (c == "o" and tk.more()):
        return T.string_from_text(tk.word(attr))
    if c == "o":
        return None
    if c == "u":
        return T.unescape(tk.word(attr))
    if c == "A":
        return rd_std.ipv4_from_text(tk.word(attr))
    if c == "L":
        return locator_from_text(tk.word(attr))
    if c == "x":
        return T.hex_from_text(tk.rest(), attr)
    if c == "b":
        return T.b64_from_text(tk.rest(), attr)
    return rd_sec.bitmap_from_tokens(tk)  # "m"
