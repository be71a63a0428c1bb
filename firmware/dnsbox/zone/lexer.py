"""Master-file lexer (RFC 1035 5.1): bytes -> ASCII text -> logical entries of raw tokens.

A master file is bytes, not text in some encoding: source_text() makes it the ASCII text the
lexer reads, every byte outside ASCII written as its \\DDD escape, so that it comes out of the
name and rdata parsers as that byte (a TXT string in Latin-1 or UTF-8 keeps its bytes, as NSD
keeps them). One entry per logical line: parentheses join physical lines, ';' starts a comment
(outside quotes), quoted strings are one token. Tokens keep their quotes and backslash escapes
intact (the rdata parser of the codec wants the presentation form), so `raw` of a token is
exactly what was written (with those \\DDD escapes). Used at build time only
(tools/crunch.py), never frozen.
"""

from dnsbox.zone.errors import ZoneError

MAX_TOKENS = 4096  # tokens in one logical entry (a long TXT record is a few hundred)
MAX_PAREN_LINES = 10000  # physical lines one parenthesised entry may span


def source_text(data, file="<zone>"):
    """The text the lexer reads from master-file bytes (a str: its UTF-8 bytes). ASCII stays as
    it is (control bytes too: a token holds them as their bytes); a byte from 0x80 up becomes
    \\DDD, and so does an escaped one ('\\' and the byte: RFC 1035 5.1, \\X is X itself). A
    backslash escape is walked over whole, so '\\\\' and the byte is an escaped backslash and
    the byte. ZoneError for a str that has no UTF-8 form (a lone surrogate)."""
    if isinstance(data, str):
        try:
            data = data.encode()
        except UnicodeError:
            raise ZoneError(file, 0, "text with characters that have no UTF-8 form")
    try:
        s = data.decode()
    except UnicodeError:
        s = None
    if s is not None and len(s) == len(data):
        return s  # all ASCII: the common case, no walk
    out = []
    n = len(data)
    start = i = 0
    while i < n:
        c = data[i]
        if c == 0x5C and (i + 1 >= n or data[i + 1] < 0x80):
            i += 2  # an escape of an ASCII character: kept
            continue
        if c < 0x80 and c != 0x5C:
            i += 1
            continue
        out.append(data[start:i].decode())
        if c == 0x5C:
            i += 1  # '\\' and a byte from 0x80 up: the byte
        out.append("\\%03d" % data[i])
        i += 1
        start = i
    out.append(data[start:].decode())
    return "".join(out)


class Token:
    __slots__ = ("raw", "quoted")

    def __init__(self, raw, quoted):
        self.raw = raw
        self.quoted = quoted

    def __repr__(self):
        return "Token(%r)" % self.raw


class Entry:
    """One logical line: where it starts, whether it starts blank (owner omitted), its tokens."""

    __slots__ = ("file", "line", "blank_owner", "tokens")

    def __init__(self, file, line, blank_owner, tokens):
        self.file = file
        self.line = line
        self.blank_owner = blank_owner
        self.tokens = tokens

    def texts(self):
        return [t.raw for t in self.tokens]


def entries(text, file="<zone>"):
    """Yield the Entry of every non-empty logical line of `text`."""
    n = len(text)
    i = 0
    line = 1
    while i < n:
        start_line = line
        blank_owner = text[i] in " \t"
        tokens = []
        depth = 0
        paren_line = 0
        while True:
            if i >= n:
                if depth:
                    raise ZoneError(file, paren_line, "unbalanced '(': no closing ')'")
                break
            c = text[i]
            if c == "\n":
                line += 1
                i += 1
                if depth:
                    if line - paren_line > MAX_PAREN_LINES:
                        raise ZoneError(file, paren_line, "'(' spans too many lines")
                    continue
                break
            if c in " \t\r":
                i += 1
            elif c == ";":
                while i < n and text[i] != "\n":
                    i += 1
            elif c == "(":
                if depth == 0:
                    paren_line = line
                depth += 1
                i += 1
            elif c == ")":
                if depth == 0:
                    raise ZoneError(file, line, "')' without '('")
                depth -= 1
                i += 1
            elif c == '"':
                j = _quoted_end(text, i, file, line)
                tokens.append(Token(text[i : j + 1], True))
                i = j + 1
            else:
                j = i
                while j < n:
                    d = text[j]
                    if d == "\\":
                        if j + 1 < n and text[j + 1] == "\n":
                            raise ZoneError(file, line, "backslash at end of line")
                        j += 2
                        continue
                    if d == '"':
                        # key="value" (SVCB, RFC 9460 2.1): the quoted part stays in this
                        # token, so the rdata parser sees that nothing separates them
                        j = _quoted_end(text, j, file, line) + 1
                        continue
                    if d in " \t\r\n;()":
                        break
                    j += 1
                tokens.append(Token(text[i:j], False))
                i = j
            if len(tokens) > MAX_TOKENS:
                raise ZoneError(file, start_line, "more than %d tokens in one entry" % MAX_TOKENS)
        if tokens:
            yield Entry(file, start_line, blank_owner, tokens)


def _quoted_end(text, i, file, line):
    """Offset of the '"' that closes the quoted string opening at text[i]."""
    n = len(text)
    j = i + 1
    while True:
        if j >= n:
            raise ZoneError(file, line, "unterminated quoted string")
        d = text[j]
        if d == "\\":
            j += 2
            continue
        if d == '"':
            return j
        if d == "\n":
            raise ZoneError(file, line, "newline inside a quoted string")
        j += 1


_TTL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_TTL = 0x7FFFFFFF  # RFC 2181 8: TTLs are 31-bit
MAX_TTL_TEXT = 64  # characters of a TTL ('1w2d3h4m5s' is 10; CPython's int() refuses 4,300 digits)


def parse_ttl(text):
    """'3600', '1h30m', '2W' -> seconds; None if `text` is not a TTL."""
    if not text or not text[0].isdigit() or len(text) > MAX_TTL_TEXT:
        return None
    if text.isdigit():
        v = int(text)
    else:
        v = 0
        num = ""
        for c in text.lower():
            if c.isdigit():
                num += c
            elif c in _TTL_UNITS and num:
                v += int(num) * _TTL_UNITS[c]
                num = ""
            else:
                return None
        if num:  # BIND: a trailing number without unit counts seconds
            v += int(num)
    if v > MAX_TTL:
        return None
    return v
