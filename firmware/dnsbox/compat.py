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
