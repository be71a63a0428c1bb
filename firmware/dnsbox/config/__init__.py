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

One settings table (SETTINGS: key -> setter, fatal if bad, flag) gathered from the areas:
config.box (the box: address, mode, ports), config.resolving, config.serving (authoritative
extras), config.dhcp, config.client, config.monitor (query log, status pages); value parsers
and shared setter makers in config.values;
address and network helpers, which every part uses, in the leaf config.nets. The cores get
explicit values from the Config (dnsbox.main does that), never the Config itself.
"""

from dnsbox.config import box, client, dhcp, monitor, records, resolving, serving

# Limits on what we read (a kernel command line is at most a few KiB; config lines are short).
MAX_WORDS = 256  # words considered; the rest are reported and ignored
MAX_VALUE = 255  # characters in one value
MAX_LINES = 1024  # lines of a config file
MAX_FILE_BYTES = 64 * 1024  # bytes of a config file or boot-variable file read (dnsbox.main)

KERNEL_WORDS = (
    "console", "earlycon", "earlyprintk", "cma", "panic", "root", "rootwait", "rootfstype",
    "rdinit", "init", "initrd", "quiet", "loglevel", "ignore_loglevel", "ro", "rw", "mem",
    "BOOT_IMAGE", "printk.time", "nokaslr", "random.trust_cpu", "net.ifnames", "vmalloc",
    "debug", "splash", "noinitrd", "rootdelay", "consoleblank", "fsck.mode",
)

DNSMASQ_OTHER = (
    "interface", "except-interface", "listen-address", "bind-interfaces", "bind-dynamic",
    "no-dhcp-interface", "auth-server", "auth-zone", "auth-soa", "auth-sec-servers", "user",
    "group", "pid-file", "resolv-file", "conf-dir", "hostsdir", "naptr-record", "caa-record",
    "dns-rr", "interface-name", "synth-domain",
    "neg-ttl", "local-ttl", "max-ttl", "max-cache-ttl", "min-cache-ttl", "auth-ttl",
    "no-negcache", "strict-order", "all-servers",
    "stop-dns-rebind", "rebind-localhost-ok", "rebind-domain-ok", "filterwin2k",
    "log-facility", "log-async", "dns-forward-max", "query-port", "min-port", "max-port",
    "edns-packet-max", "ipset", "nftset", "connmark-allowlist", "add-mac", "add-subnet",
    "add-cpe-id", "rev-server", "bogus-nxdomain", "ignore-address", "alias", "clear-on-reload",
    "dhcp-boot", "dhcp-authoritative", "dhcp-leasefile",
    "enable-tftp", "tftp-root", "enable-ra", "keep-in-foreground", "no-daemon", "cache-rr",
    "strip-mac", "strip-subnet", "umbrella", "no-round-robin", "localmx",
    "selfmx", "server-file", "servers-file", "address-file", "no-poll", "fast-dns-retry",
)
# dnsmasq options whose behaviour is what dnsbox always does: accepted, nothing to set.
DNSMASQ_DEFAULTS = ("no-resolv", "no-hosts", "local-service", "no-poll",
                    "dnssec-check-unsigned")

SETTINGS = {}  # key -> (setter, fatal if bad, flag: may be given without a value)
LISTS = {}  # list keys -> the Config attribute: the first boot variable replaces the file's list
for _area in (box, resolving, records, serving, dhcp, client, monitor):
    SETTINGS.update(_area.SETTINGS)
    LISTS.update(_area.LISTS)


class Problem:
    """A bad word: key, value (None for a flag), the reason, fatal (no safe default: boot halts),
    where it came from (src: "boot variable", "config line 3:", "dnsbox.txt line 7:"), ignored
    (the word has no effect at all, rather than its setting keeping the default)."""

    def __init__(self, key, value, reason, fatal=False, where=None, src=None, ignored=False):
        self.key = key
        self.value = value
        self.reason = reason
        self.fatal = fatal
        self.where = where  # None: boot variable; an int: line number
        self.src = src or ("boot variable" if where is None else "config line %d:" % where)
        self.ignored = ignored

    def __str__(self):
        word = self.key if self.value is None else "%s=%s" % (self.key, self.value)
        return "%s %s: %s" % (self.src, word, self.reason)

    def text(self):
        """The console line: what was wrong and what happens instead."""
        if self.fatal or self.ignored:
            return str(self)
        return str(self) + "; using the default"


class Config:
    """The settings with their defaults. `host` is True for the build that runs on a PC."""

    def __init__(self, host=False):
        self.host = host
        self.mode = "auth"
        self.ip = "127.0.0.1" if host else "dhcp"
        self.netmask = "255.255.255.0"
        self.gw = None
        # IPv6: "ADDR/LEN" (static, ip6=), "auto" (SLAAC from router advertisements) or "off";
        # the host build listens on ::1 beside ip= unless told otherwise
        self.ip6 = "::1/128" if host else "auto"
        self.gw6 = None  # the IPv6 default router (gw6=); SLAAC: the advertised one
        self.port = 5353 if host else 53
        self.hostname = None  # answers NSID and CH TXT id.server / hostname.bind when set
        self.iface = "eth0"
        self.mac = None  # Ethernet address to set before the link comes up (None: keep it)
        self.conf_file = None  # conf-file=: the config file read instead of the built-in one
        self.state = None  # state=DIR: the writable directory of journals and snapshots
        # resolver mode
        self.servers = []  # [(domain lower-case wire or None for all, ip text, port)]
        # DNS over TLS upstreams (server=IP#PORT#NAME[#sha256/PIN]): (ip, port) -> (name text
        # or None, pin bytes or None)
        self.tls_servers = {}
        self.tls_ca = None  # tls-ca=FILE: a PEM bundle of more CAs for those upstreams
        self.tls_ca_certs = ()  # its DER certificates (dnsbox.main.load_tls_ca fills it)
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
        self.secondaries = []  # [(zone text, (ip text, port), key pair or None)] (secondary=)
        self.ntp = None  # (ip text, port): the wall clock's NTP server (ntp-server=), TSIG's time
        # response rate limiting of UDP answers (NSD's rrl-* options; rrl-ratelimit=0: off)
        self.rrl_rate = serving.RRL_RATE
        self.rrl_slip = serving.RRL_SLIP
        self.rrl_v4 = serving.RRL_V4
        self.rrl_v6 = serving.RRL_V6
        self.rrl_wl_rate = serving.RRL_WHITELIST_RATE
        self.rrl_whitelist = ""  # response class names (rrl-whitelist=): rrl_wl_rate for them
        self.rrl_size = serving.RRL_SIZE
        self.rrl_allow_rate = 0  # resolver mode's clients (allow=): not limited unless set
        # DHCP server (dnsmasq's options): off unless dhcp-range= is given
        self.dhcp_range = None  # (first ip int, last ip int, netmask int or None, lease s)
        self.dhcp_hosts = []  # [(mac bytes, ip int, name or None)]
        self.dhcp_router = None  # ip int (None: gw=), 0: none
        self.dhcp_dns = None  # [ip int] (None: the appliance in resolver mode)
        self.dhcp_domain = None  # domain for option 15 and for the DNS names of leases
        self.https_port = 0  # DNS over HTTPS (RFC 8484) port; 0: off
        self.http_endpoint = "/dns-query"  # its URL path
        self.log_queries = False  # a console line per query (log-queries, dnsmasq's flag)
        self.ext_stats = False  # every answer counted by rcode, type, how (extended-statistics)
        self.http_port = 0  # plain HTTP status page and /metrics (http-port=); 0: off
        self.http_allow = None  # [(network, mask)] that may read them (http-allow=); None:
        # resolver mode's allow= networks, auth mode's own subnet (loopback always)
        self.domain_needed = False
        self.bogus_priv = False
        self.do_0x20 = False  # random case in questions to server=, echoed case checked
        self.use0x20 = True  # the same when recursing (use-caps-for-id=, Unbound's name)
        self.qmin = True  # QNAME minimisation when recursing (RFC 9156; qname-minimisation=)
        self.no_localhost = True  # do-not-query-localhost= (Unbound's): loopback glue refused
        self.cache_min_ttl = 0  # cache-min-ttl= (seconds; Unbound's name)
        self.cache_max_ttl = resolving.TTL_MAX  # cache-max-ttl= (seconds; Unbound's name)
        self.dns64 = None  # (prefix bytes, length): DNS64 synthesis (dns64-prefix=), or off
        self.mdns = False  # names under .local asked on the link by multicast DNS (mdns-bridge)
        self.dnssec = True  # DNSSEC validation in resolver mode (dnssec=no turns it off)
        self.anchors = []  # [(domain lower-case wire, DS rdata)] (trust-anchor=); []: built in
        self.insecure = []  # [domain lower-case wire] not validated (domain-insecure=)
        self.cache_size = resolving.CACHE_DEFAULT
        # RFC 8767 serve-stale and prefetch (Unbound's names and defaults: both off)
        self.serve_expired = False  # expired answers when resolution fails (serve-expired=)
        self.stale_ttl = resolving.STALE_TTL_DEFAULT  # s they are kept (serve-expired-ttl=)
        self.stale_reply_ttl = resolving.STALE_REPLY_TTL_DEFAULT  # their TTL (..-reply-ttl=)
        self.stale_wait = resolving.STALE_WAIT_DEFAULT  # ms (serve-expired-client-timeout=)
        self.prefetch = False  # refresh entries hit in their last tenth of TTL (prefetch=)
        self.hints = None  # [(ns name, ip, port)] from hints=; None: the compiled-in root hints
        # resolver mode's local records (dnsbox.config.records)
        self.cnames = []  # [(alias lower-case wire, target lower-case wire, ttl)]
        self.txt_records = []  # [(name lower-case wire, TXT rdata)]
        self.mx_hosts = []  # [(name, host or None: mx-target=/hostname=, preference)]
        self.mx_target = None  # lower-case wire
        self.srv_hosts = []  # [(name, target, port, priority, weight)]
        self.ptr_records = []  # [(name, target or None: NODATA)]
        self.addn_hosts = []  # [file name]: /etc/hosts-format files read at boot
        self.file_hosts = []  # their names, as hosts (dnsbox.main.load_hosts fills it)
        self.expand_hosts = False  # hosts-file names without a dot also under domain=
        # client mode: the query name; resolver mode: dnsmasq's local domain (config.records)
        self.domain = None
        self.qtype = "A"
        self.problems = []
        self._boot_lists = []  # list keys already set by a boot variable (they replace the file)
        self._src = None  # "FILE line N:" while a named file's line is applied

    def fatal(self):
        return [p for p in self.problems if p.fatal]

    def upstreams(self):
        """server= entries with an address (domain None = the default servers)."""
        return [s for s in self.servers if s[1]]


def _problem(cfg, key, value, reason, fatal, where, ignored=False):
    cfg.problems.append(Problem(key, value, reason, fatal, where, cfg._src, ignored))


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
            reason = "dnsmasq option not implemented by dnsbox (ignored)"
        elif value is None and where is None:
            reason = "not a key=value boot variable (ignored)"
        else:
            reason = "unknown option (ignored)"
        _problem(cfg, key, value, reason, False, where, True)
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
    if where is None and key in LISTS and key not in cfg._boot_lists:
        cfg._boot_lists.append(key)  # the first boot variable of a list replaces the file's list
        setattr(cfg, LISTS[key], None if key in ("allow", "http-allow") else [])
    reason = entry[0](cfg, value)
    if reason is None:
        setattr(cfg, key, value)
    elif reason:
        _problem(cfg, key, value, reason, entry[1], where)


def _lines(cfg, text, name):
    """(line number, option text) of a file: '#' comments and blank lines skipped; more than
    MAX_LINES lines are reported."""
    lines = text.split("\n")
    out = []
    for i in range(len(lines)):
        if i >= MAX_LINES:
            cfg._src = None if name is None else "%s line %d:" % (name, i + 1)
            _problem(cfg, "(%s)" % (name or "config file"), None,
                     "more than %d lines: the rest is ignored" % MAX_LINES, False, i + 1, True)
            break
        line = lines[i].strip()
        if line and line[0] != "#":
            out.append((i + 1, line))
    cfg._src = None
    return out


def apply_file(cfg, text, name=None):
    """Config-file text: one option per line, '#' comments, blank lines ignored. name: the
    file's name in messages ("NAME line N:"; None: "config line N:")."""
    for n, line in _lines(cfg, text, name):
        cfg._src = None if name is None else "%s line %d:" % (name, n)
        apply(cfg, line, n)
    cfg._src = None


