"""Boot: config file + boot variables -> network -> zone blob -> serve. One log line per step.

Appliance:  dnsbox -m dnsbox.main              (boot variables from /proc/cmdline)
Host build: dnsbox -m dnsbox.main --host k=v   (boot variables from the command line,
                                                listens on 127.0.0.1:5353 unless told otherwise)
The config file is dnsbox.siteconf.TEXT (compiled in); `conf-file=PATH` (a boot variable or a
host argument) reads another file instead. Modes: auth, resolver (zones, local names, cache,
upstreams), client (one query printed dig-style, then the firmware exits: the appliance's /init
powers off).
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


def load_conf(words):
    """(config text, where it came from, remaining words): conf-file=PATH or the built-in one."""
    rest = []
    path = None
    for w in words:
        if w.startswith("conf-file="):
            path = w[10:]
        else:
            rest.append(w)
    if path:
        try:
            with open(path) as f:
                return f.read(), path, rest
        except OSError as e:
            log.log("conf-file=%s: cannot read (%s); using the built-in config" % (path, e))
    from dnsbox import siteconf

    return siteconf.TEXT, "built-in", rest


def load_zones(host, optional=False):
    try:
        import zoneblob
    except ImportError:
        if optional:
            return None
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
    conf, conf_src, words = load_conf(words)
    cfg = config.parse(words, host, conf)
    for p in cfg.problems:
        log.log(str(p) + ("" if p.fatal else "; using the default"))
    bad = cfg.fatal()
    if bad:
        halt(host, "no safe default for: %s" % ", ".join(p.key for p in bad))
    log.log("config: mode=%s ip=%s port=%d (config file: %s)" % (cfg.mode, cfg.ip, cfg.port,
                                                                conf_src))

    bind_ip = cfg.ip
    if not host:
        from dnsbox.net import iface

        addr = iface.configure(cfg)
        if addr is None:
            halt(host, "network set-up failed on %s (ip=%s)" % (cfg.iface, cfg.ip))
        log.log("network: %s up with %s" % (cfg.iface, addr))
        bind_ip = "0.0.0.0"
        if cfg.ip == "dhcp":
            cfg.ip = addr
            cfg.netmask = _dhcp_netmask(cfg.netmask)

    if cfg.mode == "client":
        return client_mode(cfg)
    if cfg.mode == "resolver":
        return resolver_mode(cfg, host, bind_ip)
    db = load_zones(host)
    names = db.zone_names()
    log.log("zones: %d (%s), %d records" % (len(names), ", ".join(names), db.record_count()))

    from dnsbox.auth import server as auth
    from dnsbox.net import server as net

    dyn = dyn_zone(cfg, db)
    xfr_key = _tsig_key(cfg.xfr_key)
    if xfr_key is not None:
        log.log("zone transfers signed with key %s (TSIG) from anywhere" % xfr_key.name.to_text())
    srv = auth.Server(db, nsid=cfg.hostname, peers=cfg.peers, dyn=dyn, updaters=cfg.updaters,
                      xfr_key=xfr_key)
    try:  # auth and net number UDP/TCP alike (tests/host/test_net_server.py checks it)
        loop = net.Server(srv.handle, bind_ip, cfg.port)
    except OSError as e:
        halt(host, "cannot listen on %s port %d: %s" % (bind_ip, cfg.port, e))
    if cfg.peers or dyn is not None or xfr_key is not None:  # the client's address matters
        handle_tcp = srv.handle_tcp
        peer_ip = net.peer_ip
        loop.tcp_handler = lambda q, conn: handle_tcp(q, peer_ip(conn.peer))
    if cfg.peers:
        log.log("zone transfers (AXFR, IXFR) over TCP for %s" % ", ".join(
            _net_text(n) for n in cfg.peers))
    start_services(loop, cfg, bind_ip, host, None)
    if cfg.notify:
        import os

        from dnsbox.net import notifier

        notifier.start(loop, db, cfg.notify, os.urandom)
    log.ready("mode=%s, %d zones, listening on %s port %d (udp, tcp)%s" % (
        cfg.mode, len(names), bind_ip, cfg.port, _tls_text(cfg)))
    loop.serve()


def start_services(loop, cfg, bind_ip, host, local):
    """What every serving mode adds to its loop when configured: DNS over TLS / HTTPS, the DHCP
    server (its names in `local`, the resolver's local names, or None) and the NTP clock."""
    listen_tls(loop, cfg, bind_ip, host)
    start_dhcp(loop, cfg, local)
    start_ntp(loop, cfg)


def _tsig_key(pair):
    """A dnsbox.auth.tsig.Key from the (name, secret) of update-key= / xfr-key=, or None."""
    if pair is None:
        return None
    from dnsbox.auth.tsig import Key

    return Key(pair[0], pair[1])


def _extras_text(cfg, mdns):
    return (", DNS64" if cfg.dns64 else "") + (", .local by multicast DNS" if mdns else "")


def listen_tls(loop, cfg, bind_ip, host):
    """DNS over TLS on cfg.tls_port and DNS over HTTPS on cfg.https_port, with the firmware's
    certificate (module tlscert)."""
    if not cfg.tls_port and not cfg.https_port:
        return
    try:
        import tlscert
    except ImportError:
        halt(host, "tls-port/https-port: this firmware has no TLS certificate (module tlscert; "
             "./build.sh makes one)")
    from dnsbox.net import tls

    for port, endpoint, what in ((cfg.tls_port, None, "DNS over TLS"),
                                 (cfg.https_port, cfg.http_endpoint.encode(), "DNS over HTTPS")):
        if not port:
            continue
        try:
            loop.listen_tls(bind_ip, port, tls.context(tlscert.CERT, tlscert.KEY), endpoint)
        except (OSError, ValueError) as e:
            halt(host, "cannot serve %s on %s port %d: %s" % (what, bind_ip, port, e))
        log.log("%s on port %d%s, certificate SPKI pin sha256/%s" % (
            what, port, "" if endpoint is None else " at " + cfg.http_endpoint, tlscert.PIN))


def start_ntp(loop, cfg):
    """The wall clock from ntp-server= (TSIG checks times against it)."""
    if cfg.ntp is None:
        return
    import os

    from dnsbox import sntp

    try:
        sntp.start(loop, cfg.ntp[0], cfg.ntp[1], os.urandom, log.log)
    except OSError as e:
        log.log("NTP not started: %s" % e)


def start_dhcp(loop, cfg, local):
    """The DHCP server when dhcp-range= is set; a failure is logged and DNS goes on."""
    if cfg.dhcp_range is None:
        return
    from dnsbox.dhcp import serve as dhcp

    try:
        dhcp.start(loop, cfg, local)
    except (OSError, ValueError) as e:
        log.log("DHCP not started: %s" % e)


def _tls_text(cfg):
    out = ""
    if cfg.tls_port:
        out += ", port %d (tls)" % cfg.tls_port
    if cfg.https_port:
        out += ", port %d (https)" % cfg.https_port
    return out


def dyn_zone(cfg, db):
    """The in-memory zone of update-zone= (None without one, or when it overlaps a compiled
    zone: the compiled zone's answers are precomputed and would hide its changes)."""
    if cfg.update_zone is None:
        return None
    from dnsbox.auth.dynzone import DynZone
    from dnsbox.zonedb.lookup import under

    key = _tsig_key(cfg.update_key)
    dyn = DynZone(cfg.update_zone, config.parse_ipv4(cfg.ip or ""), key)
    for i in range(db.nzones):
        apex = db.zone(i)[0].lower()
        if under(apex, dyn.lc) or under(dyn.lc, apex):
            log.log("update-zone=%s overlaps the compiled zone %s: not served" % (
                cfg.update_zone, db.zone_names()[i]))
            return None
    nets = ", ".join(_net_text(n) for n in cfg.updaters)
    if key is not None:
        log.log("update-zone %s: in memory, DNS UPDATE signed with key %s (TSIG) from %s" % (
            cfg.update_zone, key.name.to_text(), nets or "anywhere"))
    else:
        log.log("update-zone %s: in memory, DNS UPDATE over TCP from %s" % (
            cfg.update_zone, nets or "nobody (allow-update=)"))
    return dyn


def _dhcp_netmask(default):
    try:
        with open("/tmp/dhcp.lease") as f:
            lease = f.read().split()
        n = int(lease[1])
        return config.ip_text(config.mask_of(n))
    except (OSError, ValueError, IndexError):
        return default


def client_mode(cfg):
    """One query to server=, printed dig-style; returns the exit status (the appliance's /init
    powers off when the firmware exits)."""
    from dnsbox.client import dig

    server = cfg.servers[0][1] if cfg.servers and cfg.servers[0][1] else None
    if cfg.domain is None or server is None:
        log.log("client mode needs domain=NAME and server=IP (optional type=A port=53)")
        return 2
    port = cfg.servers[0][2] if cfg.servers[0][2] != 53 else cfg.port
    log.log("client: %s %s @%s port %d" % (cfg.domain, cfg.qtype, server, port))
    return dig.run([cfg.domain, cfg.qtype, "@" + server, "-p", str(port)], sys.stdout.write)


def resolver_mode(cfg, host, bind_ip):
    import os

    from dnsbox.auth import server as auth
    from dnsbox.net import server as net
    from dnsbox.net import upstream
    from dnsbox.resolver import forward, local

    db = load_zones(host, optional=True)
    if cfg.peers:
        log.log("auth-peer= is ignored in resolver mode: zone transfers are offered in mode=auth")
    srv = None
    apexes = []
    if db is not None:
        srv = auth.Server(db, nsid=cfg.hostname)
        apexes = [db.zone(i)[0].lower() for i in range(db.nzones)]
        log.log("zones: %d (%s), answered first" % (len(apexes), ", ".join(db.zone_names())))
    nets = cfg.allow if cfg.allow is not None else local.default_nets(cfg.ip, cfg.netmask)
    if not cfg.upstreams():
        from dnsbox.resolver import hints

        roots = cfg.hints or hints.default()  # without any: the forwarder, SERVFAIL as before
        if roots:
            return recursive_mode(cfg, host, bind_ip, nets, srv, apexes, roots)
    fw = forward.Forwarder(cfg, nets, os.urandom, srv, apexes)
    ups = ["%s#%d" % u for u in fw.ups]
    log.log("resolver: upstreams %s, cache %d entries, %d local names, recursion for %s%s" % (
        ", ".join(ups) if ups else "none (set server=IP)", cfg.cache_size,
        len(cfg.hosts) + len(cfg.addresses) + len(cfg.locals),
        ", ".join(_net_text(n) for n in nets), _extras_text(cfg, fw.mdns_ui >= 0)))
    try:
        loop = net.Server(None, bind_ip, cfg.port, peer=True)
    except OSError as e:
        halt(host, "cannot listen on %s port %d: %s" % (bind_ip, cfg.port, e))
    upstream.Resolver(fw, loop, mcast_if=cfg.ip if fw.mdns_ui >= 0 else None)
    start_services(loop, cfg, bind_ip, host, fw.local)
    log.ready("mode=resolver, %d zones, %d upstreams, listening on %s port %d (udp, tcp)%s" % (
        len(apexes), len(ups), bind_ip, cfg.port, _tls_text(cfg)))
    loop.serve()


def recursive_mode(cfg, host, bind_ip, nets, srv, apexes, roots):
    """Resolver mode without server=: iterate from the root hints (hints= or compiled in)."""
    from dnsbox.resolver import serve

    try:
        loop, _rec = serve.start(cfg, nets, roots, bind_ip, cfg.port, srv, apexes,
                                 mcast_if=cfg.ip if cfg.mdns else None)
    except OSError as e:
        halt(host, "cannot listen on %s port %d: %s" % (bind_ip, cfg.port, e))
    log.log("resolver: recursive from %d root hints (%s), cache %d entries, recursion for %s%s" % (
        len(roots), ", ".join("%s#%d" % (h[1], h[2]) for h in roots[:3]), cfg.cache_size,
        ", ".join(_net_text(n) for n in nets), _extras_text(cfg, cfg.mdns)))
    start_services(loop, cfg, bind_ip, host, _rec.local)
    log.ready("mode=resolver (recursive), %d zones, listening on %s port %d (udp, tcp)%s" % (
        len(apexes), bind_ip, cfg.port, _tls_text(cfg)))
    loop.serve()


def _net_text(n):
    net, mask = n
    p = 0
    while p < 32 and mask & (0x80000000 >> p):
        p += 1
    return "%s/%d" % (config.ip_text(net), p)


if __name__ == "__main__":
    rc = main(sys.argv[1:])
    if rc:
        sys.exit(rc)
