"""Settings of resolver mode: upstreams (server=, tls-ca=), local names (address=, host-record=,
local=), who may use it (allow=), the cache (cache-size=, cache-min-ttl=, cache-max-ttl=;
serve-expired and prefetch with Unbound's names), recursion (hints=, qname-minimisation=,
use-caps-for-id=, do-not-query-localhost=), dnsmasq's flags, DNS64 and the .local bridge."""
from dnsbox.config import values as V
from dnsbox.config.nets import domain_wire, parse_ipv4, parse_ipv6

MAX_SERVERS = 16  # upstream servers (server=), all domains together
PIN_BYTES = 32  # an SPKI pin: a SHA-256 digest (RFC 7858 4.2)
MAX_LOCAL = 256  # address=, host-record=, local= entries together
MAX_ALLOW = 16  # networks in allow=
MAX_ANCHORS = 16  # trust-anchor= records
MAX_INSECURE = 64  # domain-insecure= domains
CACHE_MAX = 65536  # cache-size= ceiling (each entry holds one response, ~100-600 bytes)
TTL_MAX = 86400  # cache-max-ttl= default and ceiling (the caches keep nothing longer)
CACHE_DEFAULT = CACHE_MAX  # without cache-size= the memory budget decides
# (dnsbox.resolver.budget: a share of the heap)
STALE_TTL_DEFAULT = 86400  # s expired answers are kept and served (serve-expired-ttl=): a day,
# as Unbound's (RFC 8767 5 suggests one to three days)
STALE_TTL_MAX = 604800  # s: a week at the most (0, Unbound's "no limit", is not offered)
STALE_REPLY_TTL_DEFAULT = 30  # s: the TTL of expired answers (serve-expired-reply-ttl=; RFC
# 8767 4 recommends 30)
STALE_REPLY_TTL_MAX = 3600  # s
STALE_WAIT_DEFAULT = 1800  # ms a client waits before an expired answer while resolution goes on
# (serve-expired-client-timeout=; RFC 8767 5's client response timer, Unbound's default)
STALE_WAIT_MAX = 10000  # ms: the time one question may take (dnsbox.resolver.driver
# MAX_RESOLVE_MS); 0: the expired answer at once, resolved in the background


def tls_fields(fields):
    """The DNS-over-TLS part of server=IP#PORT#NAME[#sha256/PIN] (the fields after the port)
    -> (name text or None, pin bytes or None); ValueError. NAME is checked against the
    certificate (Unbound's forward-addr IP@PORT#NAME); sha256/BASE64 is an SPKI pin (RFC 7858
    4.2); either or both, in either order."""
    import binascii

    name = pin = None
    if not 0 < len(fields) <= 2:
        raise ValueError("server=IP#PORT#NAME[#sha256/PIN]: too many '#' fields")
    for f in fields:
        if f.startswith("sha256/"):
            try:
                b = binascii.a2b_base64(f[7:])
            except ValueError:
                b = b""
            if len(b) != PIN_BYTES or pin is not None:
                raise ValueError("not one SPKI pin (sha256/ and the base64 of 32 bytes): %r" % f)
            pin = b
        elif name is None and f:
            domain_wire(f)  # ValueError when not a domain name
            name = f.rstrip(".").lower()
        else:
            raise ValueError("server=IP#PORT#NAME[#sha256/PIN]: bad TLS field %r" % f)
    return name, pin


def _set_server(cfg, value):
    # server=IP[#port] | server=/domain/[domain/]IP[#port] | server=/domain/ (local only);
    # IP#port#NAME[#sha256/PIN] (either part): DNS over TLS to that upstream
    try:
        if value.startswith("/"):
            doms, rest = V.domains(value)
            if rest == "" or rest == "#":
                if rest == "#":
                    return "server=/domain/# (use the default servers) is not implemented"
                for d in doms:
                    cfg.locals.append(d)
                return ""
        else:
            doms, rest = [None], value
        parts = rest.split("#")
        tls = tls_fields(parts[2:]) if len(parts) > 2 else None
        ip, port = V.ip_port("#".join(parts[:2]))
        new = [(d, ip, port) for d in doms]
    except ValueError as e:
        return V.port_typo("server", value) or str(e)
    if len(cfg.servers) + len(new) > MAX_SERVERS:
        return "more than %d upstream servers" % MAX_SERVERS
    known = [s for s in cfg.servers if s[1:] == (ip, port)]
    if known and cfg.tls_servers.get((ip, port)) != tls:
        return "%s#%d is already a server= with %s TLS settings" % (ip, port, "other"
                                                                     if tls else "some")
    if tls is not None:
        cfg.tls_servers[(ip, port)] = tls
    cfg.servers += new
    return ""