def apply_boot_file(cfg, text, name):
    """A boot-variable file (the card's dnsbox.txt, read by the firmware itself): its lines are
    boot variables, each one kept (repeated keys fill the lists), reported as "NAME line N:".
    An empty value (`gw=`) means the default; `extra=` holds more words separated by spaces."""
    for n, line in _lines(cfg, text, name):
        cfg._src = "%s line %d:" % (name, n)
        if line.endswith("="):
            continue
        if line.startswith("extra="):
            for word in line[6:].split():
                apply(cfg, word)
        else:
            apply(cfg, line)
    cfg._src = None


def check(cfg):
    """What no single word shows: server= where the mode ignores it, and server= words that
    could not be read in resolver mode. There the resolver forwards to the servers that parsed;
    when none did, boot halts (fatal) rather than fall back to recursion from the root hints."""
    cfg._src = "settings:"
    records.check(cfg, lambda key, value, why: _problem(cfg, key, value, why, False, None,
                                                        True))
    cfg._src = None
    if cfg.mode == "auth" and cfg.servers:
        _problem(cfg, "server", None, "ignored in mode=auth (used in mode=resolver and "
                 "mode=client)", False, None, True)
    bad = [p for p in cfg.problems if p.key == "server" and p.value is not None]
    if cfg.mode != "resolver" or not bad:
        return
    ok = cfg.upstreams()
    for p in bad:
        if ok:
            p.ignored = True
            p.reason += " (ignored: forwarding to the server= that could be read)"
        else:
            p.fatal = True
            p.reason += " (no server= could be read: halted rather than recurse instead)"


def parse(words, host=False, conf_text=None, boot_text=None, boot_name="dnsbox.txt",
          conf_name=None):
    """Config-file text (optional) then boot variables (a list of words, then the lines of a
    boot-variable file when given) -> Config. Later words override earlier ones; boot variables
    override the file."""
    cfg = Config(host)
    if conf_text:
        apply_file(cfg, conf_text, conf_name)
    for i in range(len(words)):
        if i >= MAX_WORDS:
            _problem(cfg, "(command line)", None, "more than %d words" % MAX_WORDS, False, None)
            break
        if words[i]:
            apply(cfg, words[i])
    if boot_text:
        apply_boot_file(cfg, boot_text, boot_name)
    check(cfg)
    return cfg


def split_cmdline(text):
    """/proc/cmdline text -> words. Double quotes group a value with spaces (as the kernel
    does)."""
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
