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
