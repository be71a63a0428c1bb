"""The .local bridge (mdns-bridge): a question for a name under .local asked on the link by
multicast DNS, a job of the driver (dnsbox.resolver.driver) in both resolver modes, sans-I/O.

One-shot queries (RFC 6762 5.1): RD clear (18.6), from our own port, to 224.0.0.251:5353; the
glue sends them with TTL 255 (11) out of the appliance's interface. The host that has the name
answers by unicast ("legacy unicast", 6.7), so an answer is accepted from port 5353 of any
address in the allowed networks, with the query's ID and question. NXDOMAIN (not cached) when
nobody answers MDNS_TRIES queries.
"""
from dnsbox.compat import const
from dnsbox.config.nets import in_nets
from dnsbox.resolver import scrub as _scrub
from dnsbox.resolver.ask import UDP, Ask, Result, match, question
from dnsbox.wire import rcode as _rc
from dnsbox.wire.name import Name

MDNS_IP = "224.0.0.251"
MDNS_PORT = const(5353)
MDNS_DOMAIN = b"\x05local\x00"
MDNS_TRIES = const(2)  # queries sent for one question
MDNS_ATTEMPT_MS = const(500)  # wait for an answer to each (no answer at all: NXDOMAIN)
MAX_TTL_S = const(86400)
NEG_MAX_TTL_S = const(10800)
_BAILIWICK = Name(MDNS_DOMAIN, MDNS_DOMAIN)


class MdnsQuery:
    linger = False
    validate = False  # the link's own names: no DNSSEC (RFC 6762 .local is not signed)

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
        wire, sent = question(self.qname, self.qtype, self.rng(2), False, False, self.rng, b"")
        self.ask = Ask(MDNS_IP, MDNS_PORT, wire, UDP, MDNS_ATTEMPT_MS, sent, self.qtype)
        return self.ask

    def reply(self, ask, data, src, now):
        """A Result for the answer in data from src, or None (not an answer to this question)."""
        if ask is not self.ask or src[1] != MDNS_PORT or not in_nets(self.nets, src[0]):
            return None
        m = match(ask, data)
        if m is None:
            return None
        s = _scrub.scrub(m, self.qname, self.qtype, 1, _BAILIWICK, MAX_TTL_S, NEG_MAX_TTL_S)
        if s is None:
            return None
        self.ask = None
        return Result(s.rcode, s.answer, s.authority, None, s.life)

    def failed(self, ask, now, reason):
        if ask is not self.ask:
            return None
        if self.tries < MDNS_TRIES:
            return self._ask()
        self.ask = None
        return Result(_rc.NXDOMAIN, [], [], None, 0)  # nobody on the link has the name
