"""Boot: config file + boot variables -> network -> zone blob -> serve. One log line per step.

Appliance:  dnsbox -m dnsbox.main --appliance  (boot variables from /proc/cmdline; implied when
                                                the firmware is PID 1)
Host build: dnsbox -m dnsbox.main --host k=v   (boot variables from the command line,
                                                listens on 127.0.0.1:5353 unless told otherwise)
Without either (and not PID 1) it prints USAGE and exits 2: only the appliance touches the
network set-up. The config file is dnsbox.siteconf.TEXT (compiled in); `conf-file=PATH` (a boot
variable or a host argument) reads another file instead. `--card=DIR` (the card's /init): the
boot variables are the lines of DIR/dnsbox.txt, and a relative conf-file= is in DIR. Modes:
auth, resolver (zones, local names, cache, upstreams), client (one query printed dig-style, then
the firmware exits: the appliance's /init powers off).
"""
import sys
import time

from dnsbox import config, log
from dnsbox.compat import SIGHUP, SIGINT, SIGTERM, SIGUSR1, catch_signals, signals_caught
from dnsbox.config import nets

HALT_SLEEP_S = 3600  # a halted appliance sleeps in this step; PID 1 must not exit (kernel panic)
SHUTDOWN_MS = 2000  # after SIGTERM/SIGINT: open connections get this long for what is theirs
BOOT_FILE = "dnsbox.txt"  # the boot-variable file in --card=DIR

USAGE = """usage: dnsbox -m dnsbox.main (--host | --appliance) [key=value ...]
  --host        run on this computer: the boot variables are the key=value words given here;
                listens on 127.0.0.1:5353 unless told otherwise (ip=, port=); --max-s=N stops
                after N seconds
  --appliance   run as the appliance: boot variables from /proc/cmdline; sets up the network
                interface (iface=, ip=, mac=: `ip link`, DHCP). Implied when running as PID 1
  --card=DIR    with --appliance: the boot variables are the lines of DIR/dnsbox.txt (the
                card's FAT partition), a relative conf-file= is read from DIR
  --state=DIR   the state directory when no state= boot variable names one (/init passes the
                mount point of the board's state disk)
  modes (mode=): auth (the default), resolver, client (one query, printed dig-style:
                mode=client domain=NAME server=IP [type=A]; or dnsbox -m dnsbox.client)
Boot variables and the config file: docs/boot-variables.md
"""
FAMILY_CHECK_S = 10  # no IPv6 address at start: looked for again this often (SLAAC)
FAMILY_CHECKS = 30  # and this many times (5 minutes), then IPv4 only until a restart


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


def is_pid1():
    """True when this process is PID 1 (the first field of /proc/self/stat)."""
    try:
        with open("/proc/self/stat") as f:
            return f.read(16).split(" ", 1)[0] == "1"
    except OSError:
        return False


def run_as(argv):
    """"help", "host", "appliance", or None (neither asked for: print USAGE)."""
    if "--help" in argv or "-h" in argv:
        return "help"
    if "--host" in argv:
        return "host"
    if "--appliance" in argv or is_pid1():
        return "appliance"
    return None


def read_text(path, limit=config.MAX_FILE_BYTES):
    """(text, None) or (None, the reason): a UTF-8 file of at most limit bytes."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        return None, str(e)
    if len(data) > limit:
        return None, "larger than %d bytes" % limit
    try:
        return data.decode(), None
    except UnicodeError:
        return None, "not UTF-8 text"


def card_path(card, path):
    """A file named in a setting: a relative name is in the card's directory (--card=DIR)."""
    return card + "/" + path if card and path[0] != "/" else path


def load_conf(path, card):
    """(config text, its name or None for the built-in one): conf-file=PATH (relative to the
    card's directory with --card) or the built-in one."""
    if path:
        full = card_path(card, path)
        text, why = read_text(full)
        if text is not None:
            return text, path
        log.log("conf-file=%s: cannot read %s (%s); using the built-in config" % (
            path, full, why))
    from dnsbox import siteconf

    return siteconf.TEXT, None


