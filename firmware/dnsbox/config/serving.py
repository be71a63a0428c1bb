"""Settings of the authoritative side: zone transfers (auth-peer=, xfr-key=), NOTIFY
(also-notify=), the dynamic zone (update-zone=, allow-update=, update-key=); response rate
limiting of every mode's UDP answers (NSD's rrl-* options; dnsbox.auth.rrl)."""
from dnsbox.config import values as V
from dnsbox.config.nets import domain_wire

MAX_PEERS = 16  # networks in auth-peer=
MAX_NOTIFY = 16  # secondaries in also-notify=
MAX_SECONDARIES = 16  # zones in secondary= (dnsbox.auth.secondary.MAX_ZONES)
MAX_UPDATERS = 16  # networks in allow-update=
RRL_RATE = 200  # rrl-ratelimit=: responses a second per source prefix, class and name (NSD's)
RRL_WHITELIST_RATE = 2000  # rrl-whitelist-ratelimit= (NSD's)
RRL_RATE_MAX = 16383  # the rates' ceiling (a bucket counts in 14 bits: dnsbox.auth.rrl)
RRL_SLIP = 2  # rrl-slip=: every 2nd dropped response is sent truncated instead (NSD's)
RRL_SLIP_MAX = 100
RRL_V4 = 24  # rrl-ipv4-prefix-length= (NSD's and BIND's)
RRL_V6 = 56  # rrl-ipv6-prefix-length= (BIND's; NSD's is 64)
RRL_V6_MAX = 64  # as NSD
RRL_SIZE = 16384  # rrl-size=: buckets of the table (4 bytes each); NSD's is 1000000
RRL_SIZE_MAX = 262144  # 1 MiB (and never over a 16th of the heap: dnsbox.auth.rrl.buckets)
RRL_SIZE_MIN = 64
# rrl-whitelist= takes NSD's names of the response classes (dnsbox.auth.rrl.NAMES has their bits)
RRL_CLASSES = ("nxdomain", "error", "referral", "any", "wildcard", "nodata", "dnskey",
               "positive", "rrsig", "all")


def _set_notify(cfg, value):
    # also-notify=IP[#port][,IP[#port]..] (BIND's and NSD's name)
    try:
        targets = [V.ip_port(x, False) for x in value.split(",")]  # NOTIFY leaves over IPv4
    except ValueError as e:
        return str(e)
    if len(cfg.notify) + len(targets) > MAX_NOTIFY:
        return "more than %d secondaries" % MAX_NOTIFY
    cfg.notify = cfg.notify + targets
    return ""


def _set_secondary(cfg, value):
    # secondary=ZONE@IP[#port][,key=[hmac-sha256:]NAME:BASE64] (the key: this zone's transfers
    # are signed with it; without one, xfr-key= signs them when it is set)
    head, _s, tail = value.partition(",")
    zone, at, addr = head.partition("@")
    if not at or not zone:
        return "secondary=ZONE@IP[#port][,key=NAME:BASE64]"
    try:
        domain_wire(zone)
        primary = V.ip_port(addr)  # IPv4 or IPv6 (2001:db8::1#53)
    except ValueError as e:
        return str(e)
    if zone.strip(".") == "":
        return "not the root"
    key = None
    if tail:
        if not tail.startswith("key="):
            return "after the address: key=NAME:BASE64 only"
        key = V.tsig_key(tail[4:])
        if isinstance(key, str):
            return key
    zone = zone.lower() if zone.endswith(".") else zone.lower() + "."
    if [x for x in cfg.secondaries if x[0] == zone]:
        return "zone %s given twice" % zone
    if len(cfg.secondaries) >= MAX_SECONDARIES:
        return "more than %d secondary zones" % MAX_SECONDARIES
    cfg.secondaries = cfg.secondaries + [(zone, primary, key)]
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


def _set_rrl_whitelist(cfg, value):
    # rrl-whitelist=CLASS[,CLASS..] (NSD's per-zone option, here for every zone)
    words = [w.strip().lower() for w in value.split(",")]
    for w in words:
        if w not in RRL_CLASSES:
            return "unknown response class %r (known: %s)" % (w, ", ".join(RRL_CLASSES))
    cfg.rrl_whitelist = ",".join(words)
    return ""


SETTINGS = {
    "auth-peer": (V.net_list("peers", MAX_PEERS), False, False),
    "also-notify": (_set_notify, False, False),
    "secondary": (_set_secondary, False, False),
    "update-zone": (_set_update_zone, False, False),
    "allow-update": (V.net_list("updaters", MAX_UPDATERS), False, False),
    "update-key": (V.tsig_key_of("update_key"), False, False),
    "xfr-key": (V.tsig_key_of("xfr_key"), False, False),
    "rrl-ratelimit": (V.parsed("rrl_rate", V.number(0, RRL_RATE_MAX)), False, False),
    "rrl-slip": (V.parsed("rrl_slip", V.number(0, RRL_SLIP_MAX)), False, False),
    "rrl-ipv4-prefix-length": (V.parsed("rrl_v4", V.number(0, 32)), False, False),
    "rrl-ipv6-prefix-length": (V.parsed("rrl_v6", V.number(0, RRL_V6_MAX)), False, False),
    "rrl-whitelist-ratelimit": (V.parsed("rrl_wl_rate", V.number(0, RRL_RATE_MAX)), False,
                                False),
    "rrl-whitelist": (_set_rrl_whitelist, False, False),
    "rrl-size": (V.parsed("rrl_size", V.number(RRL_SIZE_MIN, RRL_SIZE_MAX)), False, False),
    "rrl-allow-ratelimit": (V.parsed("rrl_allow_rate", V.number(0, RRL_RATE_MAX)), False,
                            False),
}
LISTS = {"auth-peer": "peers", "also-notify": "notify", "allow-update": "updaters",
         "secondary": "secondaries"}
