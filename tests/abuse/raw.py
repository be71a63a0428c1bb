"""Raw DNS exchanges for the abuse tests: bytes as they are (no codec between the test and the
server), outcomes as short texts ("FORMERR", "-" for silence), TCP frames, byte counts."""
import socket
import struct

import dns.message
import dns.rcode

WAIT_S = 3.0  # how long a reply that should come is waited for (only a failure waits)
GOOD_ID = 0x7777  # the ID of the well-formed query sent after each abusive one


def query(name="www.example.com.", rdtype="A", qid=GOOD_ID, edns=None, payload=1232, rd=True):
    q = dns.message.make_query(name, rdtype, use_edns=edns, payload=payload)
    q.id = qid
    if not rd:
        q.flags &= ~dns.flags.RD
    return q.to_wire()


def rcode_text(r):
    """The rcode of reply bytes (with the OPT's extended bits when dnspython can read it)."""
    if len(r) < 12:
        return "short(%d)" % len(r)
    try:
        return dns.rcode.to_text(dns.message.from_wire(r, ignore_trailing=True).rcode())
    except Exception:  # noqa: BLE001 - a reply dnspython refuses: the header's bits
        return dns.rcode.to_text(r[3] & 15)


def frame(b):
    return struct.pack("!H", len(b)) + b


def udp_socket(source="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    s.settimeout(WAIT_S)
    return s


def udp_then_good(ip, port, wire, good=None):
    """Send wire, then a good query, on one socket: (outcome of wire, the good one answered).
    A single-threaded server handles datagrams in order, so wire's reply (if any) comes
    first: when the first reply is the good one's, wire got none ("-")."""
    good = good or query()
    s = udp_socket()
    try:
        s.sendto(wire, (ip, port))
        s.sendto(good, (ip, port))
        got = []
        while len(got) < 2:
            try:
                r = s.recv(65535)
            except socket.timeout:
                break
            got.append(r)
            if r[:2] == good[:2]:
                break
    finally:
        s.close()
    first = "-"
    if got and got[0][:2] != good[:2]:
        first = reply_outcome(wire, got[0])
    answered = bool(got) and got[-1][:2] == good[:2] and rcode_text(got[-1]) == "NOERROR"
    return first, answered


def reply_outcome(wire, r):
    """The rcode text of a reply, flagged when it breaks the basics (QR, the query's ID)."""
    out = rcode_text(r)
    if len(r) < 12 or not r[2] & 0x80:
        out += "(no QR)"
    if len(wire) >= 2 and r[:2] != wire[:2]:
        out += "(other ID)"
    return out


def read_frame(c):
    """One framed message from c; None on a timeout; EOFError when the server closed (or
    reset) the connection."""
    hdr = _read(c, 2)
    if hdr is None:
        return None
    return _read(c, struct.unpack("!H", hdr)[0])


def _read(c, n):
    b = b""
    while len(b) < n:
        try:
            d = c.recv(n - len(b))
        except socket.timeout:
            return None
        except ConnectionResetError:
            raise EOFError("reset")
        if not d:
            raise EOFError("closed")
        b += d
    return b


def tcp_connect(ip, port, timeout=WAIT_S):
    c = socket.create_connection((ip, port), timeout=timeout)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def tcp_then_good(ip, port, body, good=None):
    """On a new connection: the frame of body, then a good query's frame: (outcome of body,
    the good one answered on the same connection). Outcomes: an rcode text, "-" (no reply,
    the connection went on), "closed" (no reply, the server closed the connection), "stalled"
    (no reply, the connection open but silent)."""
    good = good or query()
    c = tcp_connect(ip, port)
    first, answered = "-", False
    try:
        c.sendall(frame(body) + frame(good))
        r = read_frame(c)
        if r is None:
            first = "stalled"
        elif r[:2] != good[:2]:
            first = reply_outcome(body, r)
            r = read_frame(c)
        answered = r is not None and r[:2] == good[:2] and rcode_text(r) == "NOERROR"
    except (EOFError, BrokenPipeError):
        if first == "-" and not answered:
            first = "closed"
    finally:
        c.close()
    return first, answered
