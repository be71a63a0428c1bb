"""Settings: one grammar for boot variables (/proc/cmdline) and config-file lines.

A setting is `key=value` or a bare flag (`domain-needed`). Option names are dnsmasq's where
dnsmasq has the feature (server=, address=, host-record=, local=, domain-needed, bogus-priv,
cache-size=, port=, auth-peer=), so a dnsmasq user recognises them. The config file compiled
into the image (dnsbox.siteconf.TEXT) is read first, then the boot variables: a boot variable
overrides the file's value, and for the list options (server=, address=, host-record=, local=,
allow=, auth-peer=) the first boot variable of that name replaces the file's whole list.

Parsing never raises: every bad word becomes a Problem naming the option and where it came from
(config line N or boot variable), and the setting keeps its safe default. A setting with no safe
default (a malformed address) is marked fatal so that boot halts with a clear message instead of
guessing. dnsmasq options that dnsbox does not implement are reported as such, never silently
ignored.
"""

# Limits on what we read (a kernel command line is at most a few KiB; config lines are short).
MAX_WORDS = 256  # words considered; the rest are reported and ignored
MAX_VALUE = 255  # characters in one value
MAX_LINES = 1024  # lines of a config file
MAX_SERVERS = 16  # upstream servers (server=), all domains together
MAX_LOCAL = 256  # address=, host-record=, local= entries together
MAX_ALLOW = 16  # networks in allow=
MAX_PEERS = 16  # networks in auth-peer=
MAX_NOTIFY = 16  # secondaries in also-notify=
MAX_UPDATERS = 16  # networks in allow-update=
MAX_DHCP_HOSTS = 256  # dhcp-host= entries
MAX_DHCP_DNS = 4  # addresses in dhcp-option=6
LEASE_DEFAULT = 3600  # DHCP lease seconds unless dhcp-range= says otherwise (dnsmasq's 1h)
LEASE_MIN = 120  # shortest lease accepted (dnsmasq's 2 minutes)
LEASE_MAX = 31536000  # longest: a year ("infinite" is not offered)
CACHE_DEFAULT = 4096  # cache entries unless cache-size= says otherwise
CACHE_MAX = 65536  # cache-size= ceiling (each entry holds one response, ~100-600 bytes)
HOST_TTL = 0  # TTL of local answers (dnsmasq's local-ttl default is 0)

# Words the kernel or boot loader uses for itself: ignored silently, they are not ours.
KERNEL_WORDS = (
    "console", "earlycon", "earlyprintk", "cma", "panic", "root", "rootwait", "rootfstype",
    "rdinit", "init", "initrd", "quiet", "loglevel", "ignore_loglevel", "ro", "rw", "mem",
    "BOOT_IMAGE", "printk.time", "nokaslr", "random.trust_cpu", "net.ifnames", "vmalloc",
    "debug", "splash", "noinitrd", "rootdelay", "consoleblank", "fsck.mode",
)

MODES = ("auth", "resolver", "client")  # modes this firmware implements
LIST_KEYS = ("server", "address", "host-record", "local", "allow", "auth-peer", "dhcp-host",
             "also-notify", "allow-update")

# dnsmasq options this firmware does not implement: reported by name, never silently ignored.
DNSMASQ_OTHER = (
    "interface", "except-interface", "listen-address", "bind-interfaces", "bind-dynamic",
    "no-dhcp-interface", "auth-server", "auth-zone", "auth-soa", "auth-sec-servers", "user",
    "group", "pid-file", "resolv-file", "conf-file", "conf-dir", "addn-hosts", "hostsdir",
    "expand-hosts", "domain", "cname", "mx-host", "mx-target", "txt-record", "srv-host",
    "ptr-record", "naptr-record", "caa-record", "dns-rr", "interface-name", "synth-domain",
    "neg-ttl", "local-ttl", "max-ttl", "max-cache-ttl", "min-cache-ttl", "auth-ttl",
    "no-negcache", "strict-order", "all-servers", "dnssec", "trust-anchor", "dnssec-check-unsigned",
    "stop-dns-rebind", "rebind-localhost-ok", "rebind-domain-ok", "filterwin2k", "log-queries",
    "log-facility", "log-async", "dns-forward-max", "query-port", "min-port", "max-port",
    "edns-packet-max", "ipset", "nftset", "connmark-allowlist", "add-mac", "add-subnet",
    "add-cpe-id", "rev-server", "bogus-nxdomain", "ignore-address", "alias", "clear-on-reload",
    "dhcp-boot", "dhcp-authoritative", "dhcp-leasefile",
    "enable-tftp", "tftp-root", "enable-ra", "keep-in-foreground", "no-daemon", "cache-rr",
    "strip-mac", "strip-subnet", "umbrella", "no-round-robin", "localmx",
    "selfmx", "server-file", "servers-file", "address-file", "no-poll", "fast-dns-retry",
)
# dnsmasq options whose behaviour is what dnsbox always does: accepted, nothing to set.
DNSMASQ_DEFAULTS = ("no-resolv", "no-hosts", "local-service", "no-poll")


