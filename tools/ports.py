"""A loopback port that is free for both UDP and TCP right now (tests and benchmarks)."""
import random
import socket

PORT_TRIES = 50  # random ports tried before giving up
PORT_RANGE = (20000, 60000)  # clear of the well-known ports and of 5353 (a developer's instance)


def free_port(host="127.0.0.1"):
    for _ in range(PORT_TRIES):
        port = random.randint(*PORT_RANGE)
        if port == 5353:
            continue
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            u.bind((host, port))
            t.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free UDP+TCP port on %s after %d tries" % (host, PORT_TRIES))
