"""What a forwarder keeps from an upstream answer (ocaml-dns's `scrub`, for a forwarder).

Only data that answers the question and lies inside the upstream's bailiwick (the domain it was
asked for: server=/domain/IP, or the root for default servers) is kept:
- answer: the records of the chain from the query name: CNAMEs (each target followed, at most
  MAX_CHAIN links) and the records of the query type at the end of the chain; anything else in
  the answer section (unrelated owners, other types, out-of-bailiwick names) is dropped;
- authority: only for negative answers (NXDOMAIN, NODATA), the SOA whose owner is an ancestor of
  the last name of the chain, its TTL cut to the SOA minimum (RFC 2308 3, 5);
- additional: nothing (minimal responses: glue and extras are where poisoning lives).
The result says how long it may be cached: the smallest TTL kept, capped; 0 means never (a
negative answer without SOA has no TTL, RFC 2308 5).
With dnssec (a validating resolver asked with DO), what proves the kept data is kept too: the
RRSIGs of the kept RRsets, a DNAME (and its RRSIGs) above a chain name (the CNAME made from it
is unsigned), and in the authority section the NSEC and NSEC3 records with their RRSIGs
(denial of existence, wildcard proofs) and the SOA's RRSIG.
"""

from dnsbox.compat import const
from dnsbox.wire import rcode as _rc
from dnsbox.wire import types as _t
from dnsbox.wire.rr import RR

MAX_CHAIN = const(8)  # CNAME links followed in one answer
POSITIVE = const(1)
NODATA = const(2)
NXDOMAIN = const(3)


class Scrubbed:
    """rcode, answer and authority lists, kind (POSITIVE/NODATA/NXDOMAIN), life (seconds the
    answer may be cached: 0 for never), dropped (records left out)."""

    def __init__(self, rcode, answer, authority, kind, life, dropped):
        self.rcode = rcode
        self.answer = answer
        self.authority = authority
        self.kind = kind
        self.life = life
        self.dropped = dropped


def _cap(rr, most):
    if rr.ttl > most:
        return RR(rr.name, rr.rtype, rr.rclass, most, rr.rdata)
    return rr


def clamp(rrs, lo, hi):
    """rrs with TTLs within lo..hi (cache-min-ttl..cache-max-ttl; the maximum wins): the same
    list when nothing changes."""
    out = rrs
    for i in range(len(rrs)):
        r = rrs[i]
        t = r.ttl if r.ttl > lo else lo
        t = t if t < hi else hi
        if t != r.ttl:
            if out is rrs:
                out = list(rrs)
            out[i] = RR(r.name, r.rtype, r.rclass, t, r.rdata)
    return out


_PROOF = (47, 50)  # NSEC, NSEC3
_RRSIG = const(46)
_DNAME = const(39)


def scrub(msg, qname, qtype, qclass, bailiwick, max_ttl, neg_max_ttl, dnssec=False):
    """A Scrubbed for the decoded upstream response msg to (qname, qtype, qclass), or None if
    the rcode is not a final answer (the caller tries another upstream)."""
    rc = msg.rcode
    if rc != _rc.NOERROR and rc != _rc.NXDOMAIN:
        return None
    ans = []
    cur = qname
    seen = 0
    dropped = 0
    used = [False] * len(msg.answer)
    while seen <= MAX_CHAIN:
        nxt = None
        for i in range(len(msg.answer)):
            r = msg.answer[i]
            if used[i] or r.rclass != qclass or r.name != cur:
                continue
            if r.rtype == qtype or (qtype == _t.ANY and r.rtype != _t.CNAME):
                used[i] = True
                ans.append(_cap(r, max_ttl))
            elif r.rtype == _t.CNAME and nxt is None:
                used[i] = True
                ans.append(_cap(r, max_ttl))
                nxt = r.rdata.target
        if nxt is None or not nxt.is_subdomain(bailiwick):
            break
        cur = nxt
        seen += 1
    if dnssec:
        _keep_signatures(msg, ans, used, max_ttl, bailiwick)
    for u in used:
        if not u:
            dropped += 1
    final = False  # the chain ended in records of the query type
    for r in ans:
        if r.rtype == qtype or (qtype == _t.ANY and r.rtype != _t.CNAME):
            final = True
            break
    auth = []
    if not final:
        for r in msg.authority:
            if (r.rtype == _t.SOA and r.rclass == qclass and cur.is_subdomain(r.name)
                    and r.name.is_subdomain(bailiwick) and not auth):
                t = r.ttl if r.ttl < r.rdata.minimum else r.rdata.minimum
                auth.append(RR(r.name, r.rtype, r.rclass, t if t < neg_max_ttl else neg_max_ttl,
                               r.rdata))
            elif not dnssec:
                dropped += 1
    elif not dnssec:
        dropped += len(msg.authority)
    if dnssec:
        soa = auth[0].name if auth else None
        for r in msg.authority:
            if r.rclass != qclass or not r.name.is_subdomain(bailiwick):
                continue
            if (r.rtype in _PROOF or (r.rtype == _RRSIG and (
                    r.rdata.type_covered in _PROOF or (r.rdata.type_covered == _t.SOA
                                                       and r.name == soa)))):
                auth.append(_cap(r, neg_max_ttl if not final else max_ttl))
    dropped += len(msg.additional)
    if rc == _rc.NXDOMAIN:
        kind = NXDOMAIN
    elif final:
        kind = POSITIVE
    else:
        kind = NODATA
    if kind != POSITIVE and not auth:
        life = 0  # no SOA: no negative TTL, not cached (RFC 2308 5)
    elif kind == POSITIVE and not final:
        life = 0
    else:
        life = max_ttl
        for r in ans:
            if r.ttl < life:
                life = r.ttl
        for r in auth:
            if r.ttl < life:
                life = r.ttl
    return Scrubbed(rc, ans, auth, kind, life, dropped)


def _keep_signatures(msg, ans, used, max_ttl, bailiwick):
    """Add to ans the RRSIGs of the RRsets it holds, and DNAMEs above its names with theirs."""
    kept = [(r.name, r.rtype) for r in ans]
    names = [k[0] for k in kept]
    for i in range(len(msg.answer)):
        r = msg.answer[i]
        if used[i] or not r.name.is_subdomain(bailiwick):
            continue
        if r.rtype == _DNAME:
            for n in names:
                if n != r.name and n.is_subdomain(r.name):
                    used[i] = True
                    ans.append(_cap(r, max_ttl))
                    kept.append((r.name, _DNAME))
                    break
    for i in range(len(msg.answer)):
        r = msg.answer[i]
        if not used[i] and r.rtype == _RRSIG and (r.name, r.rdata.type_covered) in kept:
            used[i] = True
            ans.append(_cap(r, max_ttl))
