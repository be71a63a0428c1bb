"""Zone invariants, checked before a zone goes into the blob (build time).

Errors (ZoneError, file:line: reason) stop the build: missing or duplicate SOA, SOA away from
the apex, data outside the origin, class other than the zone's, CNAME with other data or more
than one CNAME, more than one DNAME, data occluded by a delegation or a DNAME (RFC 6672 2.4),
an in-zone NS target without address records (missing glue), bad rdata (found by the parser).
Warnings: duplicate records (dropped), differing TTLs in one RRset (RFC 2181 5.2: the
smallest is used), NS/MX/SRV targets that are CNAMEs, wildcards not in the leftmost label,
a zone without apex NS, an SOA minimum over a day, TTLs over a week.

Signed zones (RFC 4034, 5155): an RRSIG belongs to the RRset it covers (RFC 4034 3: its TTL
is that RRset's, not shared with the signatures of other types, RFC 2181 5.2's exception);
NSEC3 records and their signatures live under hashed owner names that are not names of the
zone (RFC 5155 7.2.8): they are kept apart (Zone.nsec3), the chain of the NSEC3PARAM's
parameters only.
"""

from dnsbox.wire import types
from dnsbox.zone.errors import ZoneError

# Types that may sit at a delegation point next to NS (RFC 4035 2.4 DS, NSEC, RRSIG).
_AT_CUT = (types.NS, types.DS, 46, 47)
_ADDR = (types.A, types.AAAA)
_RRSIG = 46
_NSEC = 47
_NSEC3 = 50
_NSEC3PARAM = 51
NEG_TTL_WARN = 86400  # seconds: a larger SOA minimum gets a warning
TTL_WARN = 604800  # seconds: a larger record TTL gets a warning


class Zone:
    """A checked zone: apex, SOA, and the RRsets by name (dict name -> dict rtype -> [Record])."""

    def __init__(self, origin, file):
        self.origin = origin
        self.file = file
        self.nodes = {}
        self.cuts = set()  # delegation points (names with NS other than the apex)
        self.nsec3 = {}  # hashed owner -> {NSEC3: [Record], RRSIG: [Record]} (not zone names)
        self.warnings = []

    def denial(self):
        """How the zone proves absence: "nsec3" (NSEC3PARAM at the apex and its chain),
        "nsec" (an NSEC at the apex), or None (unsigned)."""
        apex = self.nodes.get(self.origin, {})
        if _NSEC3PARAM in apex and self.nsec3:
            return "nsec3"
        if _NSEC in apex:
            return "nsec"
        return None

    def nsec3_chain(self):
        """(NSEC3PARAM rdata, [hashed owner] of its chain, sorted) of an NSEC3 zone."""
        p = self.nodes[self.origin][_NSEC3PARAM][0].rdata
        owners = []
        for name, sets in self.nsec3.items():
            for r in sets.get(_NSEC3, ()):
                d = r.rdata
                if (d.algorithm, d.iterations, d.salt) == (p.algorithm, p.iterations, p.salt):
                    owners.append(name)
                    break
        owners.sort(key=lambda n: n.labels()[0].lower())
        return p, owners

    def rrset(self, name, rtype):
        return self.nodes.get(name, {}).get(rtype)

    def soa(self):
        return self.nodes[self.origin][types.SOA][0]

    def records(self):
        for nodes in (self.nodes, self.nsec3):
            for name in sorted(nodes):
                node = nodes[name]
                for rtype in sorted(node):
                    for r in node[rtype]:
                        yield r

    def record_count(self):
        return sum(len(rs) for nodes in (self.nodes, self.nsec3) for node in nodes.values()
                   for rs in node.values())

    def below_cut(self, name):
        """The delegation point at or above `name` (not the apex), or None."""
        n = name
        while n != self.origin and n.label_count() > self.origin.label_count():
            if n in self.cuts:
                return n
            n = n.parent()
        return None


def _warn(zone, rec, text):
    zone.warnings.append("%s: warning: %s" % (rec.where(), text))


