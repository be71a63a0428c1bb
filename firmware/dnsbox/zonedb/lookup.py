"""Zone lookup over the blob with typed outcomes (RFC 1034 4.3.2, RFC 4592, RFC 6672).

lookup(db, lname, qtype) takes the query name as lower-case uncompressed wire bytes and
returns exactly one outcome object; dnsbox.auth.answer maps each kind to sections and rcode.
The blob holds a node entry for every name at or above the zone cuts (empty non-terminals
included) and none below a cut, so the first node found walking up from the query name is the
closest encloser.
"""

from dnsbox.compat import const
from dnsbox.zonedb import F_APEX, F_CNAME, F_DELEG, F_DNAME, F_WILD, NODE_SUFFIX

# Outcome kinds.
ANSWER = const(1)  # the RRset (owner, qtype) exists (wild: synthesised from a wildcard)
CNAME = const(2)  # the name has a CNAME and qtype is not CNAME: answer it, then chase
NODATA = const(3)  # the name exists (or an empty non-terminal), no RRset of qtype
NXDOMAIN = const(4)
DELEGATION = const(5)  # at or below a zone cut: referral
DNAME = const(6)  # below a DNAME: synthesise a CNAME (RFC 6672 3.3)
ANY = const(7)  # qtype ANY at an existing name (RFC 8482 answer chosen by the caller)
NOT_AUTH = const(8)  # outside every zone we serve: REFUSED

TYPE_ANY = const(255)
TYPE_DS = const(43)
TYPE_DNAME = const(39)
TYPE_CNAME = const(5)


class Outcome:
    """kind; zone (index); node (entry offset of the node that decided); owner (lower-case wire
    of the node whose RRsets answer: the wildcard '*' name for wildcard answers, the cut for a
    delegation, the DNAME owner); wild (True if synthesised from a wildcard); types (node's)."""

    __slots__ = ("kind", "zone", "node", "owner", "wild", "types", "flags")

    def __init__(self, kind, zone=-1, node=-1, owner=b"", wild=False, types=(), flags=0):
        self.kind = kind
        self.zone = zone
        self.node = node
        self.owner = owner
        self.wild = wild
        self.types = types
        self.flags = flags

    def __repr__(self):
        return "<Outcome %d zone=%d owner=%r wild=%r>" % (self.kind, self.zone, self.owner,
                                                           self.wild)


def _at_node(db, e, owner, qtype, wild):
    """The outcome for an existing (or wildcard-matched) node with qtype."""
    flags, zone, _ref, types = db.node_info(e)
    if flags & F_DELEG:
        if qtype == TYPE_DS and not wild:  # the parent side answers DS (RFC 4035 3.1.4.1)
            kind = ANSWER if TYPE_DS in types else NODATA
            return Outcome(kind, zone, e, owner, wild, types, flags)
        return Outcome(DELEGATION, zone, e, owner, wild, types, flags)
    if qtype == TYPE_ANY:
        if not types:
            return Outcome(NODATA, zone, e, owner, wild, types, flags)
        return Outcome(ANY, zone, e, owner, wild, types, flags)
    if qtype in types:
        return Outcome(ANSWER, zone, e, owner, wild, types, flags)
    if flags & F_CNAME:
        return Outcome(CNAME, zone, e, owner, wild, types, flags)
    return Outcome(NODATA, zone, e, owner, wild, types, flags)


def _ds_at_apex(db, e, lname, offs):
    """DS at a zone apex belongs to the parent (RFC 4035 3.1.4.1): when we serve the parent
    too, its DS RRset (kept at this name) or its NODATA answers. None: not our parent."""
    flags, zone, _ref, types = db.node_info(e)
    if TYPE_DS in types:
        return Outcome(ANSWER, zone, e, lname, False, types, flags)
    for o in offs[1:]:
        pe = db.node(lname[o:])
        if pe >= 0:
            pzone = db.node_head(pe)[1]
            if pzone == zone:
                return None
            return Outcome(NODATA, pzone, pe, lname, False, (), 0)
    return None


def label_offsets(lname):
    """Offsets of the labels of a wire name, the root last (its offset is len - 1)."""
    out = []
    i = 0
    n = lname[0]
    while n:
        out.append(i)
        i += n + 1
        n = lname[i]
    out.append(i)
    return out


def lookup(db, lname, qtype):
    """The outcome of (lname, qtype): lname is the lower-case wire form of the query name."""
    w = db.closest(lname + NODE_SUFFIX)
    if w is None:
        return Outcome(NOT_AUTH)
    e, o = w
    if o == 0:
        if qtype == TYPE_DS and db.node_head(e)[0] & F_APEX:
            out = _ds_at_apex(db, e, lname, label_offsets(lname))
            if out is not None:
                return out
        return _at_node(db, e, lname, qtype, False)
    sfx = lname[o:]
    flags, zone, _ref, types = db.node_info(e)
    if flags & F_DELEG:
        return Outcome(DELEGATION, zone, e, sfx, False, types, flags)
    if flags & F_DNAME:
        return Outcome(DNAME, zone, e, sfx, False, types, flags)
    if flags & F_WILD:
        wname = b"\x01*" + sfx
        we = db.node(wname)
        if we >= 0:
            return _at_node(db, we, wname, qtype, True)
    return Outcome(NXDOMAIN, zone, e, sfx, False, types, flags)


def under(lname, domain):
    """True if lower-case wire name lname is domain or below it."""
    if not lname.endswith(domain):
        return False
    d = len(lname) - len(domain)
    if d == 0:
        return True
    for o in label_offsets(lname):  # ends with the root (len - 1): matches domain "."
        if o == d:
            return True
    return False