def read_card(card, words):
    """(words, boot-variable text or None): with --card=DIR the lines of DIR/dnsbox.txt, every
    one of them, replace the kernel command line's copy (where the boot script could keep only
    the last of repeated keys)."""
    if not card:
        return words, None
    path = card + "/" + BOOT_FILE
    text, why = read_text(path)
    if text is None:
        log.log("card: cannot read %s (%s): the kernel command line's boot variables are used "
                "(the last of repeated keys only)" % (path, why))
        return words, None
    log.log("card: boot variables from %s" % path)
    return [], text


def load_hosts(cfg, card):
    """The names of the addn-hosts= files (/etc/hosts format; a relative name is in the card's
    directory with --card), read once at boot: each bad line is logged with its line number and
    left out; a file that cannot be read is logged and skipped."""
    from dnsbox.config import records

    out = []
    dom = records.local_domain(cfg) if cfg.expand_hosts else None
    if cfg.expand_hosts and dom is None:
        log.log("expand-hosts: no domain= (resolver mode's local domain): names kept as given")
    for path in cfg.addn_hosts:
        full = card_path(card, path)
        text, why = read_text(full)
        if text is None:
            log.log("addn-hosts=%s: cannot read %s (%s): skipped" % (path, full, why))
            continue
        got, problems = records.parse_hosts(text, path, dom, records.MAX_HOSTS_NAMES - len(out))
        for p in problems:
            log.log("addn-hosts: " + p)
        log.log("addn-hosts=%s: %d names" % (path, len(got)))
        out += got
    return out


def load_tls_ca(cfg, card):
    """The DER certificates of tls-ca=FILE (PEM; a relative name is in the card's directory with
    --card), read once at boot and trusted beside the frozen bundle for server=IP#PORT#NAME; a
    file that cannot be read or parsed is logged and no certificate of it is trusted (those
    upstreams then fail their check: SERVFAIL with EDE, never plain DNS)."""
    from dnsbox.net import cert

    path = cfg.tls_ca
    if not path:
        return ()
    full = card_path(card, path)
    text, why = read_text(full, cert.PEM_MAX)
    if text is not None:
        try:
            got = cert.pem_ders(text)
        except ValueError as e:
            got, why = None, str(e)
        if got:
            log.log("tls-ca=%s: %d CA certificates, %d bytes, trusted for DNS-over-TLS "
                    "upstreams" % (path, len(got), sum([len(c) for c in got])))
            return tuple(got)
        why = why or "no certificate in it"
    log.log("tls-ca=%s: cannot use %s (%s): not trusted" % (path, full, why))
    return ()


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


def listen6(loop):
    """The IPv6 listener's failure logged (IPv4 goes on: an appliance without IPv6 answers)."""
    if loop.v6_error is not None:
        log.log("IPv6: not listening (%s); IPv4 only" % loop.v6_error)


def listening_text(loop, bind_ip, bind_ip6):
    if loop.udp6 is None:
        return bind_ip
    return "%s and %s" % (bind_ip, bind_ip6)


