"""Master files -> records: directives, owner/TTL/class defaults, rdata through the codec.

RFC 1035 5.1 ($ORIGIN, $INCLUDE, @, relative names, omitted owner/TTL/class), RFC 2308 4
($TTL), BIND's $GENERATE, RFC 3597 generic rdata (`\\# len hex`). Every error carries the
file:line it comes from (ZoneError). Build time only.
"""

from dnsbox.wire import rdata as rdmod
from dnsbox.wire import types
from dnsbox.wire.errors import TextError, WireError
from dnsbox.wire.name import Name
from dnsbox.wire.text import unescape
from dnsbox.zone.errors import ZoneError
from dnsbox.zone.lexer import entries, parse_ttl, source_text

MAX_FILE_BYTES = 256 << 20  # one master file, read whole (MAX_RECORDS of ~100 bytes fit twice)
READ_CHUNK = 1 << 16  # bytes asked of one read (a read of MAX_FILE_BYTES would allocate them)
MAX_INCLUDE_DEPTH = 8  # nested $INCLUDE levels
MAX_GENERATE = 65536  # records one $GENERATE line may produce
MAX_GEN_NUMBER = 10  # digits of a number in $GENERATE (its range, step, offset, width)
MAX_GEN_WIDTH = 63  # ${offset,width} pads to at most a label's length
MAX_RECORDS = 1000000  # records in one zone (the blob format allows more; this bounds the build)


class Record:
    """One resource record as written, with where it was written."""

    __slots__ = ("name", "rtype", "rclass", "ttl", "rdata", "file", "line")

    def __init__(self, name, rtype, rclass, ttl, rdata, file, line):
        self.name = name
        self.rtype = rtype
        self.rclass = rclass
        self.ttl = ttl
        self.rdata = rdata
        self.file = file
        self.line = line

    def where(self):
        return "%s:%d" % (self.file, self.line)

    def __repr__(self):
        return "<%s %d %s %s>" % (
            self.name.to_text(), self.ttl, types.type_to_text(self.rtype), self.rdata.to_text())


def read_source(path, file, line):
    """The lexer's text (dnsbox.zone.lexer.source_text) of the master file at path, read as
    bytes: any byte is data, none an encoding error. ZoneError at file:line when it cannot be
    read (missing, a directory, no permission) or is longer than MAX_FILE_BYTES."""
    parts = []
    total = 0
    try:
        with open(path, "rb") as f:
            while total <= MAX_FILE_BYTES:
                b = f.read(READ_CHUNK)
                if not b:
                    break
                parts.append(b)
                total += len(b)
    except OSError as e:  # CPython names the error and repeats the path; MicroPython: errno
        raise ZoneError(file, line, "cannot read %s: %s" % (path, getattr(e, "strerror", 0) or e))
    if total > MAX_FILE_BYTES:
        raise ZoneError(file, line, "%s is longer than %d bytes" % (path, MAX_FILE_BYTES))
    return source_text(b"".join(parts), path)


def _include_path(text, file, line):
    """The file name of $INCLUDE as written (quotes and escapes taken off) -> a path."""
    path = text.strip('"')
    if "\\" in path:
        try:
            # CPython: a name that is not UTF-8 keeps its bytes (as open() takes them back)
            path = unescape(path).decode("utf-8", "surrogateescape")
        except (TextError, UnicodeError) as x:
            raise ZoneError(file, line, "$INCLUDE: bad file name %r: %s" % (text, x))
    if not path:
        raise ZoneError(file, line, "$INCLUDE: empty file name")
    return path


def _dirname(path):
    return path.rsplit("/", 1)[0] if "/" in path else "."


class _State:
    def __init__(self, origin):
        self.origin = origin
        self.ttl = None  # $TTL
        self.last_ttl = None
        self.last_owner = None
        self.rclass = types.CLASS_IN
        self.records = []
        self.warnings = []


def _name(text, origin, file, line):
    if text == "@":
        if origin is None:
            raise ZoneError(file, line, "'@' used but no origin is known")
        return origin
    try:
        return Name.from_text(text, origin)
    except (TextError, ValueError) as e:
        raise ZoneError(file, line, "bad name %r: %s" % (text, e))


def _class(text):
    try:
        return types.class_from_text(text)
    except (TextError, ValueError, KeyError):
        return None


def _rdata(rtype, tokens, origin, file, line):
    text = " ".join(tokens)
    try:
        return rdmod.from_text(rtype, text, origin)
    except (TextError, WireError, ValueError) as e:
        raise ZoneError(file, line, "bad %s rdata %r: %s" % (types.type_to_text(rtype), text, e))


def _record(st, e, toks):
    """One RR entry (tokens after the owner are in toks)."""
    file, line = e.file, e.line
    ttl = None
    rclass = None
    i = 0
    while i < len(toks) and i < 2:
        t = toks[i]
        if ttl is None and t[:1].isdigit():
            ttl = parse_ttl(t)
            if ttl is None:
                raise ZoneError(file, line, "bad TTL %r" % t)
            i += 1
            continue
        c = _class(t) if rclass is None else None
        if c is not None:
            rclass = c
            i += 1
            continue
        break
    if i >= len(toks):
        raise ZoneError(file, line, "record has no type")
    try:
        rtype = types.type_from_text(toks[i])
    except (TextError, ValueError, KeyError):
        raise ZoneError(file, line, "unknown type %r" % toks[i])
    if rclass is None:
        rclass = st.rclass
    st.rclass = rclass
    if ttl is None:
        if st.ttl is not None:
            ttl = st.ttl
        elif st.last_ttl is not None:
            ttl = st.last_ttl
        elif rtype == types.SOA:
            ttl = None  # RFC 1035: the SOA's minimum is the default; fixed below
        else:
            raise ZoneError(file, line, "no TTL given and no $TTL before this record")
    rd = _rdata(rtype, toks[i + 1 :], st.origin, file, line)
    if ttl is None:
        ttl = rd.minimum
        st.warnings.append("%s:%d: no TTL and no $TTL: using the SOA minimum %d" % (
            file, line, ttl))
    st.last_ttl = ttl
    return Record(st.last_owner, rtype, rclass, ttl, rd, file, line)


