"""Boot variables: one grammar for the kernel command line and for config lines.

A boot variable is `key=value`. The appliance reads them from /proc/cmdline; the host build takes
them as command-line words. Parsing never raises: every bad word becomes a Problem naming the
variable, and the setting keeps its safe default. A setting with no safe default (a malformed
address) is marked fatal so that boot halts with a clear message instead of guessing.
"""

# Limits on what we read (a kernel command line is at most a few KiB; config lines are short).
MAX_WORDS = 256  # words considered; the rest are reported and ignored
MAX_VALUE = 255  # characters in one value

# Words the kernel or boot loader uses for itself: ignored silently, they are not ours.
KERNEL_WORDS = (
    "console", "earlycon", "earlyprintk", "cma", "panic", "root", "rootwait", "rootfstype",
    "rdinit", "init", "initrd", "quiet", "loglevel", "ignore_loglevel", "ro", "rw", "mem",
    "BOOT_IMAGE", "printk.time", "nokaslr", "random.trust_cpu", "net.ifnames", "vmalloc",
    "debug", "splash", "noinitrd", "rootdelay", "consoleblank", "fsck.mode",
)

MODES = ("auth",)  # modes this firmware implements
PLANNED_MODES = ("resolver", "client")  # named by the product, not in this firmware yet


class Problem:
    def __init__(self, key, value, reason, fatal=False):
        self.key = key
        self.value = value
        self.reason = reason
        self.fatal = fatal

    def __str__(self):
        return "boot variable %s=%s: %s" % (self.key, self.value, self.reason)


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
        self.problems = []

    def fatal(self):
        return [p for p in self.problems if p.fatal]


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


def prefix_of(mask):
    """Netmask bytes -> prefix length, or -1 if the ones are not contiguous."""
    bits = (mask[0] << 24) | (mask[1] << 16) | (mask[2] << 8) | mask[3]
    n = 0
    while n < 32 and bits & (0x80000000 >> n):
        n += 1
    if bits & ((1 << (32 - n)) - 1):
        return -1
    return n


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
        bits = (0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF
        cfg.netmask = "%d.%d.%d.%d" % (bits >> 24, (bits >> 16) & 255, (bits >> 8) & 255, bits & 255)
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
    if value in PLANNED_MODES:
        return "mode not implemented in this firmware yet (serving 'auth')"
    return "unknown mode (known: %s)" % ", ".join(MODES)


def _set_port(cfg, value):
    if not value.isdigit() or len(value) > 5:
        return "not a port number"
    v = int(value)
    if v < 1 or v > 65535:
        return "port out of range 1..65535"
    cfg.port = v
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


# key -> (setter, fatal if bad). A setter returns None to store the value as given, "" when it
# stored a converted value itself, or a reason string when the value is bad (default kept).
SETTINGS = {
    "ip": (_set_ip, True),
    "netmask": (_set_netmask, True),
    "gw": (_set_gw, False),
    "mode": (_set_mode, False),
    "port": (_set_port, False),
    "hostname": (_set_hostname, False),
    "iface": (_set_iface, False),
    "mac": (_set_mac, False),
}


def apply(cfg, word):
    """Apply one `key=value` word to cfg; bad words are recorded in cfg.problems."""
    if "=" not in word:
        if word not in KERNEL_WORDS:
            cfg.problems.append(Problem(word, "", "not a key=value boot variable"))
        return
    key, value = word.split("=", 1)
    if key in KERNEL_WORDS or "." in key:
        return  # the kernel's own words, or a kernel module's (module.param=value)
    entry = SETTINGS.get(key)
    if entry is None:
        cfg.problems.append(Problem(key, value, "unknown boot variable (ignored)"))
        return
    if len(value) > MAX_VALUE:
        cfg.problems.append(Problem(key, value[:20] + "...", "value too long", entry[1]))
        return
    if value == "":
        cfg.problems.append(Problem(key, value, "empty value", entry[1]))
        return
    reason = entry[0](cfg, value)
    if reason is None:
        setattr(cfg, key, value)
    elif reason:
        cfg.problems.append(Problem(key, value, reason, entry[1]))


def parse(words, host=False):
    """Boot variables (a list of words) -> Config. Later words override earlier ones."""
    cfg = Config(host)
    for i in range(len(words)):
        if i >= MAX_WORDS:
            cfg.problems.append(Problem("(command line)", "", "more than %d words" % MAX_WORDS))
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
