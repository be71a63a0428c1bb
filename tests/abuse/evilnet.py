"""A hostile mini-Internet for the recursive resolvers under test (dnsbox and Unbound): small
authoritative servers on loopback addresses, port 53, all in this process (one thread), each
answering from its zone like an authoritative server (referrals with glue, CNAME not followed,
NODATA, NXDOMAIN) unless its behaviour says otherwise. Every query received is logged with the
server, the source address and the question, so tests count upstream queries exactly.

Addresses: PREFIX + n, in the first free 127.0.X.0/24 for X from BASE (clear of tools/testnet.py,
which uses 127.0.0-9.x). Root hints: PREFIX + 1.
  .1  the root: delegates evil., victim., dead., attacker.
  .2  evil.: names, CNAME chains (one link per answer), NXNS, referral loops, an NS cycle
  .3  victim.: the zone NXNS lookups land on (it answers NXDOMAIN for them)
  .4 .5  dead.: bound, never answer
  .6  up.evil.: answers every query with an upward referral (to evil.)
  .7  same.evil.: answers every query with a referral to its own zone
  .8  deep.evil.: answers every query with a referral to the name asked (one label deeper each
      time a minimising resolver asks)
  .9  child.evil.: right answers plus injected records: NS for the parent (evil.), the root
      and victim., naming the attacker's server; out-of-bailiwick answer records
  .10 attacker.: the attacker's server: 6.6.6.6 for any name (counted: nobody should ask it)
  .11 spoof.evil.: each answer is preceded by spoofed ones (6.6.6.6): wrong ID, a burst of
      wrong IDs, wrong question, from another port, from another address (.12)
"""
import select
import socket
import threading
import time

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

BASE = 60  # the first 127.0.X.0/24 tried
TRIES = 10  # /24s tried
SPOOF_GAP_S = 0.05  # the right answer follows the spoofed ones after this long
POISON = "6.6.6.6"
NXNS_NAMES = 30  # NS names of nxns.evil. (none of them exists)
LONG_CHAIN = 20  # CNAME links of l0.chain.evil.
OK_CHAIN = 8  # CNAME links of k0.chain.evil. (dnsbox's MAX_CNAME: still answered)
FLOOD = 50  # spoofed answers with wrong IDs before the right one (idflood)
RUN_MAX_S = 900  # the server thread ends by itself after this long

ROOT_ZONE = """
. 86400 SOA a.root. h.root. 1 1800 900 604800 300
. 86400 NS a.root.
a.root. 86400 A {p}1
evil. 86400 NS ns.evil.
ns.evil. 86400 A {p}2
victim. 86400 NS ns.victim.
ns.victim. 86400 A {p}3
dead. 86400 NS ns1.dead.
dead. 86400 NS ns2.dead.
ns1.dead. 86400 A {p}4
ns2.dead. 86400 A {p}5
attacker. 86400 NS ns.attacker.
ns.attacker. 86400 A {p}10
"""

EVIL_ZONE = """
evil. 3600 SOA ns.evil. h.evil. 1 1800 900 604800 300
evil. 3600 NS ns.evil.
ns.evil. 3600 A {p}2
www.evil. 3600 A 192.0.2.1
other.evil. 3600 A 192.0.2.2
{chains}
{nxns}
up.evil. 3600 NS ns.up.evil.
ns.up.evil. 3600 A {p}6
same.evil. 3600 NS ns.same.evil.
ns.same.evil. 3600 A {p}7
deep.evil. 3600 NS ns.deep.evil.
ns.deep.evil. 3600 A {p}8
child.evil. 3600 NS ns.child.evil.
ns.child.evil. 3600 A {p}9
spoof.evil. 3600 NS ns.spoof.evil.
ns.spoof.evil. 3600 A {p}11
cyc.evil. 3600 NS ns.cyc.victim.
"""

