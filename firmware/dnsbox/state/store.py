"""The files of one kind of state in the state directory (state=DIR): NAME.snap (a snapshot)
and NAME.jnl (the journal of changes since it), records framed by dnsbox.state.journal.

Crash safety: a change is appended to the journal and pushed to the disk (fsync) before the
caller acts on it (answers the UPDATE, sends the DHCP ACK); a snapshot is written to NAME.tmp,
pushed to the disk, renamed over NAME.snap (atomic) and the directory synced; only then is the
journal emptied. A crash between the two leaves a journal whose records the snapshot holds
already: the readers skip them (zone serials) or apply them again (idempotent lease records).
"""
import os

from dnsbox.compat import fsync, syncdir
from dnsbox.state.journal import Reader, frame


class Store:
    """max_bytes, max_records: read limits of each file; compact_at: journal bytes past which
    full() says a snapshot is due."""

    def __init__(self, dirpath, name, max_bytes, max_records, compact_at):
        self.dir = dirpath
        base = dirpath.rstrip("/") + "/" + name
        self.snap, self.jnl, self.tmp = base + ".snap", base + ".jnl", base + ".tmp"
        self.max_bytes, self.max_records, self.compact_at = max_bytes, max_records, compact_at
        self.f = None  # the journal, open for appending
        self.size = 0  # bytes in the journal

    def read(self, which, each):
        """Call each(payload) for the good records of the snapshot (which="snap") or the journal
        ("jnl"); the Reader (good, count, problem), or None when the file does not exist."""
        path = self.snap if which == "snap" else self.jnl
        try:
            f = open(path, "rb")
        except OSError:
            return None
        try:
            r = Reader(f, self.max_bytes, self.max_records)
            for payload in r:
                each(payload)
        finally:
            f.close()
        if which == "jnl":
            self.size = r.good
        return r

    def append(self, payload):
        """Add one record to the journal, on the disk when this returns (OSError otherwise)."""
        if self.f is None:
            self.f = open(self.jnl, "ab")
        rec = frame(payload)
        self.f.write(rec)
        fsync(self.f)
        self.size += len(rec)

    def full(self):
        return self.size >= self.compact_at

    def compact(self, payloads):
        """Write payloads (an iterable) as the new snapshot and empty the journal."""
        f = open(self.tmp, "wb")
        try:
            for p in payloads:
                f.write(frame(p))
            fsync(f)
        finally:
            f.close()
        os.rename(self.tmp, self.snap)
        syncdir(self.dir)
        if self.f is not None:
            self.f.close()
            self.f = None
        f = open(self.jnl, "wb")
        fsync(f)
        f.close()
        syncdir(self.dir)
        self.size = 0

    def close(self):
        if self.f is not None:
            self.f.close()
            self.f = None


def usable(dirpath):
    """None when dirpath is a directory we can write (a probe file is written, synced and
    removed), else why not."""
    probe = dirpath.rstrip("/") + "/.probe"
    try:
        f = open(probe, "wb")
        f.write(b"x")
        fsync(f)
        f.close()
        os.remove(probe)
    except OSError as e:
        return str(e)
    return None
