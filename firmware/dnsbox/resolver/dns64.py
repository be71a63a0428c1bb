"""DNS64 (RFC 6147): AAAA records made from A records for names that have no AAAA, so that
IPv6-only clients reach IPv4-only hosts through a NAT64 at the prefix (RFC 6052). Pure.

The resolver asks AAAA as usual; when the answer is NODATA (NOERROR without AAAA: RFC 6147
5.1.1; NXDOMAIN stays NXDOMAIN, 5.1.2) it asks A for the same name and answers the AAAA question
with the A answer's CNAME chain and one AAAA per A record, each address embedded in the prefix,
TTL the smaller of the A record's and the AAAA negative answer's (5.1.7). Without A records the
AAAA NODATA is the answer.
"""
from dnsbox.config.values import U_OCTET  # byte 8 of the address: always zero
from dnsbox.wire import rd_std
from dnsbox.wire import types as _t
from dnsbox.wire.rr import RR


def embed(prefix, n, v4):
    """The IPv6 address (16 bytes) of IPv4 address v4 (4 bytes) under prefix/n: the four
    bytes fill the bytes after the prefix, skipping byte 8 (RFC 6052 2.2)."""
    out = bytearray(prefix)
    i = n // 8
    for b in v4:
        if i == U_OCTET:
            i += 1
        out[i] = b
        i += 1
    return bytes(out)


def synthesize(answer, qname, prefix, n, ttl_cap):
    """The AAAA answer from an A answer's records (CNAME chain first, as they came): CNAMEs kept,
    each A turned into an AAAA with TTL min(its TTL, ttl_cap). None when there is no A record."""
    out = []
    found = False
    for r in answer:
        if r.rtype == _t.CNAME:
            out.append(r)
        elif r.rtype == _t.A:
            found = True
            ttl = r.ttl if r.ttl < ttl_cap else ttl_cap
            out.append(RR(r.name, _t.AAAA, r.rclass, ttl, rd_std.AAAA(embed(prefix, n,
                                                                              r.rdata.address))))
    return out if found else None


def cached_a(cache, aaaa_key, now):
    """(the A question's cache key, the records of its cached answer or None) for the cache key
    of an AAAA question (lower-case name, type, class)."""
    from dnsbox.wire import message as _msg

    akey = aaaa_key[:-4] + b"\x00\x01\x00\x01"
    img = cache.get(akey, now)
    return akey, (None if img is None else _msg.decode(b"\x00\x00" + img).answer)
