"""Run the recursive resolver (from the root hints) on the serving loop.

  dnsbox -m dnsbox.resolver.serve [hints=IP[#port],...] [ip=127.0.0.1] [port=5353]
                                  [cache-size=N] [allow=NET/LEN,...] [qmin=0] [0x20=0]
                                  [ns-port=53] [max-s=SECONDS]
(python3 -m dnsbox.resolver.serve with firmware/ on the path works the same.) Without hints=,
the root hints compiled into the image (module roothints). max-s stops the loop after that many
seconds (tests and benchmarks: every server they start ends by itself too).

start(...) is what dnsbox.main uses in resolver mode when no server= is configured.
"""
import os
import sys

from dnsbox import log
from dnsbox.resolver import hints as _hints

LOOPS_PER_CHECK = 64  # serving-loop wake-ups between checks of max-s


def start(cfg, nets, hints, bind_ip, port, auth=None, zones=(), ns_port=53, mcast_if=None):
    """A Recursor plugged into a new serving loop (dnsbox.net); returns (loop, recursor)."""
    from dnsbox.net import server as net
    from dnsbox.net import upstream
    from dnsbox.resolver.recurse import Recursor

    rec = Recursor(cfg, nets, os.urandom, hints, auth, zones, port=ns_port)
    loop = net.Server(None, bind_ip, port, peer=True)
    upstream.Resolver(rec, loop, mcast_if=mcast_if)
    return loop, rec


def main(argv):
    from dnsbox import config
    from dnsbox.resolver import local

    opts = {"ip": "127.0.0.1", "port": "5353", "cache-size": "10000", "qmin": "1",
            "0x20": "1", "ns-port": "53", "max-s": "0", "hints": "", "allow": ""}
    for a in argv:
        k, _s, v = a.partition("=")
        if k not in opts:
            log.log("resolver: unknown option %r (known: %s)" % (k, ", ".join(sorted(opts))))
            return 2
        opts[k] = v
    try:
        hints = _hints.parse(opts["hints"]) if opts["hints"] else _hints.default()
    except ValueError as e:
        log.log("resolver: hints=%s: %s" % (opts["hints"], e))
        return 2
    try:
        cfg = config.Config(True)
        cfg.cache_size = int(opts["cache-size"])
        port = int(opts["port"])
        ns_port = int(opts["ns-port"])
        max_s = int(opts["max-s"])
        nets = [config.parse_network(n) for n in opts["allow"].split(",") if n] or \
            local.default_nets(opts["ip"], "255.255.255.255")
    except ValueError as e:
        log.log("resolver: %s" % e)
        return 2
    if not hints:
        log.log("resolver: no root hints (this image has none: give hints=IP)")
        return 2
    loop, rec = start(cfg, nets, hints, opts["ip"], port, ns_port=ns_port)
    rec.env.qmin = opts["qmin"] != "0"
    rec.env.use0x20 = opts["0x20"] != "0"
    log.ready("recursive resolver on %s port %d, %d root hints (%s), qmin %s, 0x20 %s" % (
        opts["ip"], port, len(hints), hints[0][1], rec.env.qmin, rec.env.use0x20))
    if max_s <= 0:
        loop.serve()
        return 0
    import time

    end = time.time() + max_s
    while time.time() < end:
        loop.serve(LOOPS_PER_CHECK)
    return 0


if __name__ == "__main__":
    rc = main(sys.argv[1:])
    if rc:
        sys.exit(rc)
