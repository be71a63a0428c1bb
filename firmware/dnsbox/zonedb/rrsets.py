"""RRsets read back from the blob's entries (zone transfers, the general path, NOTIFY): the
records of an entry, the zone at an apex, a zone's SOA."""
from dnsbox.wire import message as _msg
from dnsbox.wire import types as _t
from dnsbox.zonedb import rrset_key


def records_at(db, e, lname, rtype):
    """The records (lname, rtype) held in the answer-like blob entry e."""
    m = _msg.decode(b"\x00\x00" + db.response(e))
    return [r for r in m.answer if r.rtype == rtype and r.name.wire == lname]


def zone_at(db, lname):
    """Index of the zone whose apex is the lower-case wire name lname, or -1."""
    for i in range(db.nzones):
        if db.zone(i)[0].lower() == lname:
            return i
    return -1


def soa_of(db, zi):
    """The SOA record of zone zi (one RR)."""
    apex = db.zone(zi)[0].lower()
    return records_at(db, db.find(rrset_key(apex, _t.SOA)), apex, _t.SOA)[0]
