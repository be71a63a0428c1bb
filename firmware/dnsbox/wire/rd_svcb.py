"""SVCB and HTTPS (RFC 9460). SvcParams are kept as (key, value bytes) pairs sorted by key;
known keys are checked on decode and on text input, and printed as dnspython prints them."""

import binascii
import struct

from dnsbox.wire import rd_std
from dnsbox.wire import rdbase as B
from dnsbox.wire import text as T
from dnsbox.wire import types as RT
from dnsbox.wire.errors import TextError, WireError

MANDATORY = 0
ALPN = 1
NO_DEFAULT_ALPN = 2
PORT = 3
IPV4HINT = 4
ECH = 5
IPV6HINT = 6
DOHPATH = 7
OHTTP = 8
DOCPATH = 10

_KEYS = (
    "mandatory",
    "alpn",
    "no-default-alpn",
    "port",
    "ipv4hint",
    "ech",
    "ipv6hint",
    "dohpath",
    "ohttp",
    None,
    "docpath",
)


def key_to_text(k):
    if k < len(_KEYS) and _KEYS[k] is not None:
        return _KEYS[k]
    return "key%d" % k


def key_from_text(t):
    """Key number from its text; (number, generic) where generic is True for keyNNNNN."""
    for i in range(len(_KEYS)):
        if _KEYS[i] == t:
            return i, False
    if t.startswith("key") and t[3:].isdigit():
        d = t[3:]
        if (d[0] == "0" and len(d) != 1) or int(d) > 65535:
            raise TextError("bad SvcParamKey %r" % t)
        return int(d), True
    raise TextError("unknown SvcParamKey %r" % t)


def _check(key, v):
    """None if value bytes v are valid for key, else the reason (RFC 9460 7)."""
    n = len(v)
    if key == MANDATORY:
        if n == 0 or n & 1:
            return "mandatory list length"
        last = -1
        for i in range(0, n, 2):
            k = (v[i] << 8) | v[i + 1]
            if k <= last or k == MANDATORY:
                return "mandatory keys not increasing or lists mandatory"
            last = k
    elif key == ALPN or key == DOCPATH:
        if key == ALPN and n == 0:
            return "empty alpn"
        i = 0
        while i < n:
            ln = v[i]
            if ln == 0 or i + 1 + ln > n:
                return "bad alpn/docpath list"
            i += 1 + ln
    elif key == NO_DEFAULT_ALPN or key == OHTTP:
        if n:
            return "value must be empty"
    elif key == PORT:
        if n != 2:
            return "port must be 2 bytes"
    elif key == IPV4HINT:
        if n == 0 or n % 4:
            return "ipv4hint length"
    elif key == IPV6HINT:
        if n == 0 or n % 16:
            return "ipv6hint length"
    elif key == ECH:
        if n < 6 or ((v[0] << 8) | v[1]) != n - 2:
            return "bad ECHConfigList"
    return None


def _check_all(priority, params):
    keys = [k for k, _ in params]
    if priority == 0 and params:
        return "parameters in AliasMode"
    for i in range(1, len(keys)):
        if keys[i] <= keys[i - 1]:
            return "keys not strictly increasing"
    for k, v in params:
        if k == MANDATORY:
            for i in range(0, len(v), 2):
                if ((v[i] << 8) | v[i + 1]) not in keys:
                    return "a mandatory key is missing"
    if NO_DEFAULT_ALPN in keys and ALPN not in keys:
        return "no-default-alpn without alpn"
    return None


def _list_escape(b):
    # ',' and '\' are special inside a value list (RFC 9460 A.1)
    return b.replace(b"\\", b"\\\\").replace(b",", b"\\,")


def _value_to_text(k, v):
    if k == MANDATORY:
        return '"%s"' % ",".join(
            [key_to_text((v[i] << 8) | v[i + 1]) for i in range(0, len(v), 2)]
        )
    if k == ALPN or k == DOCPATH:
        ids = []
        i = 0
        while i < len(v):
            ids.append(_list_escape(v[i + 1 : i + 1 + v[i]]))
            i += 1 + v[i]
        return T.quote(b",".join(ids))
    if k == PORT:
        return '"%d"' % ((v[0] << 8) | v[1])
    if k == IPV4HINT:
        return '"%s"' % ",".join([rd_std.ipv4_to_text(v[i : i + 4]) for i in range(0, len(v), 4)])
    if k == IPV6HINT:
        return '"%s"' % ",".join(
            [rd_std.ipv6_to_text(v[i : i + 16]) for i in range(0, len(v), 16)]
        )
    if k == ECH:
        return '"%s"' % binascii.b2a_base64(v)[:-1].decode()
    return T.quote(v)


def _split_list(b):
    # split unescaped value bytes on ',' honouring '\,' and '\\' (RFC 9460 A.1)
    items = []
    cur = bytearray()
    i = 0
    while i < len(b):
        c = b[i]
        if c == 0x5C:
            if i + 1 >= len(b) or b[i + 1] not in (0x2C, 0x5C):
                raise TextError("bad escape in a value list")
            cur.append(b[i + 1])
            i += 2
            continue
        if c == 0x2C:
            items.append(bytes(cur))
            cur = bytearray()
        else:
            cur.append(c)
        i += 1
    items.append(bytes(cur))
    return items


