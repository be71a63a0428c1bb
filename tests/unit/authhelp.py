"""Shared by test_auth*.py / test_zonedb*.py: a small zone compiled with the real compiler,
queries encoded and responses decoded with the real codec."""

from dnsbox.auth import TCP, UDP
from dnsbox.auth.server import Server
from dnsbox.wire import edns as E
from dnsbox.wire import message as M
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.zone.compile import compile_text
from dnsbox.zonedb import open_blob

ZONE = """
$ORIGIN example.com.
$TTL 3600
@       IN SOA ns1 hostmaster 2026112501 7200 1800 1209600 300
        IN NS  ns1
        IN NS  ns2
        IN MX  10 mail
        IN TXT "v=spf1 -all"
        IN A   192.0.2.1
ns1        A   192.0.2.53
           AAAA 2001:db8::53
ns2        A   192.0.2.54
www    300 A   192.0.2.80
       300 A   192.0.2.81
           AAAA 2001:db8::80
mail       A   192.0.2.25
ftp        CNAME www
chain1     CNAME chain2
chain2     CNAME www
loop1      CNAME loop2
loop2      CNAME loop1
out        CNAME www.example.net.
dangling   CNAME nothere
*.wild     A   192.0.2.99
*.wild     TXT "wild"
deep.ent   A   192.0.2.77
_sip._udp  SRV 0 5 5060 sip
sip        A   192.0.2.60
dn         DNAME example.net.
big        TXT "%s"
big        TXT "%s"
big        TXT "%s"
sub        NS  ns.sub
sub        NS  ns.example.net.
ns.sub     A   192.0.2.200
""" % ("a" * 200, "b" * 200, "c" * 200)

_cache = {}


def server(text=ZONE, origin="example.com.", nsid=None):
    key = (text, origin, nsid)
    s = _cache.get(key)
    if s is None:
        blob, _zones, _w = compile_text(text, origin)
        s = Server(open_blob(blob), nsid)
        _cache[key] = s
    return s


def query(name, qtype, edns=None, rd=True, id=0x1234, qclass=T.CLASS_IN):
    return M.encode_query(Name.from_text(name), qtype, qclass, id, rd, edns)


def ask(name, qtype, proto=UDP, srv=None, **kw):
    srv = srv or server()
    r = srv.handle(query(name, qtype, **kw), proto)
    return M.decode(r)


def texts(rrs):
    return sorted(r.to_text().lower() for r in rrs)


__all__ = ["TCP", "UDP", "E", "M", "T", "Name", "ask", "query", "server", "texts"]
