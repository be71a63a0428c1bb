"""The signatures of the signed zones run out (RFC 4034 3.1.5): the console says when, at start
and once a day, and warns in the last WARN_DAYS days (a rebuild re-signs them). The earliest
expiration of each zone is in the blob's zone table (docs/blob.md)."""
import time

from dnsbox.compat import const

WARN_DAYS = const(7)
CHECK_S = const(86400)  # how often the serving loop looks again
_DAY = const(86400)


def _date(t):
    g = time.gmtime(t)
    return "%04d-%02d-%02d %02d:%02d UTC" % (g[0], g[1], g[2], g[3], g[4])


def lines(db, now, start):
    """What to say at wall time now (start: the first look, which names every signed zone)."""
    out = []
    for i in range(db.nzones):
        exp = db.sig_expiry(i)
        if not exp:
            continue
        left = (exp - now) & 0xFFFFFFFF  # RFC 1982: seconds until it, or negative
        if left >= 0x80000000:
            left -= 0x100000000
        name = db.zone_names()[i]
        when = _date(now + left)
        if left <= 0:
            out.append("WARNING: zone %s: signatures expired %s: validators will reject its "
                       "answers; rebuild the image with its keys to re-sign" % (name, when))
        elif left <= WARN_DAYS * _DAY:
            out.append("WARNING: zone %s: signatures expire %s (in %d days): rebuild the image "
                       "with its keys to re-sign" % (name, when, left // _DAY))
        elif start:
            out.append("zone %s: signed, signatures valid until %s (%d days)" % (
                name, when, left // _DAY))
    return out


def watch(loop, db, wall, log):
    """Say it now and every CHECK_S seconds of wall time from the serving loop."""
    state = [0, True]  # next look, first look

    def look():
        now = wall()
        if now < state[0]:
            return
        state[0] = now + CHECK_S
        for line in lines(db, now, state[1]):
            log(line)
        state[1] = False

    if True in db.signed:
        loop.periodic.append(look)
        look()