def main(argv):
    how = run_as(argv)
    if how != "host" and how != "appliance":
        if how == "help":
            sys.stdout.write(USAGE)
            return 0
        sys.stderr.write(USAGE)
        return 2
    host = how == "host"
    log.kernel_clock = not host
    max_s = 0
    card = None
    state = None  # --state=DIR: /init's state disk, used when no state= boot variable is set
    for a in argv:
        if a.startswith("--max-s=") and a[8:].isdigit():
            max_s = int(a[8:])  # host builds: stop after that many seconds (tests, benchmarks)
        if a.startswith("--card="):
            card = a[7:]
        if a.startswith("--state="):
            state = a[8:]
    words = [a for a in argv if not a.startswith("--")] if host else read_cmdline()
    log.log("starting (%s build, %s %s)" % (
        "host" if host else "appliance", sys.implementation.name,
        ".".join(str(x) for x in sys.implementation.version[:3])))
    words, boot_text = read_card(card, words)
    conf_path = config.parse(words, host, None, boot_text).conf_file
    conf, conf_name = load_conf(conf_path, card)
    cfg = config.parse(words, host, conf, boot_text, conf_name=conf_name)
    for p in cfg.problems:
        log.log(p.text())
    bad = cfg.fatal()
    if bad:
        halt(host, "no safe default for: %s" % ", ".join(p.key for p in bad))
    log.log("config: mode=%s ip=%s ip6=%s port=%d (config file: %s)" % (
        cfg.mode, cfg.ip, cfg.ip6, cfg.port, conf_name or "built-in"))

    bind_ip = cfg.ip
    bind_ip6 = None if cfg.ip6 == "off" else (
        "::1" if cfg.ip6 == "auto" else cfg.ip6.split("/")[0])
    if not host:
        from dnsbox.net import iface

        got = iface.configure(cfg)
        if got is None:
            halt(host, "network set-up failed on %s (ip=%s)" % (cfg.iface, cfg.ip))
        log.log("network: %s up with %s" % (cfg.iface, got[0]))
        bind_ip = "0.0.0.0"
        cfg.ip, cfg.netmask = got  # with ip=dhcp: what the lease gave
        if cfg.ip6 != "off":
            log.log("network: IPv6 " + iface.configure6(cfg))
            bind_ip6 = "::"  # every address the interface has or gets (SLAAC)

    if cfg.mode == "client":
        return client_mode(cfg)
    cfg.state = state_dir(cfg.state if cfg.state is not None else state)
    if cfg.mode == "resolver":
        cfg.file_hosts = load_hosts(cfg, card)
        cfg.tls_ca_certs = load_tls_ca(cfg, card)
        return resolver_mode(cfg, host, bind_ip, max_s, bind_ip6)
    db = load_zones(host)
    names = db.zone_names()
    log.log("zones: %d (%s), %d records" % (len(names), ", ".join(names), db.record_count()))

    from dnsbox.auth import server as auth
    from dnsbox.net import server as net

    dyn = dyn_zone(cfg, db)
    xfr_key = _tsig_key(cfg.xfr_key)
    if xfr_key is not None:
        log.log("zone transfers signed with key %s (TSIG) from anywhere" % xfr_key.name.to_text())
    from dnsbox import sntp

    srv = auth.Server(db, nsid=cfg.hostname, peers=cfg.peers, dyn=dyn, updaters=cfg.updaters,
                      xfr_key=xfr_key, wall=sntp.wall)
    from dnsbox.net import xfrclient

    sec = xfrclient.router(cfg, srv, xfr_key, sntp.wall)  # secondary= zones in front
    try:  # auth and net number UDP/TCP alike (tests/host/test_net_server.py checks it)
        # a signed UPDATE over UDP is checked against allow-update=: the peer is needed
        signed_acl = dyn is not None and dyn.key is not None and bool(cfg.updaters)
        handler = sec.handle if sec is not None else (srv.handle_from if signed_acl else
                                                      srv.handle)
        loop = net.Server(handler, bind_ip, cfg.port, peer=sec is not None or signed_acl,
                          ip6=bind_ip6)
    except OSError as e:
        halt(host, "cannot listen on %s port %d: %s" % (bind_ip, cfg.port, e))
    listen6(loop)
    from dnsbox.resolver.local import default_nets

    # CH TXT auth.bind (the queries answered) to allow= (default: own subnet and loopback)
    srv.general.stats_nets = cfg.allow if cfg.allow is not None else default_nets(
        cfg.ip, cfg.netmask, None if bind_ip6 is None else cfg.ip6)
    srv.general.answered = lambda: loop.stats[0] + loop.stats[1]
    handle_tcp = srv.handle_tcp  # the client's address matters (transfers, UPDATE, auth.bind)
    peer_ip = nets.peer_ip
    loop.tcp_handler = lambda q, conn: handle_tcp(q, peer_ip(conn.peer))
    if sec is not None:
        loop.tcp_handler = lambda q, conn: sec.handle_tcp(q, peer_ip(conn.peer), conn.peer)
        xfrclient.serve(loop, sec, sntp.wall, cfg.notify)
    if cfg.peers:
        log.log("zone transfers (AXFR, IXFR) over TCP for %s" % ", ".join(
            nets.net_text(n) for n in cfg.peers))
    rrl = rate_limit(loop, cfg, (), srv.general)
    w = make_watch(loop, cfg, "auth", None, bind_ip, host, bind_ip6)
    w.watch_transfers()
    w.set_zones(db)
    w.dyn = dyn
    w.rrl = rrl
    start_services(loop, cfg, bind_ip, host, None, w, bind_ip6)
    watch_signatures(loop, db)
    if cfg.notify:
        import os

        from dnsbox.net import notifier

        notifier.start(loop, db, cfg.notify, os.urandom, dyn)
    log.ready("mode=%s, %d zones, listening on %s port %d (udp, tcp)%s" % (
        cfg.mode, len(names) + (dyn is not None) + (0 if sec is None else len(sec.zones)),
        listening_text(loop, bind_ip, bind_ip6),
        cfg.port, _tls_text(cfg)))
    return serve(loop, max_s, None if rrl is None else (lambda: rrl.stats))


