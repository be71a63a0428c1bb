"""Local names of resolver mode (dnsmasq's host-record=, addn-hosts=, address=, local=,
domain-needed, bogus-priv, cname=, txt-record=, mx-host=, srv-host=, ptr-record=). Pure: names
in, (rcode, records) out.

lookup(lname, qtype) returns None when the name is not local (it may be forwarded), else
(rcode, answer records): an address answer, NODATA (NOERROR with no records) or NXDOMAIN.
"""

from dnsbox.config.nets import V6, domain_wire, ipv4_int, parse_ipv4, parse_network
from dnsbox.config import nets
from dnsbox.compat import const
from dnsbox.wire import rcode as _rc
from dnsbox.wire import rd_std
from dnsbox.wire import types as _t
from dnsbox.wire.name import Name
from dnsbox.wire.rr import RR
from dnsbox.zonedb.lookup import under

LOCAL_TTL = const(0)  # TTL of local answers (dnsmasq's local-ttl default)
MAX_CHAIN = const(8)  # cname= aliases followed in one answer (config.records refuses loops)

# Reverse zones of private and special IPv4 ranges (bogus-priv: never forwarded, RFC 6303).
_PRIVATE_REVERSE = ["10", "168.192", "254.169"] + ["%d.172" % i for i in range(16, 32)]
_PRIVATE_REVERSE = [domain_wire(d + ".in-addr.arpa") for d in _PRIVATE_REVERSE]


def reverse_name(addr):
    """The in-addr.arpa / ip6.arpa name (lower-case wire) of a 4- or 16-byte address."""
    if len(addr) == 4:
        labels = ["%d" % b for b in reversed(addr)] + ["in-addr", "arpa"]
    else:
        labels = []
        for b in reversed(addr):
            labels.append("%x" % (b & 15))
            labels.append("%x" % (b >> 4))
        labels += ["ip6", "arpa"]
    return b"".join(bytes((len(x),)) + x.encode() for x in labels) + b"\x00"


class Local:
    """hosts: [(name lower-case wire, ipv4 bytes or None, ipv6 bytes or None)] (host-record=,
    then the hosts files: a name given several addresses answers all of them, and an address's
    PTR names its first name); addresses: [(domain lower-case wire, ip bytes or None: NXDOMAIN)]
    (address=); domains: [domain lower-case wire] answered here only (local=); domain_needed,
    bogus_priv: dnsmasq's flags; records: [(name lower-case wire, type, TTL, rdata)]
    (txt-record=, mx-host=, srv-host=, ptr-record=; a None rdata: the name, no record); cnames:
    [(alias, target, TTL)] (cname=: followed while the target is local data)."""

    def __init__(self, hosts=(), addresses=(), domains=(), domain_needed=False,
                 bogus_priv=False, records=(), cnames=()):
        self.hosts = {}  # name -> (ipv4 addresses, ipv6 addresses): 4 / 16 bytes each, joined
        self.ptrs = {}  # reverse name -> host name (wire): PTR answers, as dnsmasq gives
        for name, v4, v6 in hosts:
            old = self.hosts.get(name, (None, None))
            self.hosts[name] = (_join(old[0], v4, 4), _join(old[1], v6, 16))
            for a in (v4, v6):
                if a is not None and reverse_name(a) not in self.ptrs:
                    self.ptrs[reverse_name(a)] = name  # the first name of an address
        self.records = {}  # name -> [(type, TTL, rdata or None)]
        for name, rtype, ttl, rd in records:
            self.records.setdefault(name, []).append((rtype, ttl, rd))
        self.cnames = {}  # alias -> (target, TTL)
        for alias, target, ttl in cnames:
            self.cnames[alias] = (target, ttl)
        self.addresses = list(addresses)
        self.locals = list(domains)
        self.domain_needed = domain_needed
        self.bogus_priv = bogus_priv
        self.empty = not (self.hosts or self.addresses or self.locals or self.domain_needed
                          or self.bogus_priv or self.records or self.cnames)

    def has_host(self, lname):
        return lname in self.hosts

    def set_host(self, lname, v4):
        """Answer A v4 (4 bytes) for lname (a DHCP lease's name), or stop when v4 is None."""
        if v4 is None:
            self.hosts.pop(lname, None)
        else:
            self.hosts[lname] = (v4, None)
            self.empty = False

    def ptr_of(self, rev):
        return self.ptrs.get(rev)

    def set_ptr(self, rev, lname):
        """Answer PTR lname for the reverse name rev, or stop when lname is None."""
        if lname is None:
            self.ptrs.pop(rev, None)
        else:
            self.ptrs[rev] = lname
            self.empty = False

    def lookup(self, lname, qtype):
        out = self.names(lname, qtype)
        if out is not None:
            return _rc.NOERROR, out
        best = None
        for dom, ip in self.addresses:
            if under(lname, dom) and (best is None or len(dom) > len(best[0])):
                best = (dom, ip)
        if best is not None:
            ip = best[1]
            if ip is None:
                return _rc.NXDOMAIN, []
            v4 = ip if len(ip) == 4 else None
            v6 = ip if len(ip) == 16 else None
            return _rc.NOERROR, _records(lname, qtype, v4, v6)
        for dom in self.locals:
            if under(lname, dom):
                return _rc.NXDOMAIN, []
        if self.domain_needed and lname[0] and not lname[lname[0] + 1]:
            return _rc.NXDOMAIN, []  # a plain name (one label): never forwarded
        if self.bogus_priv:
            for dom in _PRIVATE_REVERSE:
                if under(lname, dom):
                    return _rc.NXDOMAIN, []
        return None

    def names(self, lname, qtype):
        """The answer records for a name held here (hosts, records, PTRs of hosts, cname=
        aliases: the chain, then the target's records when the target is held here too), or
        None when the name is not one of them. A name held here answers every type (NODATA
        for the types it lacks): it is never forwarded."""
        out = []
        name = lname
        for _ in range(MAX_CHAIN):
            c = self.cnames.get(name)
            if c is None or (qtype == _t.CNAME and name == lname):
                break
            out.append(RR(Name(name, name), _t.CNAME, _t.CLASS_IN, c[1],
                          rd_std.CNAME(Name(c[0], c[0]))))
            name = c[0]
        if qtype == _t.CNAME and name == lname and name in self.cnames:
            c = self.cnames[name]
            return [RR(Name(name, name), _t.CNAME, _t.CLASS_IN, c[1],
                       rd_std.CNAME(Name(c[0], c[0])))]
        got = self._data(name, qtype)
        if got is None:
            return out if out else None  # a target elsewhere: the chain alone, as dnsmasq
        return out + got

    def _data(self, lname, qtype):
        h = self.hosts.get(lname)
        recs = self.records.get(lname)
        if h is None and recs is None:
            t = self.ptrs.get(lname)
            if t is None:
                return None
            if qtype != _t.PTR and qtype != _t.ANY:
                return []
            return [RR(Name(lname, lname), _t.PTR, _t.CLASS_IN, LOCAL_TTL,
                       rd_std.PTR(Name(t, t)))]
        out = [] if h is None else _records(lname, qtype, h[0], h[1])
        for rtype, ttl, rd in recs or ():
            if rd is not None and (qtype == rtype or qtype == _t.ANY):
                out.append(RR(Name(lname, lname), rtype, _t.CLASS_IN, ttl, rd))
        return out


