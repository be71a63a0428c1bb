"""What the recursive resolver remembers between questions: delegations and RRsets (sans-I/O).

Delegation: a zone cut learnt from a referral: the zone, its NS names, the addresses known for
them (glue from the parent's referral, or looked up) and when it expires: the parent's NS TTL
(no ghost domains: a child cannot extend its own delegation, RFC 9156-era practice and
draft-ietf-dnsop-ns-revalidation's concern). Addresses expire with it.

RRCache: RRsets by (owner, type) with a trust rank (RFC 2181 5.4.1): data from an authoritative
answer replaces data of a lower rank, never the reverse while it lives. Negative entries are not
kept here: the client-facing response cache (dnsbox.resolver.cache) holds whole answers.

Both are bounded in bytes (estimates of what their objects take on MicroPython: the budget of
dnsbox.resolver.budget) and in count; `now` is passed in (ms). When full, the expired entries
go first, then those that expire soonest.
"""

from dnsbox.compat import const
from dnsbox.wire.rr import RR

MAX_DELEGATIONS = const(2048)  # zone cuts remembered
MAX_RRSETS = const(4096)  # RRsets remembered
DELEG_BYTES = const(160)  # a Delegation with its tables (objects, 32-bit board)
NS_BYTES = const(96)  # one NS name in it (a Name: two byte strings) + room for one address
ADDR_BYTES = const(48)  # each further address (an IPv6 text is the longest: up to 39 chars)
RR_BYTES = const(128)  # one cached record: RR, its Name and rdata objects (+ the wire lengths)
RRSET_BYTES = const(64)  # one RRset's key, list and tuple
DEFAULT_BYTES = const(1048576)  # each table's byte bound when none is given
MAX_NS_PER_ZONE = const(13)  # NS names kept from one referral (the root has 13)
MAX_ADDRS_PER_NS = const(4)  # addresses (IPv4 and IPv6 together) kept per NS name
BOTH = (4, 6)  # address families, as Env.families gives them
MAX_TTL_S = const(86400)  # longer TTLs are cut to a day

# Trust ranks (RFC 2181 5.4.1), higher is more trusted.
RANK_GLUE = const(1)  # additional section of a referral
RANK_AUTH_AUTHORITY = const(2)  # authority section of an authoritative answer
RANK_ANSWER = const(3)  # answer section of a non-authoritative answer (not used: we only iterate)
RANK_AUTH_ANSWER = const(4)  # answer section of an authoritative answer
RANK_HINTS = const(5)  # compiled-in root hints


def family(ip):
    """4 or 6: the family of an ip text."""
    return 6 if ":" in ip else 4


class Delegation:
    """zone (Name), ns [Name], addrs {ns lower-case wire: [ip text, IPv4 or IPv6]}, expires
    (ms, -1 never). fams: the address families asked for (4, 6 or both)."""

    def __init__(self, zone, ns, expires):
        self.zone = zone
        self.ns = ns
        self.addrs = {}
        self.expires = expires

    def cost(self):
        """Bytes it takes, estimated (each NS name with room for an address)."""
        n = DELEG_BYTES + len(self.zone.wire)
        for x in self.ns:
            n += NS_BYTES + 2 * len(x.wire)
            k = len(self.addrs.get(x.lc, ()))
            if k > 1:
                n += ADDR_BYTES * (k - 1)
        return n

    def add_addr(self, nsname, ip):
        lst = self.addrs.get(nsname.lc)
        if lst is None:
            lst = []
            self.addrs[nsname.lc] = lst
        if ip not in lst and len(lst) < MAX_ADDRS_PER_NS:
            lst.append(ip)

    def ips(self, fams=BOTH):
        """Every known address of this zone's servers of families fams, in NS order."""
        out = []
        for n in self.ns:
            for ip in self.addrs.get(n.lc, ()):
                if ip not in out and family(ip) in fams:
                    out.append(ip)
        return out

    def ips_of(self, nsname, fams=BOTH):
        return [ip for ip in self.addrs.get(nsname.lc, ()) if family(ip) in fams]

    def unresolved(self, fams=BOTH):
        """NS names with no address of families fams yet."""
        return [n for n in self.ns if not self.ips_of(n, fams)]


def ttl_ms(ttl_s, now):
    if ttl_s > MAX_TTL_S:
        ttl_s = MAX_TTL_S
    return now + ttl_s * 1000