def watch_signatures(loop, db):
    """The signed zones' signature expiry on the console, at start and daily."""
    from dnsbox import sntp
    from dnsbox.auth import expiry

    expiry.watch(loop, db, sntp.wall, log.log)


def rate_limit(loop, cfg, clients, hint):
    """Response rate limiting of the loop's UDP answers (dnsbox.auth.rrl) from the rrl-*
    settings: the Limiter set as loop.limit, or None when rrl-ratelimit=0. clients: resolver
    mode's allowed networks (limited only at rrl-allow-ratelimit=); hint: the auth path
    (wildcard answers)."""
    if not cfg.rrl_rate:
        log.log("rrl: off (rrl-ratelimit=0): UDP answers are not rate limited")
        return None
    from dnsbox.auth import rrl
    from dnsbox.resolver.budget import heap_size

    lim = rrl.Limiter(cfg.rrl_rate, cfg.rrl_slip, cfg.rrl_v4, cfg.rrl_v6,
                      rrl.buckets(cfg.rrl_size, heap_size()), cfg.rrl_wl_rate,
                      rrl.class_bits(cfg.rrl_whitelist) if cfg.rrl_whitelist else 0, clients,
                      cfg.rrl_allow_rate, hint, log.log)
    log.log("rrl: " + lim.text())
    loop.limit = lim.limit
    return lim


def start_services(loop, cfg, bind_ip, host, local, w, bind_ip6=None):
    """What every serving mode adds to its loop when configured: DNS over TLS / HTTPS (on both
    families when the loop listens on IPv6), the DHCP server (its names in `local`, the
    resolver's local names, or None; its lease events in the watch w's log) and the NTP
    clock."""
    log.log(loop.limits_text())
    listen_tls(loop, cfg, bind_ip, host)
    if loop.udp6 is not None:
        listen_tls(loop, cfg, bind_ip6, host)
    svc = start_dhcp(loop, cfg, local, w.event)
    if svc is not None:
        w.dhcp = svc.core
        if cfg.state is not None:
            from dnsbox.state import leasestate

            leasestate.attach(svc, cfg.state, log.log)
    start_ntp(loop, cfg)


