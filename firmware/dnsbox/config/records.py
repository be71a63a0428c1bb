"""Settings of resolver mode's local records, dnsmasq's: cname=, txt-record=, mx-host=,
mx-target=, srv-host=, ptr-record=, addn-hosts= (hosts files, read at boot by dnsbox.main and
parsed here: parse_hosts), expand-hosts; and what domain= means in resolver mode (check()).

Records are kept as (name lower-case wire, type, TTL, rdata) for dnsbox.resolver.local; the
names of cname= as (alias lower-case wire, target lower-case wire, TTL)."""
from dnsbox.config import values as V
from dnsbox.config.nets import domain_wire, parse_ipv4, parse_ipv6

MAX_RECORDS = 256  # cname=, txt-record=, mx-host=, srv-host=, ptr-record= entries together
MAX_HOSTS_FILES = 4  # addn-hosts= files
MAX_HOSTS_LINES = 2048  # lines read from one hosts file; the rest are reported and ignored
MAX_HOSTS_NAMES = 1024  # names from all hosts files together (expand-hosts names count too)
MAX_HOSTS_ERRORS = 20  # bad lines named one by one per file; the rest are counted
MAX_TTL = 2147483647  # a TTL is 31 bits (RFC 2181 8)
MX_PREF_DEFAULT = 1  # dnsmasq's preference of an mx-host= without one
SRV_PORT_DEFAULT = 1  # dnsmasq's SRV port default (priority and weight default to 0)


def _count(cfg):
    return (len(cfg.cnames) + len(cfg.txt_records) + len(cfg.mx_hosts) + len(cfg.srv_hosts)
            + len(cfg.ptr_records))


def _full(cfg, n=1):
    if _count(cfg) + n > MAX_RECORDS:
        return "more than %d local records (cname=, txt-record=, mx-host=, srv-host=, " \
               "ptr-record=)" % MAX_RECORDS
    return ""


def _u16(text, what):
    if not text.isdigit() or len(text) > 5 or int(text) > 65535:
        raise ValueError("%s is not a number 0..65535: %r" % (what, text))
    return int(text)


def _ttl(text):
    if not text.isdigit() or len(text) > 10 or int(text) > MAX_TTL:
        raise ValueError("not a TTL (seconds, 0..%d): %r" % (MAX_TTL, text))
    return int(text)


def _set_cname(cfg, value):
    # cname=ALIAS[,ALIAS..],TARGET[,TTL]
    parts = value.split(",")
    ttl = 0
    try:
        if len(parts) > 2 and parts[-1].isdigit():
            ttl = _ttl(parts.pop())
        if len(parts) < 2:
            return "cname=ALIAS[,ALIAS..],TARGET[,TTL]"
        names = [domain_wire(p) for p in parts]
    except ValueError as e:
        return str(e)
    target = names.pop()
    for a in names:
        if a == target:
            return "a name that is its own alias"
        for old in cfg.cnames:
            if old[0] == a:
                return "the alias is already a cname= (an alias has one target)"
    why = _full(cfg, len(names))
    if why:
        return why
    cfg.cnames = cfg.cnames + [(a, target, ttl) for a in names]
    return ""


def split_quoted(value):
    """dnsmasq's list of TXT strings: split at commas outside double quotes; quotes removed,
    \\" and \\\\ inside them escape. ValueError on an unclosed quote."""
    out = []
    cur = []
    quoted = False
    i = 0
    while i < len(value):
        c = value[i]
        if quoted and c == "\\" and i + 1 < len(value) and value[i + 1] in "\"\\":
            cur.append(value[i + 1])
            i += 1
        elif c == '"':
            quoted = not quoted
        elif c == "," and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    if quoted:
        raise ValueError("a double quote is not closed")
    out.append("".join(cur))
    return out


def _set_txt(cfg, value):
    # txt-record=NAME[[,TEXT],TEXT..]: strings longer than 255 bytes split (as dnsmasq does)
    from dnsbox.wire.rd_std import TXT

    try:
        parts = split_quoted(value)
        name = domain_wire(parts[0])
    except ValueError as e:
        return str(e)
    strings = []
    for p in parts[1:] or [""]:
        b = p.encode()
        strings.append(b[:255])
        for i in range(255, len(b), 255):
            strings.append(b[i : i + 255])
    why = _full(cfg)
    if why:
        return why
    cfg.txt_records = cfg.txt_records + [(name, TXT(strings))]
    return ""


