"""The only module that knows which interpreter runs (MicroPython 1.25 or CPython 3.11)."""
import sys

# MicroPython's sockets give peers as raw sockaddr bytes, CPython's as (ip, port) tuples.
MICROPYTHON = sys.implementation.name == "micropython"

try:  # MicroPython: const() folds at compile time and costs no RAM
    from micropython import const
except ImportError:  # CPython: identity

    def const(x):
        return x


if MICROPYTHON:

    def recv_into(sock, buf):
        """Read a datagram into buf: its length, or None when none waits (MicroPython)."""
        return sock.readinto(buf)

else:

    def recv_into(sock, buf):
        """Read a datagram into buf: its length; BlockingIOError (EAGAIN) when none waits."""
        return sock.recv_into(buf)


# Signals the firmware handles itself (Linux numbers): recorded by a handler, read between poll
# rounds with signals_caught(). MicroPython: the dnssig C module (board/cmodules/dnssig); CPython
# (tests): the signal module. Without either (a MicroPython built without dnssig) the default
# actions stay.
SIGHUP = const(1)
SIGINT = const(2)
SIGUSR1 = const(10)
SIGTERM = const(15)

try:
    import dnssig as _sig

    def catch_signals(nums):
        for n in nums:
            _sig.catch(n)
        return True

    def signals_caught():
        """Bit mask of the signals caught since the last call (bit n: signal n)."""
        return _sig.take()

except ImportError:
    try:
        import signal as _signal
    except ImportError:
        _signal = None
    _caught = [0]

    def _record(num, _frame):
        _caught[0] |= 1 << num

    def catch_signals(nums):
        if _signal is None:
            return False
        for n in nums:
            _signal.signal(n, _record)
        return True

    def signals_caught():
        bits = _caught[0]
        _caught[0] = 0
        return bits


# Durable writes (the state journal, dnsbox.state.store): fsync(file) pushes an open file to the
# disk, syncdir(path) a directory (after a rename in it). MicroPython's os has neither: the dnsfs
# C module (board/cmodules/dnsfs); CPython: os.fsync. Without either (a MicroPython built
# without dnsfs) HAVE_FSYNC is False and the writes are only flushed.
try:
    import dnsfs as _fs

    HAVE_FSYNC = True

    def fsync(f):
        f.flush()
        _fs.fsync(f.fileno())

    def syncdir(path):
        _fs.syncdir(path)

except ImportError:
    import os as _os

    HAVE_FSYNC = hasattr(_os, "fsync")

    def fsync(f):
        f.flush()
        if HAVE_FSYNC:
            _os.fsync(f.fileno())

    def syncdir(path):
        if HAVE_FSYNC:
            fd = _os.open(path, _os.O_RDONLY)
            try:
                _os.fsync(fd)
            finally:
                _os.close(fd)
