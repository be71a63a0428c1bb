"""The DHCP server's I/O: UDP port 67 on the appliance's interface, in the serving loop's poll,
lease expiry once a second, and the leases' host names in resolver mode's local names (A
records for NAME and NAME.DOMAIN, TTL 0, as dnsmasq does). The protocol is dnsbox.dhcp.server.
"""
import socket

from dnsbox import clock, log
from dnsbox.config import nets
from dnsbox.compat import const
from dnsbox.dhcp import packet as P
from dnsbox.dhcp.server import BROADCAST_TO, Dhcp

SERVER_PORT = const(67)
CLIENT_PORT = const(68)
READS_PER_WAKE = const(16)  # datagrams read per poll wake-up
_SOL_SOCKET = const(1)  # Linux values (MicroPython's socket module does not name them)
_SO_BROADCAST = const(6)
_SO_BINDTODEVICE = const(25)


class Names:
    """Leases' host names as local names of the resolver (its dnsbox.resolver.local.Local):
    A records for NAME and NAME.DOMAIN, and the PTR of the address to the longer one."""

    def __init__(self, local, domain):
        self.local = local
        self.domain = domain
        self.mine = {}  # lname -> ip: the entries this object added
        self.ptrs = {}  # reverse name -> host name: the PTRs this object added

    def _wires(self, label):
        out = [nets.domain_wire(label)]
        if self.domain:
            out.append(nets.domain_wire(label + "." + self.domain))
        return out

    def __call__(self, label, ip):
        from dnsbox.resolver.local import reverse_name

        local = self.local
        wires = self._wires(label)
        for w in wires:
            if ip is None:
                if w in self.mine:
                    rev = reverse_name(P.ip_bytes(self.mine.pop(w)))
                    local.set_host(w, None)
                    if self.ptrs.get(rev) == w:
                        del self.ptrs[rev]
                        local.set_ptr(rev, None)
            elif not local.has_host(w) or w in self.mine:  # host-record= entries win
                self.mine[w] = ip
                local.set_host(w, P.ip_bytes(ip))
        if ip is not None and wires[-1] in self.mine:
            rev = reverse_name(P.ip_bytes(ip))
            if local.ptr_of(rev) is None or rev in self.ptrs:
                self.ptrs[rev] = wires[-1]
                local.set_ptr(rev, wires[-1])


class Service:
    def __init__(self, loop, core, iface):
        self.core = core
        self.secs = 0  # monotonic seconds since start (the core's clock)
        self._ms = 0
        self._raw = clock.now_ms()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(_SOL_SOCKET, _SO_BROADCAST, 1)
        try:
            s.setsockopt(_SOL_SOCKET, _SO_BINDTODEVICE, iface.encode())
        except OSError as e:
            s.close()
            raise OSError("cannot bind DHCP to interface %s: %s" % (iface, e))
        s.bind(socket.getaddrinfo("0.0.0.0", SERVER_PORT)[0][-1])
        s.setblocking(False)
        self.sock = s
        self.bcast = socket.getaddrinfo("255.255.255.255", CLIENT_PORT)[0][-1]
        loop.watch(s, self.readable)
        loop.periodic.append(self.tick)

    def now(self):
        raw = clock.now_ms()
        self._ms += clock.diff_ms(raw, self._raw)
        self._raw = raw
        self.secs = self._ms // 1000
        return self.secs

    def tick(self):
        self.core.expire(self.now())

    def readable(self, _events):
        for _ in range(READS_PER_WAKE):
            try:
                data, _peer = self.sock.recvfrom(P.MAX_MESSAGE)
            except OSError:
                return  # drained
            try:
                p = P.decode(data)
            except ValueError:
                self.core.stats["dropped"] += 1
                continue
            now = self.now()
            self.core.expire(now)
            r = self.core.handle(p, now)
            if r is None:
                continue
            reply, dest = r
            if dest == BROADCAST_TO:
                to = self.bcast
            else:
                to = socket.getaddrinfo(nets.ip_text(dest), CLIENT_PORT)[0][-1]
            try:
                self.sock.sendto(reply, to)
            except OSError:
                pass  # the client asks again


def start(loop, cfg, local=None, events=None):
    """Start the DHCP server of cfg (dhcp-range= given) in loop; ValueError/OSError: why not.
    events(line): the lease events' log lines (offer, ack, nak, release, decline, expire)."""
    first, last, mask, lease = cfg.dhcp_range
    ip = nets.parse_ipv4(cfg.ip or "")
    if ip is None:
        raise ValueError("the DHCP server needs a fixed ip= (not %s)" % cfg.ip)
    server_ip = nets.ipv4_int(ip)
    if mask is None:
        mb = nets.parse_ipv4(cfg.netmask or "")
        mask = nets.ipv4_int(mb) if mb is not None else 0xFFFFFF00
    router = cfg.dhcp_router
    if router is None:
        gw = nets.parse_ipv4(cfg.gw or "")
        router = nets.ipv4_int(gw) if gw is not None else 0
    dns = cfg.dhcp_dns
    if dns is None:
        dns = [server_ip] if cfg.mode == "resolver" else []
    hosts = {}
    for mac, hip, name in cfg.dhcp_hosts:
        hosts[mac] = (hip, name)
    names = Names(local, cfg.dhcp_domain) if local is not None else None
    core = Dhcp(server_ip, first, last, mask, lease, router, dns, cfg.dhcp_domain, hosts, names)
    for mac, (hip, name) in hosts.items():
        if names is not None and name:
            names(name, hip)  # fixed hosts are named from the start
    svc = Service(loop, core, cfg.iface)
    if events is not None:
        core.on_event = lambda what, mac, ip, name: events("DHCP %s %s %s%s" % (
            what, ":".join(["%02x" % b for b in mac]), nets.ip_text(ip),
            " " + name if name else ""))
    log.log("DHCP: %s - %s, lease %d s, router %s, DNS %s%s" % (
        nets.ip_text(first), nets.ip_text(last), lease,
        nets.ip_text(router) if router else "none",
        ", ".join(nets.ip_text(d) for d in dns) or "none",
        (", names under " + cfg.dhcp_domain) if cfg.dhcp_domain and names else ""))
    return svc
