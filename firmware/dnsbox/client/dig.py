"""A dig-like client: one query, the answer printed in dig's presentation format.

run(args, write) parses dig-style arguments (`NAME [TYPE] [@SERVER] [-p PORT] [-t TYPE] [+tcp]
[+norecurse] [+noedns]`, or the boot-variable form domain= server= type= port=), asks, prints
through write(text) and returns the exit status (0 answer, 9 no reply, 1 bad arguments),
as dig does. Pure parts (arguments, formatting) are separate from the one function that does
I/O (exchange), so they are tested without a network.
"""
import select
import socket
import struct
import sys
import time

from dnsbox import clock
from dnsbox.compat import const
from dnsbox.config.nets import parse_addr, peer_ip, peer_port
from dnsbox.wire import edns as _edns
from dnsbox.wire import message as _msg
from dnsbox.wire import opcode as _op
from dnsbox.wire import rcode as _rc
from dnsbox.wire import types as _t
from dnsbox.wire.errors import TextError, WireError
from dnsbox.wire.name import from_text
from dnsbox.wire.reply import UDP_MAX

TIMEOUT_MS = 2000  # one UDP try
TRIES = const(3)  # UDP tries before giving up (dig: +tries=3)
TCP_TIMEOUT_MS = 5000  # the whole TCP exchange
UDP_READ = const(65535)
MAX_READS = const(64)  # datagrams examined per try (wrong ID, wrong source...) before giving up
EXIT_OK = const(0)
EXIT_USAGE = const(1)
EXIT_NO_REPLY = const(9)

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Args:
    def __init__(self):
        self.name = None
        self.qtype = _t.A
        self.qtype_text = "A"
        self.server = None
        self.port = 53
        self.tcp = False
        self.rd = True
        self.edns = True


def parse_args(argv):
    """dig-style arguments -> Args; ValueError with a dig-like message."""
    a = Args()
    i = 0
    while i < len(argv):
        w = argv[i]
        i += 1
        if w.startswith("@"):
            a.server = w[1:]
            if a.server[:1] == "[" and a.server[-1:] == "]":
                a.server = a.server[1:-1]  # @[::1], the URL form
        elif w == "-p" or w == "-t":
            if i >= len(argv):
                raise ValueError("option %s needs a value" % w)
            v = argv[i]
            i += 1
            if w == "-p":
                a.port = _port(v)
            else:
                _set_type(a, v)
        elif w.startswith("+"):
            opt = w[1:]
            if opt in ("tcp", "vc"):
                a.tcp = True
            elif opt in ("notcp", "novc"):
                a.tcp = False
            elif opt in ("norecurse", "norec"):
                a.rd = False
            elif opt in ("recurse", "rec"):
                a.rd = True
            elif opt == "noedns":
                a.edns = False
            elif opt == "edns":
                a.edns = True
            else:
                raise ValueError("invalid option: %s" % w)
        elif "=" in w:
            k, v = w.split("=", 1)
            if k == "domain":
                a.name = v
            elif k == "server":
                a.server = v
            elif k == "type":
                _set_type(a, v)
            elif k == "port":
                a.port = _port(v)
            else:
                raise ValueError("unknown option %s" % k)
        elif a.name is None:
            a.name = w
        else:
            _set_type(a, w)
    if a.name is None:
        raise ValueError("no name to query (usage: NAME [TYPE] @SERVER [-p PORT])")
    if a.server is None:
        raise ValueError("no server given (@SERVER or server=IP)")
    if parse_addr(a.server) is None:
        raise ValueError("'%s' is not an IPv4 or IPv6 address" % a.server)
    return a


def _port(v):
    if not v.isdigit() or not 0 < int(v) < 65536:
        raise ValueError("'%s' is not a port number" % v)
    return int(v)


def _set_type(a, v):
    try:
        a.qtype = _t.type_from_text(v)
    except TextError:
        raise ValueError("'%s' is not a record type" % v)
    a.qtype_text = _t.type_to_text(a.qtype)


