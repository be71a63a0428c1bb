"""Domain names: wire and presentation form, comparison, canonical order (RFC 1035, RFC 4034 6.1).

A Name keeps its uncompressed wire form `wire` (case preserved) and the same bytes lowercased
(`lc`, ASCII only as RFC 4343 says), so equality, hashing and is_subdomain are one bytes
operation each.
"""

from dnsbox.compat import const
from dnsbox.wire.errors import ShortError, TextError, WireError

MAX_NAME = const(255)  # octets of wire form including the root label (RFC 1035 2.3.4)
MAX_LABEL = const(63)  # octets of one label (RFC 1035 2.3.4)
MIN_POINTER = const(12)  # compression pointers point at names, never into the 12-byte header

# Characters escaped with a backslash in presentation form (the set dnspython uses).
_SPECIAL = b'"().;\\@$'


class Name:
    """A domain name. Build with from_text(), decode_name() or Name(valid_uncompressed_wire)."""

    _ck = None  # canonical_key() once computed (class default: one attribute less to store)

    def __init__(self, wire, lc=None):
        self.wire = wire
        self.lc = wire.lower() if lc is None else lc

    # --- comparison -------------------------------------------------------------------------
    def __eq__(self, other):
        try:
            return self.lc == other.lc
        except AttributeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self.lc)

    def canonical_key(self):
        """Bytes whose ordering is the canonical name order of RFC 4034 6.1.

        Labels rightmost first, lowercased; inside a label 0x00 becomes 00 01 and each label
        ends with 00 00, so a label sorts before every longer label it is a prefix of."""
        ck = self._ck
        if ck is None:
            parts = []
            for lab in self._lower_labels():
                if b"\x00" in lab:
                    lab = lab.replace(b"\x00", b"\x00\x01")
                parts.append(lab)
            parts.reverse()
            ck = b"\x00\x00".join(parts)
            if parts:
                ck += b"\x00\x00"
            self._ck = ck
        return ck

    def __lt__(self, other):
        return self.canonical_key() < other.canonical_key()

    def __le__(self, other):
        return self.canonical_key() <= other.canonical_key()

    def __gt__(self, other):
        return self.canonical_key() > other.canonical_key()

    def __ge__(self, other):
        return self.canonical_key() >= other.canonical_key()

    # --- structure --------------------------------------------------------------------------
    def _offsets(self):
        w = self.wire
        out = []
        i = 0
        n = w[0]
        while n:
            out.append(i)
            i += n + 1
            n = w[i]
        return out

    def labels(self):
        """Tuple of label bytes, leftmost first, without the root label."""
        w = self.wire
        return tuple(w[i + 1 : i + 1 + w[i]] for i in self._offsets())

    def _lower_labels(self):
        w = self.lc
        return [w[i + 1 : i + 1 + w[i]] for i in self._offsets()]

    def label_count(self):
        """Number of labels, not counting the root (RFC 4034 3.1.3 without the '*' rule)."""
        return len(self._offsets())

    def is_root(self):
        return self.wire == b"\x00"

    def is_wild(self):
        """True if the leftmost label is '*' (RFC 4592)."""
        return self.wire[:2] == b"\x01*"

    def parent(self):
        """The name without its leftmost label; ValueError for the root."""
        w = self.wire
        if w == b"\x00":
            raise ValueError("the root has no parent")
        n = w[0] + 1
        return Name(w[n:], self.lc[n:])

    def child(self, label):
        """This name with `label` (bytes) prepended; TextError if too long."""
        if not 0 < len(label) <= MAX_LABEL:
            raise TextError("label length %d not in 1..63" % len(label))
        if len(self.wire) + len(label) + 1 > MAX_NAME:
            raise TextError("name longer than 255 octets")
        return Name(bytes((len(label),)) + label + self.wire)

    def concatenate(self, origin):
        """This name (taken as relative: its root label dropped) followed by origin."""
        w = self.wire[:-1] + origin.wire
        if len(w) > MAX_NAME:
            raise TextError("name longer than 255 octets")
        return Name(w)

    def is_subdomain(self, other):
        """True if self is other or below it (case-insensitive)."""
        mine = self.lc
        theirs = other.lc
        d = len(mine) - len(theirs)
        if d < 0 or not mine.endswith(theirs):
            return False
        i = 0
        while i < d:
            i += mine[i] + 1
        return i == d

    def lower(self):
        """The same name in lower case."""
        return Name(self.lc, self.lc)

    # --- presentation -----------------------------------------------------------------------
    def to_text(self):
        """Presentation form with trailing dot; escapes as RFC 1035 5.1 (dnspython's choice)."""
        w = self.wire
        if w == b"\x00":
            return "."
        out = []
        for i in self._offsets():
            out.append(label_to_text(w[i + 1 : i + 1 + w[i]]))
        out.append("")
        return ".".join(out)

    def __str__(self):
        return self.to_text()

    def __repr__(self):
        return "<Name %s>" % self.to_text()

    @staticmethod
    def from_text(text, origin=None):
        """Parse presentation form. A name without a trailing dot is relative and completed
        with origin (a Name); with origin None it is taken as absolute. '@' is origin."""
        return from_text(text, origin)