def _value_from_text(k, raw, generic):
    """Value bytes of key k from its text (raw: escapes intact, quotes removed)."""
    if not raw:
        return b""  # an omitted value is an empty one (RFC 9460 2.1); the checks decide
    if generic or k not in (MANDATORY, ALPN, PORT, IPV4HINT, ECH, IPV6HINT, DOCPATH):
        return T.unescape(raw)
    if k in (MANDATORY, PORT, IPV4HINT, IPV6HINT, ECH) and "\\" in raw:
        raise TextError("escape in the value of %s" % key_to_text(k))
    if k == MANDATORY:
        out = b""
        for t in sorted([key_from_text(x)[0] for x in raw.split(",")]):
            out += struct.pack("!H", t)
        return out
    if k == ALPN or k == DOCPATH:
        out = bytearray()
        for item in _split_list(T.unescape(raw)):
            if not 0 < len(item) < 256:
                raise TextError("empty or long item in %s" % key_to_text(k))
            out.append(len(item))
            out += item
        return bytes(out)
    if k == PORT:
        if not raw.isdigit() or int(raw) > 65535:
            raise TextError("port is not a uint16: %r" % raw)
        return struct.pack("!H", int(raw))
    if k == IPV4HINT:
        return b"".join([rd_std.ipv4_from_text(a) for a in raw.split(",")])
    if k == IPV6HINT:
        return b"".join([rd_std.ipv6_from_text(a) for a in raw.split(",")])
    return T.b64_from_text([raw], "ech")


# keys whose value may not be empty (RFC 9460 7: mandatory, alpn, port, the hints, ech)
_NEED_VALUE = (MANDATORY, ALPN, PORT, IPV4HINT, ECH, IPV6HINT)


def _param_from_tokens(tk):
    """(key text, raw value or None) of the next SvcParam: key, key=value, key="value"."""
    tok, quoted, _ = tk.next_raw("parameter")
    if quoted:
        raise TextError("parameter is a quoted string")
    eq = tok.find("=")
    if eq == 0:
        raise TextError('parameter starts with "="')
    if eq < 0:
        key, val = tok, None
    else:
        key, val = tok[:eq], tok[eq + 1 :]
    if "\\" in key:
        raise TextError("escape in a SvcParamKey")
    if val == "" and tk.more():
        nxt = tk.toks[tk.i]
        if nxt[1]:  # a quoted value: it must follow the "=" directly (RFC 9460 2.1)
            if not nxt[2]:
                raise TextError('blank between "=" and the value of %s' % key)
            tk.i += 1
            val = nxt[0]
    return key, val


class SVCB(B.Rdata):
    rtype = RT.SVCB

    def __init__(self, priority, target, params=()):
        self.priority = B.check_uint(priority, 16, "priority")
        self.target = target
        self.params = tuple(sorted([(k, bytes(v)) for k, v in params]))
        for k, v in self.params:
            B.check_uint(k, 16, "SvcParamKey")
            why = _check(k, v)
            if why is None and len(v) > 65535:
                why = "value too long"
            if why is not None:
                raise ValueError("%s: %s" % (key_to_text(k), why))
        why = _check_all(self.priority, self.params)
        if why is not None:
            raise ValueError(why)

    def param(self, key):
        """Value bytes of a key, or None if absent."""
        for k, v in self.params:
            if k == key:
                return v
        return None

    def to_wire(self):
        out = bytearray(struct.pack("!H", self.priority))
        out += self.target.wire  # never compressed (RFC 9460 2.2)
        for k, v in self.params:
            out += struct.pack("!HH", k, len(v))
            out += v
        return bytes(out)

    def names(self):
        return (self.target,)

    def to_text(self):
        parts = ["%d %s" % (self.priority, self.target.to_text())]
        for k, v in self.params:
            if not v and k not in (ALPN, MANDATORY, PORT, IPV4HINT, IPV6HINT, ECH):
                parts.append(key_to_text(k))
            else:
                parts.append(key_to_text(k) + "=" + _value_to_text(k, v))
        return " ".join(parts)

    @classmethod
    def from_tokens(cls, tk, origin):
        pri = tk.uint("priority", 65535)
        target = B.name_from_token(tk, origin, "target")
        params = []
        seen = []
        while tk.more():
            key, val = _param_from_tokens(tk)
            k, generic = key_from_text(key)
            if k in seen:
                raise TextError("duplicate SvcParamKey %s" % key)
            seen.append(k)
            if not val and k in _NEED_VALUE and not generic:
                raise TextError("%s needs a value" % key)
            params.append((k, _value_from_text(k, val or "", generic)))
        try:
            return cls(pri, target, params)
        except ValueError as e:
            raise TextError(e.args[0])

    @classmethod
    def decode(cls, rtype, buf, off, end):
        pri = B.u16(buf, off, end)
        target, o = B.name_at(buf, off + 2, end)
        params = []
        last = -1
        while o < end:
            B.need(buf, o, 4, end)
            k, ln = struct.unpack_from("!HH", buf, o)
            if k <= last:
                raise WireError(o, "SvcParamKeys not strictly increasing")
            last = k
            B.need(buf, o + 4, ln, end)
            v = buf[o + 4 : o + 4 + ln]
            why = _check(k, v)
            if why is not None:
                raise WireError(o, "%s: %s" % (key_to_text(k), why))
            params.append((k, v))
            o += 4 + ln
        why = _check_all(pri, params)
        if why is not None:
            raise WireError(off, why)
        return cls(pri, target, params)


class HTTPS(SVCB):
    rtype = RT.HTTPS
