"""Network interface set-up on the appliance, through busybox `ip` and `udhcpc`.

Only the appliance calls this (the host build uses the machine's network as it is).
Every command is bounded: `udhcpc` gives up after DHCP_TRIES discover rounds.
"""
import os
import time

from dnsbox.config import nets
from dnsbox.log import log

LINK_WAIT_S = 5  # seconds to wait for the network device to appear after module load
DHCP_TRIES = 5  # DHCP discover rounds before giving up
DHCP_TIMEOUT_S = 2  # seconds per round
DHCP_SCRIPT = "/tmp/udhcpc.script"

# udhcpc runs this with the lease in its environment (ip, subnet, router, interface).
_SCRIPT = """#!/bin/sh
case "$1" in
  deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    if [ -n "$router" ]; then ip route add default via "${router%% *}" dev "$interface"; fi
    echo "$ip $mask $router" > /tmp/dhcp.lease ;;
esac
"""


def _run(cmd):
    rc = os.system(cmd + " >/dev/null 2>&1")
    if rc != 0:
        log("command failed (%d): %s" % (rc, cmd))
    return rc == 0


def _wait_link(name):
    for _ in range(LINK_WAIT_S * 10):
        try:
            os.stat("/sys/class/net/" + name)
            return True
        except OSError:
            time.sleep(0.1)
    return False


def configure(cfg):
    """Bring up lo and the interface with a static address or DHCP. Returns (address, netmask)
    as dotted text (DHCP: what the lease gave, read once here), or None."""
    _run("ip link set lo up")
    if not _wait_link(cfg.iface):
        log("network interface %s did not appear" % cfg.iface)
        return None
    # A fixed MAC (boot variable mac=) goes on before the link is up; the Allwinner EMAC/GMAC
    # otherwise gets a random one at every boot when u-boot passes none. A refused address is
    # reported and the link comes up with the one it has.
    mac = getattr(cfg, "mac", None)
    if mac and _run("ip link set %s address %s" % (cfg.iface, mac)):
        log("network: %s MAC set to %s" % (cfg.iface, mac))
    if not _run("ip link set %s up" % cfg.iface):
        return None
    if cfg.ip == "dhcp":
        return _dhcp(cfg)
    prefix = nets.prefix_of(nets.parse_ipv4(cfg.netmask))
    if not _run("ip addr add %s/%d dev %s" % (cfg.ip, prefix, cfg.iface)):
        return None
    if cfg.gw and not _run("ip route add default via %s dev %s" % (cfg.gw, cfg.iface)):
        log("no default route: answers reach only the local network")
    return cfg.ip, cfg.netmask


def _dhcp(cfg):
    with open(DHCP_SCRIPT, "w") as f:
        f.write(_SCRIPT)
    os.system("chmod 755 " + DHCP_SCRIPT)
    cmd = "udhcpc -i %s -n -q -t %d -T %d -s %s" % (
        cfg.iface, DHCP_TRIES, DHCP_TIMEOUT_S, DHCP_SCRIPT)
    if not _run(cmd):
        return None
    try:
        with open("/tmp/dhcp.lease") as f:
            lease = f.read().split()
    except OSError:
        return None
    if not lease:
        return None
    log("dhcp lease: %s" % " ".join(lease))
    mask = cfg.netmask
    if len(lease) > 1 and lease[1].isdigit() and int(lease[1]) <= 32:
        mask = nets.ip_text(nets.mask_of(int(lease[1])))
    return lease[0], mask


def _sysctl6(iface, key, value):
    """Write /proc/sys/net/ipv6/conf/IFACE/KEY; False when it cannot be written."""
    try:
        with open("/proc/sys/net/ipv6/conf/%s/%s" % (iface, key), "w") as f:
            f.write(value)
        return True
    except OSError:
        return False


def configure6(cfg):
    """IPv6 on the interface: ip6=ADDR/LEN (static, with gw6= as the default router) or ip6=auto
    (SLAAC: addresses and the default route from router advertisements, RFC 4862; they come
    seconds later, nothing waits for them). Returns a line for the console."""
    if not _sysctl6(cfg.iface, "disable_ipv6", "0"):
        return "not available (no /proc/sys/net/ipv6: kernel without IPv6)"
    static = cfg.ip6 != "auto"
    # RAs stay accepted for routes either way; addresses from them only with SLAAC
    _sysctl6(cfg.iface, "accept_ra", "1" if cfg.gw6 is None else "0")
    _sysctl6(cfg.iface, "autoconf", "0" if static else "1")
    if not static:
        return "by SLAAC (router advertisements) on %s" % cfg.iface
    if not _run("ip -6 addr add %s dev %s" % (cfg.ip6, cfg.iface)):
        return "address %s refused on %s" % (cfg.ip6, cfg.iface)
    if cfg.gw6 and not _run("ip -6 route add default via %s dev %s" % (cfg.gw6, cfg.iface)):
        return "%s on %s, no default route (gw6=%s refused)" % (cfg.ip6, cfg.iface, cfg.gw6)
    return "%s on %s%s" % (cfg.ip6, cfg.iface, ", router " + cfg.gw6 if cfg.gw6 else "")


IF_INET6 = "/proc/net/if_inet6"  # one line per IPv6 address: hex address, index, prefix, scope
IF_INET6_LINES = 64  # lines read of it
_SCOPE_GLOBAL = "00"
_SCOPE_HOST = "10"  # ::1


def families():
    """(4,) or (4, 6): IPv6 too when the box has a global or a loopback IPv6 address (the flag
    the recursion reads as env.families: which address families it may ask over)."""
    try:
        with open(IF_INET6) as f:
            for _ in range(IF_INET6_LINES):
                parts = f.readline().split()
                if len(parts) < 4:
                    break
                if parts[3] in (_SCOPE_GLOBAL, _SCOPE_HOST):
                    return (4, 6)
    except OSError:
        pass
    return (4,)
