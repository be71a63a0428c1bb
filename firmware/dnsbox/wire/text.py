"""Presentation-format helpers shared by the rdata families: tokens, numbers, strings, codes."""

import binascii

from dnsbox.compat import const
from dnsbox.wire.errors import TextError

MAX_STRING = const(255)  # octets of one <character-string> (RFC 1035 3.3)


def tokenize(text):
    """Split one line of rdata into [(token, quoted, glued)]. Escapes stay in the token text;
    a quoted token is returned without its quotes. glued is True when no blank separates a
    token from the one before: SVCB's key="value" is the token key= and the glued quoted token
    value (RFC 9460 2.1, A.1); elsewhere a quote starts a new token, as in BIND and dnspython."""
    toks = []
    i = 0
    n = len(text)
    glued = False
    while i < n:
        c = text[i]
        if c == " " or c == "\t" or c == "\n" or c == "\r":
            i += 1
            glued = False
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise TextError("unterminated quoted string in %r" % text)
            toks.append((text[i + 1 : j], True, glued))
            i = j + 1
        else:
            j = i
            while j < n:
                c = text[j]
                if c == " " or c == "\t" or c == "\n" or c == "\r" or c == '"':
                    break
                j += 2 if c == "\\" else 1
            toks.append((text[i:j], False, glued))
            i = j
        glued = True
    return toks


class Tokens:
    """A cursor over tokenize() output with typed getters; every error is a TextError."""

    def __init__(self, text):
        self.toks = tokenize(text)
        self.i = 0
        self.text = text

    def more(self):
        return self.i < len(self.toks)

    def next_raw(self, what):
        if self.i >= len(self.toks):
            raise TextError("missing %s in %r" % (what, self.text))
        t = self.toks[self.i]
        self.i += 1
        return t

    def word(self, what):
        return self.next_raw(what)[0]

    def uint(self, what, maxv):
        t = self.word(what)
        if not t.isdigit():
            raise TextError("%s is not a number: %r" % (what, t))
        v = int(t)
        if v > maxv:
            raise TextError("%s %d is over %d" % (what, v, maxv))
        return v

    def rest(self):
        out = [t[0] for t in self.toks[self.i :]]
        self.i = len(self.toks)
        return out

    def end(self):
        if self.i < len(self.toks):
            raise TextError("unexpected %r after the rdata" % self.toks[self.i][0])


def _ddd(d):
    """The value of the three characters after a backslash if they are ASCII digits, else -1
    (str.isdigit would take other scripts' digits, which int() then refuses)."""
    if len(d) != 3:
        return -1
    v = 0
    for ch in d:
        if not "0" <= ch <= "9":
            return -1
        v = v * 10 + ord(ch) - 48
    return v


def unescape(text):
    """Bytes of a <character-string> in presentation form: \\DDD is the octet DDD (at most
    255), \\X the character X, any other character its UTF-8 bytes (the zone compiler hands over
    ASCII only, other bytes as \\DDD: dnsbox.zone.lexer). Raises TextError and nothing else."""
    try:
        if "\\" not in text:
            return text.encode()
        out = bytearray()
        i = 0
        n = len(text)
        while i < n:
            c = text[i]
            if c != "\\":
                j = text.find("\\", i)
                if j < 0:
                    j = n
                out += text[i:j].encode()
                i = j
                continue
            if i + 1 >= n:
                raise TextError("string ends in a backslash: %r" % text)
            if "0" <= text[i + 1] <= "9":
                v = _ddd(text[i + 1 : i + 4])
                if v < 0 or v > 255:
                    raise TextError("bad \\DDD escape in %r" % text)
                out.append(v)
                i += 4
            else:
                out += text[i + 1].encode()
                i += 2
        return bytes(out)
    except UnicodeError:  # a lone surrogate (CPython): no bytes to give
        raise TextError("string with a character that has no UTF-8 form: %r" % text)


def string_from_text(text):
    b = unescape(text)
    if len(b) > MAX_STRING:
        raise TextError("string longer than 255 octets")
    return b


def escape(b):
    """Inside of a quoted <character-string>: '"' and '\\' escaped, non-printables \\DDD."""
    try:
        s = b.decode()
    except UnicodeError:
        s = None
    if s is not None and len(s) == len(b) and '"' not in s and "\\" not in s:
        ok = True
        for ch in s:
            if ch < " " or ch > "~":
                ok = False
                break
        if ok:
            return s
    out = []
    for c in b:
        if c == 0x22 or c == 0x5C:
            out.append("\\" + chr(c))
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\%03d" % c)
    return "".join(out)


def quote(b):
    return '"' + escape(b) + '"'


def hex_from_text(words, what):
    s = "".join(words)
    if len(s) % 2:
        raise TextError("%s: odd number of hex digits" % what)
    try:
        return bytes.fromhex(s)
    except ValueError:
        raise TextError("%s: not hex: %r" % (what, s))


def hex_to_text(b, chunk=128):
    """Lower-case hex in chunks of `chunk` digits separated by spaces (dnspython's style)."""
    h = binascii.hexlify(b).decode()
    if len(h) <= chunk:
        return h
    return " ".join([h[i : i + chunk] for i in range(0, len(h), chunk)])


def b64_from_text(words, what):
    s = "".join(words)
    if len(s) % 4:
        raise TextError("%s: base64 length not a multiple of 4" % what)
    for ch in s:
        if not (ch.isalpha() or ch.isdigit() or ch in "+/="):
            raise TextError("%s: not base64: %r" % (what, s))
    try:
        return binascii.a2b_base64(s)
    except ValueError:
        raise TextError("%s: not base64: %r" % (what, s))


def b64_to_text(b, chunk=32):
    """Base64 in chunks of `chunk` characters separated by spaces (dnspython's style)."""
    s = binascii.b2a_base64(b)[:-1].decode()
    if len(s) <= chunk:
        return s
    return " ".join([s[i : i + chunk] for i in range(0, len(s), chunk)])


_B32 = "0123456789ABCDEFGHIJKLMNOPQRSTUV"


def b32hex_to_text(b):
    """Base32hex without padding, upper case... lowered as dnspython prints (RFC 5155 3.3)."""
    out = []
    acc = 0
    bits = 0
    for c in b:
        acc = (acc << 8) | c
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append(_B32[(acc >> bits) & 31])
    if bits:
        out.append(_B32[(acc << (5 - bits)) & 31])
    return "".join(out).lower()


def b32hex_from_text(s, what):
    acc = 0
    bits = 0
    out = bytearray()
    for ch in s.upper():
        v = _B32.find(ch)
        if v < 0:
            raise TextError("%s: not base32hex: %r" % (what, s))
        acc = ((acc << 5) | v) & 0xFFFF
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if len(s) % 8 not in (0, 2, 4, 5, 7) or (acc & ((1 << bits) - 1)):
        raise TextError("%s: bad base32hex length or padding: %r" % (what, s))
    return bytes(out)
