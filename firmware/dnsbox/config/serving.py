"""Settings of the authoritative side: zone transfers (auth-peer=, xfr-key=), NOTIFY
(also-notify=), the dynamic zone (update-zone=, allow-update=, update-key=)."""
from dnsbox.config import values as V
from dnsbox.config.nets import domain_wire

MAX_PEERS = 16  # networks in auth-peer=
MAX_NOTIFY = 16  # secondaries in also-notify=
MAX_UPDATERS = 16  # networks in allow-update=


def _set_notify(cfg, value):
    # also-notify=IP[#port][,IP[#port]..] (BIND's and NSD's name)
    try:
        targets = [V.ip_port(x) for x in value.split(",")]
    except ValueError as e:
        return str(e)
    if len(cfg.notify) + len(targets) > MAX_NOTIFY:
        return "more than %d secondaries" % MAX_NOTIFY
    cfg.notify = cfg.notify + targets
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


SETTINGS = {
    "auth-peer": (V.net_list("peers", MAX_PEERS), False, False),
    "also-notify": (_set_notify, False, False),
    "update-zone": (_set_update_zone, False, False),
    "allow-update": (V.net_list("updaters", MAX_UPDATERS), False, False),
    "update-key": (V.tsig_key_of("update_key"), False, False),
    "xfr-key": (V.tsig_key_of("xfr_key"), False, False),
}
LISTS = {"auth-peer": "peers", "also-notify": "notify", "allow-update": "updaters"}