def _set_tls_ca(cfg, value):
    # tls-ca=FILE: PEM CA certificates trusted for server=IP#PORT#NAME beside the frozen bundle
    # (read at boot by dnsbox.main: relative to the card's directory with --card)
    if value.endswith("/"):
        return "name a PEM file, not a directory"
    cfg.tls_ca = value
    return ""


def _set_address(cfg, value):
    # address=/domain/[domain/]IP  (also every name below domain); address=/domain/ -> NXDOMAIN
    try:
        doms, rest = V.domains(value if value.startswith("/") else "")
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
        doms, rest = V.domains(value if value.startswith("/") else "")
    except ValueError as e:
        return str(e)
    if rest:
        return "local= takes /domain/ only (an upstream goes in server=)"
    cfg.locals += doms
    return ""


def _set_cache_size(cfg, value):
    if not value.isdigit() or len(value) > 7:
        return "not a number of entries"
    v = int(value)
    if v > CACHE_MAX:
        return "over the limit of %d entries" % CACHE_MAX
    cfg.cache_size = v
    return ""


def _set_trust_anchor(cfg, value):
    # trust-anchor=DOMAIN,KEYTAG,ALGORITHM,DIGESTTYPE,DIGEST (dnsmasq's form): a DS record
    from dnsbox.wire import rdata
    from dnsbox.wire import types as T
    from dnsbox.wire.errors import TextError

    parts = value.split(",")
    if len(parts) != 5:
        return "trust-anchor=DOMAIN,KEYTAG,ALGORITHM,DIGESTTYPE,DIGEST (dnsmasq's form)"
    try:
        dom = domain_wire(parts[0]) if parts[0] not in (".", "") else b"\x00"
        ds = rdata.from_text(T.DS, " ".join(parts[1:]), None)
    except (ValueError, TextError) as e:
        return str(e)
    if len(cfg.anchors) >= MAX_ANCHORS:
        return "more than %d trust anchors" % MAX_ANCHORS
    cfg.anchors = cfg.anchors + [(dom, ds)]
    return ""


def _set_insecure(cfg, value):
    # domain-insecure=DOMAIN (Unbound's name): a negative trust anchor, not validated
    try:
        dom = domain_wire(value)
    except ValueError as e:
        return str(e)
    if len(cfg.insecure) >= MAX_INSECURE:
        return "more than %d domains" % MAX_INSECURE
    cfg.insecure = cfg.insecure + [dom]
    return ""


SETTINGS = {
    "server": (_set_server, False, False),
    "tls-ca": (_set_tls_ca, False, False),
    "address": (_set_address, False, False),
    "host-record": (_set_host_record, False, False),
    "local": (_set_local, False, False),
    "allow": (V.net_list("allow", MAX_ALLOW, True), False, False),
    "cache-size": (_set_cache_size, False, False),
    "hints": (V.parsed("hints", V.hints), False, False),
    "domain-needed": (V.flag("domain_needed"), False, True),
    "bogus-priv": (V.flag("bogus_priv"), False, True),
    "do-0x20-encode": (V.flag("do_0x20"), False, True),
    "use-caps-for-id": (V.flag("use0x20"), False, True),
    "qname-minimisation": (V.flag("qmin"), False, True),
    "do-not-query-localhost": (V.flag("no_localhost"), False, True),
    "cache-min-ttl": (V.parsed("cache_min_ttl", V.number(0, TTL_MAX)), False, False),
    "cache-max-ttl": (V.parsed("cache_max_ttl", V.number(0, TTL_MAX)), False, False),
    "serve-expired": (V.flag("serve_expired"), False, True),
    "serve-expired-ttl": (V.parsed("stale_ttl", V.number(1, STALE_TTL_MAX)), False, False),
    "serve-expired-reply-ttl": (V.parsed("stale_reply_ttl", V.number(0, STALE_REPLY_TTL_MAX)),
                                False, False),
    "serve-expired-client-timeout": (V.parsed("stale_wait", V.number(0, STALE_WAIT_MAX)), False,
                                     False),
    "prefetch": (V.flag("prefetch"), False, True),
    "dns64-prefix": (V.parsed("dns64", V.dns64_or_off), False, False),
    "mdns-bridge": (V.flag("mdns"), False, True),
    "dnssec": (V.flag("dnssec"), False, True),
    "trust-anchor": (_set_trust_anchor, False, False),
    "domain-insecure": (_set_insecure, False, False),
}
LISTS = {"server": "servers", "address": "addresses", "host-record": "hosts", "local": "locals",
         "allow": "allow", "trust-anchor": "anchors", "domain-insecure": "insecure"}