ROOT = Name(b"\x00")


def randomise_case(wire, rng):
    """wire with each ASCII letter's case taken from a random bit (length bytes are < 64, so
    never letters): DNS 0x20, a case the answer must echo (draft-vixie-dnsext-dns0x20)."""
    bits = rng((len(wire) + 7) // 8)
    out = bytearray(wire)
    for i in range(len(out)):
        c = out[i] | 0x20
        if 0x61 <= c <= 0x7A:
            out[i] = c ^ (0x20 if bits[i >> 3] & (1 << (i & 7)) else 0)
    return bytes(out)


def label_to_text(lab):
    """One label in presentation form (without the dot)."""
    try:
        s = lab.decode()
    except UnicodeError:
        s = None
    if s is not None and s.isalpha() and len(s) == len(lab):
        return s  # fast path: letters only
    out = []
    for c in lab:
        if c in _SPECIAL:
            out.append("\\" + chr(c))
        elif 0x20 < c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\%03d" % c)
    return "".join(out)


def _unescape_label(text, start, end, out):
    # Append the bytes of label text[start:end] (escapes \X and \DDD) to bytearray out.
    i = start
    while i < end:
        c = text[i]
        if c == "\\":
            if i + 1 >= end:
                raise TextError("name %r ends in a backslash" % text)
            d = text[i + 1 : i + 4]
            if d[:1].isdigit():
                if len(d) != 3 or not d.isdigit():
                    raise TextError("bad \\DDD escape in %r" % text)
                v = int(d)
                if v > 255:
                    raise TextError("escape \\%s over 255 in %r" % (d, text))
                out.append(v)
                i += 4
                continue
            c = text[i + 1]
            i += 1
        o = ord(c)
        if o > 127:
            raise TextError("non-ASCII character in name %r (use \\DDD or punycode)" % text)
        out.append(o)
        i += 1


def from_text(text, origin=None):
    """Name from presentation form; see Name.from_text."""
    if text == "@":
        if origin is None:
            raise TextError("'@' without an origin")
        return origin
    if text == ".":
        return ROOT
    if not text:
        raise TextError("empty name")
    labels = []
    if "\\" not in text:
        absolute = text.endswith(".")
        parts = (text[:-1] if absolute else text).split(".")
        for p in parts:
            try:
                b = p.encode()
            except UnicodeError:
                b = None
            if b is None or len(b) != len(p):
                raise TextError("non-ASCII character in name %r (use \\DDD or punycode)" % text)
            labels.append(b)
    else:
        # split on unescaped dots: walk the text once, skipping escapes
        absolute = False
        start = 0
        i = 0
        n = len(text)
        while i < n:
            c = text[i]
            if c == "\\":
                i += 2
                continue
            if c == ".":
                lab = bytearray()
                _unescape_label(text, start, i, lab)
                labels.append(bytes(lab))
                start = i + 1
                if start == n:
                    absolute = True
            i += 1
        if start < n:
            lab = bytearray()
            _unescape_label(text, start, n, lab)
            labels.append(bytes(lab))
    out = bytearray()
    for lab in labels:
        if not lab:
            raise TextError("empty label in %r" % text)
        if len(lab) > MAX_LABEL:
            raise TextError("label longer than 63 octets in %r" % text)
        out.append(len(lab))
        out += lab
    if absolute or origin is None:
        out.append(0)
    else:
        out += origin.wire
    if len(out) > MAX_NAME:
        raise TextError("name longer than 255 octets: %r" % text)
    return Name(bytes(out))


def from_labels(labels):
    """Name from an iterable of label bytes (leftmost first, no root); TextError on limits."""
    out = bytearray()
    for lab in labels:
        if not 0 < len(lab) <= MAX_LABEL:
            raise TextError("label length %d not in 1..63" % len(lab))
        out.append(len(lab))
        out += lab
    out.append(0)
    if len(out) > MAX_NAME:
        raise TextError("name longer than 255 octets")
    return Name(bytes(out))


def decode_name(buf, off):
    """Read a possibly compressed name at buf[off] -> (Name, offset after it).

    A compression pointer must point strictly before the start of the labels being read
    (so before the name's own start, and only backwards from there): loops are impossible.
    Label types 0x40 and 0x80 are rejected; names over 255 octets are rejected."""
    # Fast path: an uncompressed name is one slice. Few locals on purpose: MicroPython puts
    # the frame of a function with more than 11 words of locals + stack on the heap.
    if off < len(buf) and not buf[off]:
        return ROOT, off + 1  # the root (OPT owners, root queries): no allocation
    start = off
    n = len(buf)
    while off < n:
        c = buf[off]
        if not c:
            off += 1
            if off - start > MAX_NAME:
                break
            return Name(buf[start:off]), off
        if c > 63:
            if c >= 0xC0 and off == start:
                return _decode_pointed(buf, off)
            break
        off += c + 1
    return _decode_name_slow(buf, start)


def _decode_pointed(buf, off):
    # a name that is just a pointer (owners in answers: c00c): follow the chain of pointers
    # (each strictly backwards), then read the name found there
    p = _pointer(buf, off, off)
    while p < len(buf) and buf[p] >= 0xC0:
        p = _pointer(buf, p, p)
    return decode_name(buf, p)[0], off + 2


def _decode_name_slow(buf, off):
    # every case but a plain name: pointers, bad label types, too long, past the end
    seg = off  # start of the contiguous run of labels being read
    total = 1  # wire length so far, counting the root label
    pieces = [0]  # [offset after the name's first pointer (0: none yet), wire pieces...]
    while True:
        if off >= len(buf):
            raise ShortError(off, "name runs past the end of data")
        c = buf[off]
        if c < 0x40:
            if not c:
                break
            total += c + 1
            if total > MAX_NAME:
                raise WireError(off, "name longer than 255 octets")
            off += c + 1
            continue
        c = _pointer(buf, off, seg)
        if not pieces[0]:
            pieces[0] = off + 2
        pieces.append(buf[seg:off])
        seg = off = c
    off += 1
    pieces.append(buf[seg:off])
    off = pieces.pop(0) or off
    return Name(b"".join(pieces)), off


def _pointer(buf, off, seg):
    # the target of the compression pointer at off, checked (seg: start of the labels run)
    c = buf[off]
    if c < 0xC0:
        raise WireError(off, "label type 0x%02x not supported" % (c & 0xC0))
    if off + 1 >= len(buf):
        raise ShortError(off, "compression pointer runs past the end of data")
    c = ((c & 0x3F) << 8) | buf[off + 1]
    if c >= seg:
        raise WireError(off, "compression pointer to %d does not point backwards" % c)
    if c < MIN_POINTER:
        raise WireError(off, "compression pointer to %d, inside the header" % c)
    return c