VICTIM_ZONE = """
victim. 3600 SOA ns.victim. h.victim. 1 1800 900 604800 300
victim. 3600 NS ns.victim.
ns.victim. 3600 A {p}3
www.victim. 3600 A 192.0.2.3
cyc.victim. 3600 NS ns.cyc.evil.
"""

CHILD_ZONE = """
child.evil. 3600 SOA ns.child.evil. h.evil. 1 1800 900 604800 300
child.evil. 3600 NS ns.child.evil.
ns.child.evil. 3600 A {p}9
www.child.evil. 3600 A 192.0.2.9
"""

SPOOF_ZONE = """
spoof.evil. 3600 SOA ns.spoof.evil. h.evil. 1 1800 900 604800 300
spoof.evil. 3600 NS ns.spoof.evil.
ns.spoof.evil. 3600 A {p}11
*.spoof.evil. 3600 A 192.0.2.11
"""

ATTACKER_ZONE = """
attacker. 3600 SOA ns.attacker. h.attacker. 1 1800 900 604800 300
attacker. 3600 NS ns.attacker.
ns.attacker. 3600 A {p}10
"""


def _chains():
    out = []
    for tag, n in (("k", OK_CHAIN), ("l", LONG_CHAIN)):
        for i in range(n):
            out.append("%s%d.chain.evil. 3600 CNAME %s%d.chain.evil." % (tag, i, tag, i + 1))
        out.append("%s%d.chain.evil. 3600 A 192.0.2.%d" % (tag, n, n))
    out.append("x0.chain.evil. 3600 CNAME x1.chain.evil.")  # a loop of two
    out.append("x1.chain.evil. 3600 CNAME x0.chain.evil.")
    return "\n".join(out)


def _nxns():
    return "\n".join("nxns.evil. 3600 NS n%d.victim." % i for i in range(1, NXNS_NAMES + 1))


class Zone:
    def __init__(self, text, origin):
        self.z = dns.zone.from_text(text, origin, relativize=False, check_origin=False)
        self.origin = self.z.origin

    def rrset(self, name, rdtype):
        return self.z.get_rrset(name, rdtype)

    def answer(self, q):
        """The authoritative response to q (a dns.message.Message) from this zone alone."""
        qname = q.question[0].name
        qtype = q.question[0].rdtype
        r = dns.message.make_response(q)
        r.flags &= ~dns.flags.RA
        labels = len(qname) - len(self.origin)
        for k in range(labels, 0, -1):  # zone cuts between the apex and the name, top first
            cut = qname.split(len(qname) - k + 1)[1]
            ns = self.rrset(cut, dns.rdatatype.NS)
            if ns is not None and cut != self.origin:
                r.authority.append(ns)
                for rd in ns:
                    a = self.rrset(rd.target, dns.rdatatype.A)
                    if a is not None:
                        r.additional.append(a)
                return r
        r.flags |= dns.flags.AA
        node = self.z.get_node(qname)
        wild = None
        if node is None and qname != self.origin:
            wild = self.z.get_node(dns.name.Name((b"*",) + qname.labels[1:]))
        node = node or wild
        if node is not None:
            if qtype == dns.rdatatype.ANY:
                for rds in node.rdatasets:
                    r.answer.append(_owned(qname, rds))
                return r
            for t in (qtype, dns.rdatatype.CNAME):
                rds = node.get_rdataset(dns.rdataclass.IN, t)
                if rds is not None:
                    r.answer.append(_owned(qname, rds))
                    return r
        elif not any(n.is_subdomain(qname) for n in self.z.nodes):
            r.set_rcode(dns.rcode.NXDOMAIN)
        r.authority.append(self.rrset(self.origin, dns.rdatatype.SOA))
        return r


def _owned(name, rds):
    s = dns.rrset.RRset(name, rds.rdclass, rds.rdtype)
    s.update(rds)
    return s


def _a(name, ttl, ip):
    return dns.rrset.from_text(name, ttl, "IN", "A", ip)


