"""Zone transfer out (RFC 5936 AXFR; RFC 1995 IXFR, answered with the whole zone as RFC 1995 4
allows: the blob keeps one version): the zone's records read from the blob, as a generator of DNS
messages that the TCP loop pulls while the connection drains (nothing is held but one message).

The blob keeps no per-zone record list, so a transfer walks every entry once (docs/blob.md) and
takes the RRsets its zone holds: authoritative RRsets, delegation NS, DS at cuts, glue. A zone we
also serve below it is stored once, as the child: the parent's delegation NS and glue for it are
not in the blob, so the parent's transfer carries the child apex's NS RRset and the child's
address RRsets of those NS targets that lie in the child (what the parent's referral must say).

Pure: no sockets; the caller checks who may transfer (dnsbox.auth.answer).
"""

from dnsbox.compat import const
from dnsbox.wire import edns as _edns
from dnsbox.wire import message as _msg
from dnsbox.wire import types as _t
from dnsbox.wire.reply import TCP_MAX, UDP_MAX
from dnsbox.zonedb import (
    CLASS_IN_KEY,
    F_APEX,
    K_ANSWER,
    K_DELEG_NS,
    K_GLUE,
    K_NSEC3,
    K_SIG,
    NODE_SUFFIX,
)
from dnsbox.zonedb.rrsets import records_at as _records
from dnsbox.zonedb import rrset_key as _key
from dnsbox.zonedb.lookup import under

# Records are packed into one message while their size bound stays within this many bytes (the
# bound: the blob entry's size plus the owner name written out in full; compression makes the
# message about half of it). An RRset larger than this goes alone in its message.
XFR_MESSAGE = const(32768)
XFR_SET = const(64)  # records of an IXFR difference put together as one set (pack)
_RRSIG = const(46)
_NSEC = const(47)
_NSEC3 = const(50)
_SERIAL_HALF = const(0x80000000)


def newer(a, b):
    """True if serial a is newer than serial b (RFC 1982 3.2, 32-bit serial arithmetic)."""
    d = (a - b) & 0xFFFFFFFF
    return 0 < d < _SERIAL_HALF


def messages(db, zi, qid, question, with_opt):
    """The transfer of zone zi: DNS messages (bytes) with ID qid; the question only in the first
    (RFC 5936 2.2.1), our OPT in each when the query had EDNS. SOA first and last."""
    apex = db.zone(zi)[0].lower()
    e = db.find(_key(apex, _t.SOA))
    soa = _records(db, e, apex, _t.SOA)
    return pack(soa, _len_of(db, e) + len(apex), rrsets(db, zi), qid, question, with_opt)


def pack(soa, soa_n, sets, qid, question, with_opt):
    """Transfer messages of the SOA (records, size bound) and the (size bound, records) sets."""
    batch = list(soa)
    size = soa_n
    first = True
    for n, rrs in _chain(sets, ((soa_n, soa),)):
        if batch and size + n > XFR_MESSAGE:
            yield _message(qid, question if first else None, batch, with_opt)
            first = False
            batch = []
            size = 0
        batch.extend(rrs)
        size += n
    yield _message(qid, question if first else None, batch, with_opt)


def differences(soa, diffs, qid, question, with_opt):
    """An IXFR answer (RFC 1995 4): the new SOA, each (old SOA, deleted, new SOA, added), the
    new SOA; records in sets of at most XFR_SET (each counted at its size bound)."""
    sets = []
    for old, dels, new, adds in diffs:
        for rrs in ([old] + dels, [new] + adds):
            for i in range(0, len(rrs), XFR_SET):
                part = rrs[i : i + XFR_SET]
                sets.append((sum(_rr_bound(r) for r in part), part))
    return pack([soa], _rr_bound(soa), sets, qid, question, with_opt)


def _rr_bound(r):
    return 2 * len(r.name.wire) + 10 + len(r.rdata.to_wire())


def _chain(a, b):
    for x in a:
        yield x
    for x in b:
        yield x