class Delegations:
    """Zone cuts by zone (lower-case wire); the root comes from the hints and never expires."""

    def __init__(self, root, max_bytes=DEFAULT_BYTES, limit=MAX_DELEGATIONS):
        self.root = root
        self.limit = limit
        self.max_bytes = max_bytes
        self.bytes = 0
        self.zones = {}  # lower-case zone -> (Delegation, its cost)

    def put(self, d, now=0):
        if d.zone.is_root():
            return  # the hints stay (a root referral would be a lame answer anyway)
        self._pop(d.zone.lc)
        c = d.cost()
        if c > self.max_bytes:
            return
        if len(self.zones) >= self.limit or self.bytes + c > self.max_bytes:
            self._sweep(now, c)
        self.zones[d.zone.lc] = (d, c)
        self.bytes += c

    def _pop(self, k):
        e = self.zones.pop(k, None)
        if e is not None:
            self.bytes -= e[1]

    def _sweep(self, now, need):
        # expired ones first; then the half that expires soonest, until `need` bytes fit
        for k in [k for k, e in self.zones.items() if e[0].expires <= now]:
            self._pop(k)
        if len(self.zones) < self.limit and self.bytes + need <= self.max_bytes:
            return
        soon = sorted([(e[0].expires, k) for k, e in self.zones.items()])
        i = 0
        while i < len(soon) and (i <= len(soon) // 2 or self.bytes + need > self.max_bytes):
            self._pop(soon[i][1])
            i += 1

    def get(self, lname, now):
        e = self.zones.get(lname)
        if e is None:
            return None
        d = e[0]
        if d.expires >= 0 and d.expires <= now:
            self._pop(lname)
            return None
        return d

    def closest(self, name, now, usable=False, fams=BOTH):
        """The deepest live delegation enclosing name (itself included), else the root.
        usable: skip delegations with no address of families fams known (missing glue: ask
        the parent)."""
        w = name.lc
        i = 0
        while w[i]:
            d = self.get(w[i:], now)
            if d is not None and (not usable or d.ips(fams)):
                return d
            i += w[i] + 1
        return self.root


class RRCache:
    """RRsets by lower-case owner wire + 2-byte type: (expires ms, rank, [RR])."""

    def __init__(self, max_bytes=DEFAULT_BYTES, limit=MAX_RRSETS):
        self.limit = limit
        self.max_bytes = max_bytes
        self.bytes = 0
        self.sets = {}  # key -> (expires ms, rank, [RR], cost)

    def get(self, lname, rtype, now):
        k = lname + bytes((rtype >> 8, rtype & 255))
        e = self.sets.get(k)
        if e is None:
            return None
        if e[0] <= now:
            self._pop(k)
            return None
        left = (e[0] - now) // 1000  # TTLs counted down while cached
        out = []
        for r in e[2]:
            out.append(r if r.ttl <= left else RR(r.name, r.rtype, r.rclass, left, r.rdata))
        return out

    def put(self, lname, rtype, rrs, rank, now):
        if not rrs:
            return False
        t = rrs[0].ttl
        for r in rrs:
            if r.ttl < t:
                t = r.ttl
        if t <= 0:
            return False
        k = lname + bytes((rtype >> 8, rtype & 255))
        old = self.sets.get(k)
        if old is not None and old[0] > now and old[1] > rank:
            return False  # RFC 2181 5.4.1: lower-ranked data does not replace higher
        self._pop(k)
        c = RRSET_BYTES + len(k)
        for r in rrs:
            c += RR_BYTES + len(r.name.wire) + len(r.rdata.to_wire())
        if c > self.max_bytes:
            return False
        if len(self.sets) >= self.limit or self.bytes + c > self.max_bytes:
            self._sweep(now, c)
        self.sets[k] = (ttl_ms(t, now), rank, rrs, c)
        self.bytes += c
        return True

    def _pop(self, k):
        e = self.sets.pop(k, None)
        if e is not None:
            self.bytes -= e[3]

    def _sweep(self, now, need):
        # expired ones first; then a quarter that expires soonest, until `need` bytes fit
        for k in [k for k, e in self.sets.items() if e[0] <= now]:
            self._pop(k)
        if len(self.sets) < self.limit and self.bytes + need <= self.max_bytes:
            return
        soon = sorted([(e[0], k) for k, e in self.sets.items()])
        i = 0
        while i < len(soon) and (i <= len(soon) // 4 or self.bytes + need > self.max_bytes):
            self._pop(soon[i][1])
            i += 1

    def __len__(self):
        return len(self.sets)