def _gen_subst(template, value, file, line):
    """BIND $GENERATE: '$' -> value, '${offset,width,base}', '\\$' -> '$'."""
    out = []
    i = 0
    n = len(template)
    while i < n:
        c = template[i]
        if c == "\\" and i + 1 < n and template[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        if c != "$":
            out.append(c)
            i += 1
            continue
        if i + 1 < n and template[i + 1] == "{":
            j = template.find("}", i)
            if j < 0:
                raise ZoneError(file, line, "$GENERATE: '${' without '}'")
            parts = template[i + 2 : j].split(",")
            try:
                if len(parts[0]) > MAX_GEN_NUMBER + 1 or len(parts) > 1 and (
                        len(parts[1]) > MAX_GEN_NUMBER):
                    raise ValueError("too long")
                off = int(parts[0]) if parts[0] else 0
                width = int(parts[1]) if len(parts) > 1 else 0
                if not 0 <= width <= MAX_GEN_WIDTH:
                    raise ValueError("width")
            except ValueError:
                raise ZoneError(file, line, "$GENERATE: bad modifier %r" % template[i : j + 1])
            base = parts[2] if len(parts) > 2 else "d"
            fmt = {"d": "%0*d", "o": "%0*o", "x": "%0*x", "X": "%0*X"}.get(base)
            if fmt is None:
                raise ZoneError(file, line, "$GENERATE: base %r not supported" % base)
            out.append(fmt % (width, value + off))
            i = j + 1
        else:
            out.append("%d" % value)
            i += 1
    return "".join(out)


def _generate(st, e, toks):
    file, line = e.file, e.line
    if len(toks) < 3:
        raise ZoneError(file, line, "$GENERATE wants 'range lhs [ttl] [class] type rhs'")
    rng = toks[0]
    step = 1
    if "/" in rng:
        rng, s = rng.split("/", 1)
        step = int(s) if s.isdigit() and len(s) <= MAX_GEN_NUMBER else 0
    lo, _, hi = rng.partition("-")
    if (not (lo.isdigit() and hi.isdigit()) or len(lo) > MAX_GEN_NUMBER
            or len(hi) > MAX_GEN_NUMBER or step < 1 or int(hi) < int(lo)):
        raise ZoneError(file, line, "$GENERATE: bad range %r" % toks[0])
    lo, hi = int(lo), int(hi)
    if (hi - lo) // step + 1 > MAX_GENERATE:
        raise ZoneError(file, line, "$GENERATE: more than %d records" % MAX_GENERATE)
    lhs = toks[1]
    rest = toks[2:]
    for v in range(lo, hi + 1, step):
        st.last_owner = _name(_gen_subst(lhs, v, file, line), st.origin, file, line)
        body = rest[:-1] + [_gen_subst(rest[-1], v, file, line)]
        st.records.append(_record(st, e, body))


def _parse(st, text, file, depth):
    for e in entries(text, file):
        toks = e.texts()
        first = toks[0]
        if not e.blank_owner and first.startswith("$"):
            d = first.upper()
            if d == "$ORIGIN":
                if len(toks) != 2:
                    raise ZoneError(e.file, e.line, "$ORIGIN wants one name")
                st.origin = _name(toks[1], st.origin, e.file, e.line)
            elif d == "$TTL":
                if len(toks) != 2 or parse_ttl(toks[1]) is None:
                    raise ZoneError(e.file, e.line, "$TTL wants one TTL")
                st.ttl = parse_ttl(toks[1])
            elif d == "$INCLUDE":
                if len(toks) not in (2, 3):
                    raise ZoneError(e.file, e.line, "$INCLUDE wants 'file [origin]'")
                if depth >= MAX_INCLUDE_DEPTH:
                    raise ZoneError(e.file, e.line, "$INCLUDE nested too deep")
                path = _include_path(toks[1], e.file, e.line)
                if not path.startswith("/"):
                    path = _dirname(file) + "/" + path
                saved = st.origin, st.last_owner
                if len(toks) == 3:
                    st.origin = _name(toks[2], st.origin, e.file, e.line)
                _parse(st, read_source(path, e.file, e.line), path, depth + 1)
                st.origin, st.last_owner = saved  # RFC 1035 5.1: origin reverts after
            elif d == "$GENERATE":
                _generate(st, e, toks[1:])
            else:
                raise ZoneError(e.file, e.line, "unknown directive %s" % first)
            continue
        if e.blank_owner:
            if st.last_owner is None:
                raise ZoneError(e.file, e.line, "no owner name and no previous owner")
            body = toks
        else:
            st.last_owner = _name(first, st.origin, e.file, e.line)
            body = toks[1:]
        st.records.append(_record(st, e, body))
        if len(st.records) > MAX_RECORDS:
            raise ZoneError(e.file, e.line, "more than %d records" % MAX_RECORDS)


def parse_text(text, origin, file="<zone>"):
    """Records of a master file given as bytes or text (a str: its UTF-8 bytes; see
    dnsbox.zone.lexer.source_text). Returns (records, warnings)."""
    if isinstance(origin, str):
        origin = Name.from_text(origin)
    st = _State(origin)
    _parse(st, source_text(text, file), file, 0)
    return st.records, st.warnings


def parse_file(path, origin):
    return parse_text(read_source(path, path, 0), origin, path)