def _join(old, new, size):
    """Addresses (size bytes each, joined) with new added unless it is there already."""
    if new is None:
        return old
    if old is None:
        return new
    for i in range(0, len(old), size):
        if old[i : i + size] == new:
            return old
    return old + new


def _records(lname, qtype, v4, v6):
    name = Name(lname, lname)
    out = []
    if v4 is not None and (qtype == _t.A or qtype == _t.ANY):
        for i in range(0, len(v4), 4):
            out.append(RR(name, _t.A, _t.CLASS_IN, LOCAL_TTL, rd_std.A(v4[i : i + 4])))
    if v6 is not None and (qtype == _t.AAAA or qtype == _t.ANY):
        for i in range(0, len(v6), 16):
            out.append(RR(name, _t.AAAA, _t.CLASS_IN, LOCAL_TTL, rd_std.AAAA(v6[i : i + 16])))
    return out


def default_nets(ip_text, netmask_text, ip6=None):
    """The appliance's own subnet and loopback (127.0.0.0/8); with IPv6 on, ::1, the link
    (fe80::/10) and the static ip6= prefix ("ADDR/LEN", its network); SLAAC's prefix is not
    known at start: allow= names it."""
    nets = [(0x7F000000, 0xFF000000)]
    if ip6 is not None and ip6 != "off":
        nets.append(parse_network("::1"))
        nets.append(parse_network("fe80::/10"))
        if "/" in ip6 and ip6 != "::1/128":
            n = parse_network(ip6)
            if n[1] > V6 and n not in nets:  # a prefix, not ::/0
                nets.append(n)
    ip = parse_ipv4(ip_text or "")
    mask = parse_ipv4(netmask_text or "")
    if ip is not None and mask is not None:
        m = ipv4_int(mask)
        n = ipv4_int(ip) & m
        if (n, m) not in nets and n & 0xFF000000 != 0x7F000000:
            nets.append((n, m))
    return nets


def records(txt=(), mx=(), srv=(), ptr=()):
    """The records of Local from the settings' forms (dnsbox.config.records): txt [(name, TXT
    rdata)], mx [(name, host, preference)], srv [(name, target, port, priority, weight)], ptr
    [(name, target or None)]; names lower-case wire, TTL LOCAL_TTL."""
    out = [(n, _t.TXT, LOCAL_TTL, rd) for n, rd in txt]
    for n, host, pref in mx:
        out.append((n, _t.MX, LOCAL_TTL, rd_std.MX(pref, Name(host, host))))
    for n, target, port, prio, weight in srv:
        out.append((n, _t.SRV, LOCAL_TTL, rd_std.SRV(prio, weight, port, Name(target, target))))
    for n, target in ptr:
        out.append((n, _t.PTR, LOCAL_TTL, None if target is None else
                    rd_std.PTR(Name(target, target))))
    return out
