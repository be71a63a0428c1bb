"""The NSD configuration the tests and test beds use: one foreground NSD (nsd -d -c FILE) on one
address and port, every file (zone list, xfrd state, pid, log) in its own run directory, no
chroot, no user switch, no database, no remote control, no rate limiting (unless the options
set rrl-ratelimit or rrl-whitelist-ratelimit); zones from files.

  text = nsd_conf(run_dir, ip, port, [(origin, zone file path)], ["minimal-responses: yes"])
  (a zone may carry a third item: its own option lines, e.g. ["request-xfr: ..."])
  python3 tools/nsdconf.py RUN_DIR IP PORT [-z ORIGIN=ZONEFILE]... [-o "KEY: VALUE"]...  (prints it)
"""


def nsd_conf(run_dir, ip, port, zones, options=()):
    """The nsd.conf text; options: more `key: value` lines for the server section."""
    d = run_dir
    conf = [
        "server:",
        "  ip-address: %s" % ip,
        "  port: %d" % port,
        "  do-ip4: %s" % ("no" if ":" in ip else "yes"),
        "  do-ip6: %s" % ("yes" if ":" in ip else "no"),
        "  server-count: 1",
        "  reuseport: no",
        '  username: ""',
        '  chroot: ""',
        '  zonesdir: ""',
        '  database: ""',
        '  zonelistfile: "%s/zone.list"' % d,
        '  xfrdfile: "%s/xfrd.state"' % d,
        '  xfrdir: "%s"' % d,
        '  pidfile: "%s/nsd.pid"' % d,
        '  logfile: "%s/nsd.log"' % d,
        "  verbosity: 1",
    ]
    for key in ("rrl-ratelimit", "rrl-whitelist-ratelimit"):  # off unless options set them
        if not any(o.startswith(key + ":") for o in options):
            conf.append("  %s: 0" % key)
    conf += ["  " + o for o in options]
    conf += ["remote-control:", "  control-enable: no"]
    for z in zones:  # (origin, zone file) or (origin, zone file, [zone option lines])
        conf += ["zone:", '  name: "%s"' % z[0], '  zonefile: "%s"' % z[1]]
        conf += ["  " + o for o in (z[2] if len(z) > 2 else ())]
    return "\n".join(conf) + "\n"


def main(argv):
    """nsdconf.py RUN_DIR IP PORT [-z ORIGIN=ZONEFILE]... [-o 'KEY: VALUE']... : print it."""
    if len(argv) < 3 or len(argv) % 2 == 0:
        print("usage: nsdconf.py RUN_DIR IP PORT [-z ORIGIN=ZONEFILE]... [-o 'KEY: VALUE']...")
        return 2
    zones, options = [], []
    for flag, value in zip(argv[3::2], argv[4::2]):
        if flag == "-z" and "=" in value:
            zones.append(tuple(value.split("=", 1)))
        elif flag == "-o":
            options.append(value)
        else:
            print("nsdconf.py: unknown %s %s" % (flag, value))
            return 2
    print(nsd_conf(argv[0], argv[1], int(argv[2]), zones, options), end="")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
