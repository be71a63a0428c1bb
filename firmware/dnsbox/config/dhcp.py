"""Settings of the DHCP server (dnsmasq's dhcp-range=, dhcp-host=, dhcp-option=)."""
from dnsbox.config import values as V
from dnsbox.config.nets import domain_wire, ipv4_int, parse_ipv4, prefix_of

MAX_DHCP_HOSTS = 256  # dhcp-host= entries
MAX_DHCP_DNS = 4  # addresses in dhcp-option=6
LEASE_DEFAULT = 3600  # DHCP lease seconds unless dhcp-range= says otherwise (dnsmasq's 1h)
LEASE_MIN = 120  # shortest lease accepted (dnsmasq's 2 minutes)
LEASE_MAX = 31536000  # longest: a year ("infinite" is not offered)


def lease_seconds(text):
    """'3600', '45m', '12h', '2d' -> seconds within LEASE_MIN..LEASE_MAX; ValueError."""
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}.get(text[-1:].lower())
    num = text[:-1] if unit else text
    if not num.isdigit() or len(num) > 8:
        raise ValueError("not a lease time (seconds, or a number with s, m, h, d or w)")
    v = int(num) * (unit or 1)
    if not LEASE_MIN <= v <= LEASE_MAX:
        raise ValueError("lease time out of range %d s .. %d s" % (LEASE_MIN, LEASE_MAX))
    return v


def _set_dhcp_range(cfg, value):
    # dhcp-range=START,END[,NETMASK][,LEASE]
    parts = value.split(",")
    if not 2 <= len(parts) <= 4:
        return "dhcp-range=START,END[,NETMASK][,LEASE] (IPv4)"
    try:
        first, last = V.ip_int(parts[0]), V.ip_int(parts[1])
        mask = None
        lease = LEASE_DEFAULT
        rest = parts[2:]
        if rest and "." in rest[0]:
            mb = parse_ipv4(rest.pop(0))
            if mb is None or prefix_of(mb) < 0:
                raise ValueError("not a netmask: %r" % parts[2])
            mask = ipv4_int(mb)
        if rest:
            lease = lease_seconds(rest[0])
    except ValueError as e:
        return str(e)
    if last < first:
        return "the range ends before it starts"
    cfg.dhcp_range = (first, last, mask, lease)
    return ""


def _set_dhcp_host(cfg, value):
    # dhcp-host=MAC,IP[,NAME] (the IP and the name in either order)
    parts = value.split(",")
    if not 2 <= len(parts) <= 3:
        return "dhcp-host=MAC,IP[,NAME]"
    try:
        mac = V.mac_bytes(parts[0].lower())
        ip = None
        name = None
        for p in parts[1:]:
            if parse_ipv4(p) is not None:
                ip = V.ip_int(p)
            else:
                domain_wire(p)
                if "." in p:
                    raise ValueError("a host name is one label: %r" % p)
                name = p.lower()
        if ip is None:
            raise ValueError("no IPv4 address")
    except ValueError as e:
        return str(e)
    if len(cfg.dhcp_hosts) >= MAX_DHCP_HOSTS:
        return "more than %d dhcp-host entries" % MAX_DHCP_HOSTS
    cfg.dhcp_hosts = cfg.dhcp_hosts + [(mac, ip, name)]
    return ""


_DHCP_OPTIONS = {"3": "router", "6": "dns-server", "15": "domain-name"}


def _set_dhcp_option(cfg, value):
    # dhcp-option=3,IP | option:router,IP | 6,IP[,IP..] | option:dns-server,.. | 15,NAME
    code, sep, rest = value.partition(",")
    code = code[7:] if code.startswith("option:") else _DHCP_OPTIONS.get(code, code)
    if code not in _DHCP_OPTIONS.values():
        return "option %s is not offered by dnsbox (router, dns-server, domain-name are)" % code
    try:
        if code == "router":
            cfg.dhcp_router = V.ip_int(rest) if rest else 0
        elif code == "dns-server":
            ips = [V.ip_int(x) for x in rest.split(",")] if rest else []
            if len(ips) > MAX_DHCP_DNS:
                raise ValueError("more than %d addresses" % MAX_DHCP_DNS)
            cfg.dhcp_dns = ips
        else:
            domain_wire(rest)
            cfg.dhcp_domain = rest.lower().rstrip(".") or None
    except ValueError as e:
        return str(e)
    return ""


SETTINGS = {
    "dhcp-range": (_set_dhcp_range, False, False),
    "dhcp-host": (_set_dhcp_host, False, False),
    "dhcp-option": (_set_dhcp_option, False, False),
}
LISTS = {"dhcp-host": "dhcp_hosts"}