def build(origin, records, file):
    """Check `records` (parser output) as the zone `origin`; return a Zone or raise ZoneError."""
    z = Zone(origin, file)
    soa = None
    for r in records:
        if not r.name.is_subdomain(origin):
            raise ZoneError(r.file, r.line, "%s is outside the zone %s" % (
                r.name.to_text(), origin.to_text()))
        if r.rclass != types.CLASS_IN:
            raise ZoneError(r.file, r.line, "class %s: only IN zones are served" % (
                types.class_to_text(r.rclass)))
        if r.rtype == types.SOA:
            if r.name != origin:
                raise ZoneError(r.file, r.line, "SOA at %s, not at the zone apex %s" % (
                    r.name.to_text(), origin.to_text()))
            if soa is not None:
                raise ZoneError(r.file, r.line, "second SOA (the first is at %s)" % soa.where())
            soa = r
        hashed = r.rtype == _NSEC3 or r.rtype == _RRSIG and r.rdata.type_covered == _NSEC3
        node = (z.nsec3 if hashed else z.nodes).setdefault(r.name, {})
        rs = node.setdefault(r.rtype, [])
        dup = False
        for o in rs:
            if o.rdata == r.rdata:
                dup = True
                _warn(z, r, "duplicate record (first at %s) dropped" % o.where())
                break
        if dup:
            continue
        same = rs if r.rtype != _RRSIG else [  # an RRSIG's RRset: those covering its type
            o for o in rs if o.rdata.type_covered == r.rdata.type_covered]
        if same and same[0].ttl != r.ttl:
            t = min(same[0].ttl, r.ttl)
            _warn(z, r, "TTL %d differs from %d in the same RRset (%s): using %d" % (
                r.ttl, same[0].ttl, same[0].where(), t))
            for o in same:
                o.ttl = t
            r.ttl = t
        rs.append(r)
    if soa is None:
        raise ZoneError(file, 1, "zone %s has no SOA record" % origin.to_text())
    if soa.rdata.minimum > NEG_TTL_WARN:
        _warn(z, soa, "SOA minimum %d s: negative answers cached over a day (RFC 2308 5 "
              "suggests 1-3 hours)" % soa.rdata.minimum)
    for node in z.nodes.values():
        for rs in node.values():
            if rs[0].ttl > TTL_WARN:
                _warn(z, rs[0], "TTL %d s is over a week: resolvers cap it (RFC 8767 4)" % (
                    rs[0].ttl))
    if types.NS not in z.nodes[origin]:
        z.warnings.append("%s: warning: zone %s has no NS records at its apex" % (
            soa.where(), origin.to_text()))
    for name, node in z.nodes.items():
        if types.NS in node and name != origin:
            z.cuts.add(name)
    _check_nodes(z)
    return z


def _check_nodes(z):
    dnames = [n for n, node in z.nodes.items() if types.DNAME in node]
    ns_targets = set(r.rdata.target for node in z.nodes.values() for r in node.get(types.NS, ()))
    for name, node in z.nodes.items():
        first = _first(node)
        if types.CNAME in node:
            cn = node[types.CNAME]
            if len(cn) > 1:
                raise ZoneError(cn[1].file, cn[1].line,
                                "more than one CNAME at %s" % name.to_text())
            others = [t for t in node if t not in (types.CNAME, 46, 47)]
            if others:
                o = node[others[0]][0]
                raise ZoneError(o.file, o.line, "CNAME and other data at %s (CNAME at %s)" % (
                    name.to_text(), cn[0].where()))
        if types.DNAME in node and len(node[types.DNAME]) > 1:
            r = node[types.DNAME][1]
            raise ZoneError(r.file, r.line, "more than one DNAME at %s" % name.to_text())
        for d in dnames:
            if name != d and name.is_subdomain(d):
                raise ZoneError(first.file, first.line, "%s is occluded by the DNAME at %s" % (
                    name.to_text(), z.nodes[d][types.DNAME][0].where()))
        if "*" in [l.decode("latin-1") if isinstance(l, bytes) else l for l in name.labels()[1:]]:
            _warn(z, first, "'*' not in the leftmost label is not a wildcard (RFC 4592 2.1.1)")
        cut = z.below_cut(name)
        if cut is not None:
            for rtype, rs in node.items():
                if name == cut and rtype in _AT_CUT:
                    continue
                if rtype in _ADDR and name in ns_targets:
                    continue  # glue
                r = rs[0]
                raise ZoneError(r.file, r.line, "%s %s is occluded by the delegation at %s" % (
                    name.to_text(), types.type_to_text(rtype), z.nodes[cut][types.NS][0].where()))
    for name, node in z.nodes.items():
        for rtype in (types.NS, types.MX, 33):
            for r in node.get(rtype, ()):
                target = r.rdata.exchange if rtype == types.MX else r.rdata.target
                if not target.is_subdomain(z.origin):
                    continue
                tnode = z.nodes.get(target, {})
                if types.CNAME in tnode:
                    _warn(z, r, "target %s is a CNAME (RFC 2181 10.3)" % target.to_text())
                elif rtype == types.NS and not any(t in tnode for t in _ADDR):
                    raise ZoneError(r.file, r.line, "NS target %s is inside the zone but has no "
                                    "A or AAAA record (missing glue)" % target.to_text())


def _first(node):
    best = None
    for rs in node.values():
        if best is None or rs[0].line < best.line:
            best = rs[0]
    return best
