"""Boot: boot variables -> network -> zone blob -> serve. One log line per step.

Appliance:  dnsbox -m dnsbox.main              (boot variables from /proc/cmdline)
Host build: dnsbox -m dnsbox.main --host k=v   (boot variables from the command line,
                                                listens on 127.0.0.1:5353 unless told otherwise)
"""
import sys
import time

from dnsbox import config, log

HALT_SLEEP_S = 3600  # a halted appliance sleeps in this step; PID 1 must not exit (kernel panic)


def halt(host, reason):
    log.log("HALTED: " + reason)
    if host:
        sys.exit(2)
    while True:  # keep the message on the console; the board reboots on power cycle
        time.sleep(HALT_SLEEP_S)


def read_cmdline():
    try:
        with open("/proc/cmdline") as f:
            return config.split_cmdline(f.read())
    except OSError:
        return []


def load_zones(host):
    try:
        import zoneblob
    except ImportError:
        halt(host, "this firmware has no compiled zone blob (module zoneblob)")
    from dnsbox import zonedb

    try:
        return zonedb.open_blob(zoneblob.BLOB)
    except ValueError as e:
        halt(host, "zone blob unusable: %s" % e)


def main(argv):
    host = "--host" in argv
    log.kernel_clock = not host
    words = [a for a in argv if a != "--host"] if host else read_cmdline()
    log.log("starting (%s build, %s %s)" % (
        "host" if host else "appliance", sys.implementation.name,
        ".".join(str(x) for x in sys.implementation.version[:3])))
    cfg = config.parse(words, host)
    for p in cfg.problems:
        log.log(str(p) + ("" if p.fatal else "; using the default"))
    bad = cfg.fatal()
    if bad:
        halt(host, "no safe default for: %s" % ", ".join(p.key for p in bad))
    log.log("config: mode=%s ip=%s port=%d" % (cfg.mode, cfg.ip, cfg.port))

    bind_ip = cfg.ip
    if not host:
        from dnsbox.net import iface

        addr = iface.configure(cfg)
        if addr is None:
            halt(host, "network set-up failed on %s (ip=%s)" % (cfg.iface, cfg.ip))
        log.log("network: %s up with %s" % (cfg.iface, addr))
        bind_ip = "0.0.0.0"

    db = load_zones(host)
    names = db.zone_names()
    log.log("zones: %d (%s), %d records" % (len(names), ", ".join(names), db.record_count()))

    from dnsbox.auth import server as auth
    from dnsbox.net import server as net

    srv = auth.Server(db, nsid=cfg.hostname)
    proto = {net.UDP: auth.UDP, net.TCP: auth.TCP}
    handle = srv.handle
    if proto[net.UDP] == net.UDP and proto[net.TCP] == net.TCP:
        handler = handle
    else:  # the two modules number the protocols differently: translate

        def handler(q, p):
            return handle(q, proto[p])

    try:
        loop = net.Server(handler, bind_ip, cfg.port)
    except OSError as e:
        halt(host, "cannot listen on %s port %d: %s" % (bind_ip, cfg.port, e))
    log.ready("mode=%s, %d zones, listening on %s port %d (udp, tcp)" % (
        cfg.mode, len(names), bind_ip, cfg.port))
    loop.serve()


if __name__ == "__main__":
    main(sys.argv[1:])
