"""Settings of the box itself: its address and network, mode, ports, name, the NTP server."""
from dnsbox.config import values as V
from dnsbox.config.nets import ip_text, mask_of, parse_ipv4, prefix_of

MODES = ("auth", "resolver", "client")  # modes this firmware implements
MAX_ENDPOINT = 100  # characters of http-endpoint=


def _set_ip(cfg, value):
    if value == "dhcp":
        return None
    b = parse_ipv4(value)
    if b is None:
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
        return "not an IPv4 address"
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
    "mode": (_set_mode, False, False),
    "port": (V.parsed("port", V.port), False, False),
    "hostname": (_set_hostname, False, False),
    "iface": (_set_iface, False, False),
    "mac": (_set_mac, False, False),
    "conf-file": (_set_conf_file, False, False),
    "ntp-server": (V.parsed("ntp", V.ntp_server), False, False),
    "tls-port": (V.port_or_off("tls_port"), False, False),
    "https-port": (V.port_or_off("https_port"), False, False),
    "http-endpoint": (_set_endpoint, False, False),
}
LISTS = {}  # list keys -> the Config attribute they fill
