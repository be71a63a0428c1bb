"""The record framing of the state files: each record is its payload's length (4 bytes, big
endian), the CRC-32 of the payload (4 bytes) and the payload. A journal is records appended one
by one; a snapshot is the same framing written whole. Reading stops at the first record that is
cut short (a write torn by a power cut), has a bad checksum or passes a limit: what came before
it is good, and `good` says where it ends. Pure: file-like objects in (read(n)), payloads out.
"""
import struct

from dnsbox.compat import const

try:  # MicroPython: binascii.crc32 (zlib may be left out of a build); CPython has both
    from binascii import crc32
except ImportError:
    from zlib import crc32

MAX_RECORD = const(131072)  # payload bytes of one record (an UPDATE's changes, a snapshot batch)
HEAD = const(8)  # length + CRC-32


def frame(payload):
    """The record of payload: length, CRC-32, payload."""
    if len(payload) > MAX_RECORD:
        raise ValueError("state record over %d bytes" % MAX_RECORD)
    return struct.pack(">II", len(payload), crc32(payload) & 0xFFFFFFFF) + payload


class Reader:
    """Iterate over the payloads of the records in f, at most max_records records and max_bytes
    bytes. Afterwards: good (bytes of whole good records), count (records read), problem (None
    when the file ended cleanly, else why reading stopped)."""

    def __init__(self, f, max_bytes, max_records):
        self.f = f
        self.max_bytes = max_bytes
        self.max_records = max_records
        self.good = 0
        self.count = 0
        self.problem = None

    def __iter__(self):
        while True:
            head = self.f.read(HEAD)
            if not head:
                return
            if len(head) < HEAD:
                self.problem = "record header cut short"
                return
            n, crc = struct.unpack(">II", head)
            if n > MAX_RECORD:
                self.problem = "record length %d over %d" % (n, MAX_RECORD)
                return
            if self.count >= self.max_records:
                self.problem = "more than %d records" % self.max_records
                return
            if self.good + HEAD + n > self.max_bytes:
                self.problem = "more than %d bytes" % self.max_bytes
                return
            payload = self.f.read(n)
            if len(payload) < n:
                self.problem = "record cut short"
                return
            if crc32(payload) & 0xFFFFFFFF != crc:
                self.problem = "bad checksum"
                return
            self.good += HEAD + n
            self.count += 1
            yield payload

    def where(self):
        """Where reading stopped, for the log: 'byte N (record K)'."""
        return "byte %d (record %d)" % (self.good, self.count + 1)