class Problem:
    def __init__(self, key, value, reason, fatal=False, where=None):
        self.key = key
        self.value = value
        self.reason = reason
        self.fatal = fatal
        self.where = where  # None: boot variable; an int: config line number

    def __str__(self):
        src = "boot variable" if self.where is None else "config line %d:" % self.where
        word = self.key if self.value is None else "%s=%s" % (self.key, self.value)
        return "%s %s: %s" % (src, word, self.reason)


class Config:
    """The settings with their defaults. `host` is True for the build that runs on a PC."""

    def __init__(self, host=False):
        self.host = host
        self.mode = "auth"
        self.ip = "127.0.0.1" if host else "dhcp"
        self.netmask = "255.255.255.0"
        self.gw = None
        self.port = 5353 if host else 53
        self.hostname = None  # answers NSID and CH TXT id.server / hostname.bind when set
        self.iface = "eth0"
        self.mac = None  # Ethernet address to set before the link comes up (None: keep it)
        # resolver mode
        self.servers = []  # [(domain lower-case wire or None for all, ip text, port)]
        self.addresses = []  # [(domain lower-case wire, ip bytes 4/16 or None: NXDOMAIN)]
        self.hosts = []  # [(name lower-case wire, ipv4 bytes or None, ipv6 bytes or None)]
        self.locals = []  # [domain lower-case wire]: answered locally only, never forwarded
        self.allow = None  # [(network int, mask int)]; None: own subnet and loopback
        self.peers = []  # [(network int, mask int)] that may transfer zones (AXFR/IXFR over TCP)
        self.tls_port = 0  # DNS over TLS (RFC 7858) port; 0: off
        self.notify = []  # [(ip text, port)]: secondaries sent NOTIFY at start (also-notify=)
        self.update_zone = None  # the in-memory zone changed by DNS UPDATE (update-zone=)
        self.updaters = []  # [(network, mask)] that may send UPDATE over TCP (allow-update=)
        self.update_key = None  # (key name, secret bytes): TSIG HMAC-SHA256 (update-key=)
        self.xfr_key = None  # (key name, secret bytes): transfers signed with it (xfr-key=)
        self.ntp = None  # (ip text, port): the wall clock's NTP server (ntp-server=), TSIG's time
        # DHCP server (dnsmasq's options): off unless dhcp-range= is given
        self.dhcp_range = None  # (first ip int, last ip int, netmask int or None, lease s)
        self.dhcp_hosts = []  # [(mac bytes, ip int, name or None)]
        self.dhcp_router = None  # ip int (None: gw=), 0: none
        self.dhcp_dns = None  # [ip int] (None: the appliance in resolver mode)
        self.dhcp_domain = None  # domain for option 15 and for the DNS names of leases
        self.https_port = 0  # DNS over HTTPS (RFC 8484) port; 0: off
        self.http_endpoint = "/dns-query"  # its URL path
        self.domain_needed = False
        self.bogus_priv = False
        self.do_0x20 = False  # random case in questions to server=, echoed case checked
        self.use0x20 = True  # the same when recursing (use-caps-for-id=, Unbound's name)
        self.qmin = True  # QNAME minimisation when recursing (RFC 9156; qname-minimisation=)
        self.dns64 = None  # (prefix bytes, length): DNS64 synthesis (dns64-prefix=), or off
        self.mdns = False  # names under .local asked on the link by multicast DNS (mdns-bridge)
        self.cache_size = CACHE_DEFAULT
        self.hints = None  # [(ns name, ip, port)] from hints=; None: the compiled-in root hints
        # client mode (server=, port= are shared with the other modes)
        self.domain = None
        self.qtype = "A"
        self.problems = []
        self._boot_lists = []  # list keys already set by a boot variable (they replace the file)

    def fatal(self):
        return [p for p in self.problems if p.fatal]

    def upstreams(self):
        """server= entries with an address (domain None = the default servers)."""
        return [s for s in self.servers if s[1]]


