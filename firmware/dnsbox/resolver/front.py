"""The stages every client query passes before the driver (dnsbox.resolver.driver) starts a
job for it; each stage may answer and end the query. (Plain UDP queries whose exact question is
cached are answered before these, by the serving loop's fast path: dnsbox.net.resolve.)

1. not a query (QR set, shorter than a header): drop (RFC 1035 4.1.1)
2. undecodable question: FORMERR; opcode other than QUERY: NOTIMP; counts: FORMERR
3. EDNS version > 0: BADVERS (RFC 6891 6.1.3); TSIG: REFUSED (no keys here)
4. the driver's own special names (CH TXT stats.dnsbox.); dnsmasq's CH TXT statistics names
   (cachesize.bind, hits.bind, servers.bind...: dnsbox.resolver.chaos), REFUSED to clients
   outside the allowed networks
5. names in our compiled-in zones (and other classes): the authoritative server (counted as
   stats["auth"]), RA for allowed
6. clients outside the allowed networks: REFUSED (never an open resolver)
7. classes and types we do not resolve: REFUSED / NOTIMP
8. local names (host-record=, addn-hosts=, address=, local=, cname=, txt-record=, mx-host=,
   srv-host=, ptr-record=)
9. the response cache
"""
from dnsbox.config.nets import allowed
from dnsbox.resolver import chaos
from dnsbox.zonedb.lookup import under
from dnsbox.wire import message as _msg
from dnsbox.wire import rcode as _rc
from dnsbox.wire import types as _t
from dnsbox.wire.errors import WireError
from dnsbox.wire.reply import error, render
from dnsbox.wire.rr import Question

NOT_RESOLVED = (_t.AXFR, _t.IXFR, _t.OPT, _t.TSIG)  # query types answered NOTIMP
DNSSEC_KEY = b"\x01"  # appended to a cache key: the signed form (dnsbox.resolver.driver)


def in_zones(zones, lname):
    for z in zones:
        if under(lname, z):
            return True
    return False


def local_answer(q, p, qbytes, payload, proto, loc):
    m = _msg.Message(p.id, p.flags & 0x7910)
    m.qr = m.aa = m.ra = True
    m.rcode = loc[0]
    m.question.append(Question(p.qname, p.qtype, p.qclass))
    m.answer = loc[1]
    return render(_msg.encode(m)[2:], q[:2], qbytes, p.flags, payload, proto)


def screen(r, q, proto, ip, now, special=None):
    """Run the stages for front r (its .auth, .zones, .nets, .stats, .local, .cache).

    Returns (True, reply) when a stage answered (reply None: send nothing), or
    (False, (p, qbytes, payload, key)) for the front to resolve: p the question peek, qbytes the
    question as sent, payload the client's EDNS size (-1 without EDNS), key the cache key.
    """
    if len(q) < 12 or q[2] & 0x80:
        return True, None
    try:
        p = _msg.decode_question(q)
    except WireError:
        return True, error(q[:2], (q[2] << 8) | q[3], b"", _rc.FORMERR, -1)
    payload = -1 if p.edns is None else p.edns.payload
    qbytes = q[12 : p.question_end]
    if p.opcode() != 0:
        return True, error(q[:2], p.flags, qbytes, _rc.NOTIMP, payload)
    if p.qdcount != 1 or p.ancount or p.nscount or p.other:
        return True, error(q[:2], p.flags, qbytes, _rc.FORMERR, payload)
    if p.edns is not None and p.edns.version != 0:
        return True, error(q[:2], p.flags, qbytes, _rc.BADVERS, payload)
    if p.tsig_off >= 0:
        return True, error(q[:2], p.flags, qbytes, _rc.REFUSED, payload)
    lname = p.qname.lc
    if special is not None:
        reply = special(q, p, qbytes, payload, proto, ip)
        if reply is not None:
            return True, reply
    if p.qclass == _t.CLASS_CH and chaos.is_stats_name(lname):
        if not allowed(r.nets, ip):
            return True, error(q[:2], p.flags, qbytes, _rc.REFUSED, payload, None, False)
        got = chaos.records(r, p.qname, p.qtype)
        return True, local_answer(q, p, qbytes, payload, proto, (_rc.NOERROR, got))
    if r.auth is not None and (p.qclass != _t.CLASS_IN or in_zones(r.zones, lname)):
        if p.qclass == _t.CLASS_IN:
            r.stats["auth"] = r.stats.get("auth", 0) + 1  # CH TXT auth.bind
        reply = r.auth.handle(q, proto)
        if reply is not None and len(reply) > 3 and allowed(r.nets, ip):
            reply = bytearray(reply)
            reply[3] |= 0x80  # RA: this server offers recursion to this client
            reply = bytes(reply)
        return True, reply
    if not allowed(r.nets, ip):
        r.stats["refused"] += 1  # RA clear: no recursion for this client (as Unbound, BIND)
        return True, error(q[:2], p.flags, qbytes, _rc.REFUSED, payload, None, False)
    if p.qclass != _t.CLASS_IN:
        return True, error(q[:2], p.flags, qbytes, _rc.REFUSED, payload)
    if p.qtype in NOT_RESOLVED:
        return True, error(q[:2], p.flags, qbytes, _rc.NOTIMP, payload)
    if not r.local.empty:
        loc = r.local.lookup(lname, p.qtype)
        if loc is not None:
            return True, local_answer(q, p, qbytes, payload, proto, loc)
    key = lname + qbytes[-4:]
    do = p.edns is not None and p.edns.do
    got = r.cache.lookup(key + DNSSEC_KEY if do and r.trust is not None else key, now)
    if got is not None:
        ad = got[1] and bool(p.flags & 0x20 or do)
        return True, render(got[0], q[:2], qbytes, p.flags, payload, proto, ad, do)
    return False, (p, qbytes, payload, key)
