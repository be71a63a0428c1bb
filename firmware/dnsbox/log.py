"""Console log: one line per event, prefixed with the uptime in seconds."""
import sys

from dnsbox import clock

_start = clock.now_ms()
kernel_clock = False  # main sets it on the appliance: the uptime is then the kernel's


def uptime():
    """Seconds since the kernel started (appliance) or since this module loaded (host)."""
    if kernel_clock:
        try:
            with open("/proc/uptime") as f:
                return float(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return clock.since_ms(_start) / 1000


def log(msg, tag="dnsbox:"):
    sys.stdout.write("[%8.3f] %s %s\n" % (uptime(), tag, msg))
    try:
        sys.stdout.flush()  # CPython buffers a piped stdout; MicroPython writes through
    except AttributeError:
        pass


def ready(msg):
    """The one-line summary that says the appliance serves (tests and users wait for it)."""
    log(msg, "dnsbox ready:")