def make_query(a, qid):
    """Query bytes; TextError if the name is not legal."""
    name = from_text(a.name if a.name.endswith(".") else a.name + ".")
    m = _msg.Message(qid)
    m.rd = a.rd
    m.question.append(_msg.Question(name, a.qtype, _t.CLASS_IN))
    if a.edns:
        m.edns = _edns.Edns(UDP_MAX)
    return _msg.encode(m)


# --- presentation ------------------------------------------------------------------------------


def _flags_text(m):
    out = []
    for bit, t in ((m.qr, "qr"), (m.aa, "aa"), (m.tc, "tc"), (m.rd, "rd"), (m.ra, "ra"),
                   (m.ad, "ad"), (m.cd, "cd")):
        if bit:
            out.append(t)
    return " ".join(out)


def _rr_line(r):
    name = r.name.to_text()
    pad = "\t" * (3 - len(name) // 8) if len(name) < 24 else "\t"
    return "%s%s%d\tIN\t%s\t%s" % (name, pad, r.ttl, _t.type_to_text(r.rtype),
                                    r.rdata.to_text()) if r.rclass == _t.CLASS_IN else \
        "%s%s%d\t%s\t%s\t%s" % (name, pad, r.ttl, _t.class_to_text(r.rclass),
                                _t.type_to_text(r.rtype), r.rdata.to_text())


def format_answer(m, size, ms, server, port, proto, when):
    """dig's presentation of response m (a Message) as a list of lines."""
    out = [";; Got answer:"]
    out.append(";; ->>HEADER<<- opcode: %s, status: %s, id: %d" % (
        _op.to_text(m.opcode), _rc.to_text(m.rcode), m.id))
    out.append(";; flags: %s; QUERY: %d, ANSWER: %d, AUTHORITY: %d, ADDITIONAL: %d" % (
        _flags_text(m), len(m.question), len(m.answer), len(m.authority),
        len(m.additional) + (1 if m.edns is not None else 0)))
    if m.rd and not m.ra:
        out.append(";; WARNING: recursion requested but not available")
    out.append("")
    if m.edns is not None:
        e = m.edns
        out.append(";; OPT PSEUDOSECTION:")
        out.append("; EDNS: version: %d, flags:%s; udp: %d" % (e.version, " do" if e.do else "",
                                                                e.payload))
        for o in e.options:
            if o.code == _edns.EDE:
                t = "; EDE: %d (%s)" % (o.info_code, _edns.EDE_TEXT.get(o.info_code, "Unknown"))
                if o.text:
                    t += ": (%s)" % o.text
                out.append(t)
            elif o.code == _edns.NSID:
                out.append("; " + o.to_text())
            else:
                out.append("; " + o.to_text())
    out.append(";; QUESTION SECTION:")
    for q in m.question:
        name = q.name.to_text()
        pad = "\t" * (4 - (len(name) + 1) // 8) if len(name) < 31 else "\t"
        out.append(";%s%s%s\t%s" % (name, pad, _t.class_to_text(q.qclass),
                                    _t.type_to_text(q.qtype)))
    for title, sec in (("ANSWER", m.answer), ("AUTHORITY", m.authority),
                       ("ADDITIONAL", m.additional)):
        if sec:
            out.append("")
            out.append(";; %s SECTION:" % title)
            for r in sec:
                out.append(_rr_line(r))
    out.append("")
    out.append(";; Query time: %d msec" % ms)
    out.append(";; SERVER: %s#%d(%s) (%s)" % (server, port, server, proto))
    out.append(";; WHEN: %s" % when)
    out.append(";; MSG SIZE  rcvd: %d" % size)
    return out


def when_text():
    try:
        t = time.gmtime()
    except AttributeError:
        t = time.localtime()
    return "%s %s %02d %02d:%02d:%02d UTC %d" % (_DAYS[t[6]], _MONTHS[t[1] - 1], t[2], t[3],
                                                  t[4], t[5], t[0])


# --- I/O ---------------------------------------------------------------------------------------


def _urandom(n):
    import os

    return os.urandom(n)


def exchange_udp(q, server, port, timeout_ms=TIMEOUT_MS):
    """Send q, wait for a reply with the same ID from server:port; bytes or None (timeout)."""
    addr = socket.getaddrinfo(server, port)[0][-1]
    s = socket.socket(_family(server), socket.SOCK_DGRAM)
    try:
        s.setblocking(False)
        s.sendto(q, addr)
        p = select.poll()
        p.register(s, select.POLLIN)
        start = clock.now_ms()
        for _ in range(MAX_READS):
            left = timeout_ms - clock.since_ms(start)
            if left <= 0 or not p.poll(left):
                return None
            try:
                data, peer = s.recvfrom(UDP_READ)
            except OSError:
                continue
            if len(data) >= 2 and data[:2] == q[:2] and _same_peer(peer, server, port):
                return data
        return None
    finally:
        s.close()


def _family(server):
    return socket.AF_INET6 if ":" in server else socket.AF_INET


def _same_peer(peer, server, port):
    """Whether the reply came from the address and port asked (either family, any spelling)."""
    return peer_port(peer) == port and peer_ip(peer) == parse_addr(server)


def exchange_tcp(q, server, port, timeout_ms=TCP_TIMEOUT_MS):
    """One framed exchange over TCP; bytes or None (timeout, refused, closed)."""
    s = socket.socket(_family(server), socket.SOCK_STREAM)
    try:
        if hasattr(s, "settimeout"):
            s.settimeout(timeout_ms / 1000)
        s.connect(socket.getaddrinfo(server, port)[0][-1])
        s.send(struct.pack(">H", len(q)) + q)
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + ((buf[0] << 8) | buf[1]):
            d = s.recv(4096)
            if not d:
                return None
            buf += d
            if len(buf) > 65537:
                return None
        return buf[2 : 2 + ((buf[0] << 8) | buf[1])]
    except OSError:
        return None
    finally:
        s.close()


def run(argv, write):
    try:
        a = parse_args(argv)
    except ValueError as e:
        write("dig: %s\n" % e)
        return EXIT_USAGE
    rnd = _urandom(2)
    try:
        q = make_query(a, (rnd[0] << 8) | rnd[1])
    except TextError as e:
        write("dig: '%s' is not a legal name (%s)\n" % (a.name, e))
        return EXIT_USAGE
    write("\n; <<>> dnsbox dig <<>> %s %s @%s -p %d\n" % (a.name, a.qtype_text, a.server, a.port))
    write(";; global options: +cmd\n")
    proto = "TCP" if a.tcp else "UDP"
    start = clock.now_ms()
    r = None
    try:
        if not a.tcp:
            for i in range(TRIES):
                r = exchange_udp(q, a.server, a.port)
                if r is not None:
                    break
                write(";; communications error to %s#%d: timed out\n" % (a.server, a.port))
            if r is not None and len(r) > 2 and r[2] & 0x02:
                write(";; Truncated, retrying in TCP mode.\n")
                proto = "TCP"
                r = exchange_tcp(q, a.server, a.port)
        else:
            r = exchange_tcp(q, a.server, a.port)
    except OSError as e:
        write(";; communications error to %s#%d: %s\n" % (a.server, a.port, e))
        r = None
    ms = clock.since_ms(start)
    if r is None:
        write(";; no servers could be reached\n\n")
        return EXIT_NO_REPLY
    try:
        m = _msg.decode(r)
    except WireError as e:
        write(";; Got bad packet: %s\n;; %d bytes from %s#%d\n\n" % (e, len(r), a.server, a.port))
        return EXIT_NO_REPLY
    for line in format_answer(m, len(r), ms, a.server, a.port, proto, when_text()):
        write(line + "\n")
    write("\n")
    return EXIT_OK


def main(argv):
    return run(argv, sys.stdout.write)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
