"""The authoritative server's entry point: Server(db, nsid).handle(query, proto) -> bytes | None.

Three paths, all giving the same answers (the precomputed ones were made by the general path
at build time, see dnsbox.zone.blob):

1. fast: a plain query (opcode QUERY, one question, class IN, no EDNS or a bare OPT) whose
   (name, type) has a precomputed response in the blob: copy it behind the query's ID.
2. negative/referral: same kind of query, name exists with another type (NODATA), does not
   exist (NXDOMAIN) or is at/below a zone cut (referral): copy the zone's precomputed block and
   move its compression pointers by the length difference between the query name and the
   block's base name.
3. general (dnsbox.auth.answer): everything else (wildcards, DNAME, CNAME with rare types, ANY,
   EDNS options, truncation, errors), on the codec's Message.

No socket, no clock: the net loop calls handle() and sends what it returns.
"""

from dnsbox.auth import TCP
from dnsbox.auth import answer as _answer
from dnsbox.compat import const
from dnsbox.zonedb import F_CNAME, F_DELEG, F_DNAME, F_WILD, K_ANSWER, K_SYNTH

UDP_MAX = const(1232)  # bytes: our UDP payload ceiling (DNS flag day 2020), also advertised
UDP_PLAIN = const(512)  # bytes: UDP answer limit without EDNS (RFC 1035 4.2.1)
TCP_MAX = const(65535)  # bytes: one TCP message (RFC 7766 8)
MIN_QUERY = const(17)  # header + root name + type + class
MAX_KEY = const(259)  # name (255) + type + class

_OPT_PLAIN = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"  # OPT, payload 1232, DO clear
_OPT_DO = b"\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x00"  # the same with DO echoed (RFC 3225)


class Server:
    def __init__(self, db, nsid=None):
        self.db = db
        self.nsid = nsid
        self.general = _answer.General(db, nsid)

    def handle(self, q, proto):
        """Response bytes for the query bytes q, or None to send nothing."""
        if not isinstance(q, bytes):
            q = bytes(q)
        n = len(q)
        # Plain query: QR=0, opcode 0, QDCOUNT=1, ANCOUNT=NSCOUNT=0, ARCOUNT 0 or 1.
        if (
            n < MIN_QUERY
            or q[2] & 0xF8
            or q[4] | q[6] | q[7] | q[8] | q[9] | q[10]
            or q[5] != 1
            or q[3] & 0x40
        ):
            return self._general(q, proto)
        opt = None
        qend = n
        limit = TCP_MAX if proto == TCP else UDP_PLAIN
        if q[11]:
            # A bare OPT (no options) at the end: root owner, type 41, version 0, no rdata.
            if (
                q[11] != 1
                or n < MIN_QUERY + 11
                or q[n - 11] | q[n - 10] | q[n - 6] | q[n - 5] | q[n - 2] | q[n - 1]
                or q[n - 9] != 41
            ):
                return self._general(q, proto)
            qend = n - 11
            opt = _OPT_DO if q[n - 4] & 0x80 else _OPT_PLAIN
            if proto != TCP:
                limit = (q[n - 8] << 8) | q[n - 7]
                limit = UDP_MAX if limit > UDP_MAX else (UDP_PLAIN if limit < UDP_PLAIN else limit)
        key = q[12:qend]
        if len(key) > MAX_KEY:
            return self._general(q, proto)
        db = self.db
        e = db.find(key)
        if e < 0:
            lkey = key[:-4].lower() + key[-4:]  # the name only: type 65 is 'A' in ASCII
            if lkey != key:
                e = db.find(lkey)
            if e < 0:
                r = self._negative(q, lkey, opt, limit)
                return self._general(q, proto) if r is None else r
        b = db.blob
        k = b[e + 2]
        if k != K_ANSWER and k != K_SYNTH:
            return self._general(q, proto)
        end = e + ((b[e] << 8) | b[e + 1])
        size = end - e - 2 + (11 if opt else 0)
        if size > limit:
            return self._general(q, proto)
        if opt is None and q[2] == 1 and not q[3] & 0x10 and b.startswith(key, e + 14):
            return q[:2] + b[e + 4 : end]  # the common case: two slices, one concatenation
        r = bytearray(q[:2])
        r += b[e + 4 : end]
        r[2] = (r[2] & 0xFE) | (q[2] & 1)  # RD copied (RFC 1035 4.1.1)
        r[3] = (r[3] & 0xEF) | (q[3] & 0x10)  # CD copied (RFC 4035 3.1.6)
        r[12:qend] = key  # the question as asked: case preserved
        if opt is not None:
            if r[11] == 255:
                return self._general(q, proto)
            r[11] += 1
            r += opt
        return bytes(r)

    def _general(self, q, proto):
        """The general path, with a last guard: a bug there answers SERVFAIL, never raises
        into the serving loop (RFC 1035 4.1.1: the server failed)."""
        try:
            return self.general.handle(q, proto)
        except Exception:  # noqa: BLE001 - the one place that turns a bug into SERVFAIL
            if len(q) < 12:
                return None
            return bytes((q[0], q[1], 0x80 | (q[2] & 0x79), 2)) + bytes(8)

    def _negative(self, q, lkey, opt, limit):
        """NODATA / NXDOMAIN / referral from a precomputed block; None: use the general path."""
        db = self.db
        b = db.blob
        if lkey[-2:] != b"\x00\x01":
            return None
        qtype = (lkey[-4] << 8) | lkey[-3]
        if qtype == 0 or qtype == 41 or 128 <= qtype <= 255:
            return None  # meta and query types (RFC 6895 3.1): the general path decides
        lname = lkey[:-4]
        ln = len(lname)
        # Walk the labels; a malformed name goes to the general path (FORMERR).
        i = 0
        offs = []
        while True:
            if i >= ln:
                return None
            c = lname[i]
            if c == 0:
                break
            if c > 63:
                return None
            offs.append(i)
            i += c + 1
        if i != ln - 1:
            return None
        offs.append(i)
        for o in offs:
            e = db.node(lname[o:] if o else lname)
            if e < 0:
                continue
            flags, zone, ref = db.node_head(e)
            if flags & F_DELEG:
                if o == 0 and qtype == 43:
                    return None  # DS at the cut: parent-side NODATA, general path
                return self._block(q, ln, ref, -1, opt, limit)
            if o == 0:
                if flags & F_CNAME or qtype == 43:
                    return None  # CNAME with a rare type; DS (at an apex: the parent's)
                return self._block(q, ln, db.neg[zone], 0, opt, limit)
            if flags & (F_DNAME | F_WILD):
                return None
            return self._block(q, ln, db.neg[zone], 3, opt, limit)
        return None  # not ours: REFUSED from the general path

    def _block(self, q, ln, off, rcode, opt, limit):
        base, ptrs, hdr, tail = self.db.block(off)
        qend = 12 + ln + 4
        r = bytearray(q[:2])
        r += hdr
        r += q[12:qend]
        start = len(r)
        r += tail
        k = ln - base
        if k:
            for p in ptrs:
                p += start
                v = (((r[p] & 0x3F) << 8) | r[p + 1]) + k
                r[p] = 0xC0 | (v >> 8)
                r[p + 1] = v & 0xFF
        r[2] = (r[2] & 0xFE) | (q[2] & 1)
        r[3] = (q[3] & 0x10) | (rcode if rcode > 0 else 0)
        if opt is not None:
            r[11] += 1
            r += opt
        if len(r) > limit:
            return None
        return bytes(r)
