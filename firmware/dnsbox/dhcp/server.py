"""The DHCP server's core (RFC 2131): leases from one address range, the replies to DISCOVER,
REQUEST (selecting, init-reboot, renewing, rebinding), DECLINE, RELEASE and INFORM. Pure: a
decoded packet and the time in, (reply bytes, destination) out; the I/O is dnsbox.net.dhcp.

Settings (dnsmasq's options): dhcp-range=START,END[,NETMASK][,LEASE], dhcp-host=MAC,IP[,NAME],
dhcp-option=router / dns-server / domain-name. Leases live in memory: after a restart a client
that asks for its old address (init-reboot, renewing) gets it back when it is free. A client's
host name (option 12, or dhcp-host's) is given to on_name(label, ip or None) for the DNS.

Replies to clients without an address are broadcast (RFC 2131 4.1 allows it; the unicast to a
new address needs an ARP entry made by hand); relayed requests (giaddr) are not served.
"""
from dnsbox.compat import const
from dnsbox.dhcp import packet as P

MAX_RANGE = const(4096)  # addresses in dhcp-range
OFFER_HOLD_S = const(60)  # an offered address is kept for the client this long
DECLINE_HOLD_S = const(600)  # an address a client declined (in use) is not offered for this long
MAX_LABEL = const(63)  # characters of a host name kept (one DNS label)
BROADCAST_TO = 0xFFFFFFFF


class Lease:
    __slots__ = ("mac", "ip", "expires", "name", "bound")

    def __init__(self, mac, ip, expires, name, bound):
        self.mac = mac
        self.ip = ip
        self.expires = expires
        self.name = name
        self.bound = bound


def host_label(raw):
    """A client's host name as one lower-case DNS label (letters, digits, '-'), or None."""
    out = []
    for c in raw.lower():
        ch = chr(c) if isinstance(c, int) else c
        if "a" <= ch <= "z" or "0" <= ch <= "9" or ch == "-":
            out.append(ch)
        elif ch == "." or ch == "\x00":
            break  # a FQDN: its first label; a C string: its end
    label = "".join(out[:MAX_LABEL]).strip("-")
    return label or None