def rrsets(db, zi):
    """(size bound, records) of every RRset of zone zi but its SOA, in blob order."""
    apex = db.zone(zi)[0].lower()
    children = _children(db, zi, apex)
    for c in children:  # delegations to zones we serve too: the child's NS and its glue
        for item in _child_delegation(db, c):
            yield item
    for e in db.entries():
        k = db.kind(e)
        if k != K_ANSWER and k != K_DELEG_NS and k != K_GLUE and k != K_SIG and k != K_NSEC3:
            continue
        key = db.key(e)
        if k != K_SIG and key[-2:] != CLASS_IN_KEY:
            continue  # a DO answer: the same records again
        lname = key[:-4]
        rtype = (key[-4] << 8) | key[-3]  # for K_SIG: the type its signatures cover
        if rtype == _t.SOA and lname == apex and k != K_SIG or not under(lname, apex):
            continue
        if _owner_zone(db, lname, rtype, k) == zi:
            yield _len_of(db, e) + len(lname), _records(db, e, lname, _RRSIG if k == K_SIG
                                                         else rtype)


def _children(db, zi, apex):
    """Apexes of the zones we serve whose closest enclosing zone is zi."""
    out = []
    for i in range(db.nzones):
        if i == zi:
            continue
        a = db.zone(i)[0].lower()
        if a != apex and under(a, apex) and _enclosing(db, a[a[0] + 1 :])[1] == zi:
            out.append(a)
    return out


def _child_delegation(db, capex):
    e = db.find(_key(capex, _t.NS))
    ns = _records(db, e, capex, _t.NS)
    yield _len_of(db, e) + len(capex), ns
    seen = []
    for r in ns:
        t = r.rdata.target.wire.lower()
        if t in seen or not under(t, capex):
            continue
        seen.append(t)
        for rtype in (_t.A, _t.AAAA):
            g = db.find(_key(t, rtype))
            if g >= 0 and db.kind(g) == K_ANSWER:
                yield _len_of(db, g) + len(t), _records(db, g, t, rtype)


def _owner_zone(db, lname, rtype, kind):
    """The zone index whose transfer carries the RRset (lname, rtype) of entry kind `kind`."""
    if kind == K_GLUE and rtype != _NSEC:
        return _enclosing(db, lname)[1]  # the cut above it (or at it) is in that zone
    e = db.node(lname)
    if e < 0:
        if kind == K_NSEC3 or rtype == _NSEC3:  # a hashed owner: the zone of its parent
            return _enclosing(db, lname[lname[0] + 1 :])[1]
        return -1
    flags, zone, _ref = db.node_head(e)
    if flags & F_APEX and (rtype == _t.DS or rtype == _NSEC and _kind(db, lname, _NSEC) ==
                           K_GLUE):
        # a child apex's DS, and the parent's NSEC kept there, are the parent's (RFC 4035 2.4)
        return _enclosing(db, lname[lname[0] + 1 :])[1]
    return zone


def _kind(db, lname, rtype):
    e = db.find(_key(lname, rtype))
    return db.kind(e) if e >= 0 else -1


def _enclosing(db, lname):
    """(node entry, zone index) of the closest node at or above lname; (-1, -1) if none."""
    w = db.closest(lname + NODE_SUFFIX)
    if w is None:
        return -1, -1
    return w[0], db.node_head(w[0])[1]


def _len_of(db, e):
    b = db.blob
    return (b[e] << 8) | b[e + 1]


def _message(qid, question, rrs, with_opt):
    m = _msg.Message(qid)
    m.qr = True
    m.aa = True
    if question is not None:
        m.question = [question]
    m.answer = rrs
    if with_opt:
        m.edns = _edns.Edns(UDP_MAX, 0, False)
    w = _msg.encode(m, TCP_MAX)
    if w[2] & 0x02:  # TC: a record did not fit; never send a transfer with records missing
        raise ValueError("zone transfer message over %d bytes" % TCP_MAX)
    return w
