"""The only module that knows which interpreter runs (MicroPython 1.25 or CPython 3.11)."""
import sys

# MicroPython's sockets give peers as raw sockaddr bytes, CPython's as (ip, port) tuples.
MICROPYTHON = sys.implementation.name == "micropython"

try:  # MicroPython: const() folds at compile time and costs no RAM
    from micropython import const
except ImportError:  # CPython: identity

    def const(x):
        return x


def reader(sock):
    """sock's read-into-a-buffer method: readinto (MicroPython) or recv_into (CPython). Both
    return the byte count; on a drained non-blocking socket MicroPython's returns None and
    CPython's raises BlockingIOError (an OSError with errno EAGAIN)."""
    r = getattr(sock, "recv_into", None)
    return r if r is not None else sock.readinto
