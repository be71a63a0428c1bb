"""HPACK (RFC 7541): header compression for HTTP/2. Pure: bytes in, header lists out.

  d = Decoder()                   one per connection (the peer's encoder state, 2.2)
  headers, cut = d.decode(block)  a whole header block -> [(name, value), ...] (bytes);
      cut: True when the list passed MAX_LIST (headers after that are left out, but the
      block was decoded to its end, so the dynamic table stays in step with the peer's)
  encode(headers)                 [(name, value), ...] -> a header block; literals without
      indexing (6.2.2), names from the static table when there (we keep no encoder state)
Every decoding error raises HPACKError: the connection's COMPRESSION_ERROR (RFC 9113 4.3).
"""
from dnsbox.compat import const
from dnsbox.h2 import huffman

TABLE_SIZE = const(4096)  # bytes of the dynamic table (SETTINGS_HEADER_TABLE_SIZE, 6.5.2)
MAX_LIST = const(8192)  # bytes of a decoded header list (name + value + 32 each, RFC 9113 6.5.2)
MAX_INT = const(1 << 24)  # the largest integer (4.1) we read: lengths and indexes are smaller
ENTRY_OVERHEAD = const(32)  # bytes counted per table entry besides name and value (4.1)

# The static table (Appendix A): index 1 is the first entry.
STATIC = (
    (b":authority", b""), (b":method", b"GET"), (b":method", b"POST"), (b":path", b"/"),
    (b":path", b"/index.html"), (b":scheme", b"http"), (b":scheme", b"https"),
    (b":status", b"200"), (b":status", b"204"), (b":status", b"206"), (b":status", b"304"),
    (b":status", b"400"), (b":status", b"404"), (b":status", b"500"),
    (b"accept-charset", b""), (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""), (b"accept-ranges", b""), (b"accept", b""),
    (b"access-control-allow-origin", b""), (b"age", b""), (b"allow", b""),
    (b"authorization", b""), (b"cache-control", b""), (b"content-disposition", b""),
    (b"content-encoding", b""), (b"content-language", b""), (b"content-length", b""),
    (b"content-location", b""), (b"content-range", b""), (b"content-type", b""),
    (b"cookie", b""), (b"date", b""), (b"etag", b""), (b"expect", b""), (b"expires", b""),
    (b"from", b""), (b"host", b""), (b"if-match", b""), (b"if-modified-since", b""),
    (b"if-none-match", b""), (b"if-range", b""), (b"if-unmodified-since", b""),
    (b"last-modified", b""), (b"link", b""), (b"location", b""), (b"max-forwards", b""),
    (b"proxy-authenticate", b""), (b"proxy-authorization", b""), (b"range", b""),
    (b"referer", b""), (b"refresh", b""), (b"retry-after", b""), (b"server", b""),
    (b"set-cookie", b""), (b"strict-transport-security", b""), (b"transfer-encoding", b""),
    (b"user-agent", b""), (b"vary", b""), (b"via", b""), (b"www-authenticate", b""),
)
_NSTATIC = const(61)


class HPACKError(Exception):
    pass


def decode_int(buf, off, prefix):
    """(value, next offset) of an integer with a prefix-bit start at buf[off] (5.1)."""
    if off >= len(buf):
        raise HPACKError("integer past the end of the block")
    mask = (1 << prefix) - 1
    v = buf[off] & mask
    off += 1
    if v < mask:
        return v, off
    shift = 0
    while True:
        if off >= len(buf):
            raise HPACKError("integer past the end of the block")
        b = buf[off]
        off += 1
        v += (b & 0x7F) << shift
        shift += 7
        if v > MAX_INT:
            raise HPACKError("integer too large")
        if not b & 0x80:
            return v, off


def encode_int(v, prefix, first):
    """The integer v with a prefix-bit start; first: the high bits of the first byte."""
    mask = (1 << prefix) - 1
    if v < mask:
        return bytes((first | v,))
    out = bytearray((first | mask,))
    v -= mask
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def decode_string(buf, off):
    """(bytes, next offset) of a string literal (5.2), Huffman-coded or not."""
    if off >= len(buf):
        raise HPACKError("string past the end of the block")
    huff = buf[off] & 0x80
    n = buf[off] & 0x7F
    if n < 0x7F:  # the usual short string: its length in the first byte
        off += 1
    else:
        n, off = decode_int(buf, off, 7)
    if off + n > len(buf):
        raise HPACKError("string of %d bytes past the end of the block" % n)
    s = buf[off : off + n]
    if huff:
        try:
            s = huffman.decode(s)
        except ValueError as e:
            raise HPACKError("huffman: %s" % e)
    return s, off + n


