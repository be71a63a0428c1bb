"""Settings of the box itself: its address and network, mode, ports, name, the NTP server."""
from dnsbox.config import values as V
from dnsbox.config.nets import ip_text, mask_of, parse_ipv4, parse_ipv6, prefix_of

MODES = ("auth", "resolver", "client")  # modes this firmware implements
MAX_ENDPOINT = 100  # characters of http-endpoint=


def _set_ip(cfg, value):
    if value == "dhcp":
        return None
    b = parse_ipv4(value)
    if b is None:
        if parse_ipv6(value.split("/")[0]) is not None:
            return "an IPv6 address goes in ip6=ADDR/LEN (ip= is IPv4 or 'dhcp')"
        return "not an IPv4 address or 'dhcp'"
    if b[0] == 0 or b[0] >= 224:
        return "not a usable unicast address"
    return None


def _set_netmask(cfg, value):
    if value.isdigit() and len(value) <= 2:
        n = int(value)
        if n > 32:
            return "prefix length over 32"
        cfg.netmask = ip_text(mask_of(n))
        return ""  # already stored in dotted form
    b = parse_ipv4(value)
    if b is None:
        return "not a netmask (dotted quad or prefix length)"
    if prefix_of(b) < 0:
        return "netmask bits are not contiguous"
    return None


def _set_gw(cfg, value):
    if parse_ipv4(value) is None:
        if parse_ipv6(value) is not None:
            return "an IPv6 router goes in gw6="
        return "not an IPv4 address"
    return None


def _set_ip6(cfg, value):
    # ip6=ADDR/LEN (static), ip6=auto (SLAAC: router advertisements), ip6=off (no IPv6)
    if value in ("auto", "off"):
        return None
    addr, sep, plen = value.partition("/")
    b = parse_ipv6(addr)
    if b is None:
        return "not an IPv6 address/prefix length (like 2001:db8::53/64), 'auto' or 'off'"
    if sep and (not plen.isdigit() or len(plen) > 3 or int(plen) > 128):
        return "prefix length out of range 0..128"
    if b[0] == 0xFF or not any(b):
        return "not a usable unicast address"
    from dnsbox.wire.rd_std import ipv6_to_text

    cfg.ip6 = "%s/%s" % (ipv6_to_text(b), plen if sep else "64")
    return ""


def _set_gw6(cfg, value):
    # gw6=ADDR: the IPv6 default router (a link-local one, fe80::1, is the usual)
    b = parse_ipv6(value)
    if b is None or b[0] == 0xFF or not any(b):
        return "not a unicast IPv6 address"
    return None


def _set_mode(cfg, value):
    if value in MODES:
        return None
    return "unknown mode (known: %s)" % ", ".join(MODES)


def _set_endpoint(cfg, value):
    if value[0] != "/" or len(value) > MAX_ENDPOINT:
        return "a URL path starting with / (at most %d characters)" % MAX_ENDPOINT
    for c in value:
        if c <= " " or c > "~" or c in "?#%":
            return "only printable characters, no spaces, '?', '#' or '%'"
    cfg.http_endpoint = value
    return ""


def _set_hostname(cfg, value):
    if len(value) > 63:
        return "longer than 63 characters"
    for c in value:
        if not (c.isalpha() or c.isdigit() or c in "-._"):
            return "only letters, digits, '-', '.' and '_' are allowed"
    return None


def _set_state(cfg, value):
    """state=DIR: an absolute directory path of printable characters (the writable state)."""
    if not value.startswith("/"):
        return "an absolute directory path (like /state)"
    for c in value:
        if c <= " " or c > "~":
            return "only printable characters, no spaces"
    return None


def _set_iface(cfg, value):
    if len(value) > 15:
        return "interface names are at most 15 characters"
    for c in value:
        if not (c.isalpha() or c.isdigit() or c in "-_."):
            return "not an interface name"
    return None


def _set_mac(cfg, value):
    """aa:bb:cc:dd:ee:ff, a unicast address that is not all zeros (stored lower-case)."""
    parts = value.split(":")
    if len(parts) != 6:
        return "not a MAC address (six hex pairs like 02:00:00:00:00:01)"
    for p in parts:
        if len(p) != 2 or p[0] not in V.HEX_DIGITS or p[1] not in V.HEX_DIGITS:
            return "not a MAC address (six hex pairs like 02:00:00:00:00:01)"
    if int(parts[0], 16) & 1:
        return "a multicast address cannot be an interface's address"
    if value.replace(":", "").replace("0", "") == "":
        return "the all-zero address is not allowed"
    cfg.mac = value.lower()
    return ""


def _set_conf_file(cfg, value):
    # conf-file=PATH: dnsbox.main reads it before the other settings (dnsmasq's name)
    for c in value:
        if c <= " " or c > "~":
            return "a file name of printable characters without spaces"
    cfg.conf_file = value
    return ""


# key -> (setter, fatal if bad, flag: may be given without a value)
SETTINGS = {
    "ip": (_set_ip, True, False),
    "netmask": (_set_netmask, True, False),
    "gw": (_set_gw, False, False),
    "ip6": (_set_ip6, False, False),
    "gw6": (_set_gw6, False, False),
    "mode": (_set_mode, False, False),
    "port": (V.parsed("port", V.port), False, False),
    "hostname": (_set_hostname, False, False),
    "iface": (_set_iface, False, False),
    "state": (_set_state, False, False),
    "mac": (_set_mac, False, False),
    "conf-file": (_set_conf_file, False, False),
    "ntp-server": (V.parsed("ntp", V.ntp_server), False, False),
    "tls-port": (V.port_or_off("tls_port"), False, False),
    "https-port": (V.port_or_off("https_port"), False, False),
    "http-endpoint": (_set_endpoint, False, False),
}
LISTS = {}  # list keys -> the Config attribute they fill