class Dhcp:
    """server_ip, first, last, netmask: ints; lease_s: lease seconds; router: int or 0;
    dns: [int]; domain: str or None; hosts: {mac bytes: (ip int, name or None)}."""

    def __init__(self, server_ip, first, last, netmask, lease_s, router=0, dns=(), domain=None,
                 hosts=None, on_name=None):
        if last < first or last - first + 1 > MAX_RANGE:
            raise ValueError("dhcp-range: at most %d addresses, first <= last" % MAX_RANGE)
        if (first & netmask) != (server_ip & netmask) or (last & netmask) != (server_ip & netmask):
            raise ValueError("dhcp-range is not in the appliance's subnet")
        self.server_ip = server_ip
        self.first, self.last, self.netmask = first, last, netmask
        self.lease_s = lease_s
        self.router, self.dns, self.domain = router, list(dns), domain
        self.hosts = hosts or {}
        self.static_ips = [v[0] for v in self.hosts.values()]
        self.on_name = on_name
        self.leases = {}  # mac -> Lease (bound or offered)
        self.by_ip = {}  # ip -> mac
        self.declined = {}  # ip -> until (seconds)
        self.stats = {"offers": 0, "acks": 0, "naks": 0, "dropped": 0}
        self.on_event = None  # on_event(what, mac bytes, ip int, name or None): the lease log
        # (what: offer, ack, nak, release, decline, expire)
        self.on_lease = None  # on_lease(mac, Lease or None): a lease bound, or gone (the state
        # journal, dnsbox.state.leasestate: it is on the disk before the ACK goes out)

    def _event(self, what, mac, ip, name):
        if self.on_event is not None:
            self.on_event(what, mac, ip, name)

    # --- the addresses -----------------------------------------------------------------
    def in_subnet(self, ip):
        return (ip & self.netmask) == (self.server_ip & self.netmask)

    def _free(self, ip, mac, now):
        """True if ip may go to mac now."""
        if ip == self.server_ip or not self.in_subnet(ip):
            return False
        if ip in self.static_ips and self.hosts.get(mac, (0,))[0] != ip:
            return False
        if self.declined.get(ip, 0) > now:
            return False
        other = self.by_ip.get(ip)
        if other is not None and other != mac:
            lease = self.leases.get(other)
            if lease is not None and lease.expires > now:
                return False
        return True

    def _choose(self, mac, requested, now):
        """The address to offer mac: its fixed one, its lease's, the one it asks for, or the
        first free one of the range; 0 if none is free."""
        fixed = self.hosts.get(mac)
        if fixed is not None:
            return fixed[0] if self._free(fixed[0], mac, now) else 0
        lease = self.leases.get(mac)
        if lease is not None and self._free(lease.ip, mac, now):
            return lease.ip
        if requested and self.first <= requested <= self.last and self._free(requested, mac, now):
            return requested
        for ip in range(self.first, self.last + 1):
            if ip not in self.by_ip and self._free(ip, mac, now):
                return ip
        for ip in range(self.first, self.last + 1):  # then addresses of expired leases
            if self._free(ip, mac, now):
                return ip
        return 0

    def _bind(self, mac, ip, now, hold, bound, name):
        old = self.leases.get(mac)
        if old is not None and old.ip != ip:
            self._forget(old)
        other = self.by_ip.get(ip)
        if other is not None and other != mac:
            self._forget(self.leases[other])
        lease = Lease(mac, ip, now + hold, name, bound)
        self.leases[mac] = lease
        self.by_ip[ip] = mac
        if self.on_lease is not None:
            self.on_lease(mac, lease if bound else None)
        if bound and name and self.on_name is not None:
            self.on_name(name, ip)
        return lease

    def _forget(self, lease):
        self.leases.pop(lease.mac, None)
        if self.by_ip.get(lease.ip) == lease.mac:
            del self.by_ip[lease.ip]
        if self.on_lease is not None:
            self.on_lease(lease.mac, None)
        if lease.bound and lease.name and self.on_name is not None:
            self.on_name(lease.name, None)

    def restore(self, mac, ip, remaining, name, now):
        """A lease kept on the state disk, bound again for `remaining` seconds (at most one
        lease time) when its address is still ours to give; True if it was."""
        fixed = self.hosts.get(mac)
        ok = fixed[0] == ip if fixed is not None else self.first <= ip <= self.last
        if not ok or remaining <= 0 or not self._free(ip, mac, now):
            return False
        self._bind(mac, ip, now, min(remaining, self.lease_s), True, name)
        return True

    def expire(self, now):
        """Drop leases and offers whose time is over (their DNS names go with them)."""
        for mac in [m for m, lease in self.leases.items() if lease.expires <= now]:
            lease = self.leases[mac]
            if lease.bound:
                self._event("expire", mac, lease.ip, lease.name)
            self._forget(lease)
        for ip in [i for i, t in self.declined.items() if t <= now]:
            del self.declined[ip]

    # --- the messages ---------------------------------------------------------------------
    def handle(self, p, now):
        """(reply bytes, destination ip int) for the decoded request p, or None."""
        if p.giaddr:
            self.stats["dropped"] += 1
            return None  # relayed: another subnet, not ours to serve
        sid = p.ip_option(P.O_SERVER_ID)
        t = p.msg_type()
        if t == P.DISCOVER:
            return self._discover(p, now)
        if t == P.REQUEST:
            if sid and sid != self.server_ip:
                lease = self.leases.get(p.mac())
                if lease is not None and not lease.bound:
                    self._forget(lease)  # it chose another server's offer
                return None
            return self._request(p, now, sid)
        if sid and sid != self.server_ip:
            return None
        if t == P.DECLINE:
            ip = p.ip_option(P.O_REQUESTED_IP)
            lease = self.leases.get(p.mac())
            if ip and lease is not None and lease.ip == ip:
                self._event("decline", lease.mac, ip, lease.name)
                self._forget(lease)
                self.declined[ip] = now + DECLINE_HOLD_S
            return None
        if t == P.RELEASE:
            lease = self.leases.get(p.mac())
            if lease is not None and lease.ip == p.ciaddr:
                self._event("release", lease.mac, lease.ip, lease.name)
                self._forget(lease)
            return None
        if t == P.INFORM and p.ciaddr:
            r = self._reply(p, P.ACK, 0)
            self._add_options(r, None)
            return r.encode(), p.ciaddr
        return None

    def _name(self, p, mac):
        fixed = self.hosts.get(mac)
        if fixed is not None and fixed[1]:
            return fixed[1]
        raw = p.options.get(P.O_HOSTNAME)
        return host_label(raw) if raw else None

    def _discover(self, p, now):
        mac = p.mac()
        ip = self._choose(mac, p.ip_option(P.O_REQUESTED_IP), now)
        if not ip:
            self.stats["dropped"] += 1
            return None
        self._bind(mac, ip, now, OFFER_HOLD_S, False, self._name(p, mac))
        r = self._reply(p, P.OFFER, ip)
        self._add_options(r, self.lease_s)
        self.stats["offers"] += 1
        self._event("offer", mac, ip, self.leases[mac].name)
        return r.encode(), BROADCAST_TO

    def _request(self, p, now, sid):
        mac = p.mac()
        wanted = p.ip_option(P.O_REQUESTED_IP) or p.ciaddr
        if not wanted:
            return None
        lease = self.leases.get(mac)
        ok = False
        if sid:  # selecting: it must be the address we offered
            ok = lease is not None and lease.ip == wanted and self._free(wanted, mac, now)
        elif self.in_subnet(wanted) and self._free(wanted, mac, now):
            # init-reboot, renewing, rebinding: its lease, or (after our restart) a free
            # address of the range; a fixed client only its fixed address
            fixed = self.hosts.get(mac)
            if fixed is not None:
                ok = fixed[0] == wanted
            else:
                ok = (lease is not None and lease.ip == wanted) or (
                    self.first <= wanted <= self.last)
        if not ok:
            if not sid and not self.in_subnet(wanted) and p.ciaddr:
                return None  # rebinding from another network: not ours to refuse
            r = self._reply(p, P.NAK, 0)
            r.add(P.O_MESSAGE, b"address not available")
            self.stats["naks"] += 1
            self._event("nak", mac, wanted, None)
            return r.encode(), BROADCAST_TO
        self._bind(mac, wanted, now, self.lease_s, True, self._name(p, mac))
        r = self._reply(p, P.ACK, wanted)
        self._add_options(r, self.lease_s)
        self.stats["acks"] += 1
        self._event("ack", mac, wanted, self.leases[mac].name)
        return r.encode(), (p.ciaddr if p.ciaddr else BROADCAST_TO)

    def _reply(self, p, kind, yiaddr):
        r = P.Packet()
        r.xid, r.flags, r.chaddr = p.xid, p.flags, p.chaddr
        r.ciaddr = p.ciaddr if kind != P.NAK else 0
        r.yiaddr = yiaddr
        r.add(P.O_TYPE, bytes((kind,)))
        r.add(P.O_SERVER_ID, P.ip_bytes(self.server_ip))
        return r

    def _add_options(self, r, lease_s):
        if lease_s is not None:
            r.add(P.O_LEASE, _u32(lease_s))
            r.add(P.O_T1, _u32(lease_s // 2))  # RFC 2131 4.4.5: 0.5 and 0.875 of the lease
            r.add(P.O_T2, _u32(lease_s * 7 // 8))
        r.add(P.O_NETMASK, P.ip_bytes(self.netmask))
        bcast = (self.server_ip & self.netmask) | (~self.netmask & 0xFFFFFFFF)
        r.add(P.O_BROADCAST, P.ip_bytes(bcast))
        if self.router:
            r.add(P.O_ROUTER, P.ip_bytes(self.router))
        if self.dns:
            r.add(P.O_DNS, b"".join(P.ip_bytes(d) for d in self.dns))
        if self.domain:
            r.add(P.O_DOMAIN, self.domain.encode())


def _u32(v):
    return P.ip_bytes(v & 0xFFFFFFFF)