def make_watch(loop, cfg, mode, drv, bind_ip, host, bind_ip6=None):
    """The query log, event lines and status pages (dnsbox.net.watch) of the loop; the plain
    HTTP listener of http-port=. Pages are readable from http-allow= (default: resolver mode's
    allowed clients, auth mode's own subnet) and loopback."""
    from dnsbox import sntp
    from dnsbox.net.watch import QUERY_LINES_PER_S, Watch
    from dnsbox.resolver.local import default_nets

    w = Watch(loop, mode, drv, cfg.log_queries, cfg.log_queries or cfg.ext_stats)
    w.wall = sntp.wall
    w.nets = cfg.http_allow
    if w.nets is None:
        w.nets = drv.nets if drv is not None else default_nets(
            cfg.ip, cfg.netmask, None if bind_ip6 is None else cfg.ip6)
    w.watch_upstreams()
    if cfg.log_queries:
        log.log("log-queries: a line per query (at most %d a second)" % (
            QUERY_LINES_PER_S))
    if cfg.http_port:
        try:
            loop.listen_http(bind_ip, cfg.http_port)
        except OSError as e:
            halt(host, "cannot serve HTTP on %s port %d: %s" % (bind_ip, cfg.http_port, e))
        if bind_ip6 is not None and loop.udp6 is not None:
            try:
                loop.listen_http(bind_ip6, cfg.http_port)
            except OSError as e:  # IPv4 goes on, as the DNS listeners do
                log.log("status page: not on %s port %d (%s)" % (bind_ip6, cfg.http_port, e))
        log.log("status page and /metrics on http port %d for %s and loopback" % (
            cfg.http_port, ", ".join(nets.net_text(n) for n in w.nets)))
    return w


def _tsig_key(pair):
    """A dnsbox.auth.tsig.Key from the (name, secret) of update-key= / xfr-key=, or None."""
    if pair is None:
        return None
    from dnsbox.auth.tsig import Key

    return Key(pair[0], pair[1])


def _extras_text(cfg, mdns):
    stale = ""
    if cfg.serve_expired:
        stale = ", expired answers for %d s (TTL %d, after %d ms)" % (
            cfg.stale_ttl, cfg.stale_reply_ttl, cfg.stale_wait)
    return ((", DNS64" if cfg.dns64 else "") + (", .local by multicast DNS" if mdns else "") +
            stale + (", prefetch" if cfg.prefetch else ""))


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
            alpn = tls.ALPN_DOT if endpoint is None else tls.ALPN_DOH
            loop.listen_tls(bind_ip, port, tls.context(tlscert.CERT, tlscert.KEY, alpn), endpoint)
        except (OSError, ValueError) as e:
            halt(host, "cannot serve %s on %s port %d: %s" % (what, bind_ip, port, e))
        log.log("%s on %s port %d%s, certificate SPKI pin sha256/%s" % (
            what, bind_ip, port, "" if endpoint is None else " at " + cfg.http_endpoint,
            tlscert.PIN))


def start_ntp(loop, cfg):
    """The wall clock from ntp-server= (TSIG checks times against it)."""
    if cfg.ntp is None:
        return
    import os

    from dnsbox.net import ntp

    try:
        ntp.start(loop, cfg.ntp[0], cfg.ntp[1], os.urandom, log.log)
    except OSError as e:
        log.log("NTP not started: %s" % e)


def start_dhcp(loop, cfg, local, events=None):
    """The DHCP server when dhcp-range= is set (its dnsbox.net.dhcp.Service, else None); a
    failure is logged and DNS goes on."""
    if cfg.dhcp_range is None:
        return None
    from dnsbox.net import dhcp

    try:
        return dhcp.start(loop, cfg, local, events)
    except (OSError, ValueError) as e:
        log.log("DHCP not started: %s" % e)
        return None


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
    dyn = DynZone(cfg.update_zone, nets.parse_ipv4(cfg.ip or ""), key)
    for i in range(db.nzones):
        apex = db.zone(i)[0].lower()
        if under(apex, dyn.lc) or under(dyn.lc, apex):
            log.log("update-zone=%s overlaps the compiled zone %s: not served" % (
                cfg.update_zone, db.zone_names()[i]))
            return None
    who = ", ".join(nets.net_text(n) for n in cfg.updaters)
    if key is not None:
        log.log("update-zone %s: in memory, DNS UPDATE signed with key %s (TSIG) from %s" % (
            cfg.update_zone, key.name.to_text(), who or "anywhere"))
    else:
        log.log("update-zone %s: in memory, DNS UPDATE over TCP from %s" % (
            cfg.update_zone, who or "nobody (allow-update=)"))
    if cfg.state is not None:
        from dnsbox.state import zonestate

        zonestate.attach(dyn, cfg.state, log.log)
    return dyn


