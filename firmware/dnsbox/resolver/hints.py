"""Where iteration starts: the root hints.

default()       the hints compiled into the image (module `roothints`, written at build time by
                tools/hints.py from Debian's dns-root-data), [] if the image has none;
parse(text)     the value of `hints=IP[#port][,IP[#port]...]` (other root servers, e.g. a test
                root); ValueError naming the bad item.
Both give [(ns name text, ip text, port)], the form dnsbox.resolver.iterate.Env takes. Servers
given by address only get the names hint1.root-hints.invalid. ... (RFC 6761 .invalid).
"""

from dnsbox.compat import const

MAX_HINTS = const(26)  # root addresses kept (13 servers, IPv4 and IPv6 in today's file)


def default():
    try:
        import roothints
    except ImportError:
        return []
    return [(n, ip, 53) for n, ip in roothints.HINTS[:MAX_HINTS]]


def _ipv4(text):
    p = text.split(".")
    if len(p) != 4:
        return False
    for x in p:
        if not x.isdigit() or len(x) > 3 or int(x) > 255:
            return False
    return True


def parse(text):
    out = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        ip = item
        port = 53
        if "#" in item:
            ip, ps = item.split("#", 1)
            if not ps.isdigit() or not 0 < int(ps) < 65536:
                raise ValueError("bad port in %r" % item)
            port = int(ps)
        if not _ipv4(ip):
            raise ValueError("%r is not an IPv4 address" % item)
        if len(out) >= MAX_HINTS:
            raise ValueError("more than %d root servers" % MAX_HINTS)
        out.append(("hint%d.root-hints.invalid." % (len(out) + 1), ip, port))
    if not out:
        raise ValueError("no address given")
    return out