def _set_mx(cfg, value):
    # mx-host=NAME[[,HOST],PREF]: no host: mx-target=, else hostname= (check() fills it in)
    parts = value.split(",")
    if len(parts) > 3:
        return "mx-host=NAME[,HOST[,PREFERENCE]]"
    pref = MX_PREF_DEFAULT
    try:
        if len(parts) > 1 and parts[-1].isdigit():
            pref = _u16(parts.pop(), "the preference")
        name = domain_wire(parts[0])
        host = domain_wire(parts[1]) if len(parts) > 1 and parts[1] else None
    except ValueError as e:
        return str(e)
    why = _full(cfg)
    if why:
        return why
    cfg.mx_hosts = cfg.mx_hosts + [(name, host, pref)]
    return ""


def _set_mx_target(cfg, value):
    try:
        cfg.mx_target = domain_wire(value)
    except ValueError as e:
        return str(e)
    return ""


def _set_srv(cfg, value):
    # srv-host=_service._prot.[DOMAIN][,TARGET[,PORT[,PRIORITY[,WEIGHT]]]]
    parts = value.split(",")
    if len(parts) > 5:
        return "srv-host=_SERVICE._PROT.[DOMAIN][,TARGET[,PORT[,PRIORITY[,WEIGHT]]]]"
    try:
        name = domain_wire(parts[0])
        target = domain_wire(parts[1]) if len(parts) > 1 and parts[1] not in ("", ".") \
            else b"\x00"
        port = _u16(parts[2], "the port") if len(parts) > 2 else SRV_PORT_DEFAULT
        prio = _u16(parts[3], "the priority") if len(parts) > 3 else 0
        weight = _u16(parts[4], "the weight") if len(parts) > 4 else 0
    except ValueError as e:
        return str(e)
    why = _full(cfg)
    if why:
        return why
    cfg.srv_hosts = cfg.srv_hosts + [(name, target, port, prio, weight)]
    return ""


def _set_ptr(cfg, value):
    # ptr-record=NAME[,TARGET]: without a target the name is local with no PTR (NODATA)
    parts = value.split(",")
    if len(parts) > 2:
        return "ptr-record=NAME[,TARGET]"
    try:
        name = domain_wire(parts[0])
        target = domain_wire(parts[1]) if len(parts) > 1 and parts[1] else None
    except ValueError as e:
        return str(e)
    why = _full(cfg)
    if why:
        return why
    cfg.ptr_records = cfg.ptr_records + [(name, target)]
    return ""


def _set_addn_hosts(cfg, value):
    if len(cfg.addn_hosts) >= MAX_HOSTS_FILES:
        return "more than %d hosts files" % MAX_HOSTS_FILES
    if value.endswith("/"):
        return "a directory of hosts files is not read (name the files)"
    cfg.addn_hosts = cfg.addn_hosts + [value]
    return ""


SETTINGS = {
    "cname": (_set_cname, False, False),
    "txt-record": (_set_txt, False, False),
    "mx-host": (_set_mx, False, False),
    "mx-target": (_set_mx_target, False, False),
    "srv-host": (_set_srv, False, False),
    "ptr-record": (_set_ptr, False, False),
    "addn-hosts": (_set_addn_hosts, False, False),
    "expand-hosts": (V.flag("expand_hosts"), False, True),
}
LISTS = {"cname": "cnames", "txt-record": "txt_records", "mx-host": "mx_hosts",
         "srv-host": "srv_hosts", "ptr-record": "ptr_records", "addn-hosts": "addn_hosts"}


def local_domain(cfg):
    """The local domain (lower-case text, no trailing dot) of resolver mode: domain=; None."""
    if cfg.mode != "resolver" or not cfg.domain:
        return None
    return cfg.domain.lower().rstrip(".") or None