def state_dir(path):
    """The state directory of state= when it is writable, else None (said on the console)."""
    if path is None:
        log.log("state: none (no state=): updates and DHCP leases live in memory only")
        return None
    from dnsbox.state.store import usable

    why = usable(path)
    if why is not None:
        log.log("state: %s is not writable (%s): updates and DHCP leases live in memory only" % (
            path, why))
        return None
    log.log("state: %s (journal and snapshots of the update zone and DHCP leases)" % path)
    return path


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


def resolver_mode(cfg, host, bind_ip, max_s=0, bind_ip6=None):
    """Resolver mode: the zones first, then local names, the cache, and the driver's jobs:
    forwarding (server=), recursion from the root hints (no default server=), the .local
    bridge; one serving loop for both (dnsbox.net.upstream)."""
    from dnsbox.auth import server as auth
    from dnsbox.net import upstream
    from dnsbox.resolver import budget, local

    db = load_zones(host, optional=True)
    if cfg.peers:
        log.log("auth-peer= is ignored in resolver mode: zone transfers are offered in mode=auth")
    srv = None
    apexes = []
    if db is not None:
        srv = auth.Server(db, nsid=cfg.hostname)
        apexes = [db.zone(i)[0].lower() for i in range(db.nzones)]
        log.log("zones: %d (%s), answered first" % (len(apexes), ", ".join(db.zone_names())))
    clients = cfg.allow if cfg.allow is not None else local.default_nets(
        cfg.ip, cfg.netmask, None if bind_ip6 is None else cfg.ip6)
    limits = budget.Limits(budget.heap_size(), cfg.cache_size)
    drv = make_driver(cfg, clients, srv, apexes, limits)
    what = []
    if drv.ups is not None:
        what.append("forwarding to %s" % drv.ups.text())
    if drv.env is not None:
        env = drv.env
        ips = env.hints_root.ips()  # both families: which are used is logged below
        what.append("recursion from %d root hints (%s)" % (len(ips), ", ".join(
            "%s#%d" % (ip, env.port_of(ip)) for ip in ips[:3])))
    if not what:
        what.append("no upstreams (set server=IP): SERVFAIL for names not answered here")
    log.log("resolver: %s; %d local names, recursion for %s%s" % (
        "; ".join(what), len(cfg.hosts) + len(cfg.file_hosts) + len(cfg.addresses) +
        len(cfg.locals) + len(cfg.cnames) + len(cfg.txt_records) + len(cfg.mx_hosts) +
        len(cfg.srv_hosts) + len(cfg.ptr_records),
        ", ".join(nets.net_text(n) for n in clients), _extras_text(cfg, cfg.mdns)))
    log.log("memory: " + limits.text())
    try:
        loop, _glue = upstream.serve(drv, bind_ip, cfg.port, cfg.ip if cfg.mdns else None,
                                     bind_ip6)
    except OSError as e:
        halt(host, "cannot listen on %s port %d: %s" % (bind_ip, cfg.port, e))
    listen6(loop)
    if drv.env is not None:
        watch_families(loop, drv.env, host)
    rrl = rate_limit(loop, cfg, clients, None if srv is None else srv.general)
    if rrl is not None:
        drv.more.append(rrl.stats)
    w = make_watch(loop, cfg, "resolver", drv, bind_ip, host, bind_ip6)
    w.rrl = rrl
    if db is not None:
        w.set_zones(db)
    start_services(loop, cfg, bind_ip, host, drv.local, w, bind_ip6)
    if db is not None:
        watch_signatures(loop, db)
    ups = "" if drv.ups is None else ", %d upstreams" % len(drv.ups.ups)
    log.ready("mode=resolver%s, %d zones%s, listening on %s port %d (udp, tcp)%s" % (
        " (recursive)" if drv.ups is None and drv.env is not None else "", len(apexes), ups,
        listening_text(loop, bind_ip, bind_ip6), cfg.port, _tls_text(cfg)))
    return serve(loop, max_s, drv.counters)