class EvilNet:
    def __init__(self):
        self.log = []  # (server ip, source ip, qname lower-case text, qtype)
        self.lock = threading.Lock()
        self.socks = {}  # fd -> (socket, server number)
        self.pending = []  # (time, socket, bytes, destination)
        self.stopped = False
        self.prefix = None

    # --- set-up ---------------------------------------------------------------------------
    def start(self):
        for i in range(BASE, BASE + TRIES):
            prefix = "127.0.%d." % i
            try:
                self._bind(prefix)
            except OSError:
                self._close()
                continue
            self.prefix = prefix
            break
        else:
            raise RuntimeError("no free 127.0.X.1-12 port 53 for X in %d..%d" % (
                BASE, BASE + TRIES - 1))
        p = self.prefix
        fmt = {"p": p, "chains": _chains(), "nxns": _nxns()}
        self.zones = {
            1: Zone(ROOT_ZONE.format(**fmt), "."),
            2: Zone(EVIL_ZONE.format(**fmt), "evil."),
            3: Zone(VICTIM_ZONE.format(**fmt), "victim."),
            9: Zone(CHILD_ZONE.format(**fmt), "child.evil."),
            10: Zone(ATTACKER_ZONE.format(**fmt), "attacker."),
            11: Zone(SPOOF_ZONE.format(**fmt), "spoof.evil."),
        }
        self.hints = p + "1"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def _bind(self, prefix):
        for n in range(1, 13):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.socks[s.fileno()] = (s, n)
            s.bind((prefix + str(n), 53))
        # another port on the spoof server's address: the "wrong port" answers leave from it
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((prefix + "11", 0))
        self.other_port = s

    def _close(self):
        for s, _n in self.socks.values():
            s.close()
        self.socks = {}

    def stop(self):
        self.stopped = True
        self.thread.join(3)
        self._close()
        self.other_port.close()

    # --- counting -------------------------------------------------------------------------
    def ip(self, n):
        return self.prefix + str(n)

    def mark(self):
        with self.lock:
            return len(self.log)

    def queries(self, since=0, src=None, server=None, under=None):
        """The logged queries since a mark(): [(server ip, source, qname, qtype)], those from
        src, to server n, for names at or below `under` (text) only when given."""
        with self.lock:
            out = list(self.log[since:])
        if src is not None:
            out = [x for x in out if x[1] == src]
        if server is not None:
            out = [x for x in out if x[0] == self.ip(server)]
        if under is not None:
            u = under.lower().rstrip(".")
            out = [x for x in out if x[2] == u or x[2].endswith("." + u)]
        return out

    # --- serving --------------------------------------------------------------------------
    def _serve(self):
        end = time.monotonic() + RUN_MAX_S
        by_fd = dict(self.socks)
        while not self.stopped and time.monotonic() < end:
            wait = 0.1
            if self.pending:
                wait = max(0, min(wait, self.pending[0][0] - time.monotonic()))
            try:
                ready, _w, _x = select.select(list(by_fd), [], [], wait)
            except (OSError, ValueError):
                return
            for fd in ready:
                s, n = by_fd[fd]
                try:
                    data, peer = s.recvfrom(65535)
                except OSError:
                    continue
                self._handle(s, n, data, peer)
            now = time.monotonic()
            while self.pending and self.pending[0][0] <= now:
                _t, s, wire, dest = self.pending.pop(0)
                try:
                    s.sendto(wire, dest)
                except OSError:
                    pass

    def _handle(self, s, n, data, peer):
        try:
            q = dns.message.from_wire(data)
        except Exception:  # noqa: BLE001 - garbage: no answer
            return
        if q.flags & dns.flags.QR or len(q.question) != 1:
            return
        qu = q.question[0]
        with self.lock:
            self.log.append((self.ip(n), peer[0], qu.name.to_text().lower().rstrip("."),
                             dns.rdatatype.to_text(qu.rdtype)))
        now = time.monotonic()
        for delay, wire, via in self._plan(n, q):
            self.pending.append((now + delay, via or s, wire, peer))
        self.pending.sort(key=lambda x: x[0])

    def _plan(self, n, q):
        """[(delay s, bytes, socket or None for the server's own)] to send for q at server n."""
        qname = q.question[0].name
        if n in (4, 5, 12):
            return []  # dead (and the spoofer's address, which only sends)
        if n in (6, 7, 8):
            return [(0, self._referral(n, q).to_wire(), None)]
        if n == 10 and not qname.is_subdomain(dns.name.from_text("attacker.")):
            r = dns.message.make_response(q)
            r.flags |= dns.flags.AA
            r.answer.append(_a(qname, 86400, POISON))
            return [(0, r.to_wire(), None)]
        r = self.zones[n].answer(q)
        if n == 9:
            self._inject(r)
        if n == 11 and len(qname) > 3:
            return self._spoofed(q, qname.labels[0].decode().lower()) + [
                (SPOOF_GAP_S, r.to_wire(), None)]
        return [(0, r.to_wire(), None)]

    def _referral(self, n, q):
        """Servers 6, 7, 8: referrals that lead nowhere."""
        qname = q.question[0].name
        r = dns.message.make_response(q)
        r.flags &= ~dns.flags.RA
        if n == 6:  # upward: back to the parent zone's server
            cut, ns, ip = "evil.", "ns.evil.", self.ip(2)
        elif n == 7:  # the same zone again
            cut, ns, ip = "same.evil.", "ns.same.evil.", self.ip(7)
        else:  # the name asked becomes a zone of its own, served here
            cut, ns, ip = qname.to_text(), "ns." + qname.to_text(), self.ip(8)
        r.authority.append(dns.rrset.from_text(cut, 3600, "IN", "NS", ns))
        r.additional.append(_a(ns, 3600, ip))
        return r

    def _inject(self, r):
        """Server 9: poison in every section, naming the attacker's server (.10)."""
        bad = self.ip(10)
        r.answer.append(_a("www.victim.", 86400, POISON))
        r.answer.append(_a("other.evil.", 86400, POISON))
        for zone in ("evil.", ".", "victim."):
            r.authority.append(dns.rrset.from_text(zone, 86400, "IN", "NS", "ns.attacker."))
        for ns in ("ns.attacker.", "ns.evil.", "ns.victim."):
            r.additional.append(_a(ns, 86400, bad))

    def _spoofed(self, q, kind):
        """Server 11: what an off-path attacker gets in before the right answer."""
        p = dns.message.make_response(q)
        p.flags |= dns.flags.AA
        p.answer.append(_a(q.question[0].name, 86400, POISON))
        if kind == "wrongid":
            p.id = (q.id + 1) & 0xFFFF
            return [(0, p.to_wire(), None)]
        if kind == "idflood":
            out = []
            for i in range(FLOOD):
                p.id = (q.id + 1 + i) & 0xFFFF
                out.append((0, p.to_wire(), None))
            return out
        if kind == "wrongq":
            o = dns.message.make_query("other." + q.question[0].name.to_text(), "A")
            o.id = q.id
            w = dns.message.make_response(o)
            w.flags |= dns.flags.AA
            w.answer.append(_a(o.question[0].name, 86400, POISON))
            return [(0, w.to_wire(), None)]
        if kind == "wrongport":
            return [(0, p.to_wire(), self.other_port)]
        if kind == "wrongsrc":
            return [(0, p.to_wire(), self._sock(12))]
        return []

    def _sock(self, n):
        for s, m in self.socks.values():
            if m == n:
                return s
        raise KeyError(n)


def hints_file(path, ip):
    """A root hints file for Unbound naming ip as the only root server."""
    with open(path, "w") as f:
        f.write(".  3600000 NS a.root.\na.root. 3600000 A %s\n" % ip)
    return path