def check(cfg, problem):
    """What needs the whole config: domain= in resolver mode (the DHCP server's option 15 and
    lease names unless dhcp-option=15 says otherwise; srv-host= names without a domain), the
    target of mx-host= without one, and cname= aliases that are other local names or loops.
    problem(key, value, reason) records one."""
    if cfg.mode != "resolver":
        for key in LISTS:
            if getattr(cfg, LISTS[key]):
                problem(key, None, "ignored in mode=%s (used in mode=resolver)" % cfg.mode)
        if cfg.expand_hosts:
            problem("expand-hosts", None, "ignored in mode=%s (used in mode=resolver)" %
                    cfg.mode)
        return
    dom = local_domain(cfg)
    if dom is not None and cfg.dhcp_domain is None:
        cfg.dhcp_domain = dom
    if dom is not None:
        dw = domain_wire(dom)
        srv = []
        for s in cfg.srv_hosts:
            labels = _text(s[0]).split(".")
            if len(labels) == 3 and labels[0][:1] == "_" and labels[1][:1] == "_":
                s = (s[0][:-1] + dw,) + s[1:]  # _service._prot: in the local domain
            srv.append(s)
        cfg.srv_hosts = srv
    if any(m[1] is None for m in cfg.mx_hosts):
        target = cfg.mx_target
        if target is None and cfg.hostname:
            try:
                target = domain_wire(cfg.hostname)
            except ValueError:
                target = None
        if target is None:
            problem("mx-host", None, "an mx-host= without a host needs mx-target= or "
                    "hostname=: those records are left out")
        cfg.mx_hosts = [m if m[1] is not None else (m[0], target, m[2])
                        for m in cfg.mx_hosts if m[1] is not None or target is not None]
    others = [h[0] for h in cfg.hosts] + [r[0] for r in cfg.txt_records] + \
        [r[0] for r in cfg.mx_hosts] + [r[0] for r in cfg.srv_hosts] + \
        [r[0] for r in cfg.ptr_records]
    aliases = {}
    for a, t, ttl in cfg.cnames:
        if a in others:
            problem("cname", None, "%s has other local records: the cname= is left out" %
                    _text(a))
        else:
            aliases[a] = t
    loops = []
    for a in aliases:
        seen = [a]
        t = aliases[a]
        while t in aliases and t not in seen:
            seen.append(t)
            t = aliases[t]
        if t == a:
            loops.append(a)
    for a in loops:
        problem("cname", None, "%s is part of a loop of cname=: left out" % _text(a))
        del aliases[a]
    cfg.cnames = [c for c in cfg.cnames if aliases.get(c[0]) == c[1]]


def _text(lw):
    """Lower-case wire -> dotted text (for messages)."""
    out = []
    i = 0
    while i < len(lw) and lw[i]:
        out.append(lw[i + 1 : i + 1 + lw[i]].decode())
        i += 1 + lw[i]
    return ".".join(out) + "."


def parse_hosts(text, name, domain=None, room=MAX_HOSTS_NAMES):
    """An /etc/hosts-format file: `ADDRESS NAME [NAME..]` per line, '#' comments. Returns
    (entries [(name lower-case wire, ipv4 bytes or None, ipv6 bytes or None)], problems
    ["NAME line N: ..."]). domain (expand-hosts): a name without a dot is also NAME.DOMAIN (that
    one first, so it is the address's PTR target, as dnsmasq answers). At most room names, at
    most MAX_HOSTS_LINES lines; at most MAX_HOSTS_ERRORS problems are named, then counted."""
    entries = []
    problems = []
    more = [0]
    lines = text.split("\n")

    def bad(n, why):
        if len(problems) < MAX_HOSTS_ERRORS:
            problems.append("%s line %d: %s" % (name, n, why))
        else:
            more[0] += 1

    full = False
    for i in range(len(lines)):
        if full:
            break
        if i >= MAX_HOSTS_LINES:
            bad(i + 1, "more than %d lines: the rest is ignored" % MAX_HOSTS_LINES)
            break
        words = lines[i].split("#", 1)[0].split()
        if not words:
            continue
        addr = words[0]
        v4 = parse_ipv4(addr)
        v6 = None if v4 is not None else parse_ipv6(addr)
        if v4 is None and v6 is None:
            bad(i + 1, "not an IPv4 or IPv6 address: %r (line ignored)" % addr[:40])
            continue
        if len(words) == 1:
            bad(i + 1, "an address without a name (line ignored)")
            continue
        for w in words[1:]:
            try:
                names = [domain_wire(w)]
                if domain is not None and "." not in w.rstrip("."):
                    names.insert(0, domain_wire(w.rstrip(".") + "." + domain))
            except ValueError as e:
                bad(i + 1, "%r: %s (name ignored)" % (w[:40], e))
                continue
            if len(entries) + len(names) > room:
                bad(i + 1, "more than %d names from hosts files: the rest is ignored" %
                    MAX_HOSTS_NAMES)
                full = True
                break
            for n in names:
                entries.append((n, v4, v6))
    if more[0]:
        problems.append("%s: %d more bad lines" % (name, more[0]))
    return entries, problems
