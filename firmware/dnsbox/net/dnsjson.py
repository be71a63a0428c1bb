"""The JSON API of DNS over HTTPS (application/dns-json, as Google's and Cloudflare's resolvers
serve it): GET /resolve?name=NAME&type=TYPE&do=1&cd=1 answered with
{"Status": 0, "TC": false, "RD": true, "RA": true, "AD": false, "CD": false,
 "Question": [{"name": "example.com.", "type": 1}],
 "Answer": [{"name": "example.com.", "type": 1, "TTL": 300, "data": "192.0.2.1"}], ...}.
Pure: query(params) builds the DNS query (the same handler as the wire API answers it) and
render(response) writes that answer as JSON (rdata in its presentation form, wire codec's).

  query(params) -> (DNS query bytes, None) or (None, reason): params is the URL's query string
  render(msg) -> JSON bytes
"""
from dnsbox.wire import message as _message
from dnsbox.wire import name as _name
from dnsbox.wire import types as _t
from dnsbox.wire.edns import Edns
from dnsbox.wire.errors import WireError

MEDIA = b"application/dns-json"
PATH = b"/resolve"  # Google's path; the DoH endpoint answers JSON too when asked (Accept)
MAX_PARAMS = 16  # name=value pairs read from a query string
PAYLOAD = 1232  # the EDNS payload size of the queries we build (RFC 8484 answers go over TCP)
_TRUE = (b"1", b"true")
_OPT = 41


def wanted(params, accept):
    """Whether a GET of the DoH endpoint asks for JSON: Accept names it, or name= without dns=."""
    if MEDIA in accept:
        return True
    p = _params(params)
    return p is not None and b"name" in p and b"dns" not in p


def _unquote(v):
    """Percent-decoding (RFC 3986 2.1) and '+' as a space; None when malformed."""
    v = v.replace(b"+", b" ")
    if b"%" not in v:
        return v
    out = bytearray()
    i = 0
    while i < len(v):
        c = v[i]
        if c == 0x25:
            try:
                out.append(int(v[i + 1 : i + 3], 16))
            except ValueError:
                return None
            if len(v[i + 1 : i + 3]) != 2:
                return None
            i += 3
        else:
            out.append(c)
            i += 1
    return bytes(out)


def _params(query):
    out = {}
    for p in query.split(b"&")[:MAX_PARAMS]:
        k, _sep, v = p.partition(b"=")
        v = _unquote(v)
        if v is None:
            return None
        out[k] = v
    return out


def query(params):
    p = _params(params)
    if p is None:
        return None, "bad percent-encoding"
    name = p.get(b"name")
    if not name:
        return None, "no name="
    try:
        qname = _name.from_text(name.decode())
        t = p.get(b"type", b"A").decode()
        qtype = int(t) if t.isdigit() else _t.type_from_text(t.upper())
        if qtype < 1 or qtype > 65535:
            raise ValueError("type %d" % qtype)
    except (ValueError, UnicodeError, WireError) as e:
        return None, str(e)
    do = p.get(b"do", b"").lower() in _TRUE
    m = _message.Message(0)
    m.rd = True
    m.cd = p.get(b"cd", b"").lower() in _TRUE
    m.question.append(_message.Question(qname, qtype, _t.CLASS_IN))
    m.edns = Edns(payload=PAYLOAD, do=do)
    return _message.encode(m), None


def _str(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif o < 0x20 or o > 0x7E:
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _bool(v):
    return "true" if v else "false"


def _records(rrs):
    out = []
    for r in rrs:
        if r.rtype == _OPT:
            continue
        out.append('{"name": %s, "type": %d, "TTL": %d, "data": %s}' % (
            _str(r.name.to_text()), r.rtype, r.ttl, _str(r.rdata.to_text())))
    return out


def render(msg):
    """The JSON form of a DNS response (bytes); a response that does not decode gives
    Status 2 (SERVFAIL)."""
    try:
        m = _message.decode(msg)
    except WireError:
        return b'{"Status": 2, "Comment": "the answer did not decode"}'
    parts = ['"Status": %d' % m.rcode]
    for key, v in (("TC", m.tc), ("RD", m.rd), ("RA", m.ra), ("AD", m.ad), ("CD", m.cd)):
        parts.append('"%s": %s' % (key, _bool(v)))
    parts.append('"Question": [%s]' % ", ".join(
        '{"name": %s, "type": %d}' % (_str(q.name.to_text()), q.qtype) for q in m.question))
    for key, sec in (("Answer", m.answer), ("Authority", m.authority),
                     ("Additional", m.additional)):
        recs = _records(sec)
        if recs:
            parts.append('"%s": [%s]' % (key, ", ".join(recs)))
    return ("{" + ", ".join(parts) + "}").encode()
