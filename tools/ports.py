"""A loopback port that is free for both UDP and TCP right now (tests and benchmarks)."""
import errno
import random
import socket

PORT_TRIES = 50  # random ports tried before giving up
PORT_RANGE = (20000, 60000)  # clear of the well-known ports and of 5353 (a developer's instance)


def _free(host, port, optional=False):
    """Whether host:port is free for UDP and TCP; optional: True too when host cannot be had
    at all (a machine without IPv6 on loopback)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    socks = []
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(fam, kind)
            socks.append(s)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((host, port))
        return True
    except OSError as e:
        return optional and e.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT)
    finally:
        for s in socks:
            s.close()


def free_port(host="127.0.0.1"):
    """A port free on host; for 127.0.0.1 free on ::1 too (the host firmware listens on both)."""
    for _ in range(PORT_TRIES):
        port = random.randint(*PORT_RANGE)
        if port == 5353:
            continue
        if _free(host, port) and (":" in host or _free("::1", port, True)):
            return port
    raise RuntimeError("no free UDP+TCP port on %s after %d tries" % (host, PORT_TRIES))
