"""A .local question asked by multicast DNS for the recursor (mdns-bridge when recursing): the
interface of dnsbox.resolver.iterate.Iteration (start, reply, failed -> Ask | Result | None),
so the recursor drives it like an iteration. The same rules as the forwarder's bridge
(dnsbox.resolver.forward): one-shot queries (RFC 6762 5.1), RD clear, the unicast answer
accepted from port 5353 of an allowed network, NXDOMAIN when nobody answers MDNS_TRIES queries.
"""
import struct

from dnsbox.resolver import scrub as _scrub
from dnsbox.resolver.cache import MAX_TTL, NEG_MAX_TTL
from dnsbox.resolver.forward import (MDNS_ATTEMPT_MS, MDNS_DOMAIN, MDNS_IP, MDNS_PORT,
                                     MDNS_TRIES, _from_nets)
from dnsbox.resolver.iterate import Ask, Result
from dnsbox.wire import message as _msg
from dnsbox.wire import rcode as _rc
from dnsbox.wire import types as _t
from dnsbox.wire.errors import WireError
from dnsbox.wire.name import Name

UDP = 0
_BAILIWICK = Name(MDNS_DOMAIN, MDNS_DOMAIN)


class MdnsQuery:
    def __init__(self, qname, qtype, rng, nets):
        self.qname = qname
        self.qtype = qtype
        self.rng = rng
        self.nets = nets
        self.tries = 0
        self.ask = None

    def start(self, now):
        return self._ask()

    def _ask(self):
        self.tries += 1
        r = self.rng(2)
        wire = struct.pack(">HHHHHH", (r[0] << 8) | r[1], 0, 1, 0, 0, 0)
        wire += self.qname.lc + struct.pack(">HH", self.qtype, _t.CLASS_IN)
        self.ask = Ask(MDNS_IP, MDNS_PORT, wire, UDP, MDNS_ATTEMPT_MS, self.qname, self.qtype)
        return self.ask

    def reply(self, data, src, now):
        """A Result for the answer in data from src, or None (not an answer to this question)."""
        a = self.ask
        if a is None or src[1] != MDNS_PORT or not _from_nets(self.nets, src[0]):
            return None
        if len(data) < 12 or data[0:2] != a.wire[0:2] or not data[2] & 0x80:
            return None
        n = len(self.qname.lc)
        if data[12 : 12 + n].lower() != self.qname.lc:
            return None
        data = data[:12] + self.qname.lc + data[12 + n :]
        try:
            m = _msg.decode(data)
        except WireError:
            return None
        if len(m.question) != 1 or m.question[0].qtype != self.qtype:
            return None
        s = _scrub.scrub(m, self.qname, self.qtype, _t.CLASS_IN, _BAILIWICK, MAX_TTL, NEG_MAX_TTL)
        if s is None:
            return None
        self.ask = None
        return Result(s.rcode, s.answer, s.authority, None, s.life)

    def failed(self, now, reason="timed out"):
        if self.ask is None:
            return None
        if self.tries < MDNS_TRIES:
            return self._ask()
        self.ask = None
        return Result(_rc.NXDOMAIN, [], [], None, 0)  # nobody on the link has the name