def watch_families(loop, env, host):
    """env.families: the address families the recursion may ask over, (4,) or (4, 6) (IPv6
    when the box has a global IPv6 address, or on the host ::1: dnsbox.net.iface.families).
    Read now, and on the appliance again every FAMILY_CHECK_S until IPv6 is there (SLAAC brings
    the address some seconds after boot), at most FAMILY_CHECKS times."""
    from dnsbox.net import iface

    env.families = iface.families(host)
    log.log("recursion over IPv%s" % " and IPv".join(str(f) for f in env.families))
    if host or 6 in env.families:
        return
    left = [FAMILY_CHECKS]
    last = [time.time()]

    def check():
        if time.time() - last[0] < FAMILY_CHECK_S:
            return
        last[0] = time.time()
        left[0] -= 1
        env.families = iface.families()
        if 6 in env.families or left[0] <= 0:
            loop.periodic.remove(check)
            if 6 in env.families:
                log.log("recursion over IPv4 and IPv6 (an IPv6 address came)")

    loop.periodic.append(check)


def make_driver(cfg, clients, auth, zones, limits, rng=None):
    """The resolver's driver (dnsbox.resolver.driver) made from the settings: each core gets
    its values, not the Config."""
    import os

    from dnsbox.resolver import hints
    from dnsbox.resolver.cache import Cache
    from dnsbox.resolver.driver import Driver
    from dnsbox.resolver.local import Local

    rng = rng or os.urandom
    ups = env = None
    servers = cfg.upstreams()
    trust = make_trust(cfg, limits) if cfg.dnssec else None
    if servers:
        from dnsbox.resolver.forward import Upstreams

        ups = Upstreams(servers, cfg.do_0x20, rng, trust is not None, cfg.tls_servers)
        ups.ca_certs = cfg.tls_ca_certs  # tls-ca=: beside the frozen bundle (net.dotup)
        ups.min_ttl = cfg.cache_min_ttl
        ups.max_ttl = cfg.cache_max_ttl
    if ups is None or ups.route(b"\x00") is None:  # no default server=: recurse for the rest
        roots = cfg.hints or hints.default()
        if roots:
            env = make_env(roots, rng, limits, cfg.qmin, cfg.use0x20)
            env.dnssec = trust is not None
            env.local_ok = not cfg.no_localhost
            env.min_ttl = cfg.cache_min_ttl
            env.max_ttl = cfg.cache_max_ttl
    from dnsbox.resolver.local import records

    local = Local(cfg.hosts + cfg.file_hosts, cfg.addresses, cfg.locals, cfg.domain_needed,
                  cfg.bogus_priv, records(cfg.txt_records, cfg.mx_hosts, cfg.srv_hosts,
                                          cfg.ptr_records), cfg.cnames)
    stale = (cfg.stale_reply_ttl, cfg.stale_wait) if cfg.serve_expired else None
    cache = Cache(limits.cache_entries, limits.cache_bytes,
                  cfg.stale_ttl if cfg.serve_expired else 0, cfg.prefetch)
    return Driver(auth, zones, clients, local, cache, limits, rng, ups, env, cfg.dns64, cfg.mdns,
                  trust, stale)