# --- value parsers (return the value, or raise ValueError with the reason) -------------------


def parse_ipv4(text):
    """'10.0.2.15' -> 4 bytes, or None if it is not a dotted quad of 0..255."""
    parts = text.split(".")
    if len(parts) != 4:
        return None
    out = bytearray(4)
    for i in range(4):
        p = parts[i]
        if not p or len(p) > 3 or not p.isdigit():
            return None
        v = int(p)
        if v > 255:
            return None
        out[i] = v
    return bytes(out)


def parse_ipv6(text):
    """IPv6 text -> 16 bytes, or None."""
    from dnsbox.wire import rd_std
    from dnsbox.wire.errors import TextError

    try:
        return rd_std.ipv6_from_text(text)
    except (TextError, ValueError):
        return None


def ipv4_int(b):
    return (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]


def ip_text(v):
    """An IPv4 address as an int -> dotted text."""
    return "%d.%d.%d.%d" % (v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255)


def prefix_of(mask):
    """Netmask bytes -> prefix length, or -1 if the ones are not contiguous."""
    bits = ipv4_int(mask)
    n = 0
    while n < 32 and bits & (0x80000000 >> n):
        n += 1
    if bits & ((1 << (32 - n)) - 1):
        return -1
    return n


def mask_of(prefix):
    return (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF


def parse_network(text):
    """'10.0.0.0/8' or '10.1.2.3' -> (network int, mask int); ValueError."""
    if "/" in text:
        addr, pl = text.split("/", 1)
        if not pl.isdigit() or len(pl) > 2 or int(pl) > 32:
            raise ValueError("bad prefix length in %r" % text)
        prefix = int(pl)
    else:
        addr, prefix = text, 32
    b = parse_ipv4(addr)
    if b is None:
        raise ValueError("not an IPv4 network: %r" % text)
    m = mask_of(prefix)
    return ipv4_int(b) & m, m


def allowed(nets, ip):
    """True if the IPv4 address ip (an int) is in one of nets [(network, mask)]."""
    k = len(nets) - 1
    while k >= 0:
        if ip & nets[k][1] == nets[k][0]:
            return True
        k -= 1
    return False


def domain_wire(text):
    """Domain text -> lower-case wire bytes; ValueError."""
    from dnsbox.wire import name as _name
    from dnsbox.wire.errors import TextError

    if text in ("", "."):
        raise ValueError("empty domain")
    try:
        return _name.from_text(text.rstrip(".") + ".").lc
    except TextError as e:
        raise ValueError(str(e))


def _port(text):
    if not text.isdigit() or len(text) > 5:
        raise ValueError("not a port number")
    v = int(text)
    if v < 1 or v > 65535:
        raise ValueError("port out of range 1..65535")
    return v


def _domains(value):
    """'/a.com/b.org/rest' -> ([wire, wire], 'rest'); ValueError."""
    parts = value[1:].split("/")
    if len(parts) < 2:
        raise ValueError("expected /domain/ (a closing '/')")
    rest = parts[-1]
    out = []
    for d in parts[:-1]:
        out.append(domain_wire(d))
    return out, rest


# --- setters: setter(cfg, value) -> None (store value as given), "" (stored), or a reason -----


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


def _set_port(cfg, value):
    try:
        cfg.port = _port(value)
    except ValueError as e:
        return str(e)
    return ""


def _port_or_off(attr):
    # tls-port=N, https-port=N (Unbound's names; dnsmasq has neither); 0 turns it off
    def setter(cfg, value):
        if value == "0":
            setattr(cfg, attr, 0)
            return ""
        try:
            setattr(cfg, attr, _port(value))
        except ValueError as e:
            return str(e)
        return ""

    return setter


MAX_ENDPOINT = 100  # characters of http-endpoint=


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


_HEX = "0123456789abcdefABCDEF"  # digits of a MAC address


def _set_mac(cfg, value):
    """aa:bb:cc:dd:ee:ff, a unicast address that is not all zeros (stored lower-case)."""
    parts = value.split(":")
    if len(parts) != 6:
        return "not a MAC address (six hex pairs like 02:00:00:00:00:01)"
    for p in parts:
        if len(p) != 2 or p[0] not in _HEX or p[1] not in _HEX:
            return "not a MAC address (six hex pairs like 02:00:00:00:00:01)"
    if int(parts[0], 16) & 1:
        return "a multicast address cannot be an interface's address"
    if value.replace(":", "").replace("0", "") == "":
        return "the all-zero address is not allowed"
    cfg.mac = value.lower()
    return ""


def _ip_port(text):
    """'IP' or 'IP#port' -> (ip, port); ValueError. IPv4 only (the appliance has no IPv6)."""
    port = 53
    if "#" in text:
        text, p = text.split("#", 1)
        port = _port(p)
    if parse_ipv4(text) is None:
        if parse_ipv6(text) is not None:
            raise ValueError("IPv6 upstreams are not supported yet (IPv4 only)")
        raise ValueError("not an IPv4 address")
    return text, port


def _set_server(cfg, value):
    # server=IP[#port] | server=/domain/[domain/]IP[#port] | server=/domain/ (local only)
    try:
        if value.startswith("/"):
            doms, rest = _domains(value)
            if rest == "" or rest == "#":
                if rest == "#":
                    return "server=/domain/# (use the default servers) is not implemented"
                for d in doms:
                    cfg.locals.append(d)
                return ""
            ip, port = _ip_port(rest)
            new = [(d, ip, port) for d in doms]
        else:
            ip, port = _ip_port(value)
            new = [(None, ip, port)]
    except ValueError as e:
        return str(e)
    if len(cfg.servers) + len(new) > MAX_SERVERS:
        return "more than %d upstream servers" % MAX_SERVERS
    cfg.servers += new
    return ""


def _set_address(cfg, value):
    # address=/domain/[domain/]IP  (also every name below domain); address=/domain/ -> NXDOMAIN
    try:
        doms, rest = _domains(value if value.startswith("/") else "")
        if rest in ("", "#"):
            ip = None
        else:
            ip = parse_ipv4(rest) or parse_ipv6(rest)
            if ip is None:
                raise ValueError("not an IPv4 or IPv6 address: %r" % rest)
    except ValueError as e:
        return str(e)
    if len(cfg.addresses) + len(cfg.hosts) + len(cfg.locals) + len(doms) > MAX_LOCAL:
        return "more than %d local entries" % MAX_LOCAL
    for d in doms:
        cfg.addresses.append((d, ip))
    return ""


def _set_host_record(cfg, value):
    # host-record=name[,name..],[IPv4][,IPv6][,TTL]
    names = []
    v4 = v6 = None
    for part in value.split(","):
        if not part:
            continue
        b = parse_ipv4(part)
        if b is not None:
            if v4 is not None:
                return "more than one IPv4 address"
            v4 = b
            continue
        if ":" in part:
            b = parse_ipv6(part)
            if b is None:
                return "not an IPv6 address: %r" % part
            if v6 is not None:
                return "more than one IPv6 address"
            v6 = b
            continue
        if part.isdigit():
            return "a TTL in host-record is not implemented"
        if v4 is not None or v6 is not None:
            return "names must come before the addresses"
        try:
            names.append(domain_wire(part))
        except ValueError as e:
            return str(e)
    if not names:
        return "no name"
    if v4 is None and v6 is None:
        return "no address"
    if len(cfg.addresses) + len(cfg.hosts) + len(cfg.locals) + len(names) > MAX_LOCAL:
        return "more than %d local entries" % MAX_LOCAL
    for n in names:
        cfg.hosts.append((n, v4, v6))
    return ""


def _set_local(cfg, value):
    # local=/domain/[domain/]: answered from local data only, never forwarded
    try:
        doms, rest = _domains(value if value.startswith("/") else "")
    except ValueError as e:
        return str(e)
    if rest:
        return "local= takes /domain/ only (an upstream goes in server=)"
    cfg.locals += doms
    return ""



def _ip_int(text):
    b = parse_ipv4(text)
    if b is None:
        raise ValueError("not an IPv4 address: %r" % text)
    return ipv4_int(b)


def _lease_seconds(text):
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
        first, last = _ip_int(parts[0]), _ip_int(parts[1])
        mask = None
        lease = LEASE_DEFAULT
        rest = parts[2:]
        if rest and "." in rest[0]:
            mb = parse_ipv4(rest.pop(0))
            if mb is None or prefix_of(mb) < 0:
                raise ValueError("not a netmask: %r" % parts[2])
            mask = ipv4_int(mb)
        if rest:
            lease = _lease_seconds(rest[0])
    except ValueError as e:
        return str(e)
    if last < first:
        return "the range ends before it starts"
    cfg.dhcp_range = (first, last, mask, lease)
    return ""


def _mac_bytes(text):
    parts = text.split(":")
    if len(parts) != 6 or any(len(p) != 2 or p[0] not in _HEX or p[1] not in _HEX for p in parts):
        raise ValueError("not a MAC address: %r" % text)
    return bytes(int(p, 16) for p in parts)


def _set_dhcp_host(cfg, value):
    # dhcp-host=MAC,IP[,NAME] (the IP and the name in either order)
    parts = value.split(",")
    if not 2 <= len(parts) <= 3:
        return "dhcp-host=MAC,IP[,NAME]"
    try:
        mac = _mac_bytes(parts[0].lower())
        ip = None
        name = None
        for p in parts[1:]:
            if parse_ipv4(p) is not None:
                ip = _ip_int(p)
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
            cfg.dhcp_router = _ip_int(rest) if rest else 0
        elif code == "dns-server":
            ips = [_ip_int(x) for x in rest.split(",")] if rest else []
            if len(ips) > MAX_DHCP_DNS:
                raise ValueError("more than %d addresses" % MAX_DHCP_DNS)
            cfg.dhcp_dns = ips
        else:
            domain_wire(rest)
            cfg.dhcp_domain = rest.lower().rstrip(".") or None
    except ValueError as e:
        return str(e)
    return ""


def _set_dns64(cfg, value):
    # dns64-prefix=PREFIX/LEN (Unbound's name); "off" turns it off
    if value == "off":
        cfg.dns64 = None
        return ""
    from dnsbox.resolver import dns64

    try:
        cfg.dns64 = dns64.parse_prefix(value, parse_ipv6)
    except ValueError as e:
        return str(e)
    return ""


def _set_update_zone(cfg, value):
    try:
        domain_wire(value)
    except ValueError as e:
        return str(e)
    if value.strip(".") == "":
        return "not the root"
    cfg.update_zone = value if value.endswith(".") else value + "."
    return ""



def _tsig_key(attr):
    # update-key=, xfr-key=: [hmac-sha256:]NAME:BASE64 (nsupdate -y's form)
    def setter(cfg, value):
        key = _parse_tsig_key(value)
        if isinstance(key, str):
            return key
        setattr(cfg, attr, key)
        return ""

    return setter


def _parse_tsig_key(value):
    """(name, secret bytes), or the reason (str)."""
    import binascii

    parts = value.split(":")
    if len(parts) == 3:
        if parts[0].lower() != "hmac-sha256":
            return "algorithm %s: only hmac-sha256 is offered" % parts[0]
        parts = parts[1:]
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return "update-key=[hmac-sha256:]NAME:BASE64SECRET"
    try:
        domain_wire(parts[0])
        secret = binascii.a2b_base64(parts[1])
    except ValueError as e:
        return "bad key: %s" % e
    if len(secret) < 16:
        return "the secret is shorter than 16 bytes"
    return parts[0].lower(), secret


def _set_ntp(cfg, value):
    # ntp-server=IP[#port]
    try:
        ip, port = _ip_port(value if "#" in value else value + "#123")
    except ValueError as e:
        return str(e)
    cfg.ntp = (ip, port)
    return ""


def _set_notify(cfg, value):
    # also-notify=IP[#port][,IP[#port]..] (BIND's and NSD's name)
    try:
        targets = [_ip_port(x) for x in value.split(",")]
    except ValueError as e:
        return str(e)
    if len(cfg.notify) + len(targets) > MAX_NOTIFY:
        return "more than %d secondaries" % MAX_NOTIFY
    cfg.notify = cfg.notify + targets
    return ""


def _net_list(attr, limit, any_ok=False):
    """The setter of a list of networks: NET[/LEN][,NET..] (allow=, auth-peer=, allow-update=);
    with any_ok, the word "any" (0.0.0.0/0: for allow=, an open resolver only when asked for in
    so many words)."""

    def setter(cfg, value):
        nets = []
        for part in value.split(","):
            if any_ok and part == "any":
                nets.append((0, 0))
                continue
            try:
                nets.append(parse_network(part))
            except ValueError as e:
                return str(e)
        old = getattr(cfg, attr) or []
        if len(old) + len(nets) > limit:
            return "more than %d networks" % limit
        setattr(cfg, attr, old + nets)
        return ""

    return setter


def _set_cache_size(cfg, value):
    if not value.isdigit() or len(value) > 7:
        return "not a number of entries"
    v = int(value)
    if v > CACHE_MAX:
        return "over the limit of %d entries" % CACHE_MAX
    cfg.cache_size = v
    return ""


def _set_hints(cfg, value):
    from dnsbox.resolver import hints

    try:
        cfg.hints = hints.parse(value)
    except ValueError as e:
        return str(e)
    return ""


def _set_domain(cfg, value):
    try:
        domain_wire(value)
    except ValueError as e:
        return str(e)
    cfg.domain = value
    return ""


def _set_type(cfg, value):
    from dnsbox.wire import types as _t
    from dnsbox.wire.errors import TextError

    try:
        _t.type_from_text(value)
    except TextError as e:
        return str(e)
    cfg.qtype = value.upper()
    return ""


def _flag(attr):
    def setter(cfg, value):
        if value not in (None, "1", "yes", "true", "0", "no", "false"):
            return "a flag takes no value (or 1/0, yes/no)"
        setattr(cfg, attr, value in (None, "1", "yes", "true"))
        return ""

    return setter


# key -> (setter, fatal if bad, flag: may be given without a value).
SETTINGS = {
    "ip": (_set_ip, True, False),
    "netmask": (_set_netmask, True, False),
    "gw": (_set_gw, False, False),
    "mode": (_set_mode, False, False),
    "port": (_set_port, False, False),
    "hostname": (_set_hostname, False, False),
    "iface": (_set_iface, False, False),
    "mac": (_set_mac, False, False),
    "server": (_set_server, False, False),
    "address": (_set_address, False, False),
    "host-record": (_set_host_record, False, False),
    "local": (_set_local, False, False),
    "allow": (_net_list("allow", MAX_ALLOW, True), False, False),
    "auth-peer": (_net_list("peers", MAX_PEERS), False, False),
    "also-notify": (_set_notify, False, False),
    "update-zone": (_set_update_zone, False, False),
    "allow-update": (_net_list("updaters", MAX_UPDATERS), False, False),
    "update-key": (_tsig_key("update_key"), False, False),
    "xfr-key": (_tsig_key("xfr_key"), False, False),
    "ntp-server": (_set_ntp, False, False),
    "tls-port": (_port_or_off("tls_port"), False, False),
    "dhcp-range": (_set_dhcp_range, False, False),
    "dhcp-host": (_set_dhcp_host, False, False),
    "dhcp-option": (_set_dhcp_option, False, False),
    "https-port": (_port_or_off("https_port"), False, False),
    "http-endpoint": (_set_endpoint, False, False),
    "cache-size": (_set_cache_size, False, False),
    "hints": (_set_hints, False, False),
    "domain-needed": (_flag("domain_needed"), False, True),
    "bogus-priv": (_flag("bogus_priv"), False, True),
    "do-0x20-encode": (_flag("do_0x20"), False, True),
    "use-caps-for-id": (_flag("use0x20"), False, True),
    "qname-minimisation": (_flag("qmin"), False, True),
    "dns64-prefix": (_set_dns64, False, False),
    "mdns-bridge": (_flag("mdns"), False, True),
    "domain": (_set_domain, False, False),
    "type": (_set_type, False, False),
}
_ATTR = {
    "server": "servers", "address": "addresses", "host-record": "hosts", "local": "locals",
    "auth-peer": "peers", "dhcp-host": "dhcp_hosts", "also-notify": "notify",
    "allow-update": "updaters",
}


def _problem(cfg, key, value, reason, fatal, where):
    cfg.problems.append(Problem(key, value, reason, fatal, where))


def apply(cfg, word, where=None):
    """Apply one `key=value` or flag word; where: None for a boot variable, else the line number.
    Bad words are recorded in cfg.problems."""
    if "=" in word:
        key, value = word.split("=", 1)
    else:
        key, value = word, None
    if where is None and (key in KERNEL_WORDS or "." in key):
        return  # the kernel's own words, or a kernel module's (module.param=value)
    entry = SETTINGS.get(key)
    if entry is None:
        if key in DNSMASQ_DEFAULTS:
            return
        if key in DNSMASQ_OTHER:
            _problem(cfg, key, value, "dnsmasq option not implemented by dnsbox (ignored)",
                     False, where)
        elif value is None and where is None:
            _problem(cfg, key, None, "not a key=value boot variable", False, where)
        else:
            _problem(cfg, key, value, "unknown option (ignored)", False, where)
        return
    if value is None and not entry[2]:
        _problem(cfg, key, None, "needs a value (%s=...)" % key, entry[1], where)
        return
    if value is not None and len(value) > MAX_VALUE:
        _problem(cfg, key, value[:20] + "...", "value too long", entry[1], where)
        return
    if value == "":
        _problem(cfg, key, value, "empty value", entry[1], where)
        return
    if where is None and key in LIST_KEYS and key not in cfg._boot_lists:
        cfg._boot_lists.append(key)  # the first boot variable of a list replaces the file's list
        if key == "allow":
            cfg.allow = None
        else:
            setattr(cfg, _ATTR[key], [])
    reason = entry[0](cfg, value)
    if reason is None:
        setattr(cfg, key, value)
    elif reason:
        _problem(cfg, key, value, reason, entry[1], where)


def apply_file(cfg, text):
    """Config-file text: one option per line, '#' comments, blank lines ignored."""
    lines = text.split("\n")
    for i in range(len(lines)):
        if i >= MAX_LINES:
            _problem(cfg, "(config file)", None, "more than %d lines" % MAX_LINES, False, i + 1)
            break
        line = lines[i].strip()
        if not line or line[0] == "#":
            continue
        apply(cfg, line, i + 1)


def parse(words, host=False, conf_text=None):
    """Config-file text (optional) then boot variables (a list of words) -> Config.
    Later words override earlier ones; boot variables override the file."""
    cfg = Config(host)
    if conf_text:
        apply_file(cfg, conf_text)
    for i in range(len(words)):
        if i >= MAX_WORDS:
            _problem(cfg, "(command line)", None, "more than %d words" % MAX_WORDS, False, None)
            break
        if words[i]:
            apply(cfg, words[i])
    return cfg


def split_cmdline(text):
    """/proc/cmdline text -> words. Double quotes group a value with spaces (as the kernel does)."""
    words = []
    cur = []
    quoted = False
    for c in text:
        if c == '"':
            quoted = not quoted
        elif (c == " " or c == "\n" or c == "\t") and not quoted:
            if cur:
                words.append("".join(cur))
                cur = []
        else:
            cur.append(c)
    if cur:
        words.append("".join(cur))
    return words
