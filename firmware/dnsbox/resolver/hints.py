"""Where iteration starts: the root hints.

default()       the hints compiled into the image (module `roothints`, written at build time by
                tools/hints.py from Debian's dns-root-data): IPv4 and IPv6 addresses (the
                iteration asks those of the families the box has), [] if the image has none;
the value of `hints=IP[#port][,IP[#port]...]` (other root servers, e.g. a test root) is parsed
by dnsbox.config.values.hints. Both give [(ns name text, ip text, port)], the form
dnsbox.resolver.iterate.Env takes.
"""


def default():
    try:
        import roothints
    except ImportError:
        return []
    return [(n, ip, 53) for n, ip in roothints.HINTS + getattr(roothints, "HINTS6", ())]