def make_trust(cfg, limits):
    """What DNSSEC validation needs (dnsbox.dnssec.validator.Trust): the trust anchors
    (trust-anchor=, else the root's DS records frozen in from dns-root-data), the negative ones
    (domain-insecure=), and the wall clock: the NTP-corrected one, never earlier than the
    firmware's build. None (validation off) when there is no anchor at all."""
    from dnsbox import sntp
    from dnsbox.dnssec.validator import ZONE_BYTES, Trust
    from dnsbox.wire import rdata
    from dnsbox.wire import types as T
    from dnsbox.wire.name import Name
    from dnsbox.wire.rr import RR

    anchors = {}
    floor = 0
    given = cfg.anchors
    try:
        import roothints

        floor = getattr(roothints, "BUILT", 0)
        if not given:
            given = [(b"\x00", rdata.from_text(T.DS, t, None)) for t in
                     getattr(roothints, "DS", ())]
    except ImportError:
        pass
    for dom, ds in given:
        anchors.setdefault(dom, []).append(RR(Name(dom, dom), T.DS, T.CLASS_IN, 0, ds))
    if not anchors:
        log.log("dnssec: no trust anchor (trust-anchor=, or a firmware with root hints): "
                "validation off")
        return None
    if not sntp.synced():
        log.log("dnssec: signature times are checked against an unverified clock until NTP "
                "answers (ntp-server=); never earlier than the firmware's build")
    # the zones' keys: a quarter of the recursion's share of the budget
    return Trust(anchors, cfg.insecure, lambda: max(sntp.wall(), floor),
                 limits.recurse_bytes // 4 // ZONE_BYTES)


def make_env(roots, rng, limits, qmin=True, use0x20=True, port=53, families=(4,)):
    """What iterations share (dnsbox.resolver.iterate.Env), within the recursion budget.
    families: the address families the box can reach servers over ((4,), (6,) or (4, 6))."""
    from dnsbox.resolver import delegation as dg
    from dnsbox.resolver.iterate import Env
    from dnsbox.resolver.servers import SERVER_BYTES, Servers

    third = limits.recurse_bytes // 3
    env = Env(roots, rng, Servers(third // SERVER_BYTES), dg.RRCache(third), port, third)
    env.qmin = qmin
    env.use0x20 = use0x20
    env.families = families
    return env


def serve(loop, max_s, counters=None):
    """Serve until SIGTERM or SIGINT (host builds: or for max_s seconds, as tests and benchmarks
    do), then shut down (net.server.Server.shutdown) and return 0, the exit status. SIGHUP is
    logged and ignored; SIGUSR1 logs the counters (the loop's, and counters() when given)."""
    why = ["time is up"]
    if catch_signals((SIGTERM, SIGINT, SIGHUP, SIGUSR1)):
        loop.periodic.append(lambda: _signals(loop, why, counters))
    end = time.time() + max_s
    while not loop.stopped and (max_s <= 0 or time.time() < end):
        loop.serve(-1 if max_s <= 0 else 1)  # host: one poll round (at most POLL_MS) per check
    cut = loop.shutdown(SHUTDOWN_MS)
    log.log("stopped (%s): %s; %d connections cut" % (why[0], _loop_counters(loop), cut))
    return 0


def _signals(loop, why, counters):
    bits = signals_caught()
    if bits & (1 << SIGUSR1):
        more = "" if counters is None else "; " + ", ".join(
            "%s %s" % kv for kv in sorted(counters().items()))
        log.log("counters: %s%s" % (_loop_counters(loop), more))
    if bits & (1 << SIGHUP):
        log.log("SIGHUP ignored: the settings are read at start (restart to apply changes)")
    for num, name in ((SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")):
        if bits & (1 << num):
            why[0] = name
            loop.stop()


def _loop_counters(loop):
    st = loop.stats
    return ("%d udp and %d tcp queries, %d udp answers unsent, %d tcp connections open, %d "
            "refused, %d closed for a newer one, %d timed out, %d faults" % (
                st[0], st[1], loop.unsent, len(loop.conns), st[2], st[3], st[4], loop.faults))


if __name__ == "__main__":
    rc = main(sys.argv[1:])
    if rc:
        sys.exit(rc)