def encode_string(s):
    return encode_int(len(s), 7, 0) + s


class Decoder:
    def __init__(self, limit=TABLE_SIZE, max_list=MAX_LIST):
        self.table = []  # the dynamic table, newest first: (name, value)
        self.size = 0  # its size (4.1)
        self.limit = limit  # the most the peer may set (our SETTINGS_HEADER_TABLE_SIZE)
        self.max_size = limit  # the size the peer set (6.3), at most limit
        self.max_list = max_list

    def _get(self, i):
        if 1 <= i <= _NSTATIC:
            return STATIC[i - 1]
        i -= _NSTATIC + 1
        if i < 0 or i >= len(self.table):
            raise HPACKError("index %d not in the tables" % (i + _NSTATIC + 1))
        return self.table[i]

    def _add(self, name, value):
        """Insert an entry (4.4): evict the oldest until it fits; one bigger than the table
        empties it and is not added."""
        n = ENTRY_OVERHEAD + len(name) + len(value)
        while self.table and self.size + n > self.max_size:
            old = self.table.pop()
            self.size -= ENTRY_OVERHEAD + len(old[0]) + len(old[1])
        if n <= self.max_size:
            self.table.insert(0, (name, value))
            self.size += n

    def _resize(self, n):
        if n > self.limit:
            raise HPACKError("table size %d above the %d allowed" % (n, self.limit))
        self.max_size = n
        while self.size > n:
            old = self.table.pop()
            self.size -= ENTRY_OVERHEAD + len(old[0]) + len(old[1])

    def decode(self, block):
        block = bytes(block)
        out = []
        size = 0
        cut = False
        off = 0
        first = True  # size updates only at the start of a block (4.2)
        end = len(block)
        while off < end:
            b = block[off]
            if b & 0x80:  # indexed field (6.1)
                if 0x80 < b < 0x80 + _NSTATIC + 1:  # the static table, in one byte
                    name, value = STATIC[b - 0x81]
                    off += 1
                else:
                    i, off = decode_int(block, off, 7)
                    if i == 0:
                        raise HPACKError("index 0")
                    name, value = self._get(i)
            elif b & 0xE0 == 0x20:  # dynamic table size update (6.3)
                if not first:
                    raise HPACKError("table size update after a field")
                n, off = decode_int(block, off, 5)
                self._resize(n)
                continue
            else:  # literal: with incremental indexing (6.2.1), without (6.2.2), never (6.2.3)
                prefix = 6 if b & 0x40 else 4
                i, off = decode_int(block, off, prefix)
                if i:
                    name = self._get(i)[0]
                else:
                    name, off = decode_string(block, off)
                value, off = decode_string(block, off)
                if prefix == 6:
                    self._add(name, value)
            first = False
            size += ENTRY_OVERHEAD + len(name) + len(value)
            if size > self.max_list:
                cut = True
            else:
                out.append((name, value))
        return out, cut


_full = None  # (name, value) -> static index of the entries with a value (built at first use)
_names = None  # name -> the first static index with that name
FIELD_CACHE = const(64)  # encoded fields kept (the same content-type, cache-control, lengths
# come again and again); emptied when full
_fields = {}  # (name, value) -> its encoded bytes


def _indexes():
    global _full, _names
    full = {}
    names = {}
    for i in range(_NSTATIC - 1, -1, -1):  # the first index of a name wins
        name, value = STATIC[i]
        names[name] = i + 1
        if value:
            full[(name, value)] = i + 1
    _full = full
    _names = names


def encode(headers):
    """A header block for headers (a list of (name, value), names lowercase): an entry of the
    static table as its index (6.1), other fields as literals without indexing (6.2.2) with
    the static name index when there is one."""
    out = []
    for field in headers:
        b = _fields.get(field)
        if b is None:
            b = _field(field)
        out.append(b)
    return b"".join(out)


def _field(field):
    """One field encoded, and kept in _fields."""
    global _fields
    if _full is None:
        _indexes()
    full = _full.get(field)
    if full:
        b = encode_int(full, 7, 0x80)
    else:
        name, value = field
        i = _names.get(name)
        b = encode_int(i, 4, 0) if i else b"\x00" + encode_string(name)
        b += encode_string(value)
    if len(_fields) >= FIELD_CACHE:
        _fields = {}
    _fields[field] = b
    return b
