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

A query with DO (and a bare OPT) for a name in a signed zone is served from the blob's DO
entries: the answer with its RRSIGs, a cut's referral with its DS or no-DS proof (precomputed
like the others); NODATA and NXDOMAIN get their proofs assembled from the blob's bytes
(dnsbox.auth.proofbytes).

No socket, no clock of its own (the wall time for TSIG comes from the function it is given):
the net loop calls handle() and sends what it returns. TCP frames may go
to handle_tcp(query, client_ip) instead: the same answers, and zone transfers (AXFR/IXFR) for the
peers allowed by auth-peer=, returned as a generator of messages (dnsbox.auth.transfer), and
DNS UPDATE of the in-memory zone (dnsbox.auth.dynzone) for the networks of allow-update=.
"""

from dnsbox.auth import answer as _answer
from dnsbox.compat import const
from dnsbox.wire.edns import DO_OPT, PLAIN_OPT, bare_opt_payload
from dnsbox.wire.rcode import SERVFAIL
from dnsbox.wire.reply import MIN_QUERY, TCP, UDP_PLAIN, error_for, limit, plain
from dnsbox.zonedb import (
    DO_CLASS_KEY,
    F_CNAME,
    F_DELEG,
    F_DNAME,
    F_WILD,
    K_DO_REFERRAL,
    K_SYNTH,
    NODE_SUFFIX,
)

MAX_KEY = const(259)  # name (255) + type + class

_OPT_PLAIN = PLAIN_OPT  # OPT, payload 1232, DO clear
# Builtins as module globals: MicroPython finds a builtin by a linear search of its table.
_len = len
_plain = plain
_type = type
_bytes = bytes
_OPT_DO = DO_OPT  # the same with DO echoed (RFC 3225)


class Server:
    """wall: a function giving the wall time (seconds since 1970) for TSIG (updates and
    transfers signed with a key); the boot code gives dnsbox.sntp.wall."""

    def __init__(self, db, nsid=None, peers=(), dyn=None, updaters=(), xfr_key=None, wall=None):
        self.db = db
        self.wall = wall
        self.blob = db.blob
        self.find = db.find  # bound once: a method call on db first misses in its attributes
        self.nsid = nsid
        self.signed = db.any_signed
        self.general = _answer.General(db, nsid, peers, dyn, updaters, xfr_key)

    def handle_tcp(self, q, ip):
        """handle() for a TCP frame from the IPv4 address ip (an int): a transfer request (and
        a CH question when statistics are offered: auth.bind) goes to the general path with the
        address (its access check), anything else to handle()."""
        t = _question_type(q)
        if t == 252 or t == 251 or (_len(q) > 2 and (q[2] >> 3) & 0xF == 5):  # AXFR, IXFR, UPDATE
            return self._general(q, TCP, ip)
        if self.general.stats_nets is not None and _question_type(q, 3) == 3:  # class CH
            return self._general(q, TCP, ip)
        return self.handle(q, TCP)

    def handle_from(self, q, proto, peer):
        """handle() for a datagram from peer (a raw sockaddr or CPython's tuple): an UPDATE
        goes to the general path with the client's address (a signed UPDATE over UDP from an
        allow-update= network), anything else to handle(). Used only when that matters
        (update-key= with allow-update=): the others keep handle() without the peer."""
        if _len(q) > 2 and (q[2] >> 3) & 0xF == 5:
            from dnsbox.config.nets import peer_ip

            return self._general(q, proto, peer_ip(peer))
        return self.handle(q, proto)

    def handle(self, q, proto):
        """Response bytes for the query bytes q, or None to send nothing."""
        if _type(q) is not _bytes:
            q = _bytes(q)
        if not _plain(q):  # the fast paths' shape (dnsbox.wire.reply.plain)
            return self._general(q, proto)
        if q[11]:
            r = self._edns(q, proto)
            if r is None and q[-11] | q[-10] | q[-9] != 41:  # OPT with options?
                q2 = _strip_options(q, self.nsid)
                if q2 is not None:
                    r = self._edns(q2, proto)
        else:
            r = self._plain(q, proto)
        if r is None:
            return self._general(q, proto)
        return r

    # The fast paths below are split into functions of at most 11 words of locals + stack, so
    # MicroPython keeps their frames on the C stack (see dnsbox/wire/__init__.py); the rarer
    # ones (case restore, EDNS, negative blocks) may take a heap frame.

    def _plain(self, q, proto):
        """No EDNS: the question runs to the end of the query."""
        e = self.find(q[12:])
        if e < 0:
            return self._lower(q, _len(q), proto, False)
        if q[2] != 1 or q[3] & 0x10:
            return self._copy(q, e, _len(q), proto)
        return self._reply(q, e, proto)

    def _reply(self, q, e, proto):
        """The common case: an exact, lower-case hit with RD set: ID + the stored response."""
        b = self.blob
        n = (b[e] << 8) | b[e + 1]  # entry length = 2 + 10 + question + records
        if b[e + 2] > K_SYNTH or (n > UDP_PLAIN + 2 and proto != TCP):
            return None
        return q[:2] + b[e + 4 : e + n]

    def _edns(self, q, proto):
        """A bare OPT (no options) at the end: root owner, type 41, version 0, no rdata."""
        if bare_opt_payload(q) < 0:
            return None
        n = _len(q)
        if q[-4] & 0x80 and self.signed:  # DO, and the blob has signed zones
            return self._do(q, n - 11, proto)
        e = self.find(q[12 : n - 11])
        if e < 0:
            return self._lower(q, n - 11, proto, False)
        return self._copy(q, e, n - 11, proto)

    def _do(self, q, qend, proto):
        """A DO query: the DO entry of its key; without one the name is in an unsigned zone
        (the plain entry serves) or the answer is negative (the general path, for signed
        zones)."""
        key = q[12:qend]
        if _len(key) > MAX_KEY or key[-2:] != b"\x00\x01":
            return None
        lkey = key[:-4].lower() + key[-4:-2]
        e = self.find(lkey + DO_CLASS_KEY)
        if e >= 0:
            return self._copy(q, e, qend, proto)
        e = self.find(lkey + b"\x00\x01")
        if e >= 0:
            return self._copy(q, e, qend, proto)
        return self._negative(q, lkey + b"\x00\x01", proto, True)

    def _lower(self, q, qend, proto, do):
        """Miss on the key as asked: try it in lower case, then the negative paths."""
        key = q[12:qend]
        if _len(key) > MAX_KEY:
            return None
        lkey = key[:-4].lower() + key[-4:]  # the name only: type 65 is 'A' in ASCII
        if lkey != key:
            e = self.find(lkey)
            if e >= 0:
                return self._copy(q, e, qend, proto)
        return self._negative(q, lkey, proto, do)

    def _copy(self, q, e, qend, proto):
        """A stored response with the query's RD/CD bits, question case and OPT applied
        (qend < len(q): the query ends with a bare OPT, checked by _edns)."""
        b = self.blob
        end = e + ((b[e] << 8) | b[e + 1])
        if b[e + 2] > K_SYNTH or end - e - 2 + _len(q) - qend > _limit(q, qend, proto):
            return None
        r = bytearray(q[:2])
        r += b[e + 4 : end]
        r[2] = (r[2] & 0xFE) | (q[2] & 1)  # RD copied (RFC 1035 4.1.1)
        r[3] = (r[3] & 0xEF) | (q[3] & 0x10)  # CD copied (RFC 4035 3.1.6)
        r[12:qend] = q[12:qend]  # the question as asked: case preserved
        if qend < _len(q):
            if r[11] == 255:
                return None
            r[11] += 1
            r += _OPT_DO if q[-4] & 0x80 else _OPT_PLAIN
        return _bytes(r)

    def _general(self, q, proto, ip=None):
        """The general path, with a last guard: a bug there answers SERVFAIL, never raises
        into the serving loop (RFC 1035 4.1.1: the server failed)."""
        try:
            return self.general.handle(q, proto, ip, self.wall() if self.wall else 0)
        except Exception:  # noqa: BLE001 - the one place that turns a bug into SERVFAIL
            return error_for(q, SERVFAIL, None, False)

    def _negative(self, q, lkey, proto, do):
        """NODATA / NXDOMAIN / referral from a precomputed block; None: use the general path
        (do: for a DO query, which needs proofs when the zone is signed)."""
        if lkey[-2:] != b"\x00\x01":
            return None
        qtype = (lkey[-4] << 8) | lkey[-3]
        if qtype == 0 or qtype == 41 or 128 <= qtype <= 255:
            return None  # meta and query types (RFC 6895 3.1): the general path decides
        w = self.db.closest(lkey[:-4] + NODE_SUFFIX)
        if w is None:
            return None  # malformed name (FORMERR) or not ours (REFUSED): general path
        e, o = w
        b = self.blob
        p = e + 14 + b[e + 3]  # the node body: flags, zone, referral block
        if do and self.db.signed[(b[p + 1] << 8) | b[p + 2]]:
            return self._do_negative(q, lkey, o, b[p], (b[p + 1] << 8) | b[p + 2], proto)
        flags = b[p]
        ln = _len(lkey) - 4
        if flags & F_DELEG:
            if o == 0 and qtype == 43:
                return None  # DS at the cut: the parent side answers, general path
            ref = (b[p + 3] << 24) | (b[p + 4] << 16) | (b[p + 5] << 8) | b[p + 6]
            return self._block(q, ln, ref, -1, proto)
        neg = self.db.neg[(b[p + 1] << 8) | b[p + 2]]
        if o == 0:
            if flags & F_CNAME or qtype == 43 or qtype == 46:
                return None  # CNAME with a rare type; DS (at an apex: the parent's); RRSIG
            return self._block(q, ln, neg, 0, proto)
        if flags & (F_DNAME | F_WILD):
            return None
        return self._block(q, ln, neg, 3, proto)

    def _do_negative(self, q, lkey, o, flags, zi, proto):
        """A DO query's negative answer or referral in the signed zone zi: the cut's DO
        referral block, or NODATA / NXDOMAIN with their proofs assembled from the blob
        (dnsbox.auth.proofbytes); None: the general path (wildcards, DS at a cut or an apex,
        CNAME owners, qtype RRSIG, opt-out's DS, an answer too large)."""
        if flags & F_DELEG:
            if o == 0 and lkey[-4:-2] == b"\x00\x2b":
                return None
            e = self.find(lkey[o:-4] + b"\x00\x00" + DO_CLASS_KEY)
            if e < 0 or self.blob[e + 2] != K_DO_REFERRAL:
                return None
            t = e + 14 + self.blob[e + 3]
            return self._block(q, _len(lkey) - 4, int.from_bytes(self.blob[t : t + 4], "big"),
                               -1, proto)
        from dnsbox.auth import proofbytes

        qend = 12 + _len(lkey)
        return proofbytes.answer(self.db, q, lkey, o, flags, zi, _limit(q, qend, proto))

    def _block(self, q, ln, off, rcode, proto):
        """The shiftable block at off (docs/blob.md) for a query name ln bytes long; rcode -1
        keeps the block's own. Read in place: no tuples, no format strings."""
        b = self.blob
        h = off + 5 + 2 * b[off + 4]  # the 10 header bytes follow the pointer list
        qend = 12 + ln + 4
        r = bytearray(q[:2])
        r += b[h : h + 10]
        r += q[12:qend]
        start = _len(r)
        r += b[h + 10 : off + ((b[off] << 8) | b[off + 1])]
        k = ln - ((b[off + 2] << 8) | b[off + 3])
        if k:  # the name is k bytes longer than the block's base: move every pointer by k
            i = off + 5
            while i < h:
                p = start + ((b[i] << 8) | b[i + 1])
                v = (((r[p] & 0x3F) << 8) | r[p + 1]) + k
                r[p] = 0xC0 | (v >> 8)
                r[p + 1] = v & 0xFF
                i += 2
        r[2] = (r[2] & 0xFE) | (q[2] & 1)
        r[3] = (q[3] & 0x10) | (rcode if rcode > 0 else 0)
        if qend < _len(q):
            r[11] += 1
            r += _OPT_DO if q[-4] & 0x80 else _OPT_PLAIN
        if _len(r) > _limit(q, qend, proto):
            return None
        return _bytes(r)


_IGNORED_NOT = (3, 8, 11, 15)  # NSID (answered when configured), ECS, keepalive, EDE: validated


def _strip_options(q, nsid):
    """The query with its OPT options removed, when the general path would ignore them all
    (COOKIE of a valid length, RFC 7873 5.2; padding; unknown codes): the answer is the same,
    so the bare-OPT fast path can serve it. None when an option needs the general path."""
    n = _len(q)
    i = 12
    while i < n and q[i]:  # the question name (labels checked by the lookup that follows)
        if q[i] > 63:
            return None
        i += q[i] + 1
    o = i + 5  # the OPT record: root name, type, class, TTL, rdlength, options
    if o + 11 > n or q[o] | q[o + 1] or q[o + 2] != 41 or q[o + 5] | q[o + 6]:
        return None
    if o + 11 + ((q[o + 9] << 8) | q[o + 10]) != n:
        return None
    j = o + 11
    while j < n:
        if j + 4 > n:
            return None
        code = (q[j] << 8) | q[j + 1]
        ln = (q[j + 2] << 8) | q[j + 3]
        j += 4 + ln
        if j > n or code in _IGNORED_NOT and (code != 3 or nsid):
            return None
        if code == 10 and (ln < 8 or 8 < ln < 16 or ln > 40):
            return None  # a malformed cookie is FORMERR (RFC 7873 5.2.2): general path
    return q[: o + 9] + b"\x00\x00"


def _question_type(q, at=1):
    """QTYPE of the first question (at=3: its QCLASS); -1 if the query has none or its name is
    malformed."""
    n = _len(q)
    if n < MIN_QUERY or not (q[4] | q[5]):
        return -1
    i = 12
    while i < n and q[i]:
        if q[i] > 63:
            return -1
        i += q[i] + 1
    if i + 4 >= n:
        return -1
    return (q[i + at] << 8) | q[i + at + 1]


def _limit(q, qend, proto):
    """Response size limit (dnsbox.wire.reply.limit) for a query whose question ends at qend:
    a bare OPT record follows it when qend < len(q)."""
    return limit(proto, -1 if qend == _len(q) else (q[-8] << 8) | q[-7])
