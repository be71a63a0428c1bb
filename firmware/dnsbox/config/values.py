"""Value parsers of the settings (each returns the value or raises ValueError with the reason)
and the setter makers several options share. A setter is setter(cfg, value) -> None (store the
value as given under the key's name), "" (stored by the setter), or the reason it is bad."""
from dnsbox.config.nets import (V6, domain_wire, ipv4_int, parse_ipv4, parse_ipv6,
                                parse_network)

MAX_HINTS = 26  # root addresses in hints= (13 servers, IPv4 and IPv6)
DNS64_LENGTHS = (32, 40, 48, 56, 64, 96)  # prefix lengths RFC 6052 2.2 defines
DNS64_WELL_KNOWN = "64:ff9b::/96"  # RFC 6052 2.1
U_OCTET = 8  # byte 8 (bits 64..71) of an RFC 6052 address is always zero (2.2)
HEX_DIGITS = "0123456789abcdefABCDEF"  # digits of a MAC address


def port(text):
    if not text.isdigit() or len(text) > 5:
        raise ValueError("not a port number")
    v = int(text)
    if v < 1 or v > 65535:
        raise ValueError("port out of range 1..65535")
    return v


def number(lo, hi):
    """The parser of a whole number in lo..hi."""

    def parse(text):
        if not text.isdigit() or len(text) > 9:
            raise ValueError("not a whole number")
        v = int(text)
        if v < lo or v > hi:
            raise ValueError("out of range %d..%d" % (lo, hi))
        return v

    return parse


def domains(value):
    """'/a.com/b.org/rest' -> ([wire, wire], 'rest'); ValueError."""
    parts = value[1:].split("/")
    if len(parts) < 2:
        raise ValueError("expected /domain/ (a closing '/')")
    rest = parts[-1]
    out = []
    for d in parts[:-1]:
        out.append(domain_wire(d))
    return out, rest


def ip_port(text, v6=True):
    """'IP' or 'IP#port' (dnsmasq's form: '#' before the port, so IPv6 needs no brackets:
    2001:db8::1#5353) -> (ip text, port); ValueError. v6=False: IPv4 only."""
    n = 53
    if "#" in text:
        text, p = text.split("#", 1)
        n = port(p)
    if text[:1] == "[" and text[-1:] == "]":
        text = text[1:-1]  # [2001:db8::1]: the URL form, accepted
    if parse_ipv4(text) is not None:
        return text, n
    b = parse_ipv6(text)
    if b is None:
        raise ValueError("not an IPv4 or IPv6 address: %r" % text)
    if not v6:
        raise ValueError("an IPv6 address is not supported here (IPv4 only)")
    from dnsbox.wire.rd_std import ipv6_to_text

    return ipv6_to_text(b), n  # one spelling of each address (upstream names, logs)


def port_typo(key, value):
    """The message for IP:PORT (server=8.8.8.8:53, a common typo) naming the right form
    (server=8.8.8.8#53), or None when value is not that."""
    head, sep, tail = value.rpartition("/")  # server=/domain/IP:PORT too
    addr, colon, num = tail.rpartition(":")
    if colon and num.isdigit() and parse_ipv4(addr) is not None:
        return "probable typo: a port follows '#', not ':' (write %s=%s%s%s#%s)" % (
            key, head, sep, addr, num)
    return None


def ip_int(text):
    b = parse_ipv4(text)
    if b is None:
        raise ValueError("not an IPv4 address: %r" % text)
    return ipv4_int(b)


def mac_bytes(text):
    parts = text.split(":")
    if len(parts) != 6 or any(len(p) != 2 or p[0] not in HEX_DIGITS or p[1] not in HEX_DIGITS for p in parts):
        raise ValueError("not a MAC address: %r" % text)
    return bytes(int(p, 16) for p in parts)


def tsig_key(value):
    """(name, secret bytes), or the reason (str)."""
    import binascii

    parts = value.split(":")
    if len(parts) == 3:
        if parts[0].lower() != "hmac-sha256":
            return "algorithm %s: only hmac-sha256 is offered" % parts[0]
        parts = parts[1:]
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return "update-key=[hmac-sha256:]NAME:BASE64SECRET"
    try:
        domain_wire(parts[0])
        secret = binascii.a2b_base64(parts[1])
    except ValueError as e:
        return "bad key: %s" % e
    if len(secret) < 16:
        return "the secret is shorter than 16 bytes"
    return parts[0].lower(), secret


def dns64_prefix(text):
    """'64:ff9b::/96' -> (16 prefix bytes, length); ValueError with the reason."""
    addr, sep, plen = text.partition("/")
    if not sep or not plen.isdigit() or int(plen) not in DNS64_LENGTHS:
        raise ValueError("a prefix with length 32, 40, 48, 56, 64 or 96 (like %s)" %
                         DNS64_WELL_KNOWN)
    b = parse_ipv6(addr)
    if b is None:
        raise ValueError("not an IPv6 prefix: %r" % addr)
    n = int(plen)
    if any(b[n // 8 :]):
        raise ValueError("bits set after the prefix length")
    if n > 64 and b[U_OCTET]:
        raise ValueError("bits 64-71 must be zero (RFC 6052 2.2)")
    return bytes(b), n


def hints(text):
    """hints=IP[#port][,IP[#port]...] -> [(ns name text, ip text, port)] (servers given by
    address get the names hintN.root-hints.invalid., RFC 6761 .invalid); ValueError naming the
    bad item."""
    out = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            ip, p = ip_port(item)
        except ValueError as e:
            raise ValueError("%s (in %r)" % (e, item))
        if len(out) >= MAX_HINTS:
            raise ValueError("more than %d root servers" % MAX_HINTS)
        out.append(("hint%d.root-hints.invalid." % (len(out) + 1), ip, p))
    if not out:
        raise ValueError("no address given")
    return out


def parsed(attr, parse):
    """The setter that stores parse(value) in cfg.attr, or gives the ValueError's reason."""

    def setter(cfg, value):
        try:
            setattr(cfg, attr, parse(value))
        except ValueError as e:
            return str(e)
        return ""

    return setter


def dns64_or_off(text):
    """dns64-prefix=: 'off' -> None, else dns64_prefix()."""
    return None if text == "off" else dns64_prefix(text)


def ntp_server(text):
    """ntp-server=IP[#port] -> (ip, port), port 123 unless given."""
    return ip_port(text if "#" in text else text + "#123")


def flag(attr):
    def setter(cfg, value):
        if value not in (None, "1", "yes", "true", "0", "no", "false"):
            return "a flag takes no value (or 1/0, yes/no)"
        setattr(cfg, attr, value in (None, "1", "yes", "true"))
        return ""

    return setter


def port_or_off(attr):
    # tls-port=N, https-port=N (Unbound's names; dnsmasq has neither); 0 turns it off
    return parsed(attr, lambda value: 0 if value == "0" else port(value))


def net_list(attr, limit, any_ok=False):
    """The setter of a list of networks of either family: NET[/LEN][,NET..] (allow=, auth-peer=,
    allow-update=: 10.0.0.0/8, 2001:db8::/32, ::1); with any_ok, the word "any" (0.0.0.0/0 and
    ::/0: for allow=, an open resolver only when asked for in so many words)."""

    def setter(cfg, value):
        nets = []
        for part in value.split(","):
            if any_ok and part == "any":
                nets.append((0, 0))
                nets.append((V6, V6))
                continue
            try:
                nets.append(parse_network(part))
            except ValueError as e:
                return str(e)
        old = getattr(cfg, attr) or []
        if len(old) + len(nets) > limit:
            return "more than %d networks" % limit
        setattr(cfg, attr, old + nets)
        return ""

    return setter


def tsig_key_of(attr):
    # update-key=, xfr-key=: [hmac-sha256:]NAME:BASE64 (nsupdate -y's form)
    def setter(cfg, value):
        key = tsig_key(value)
        if isinstance(key, str):
            return key
        setattr(cfg, attr, key)
        return ""

    return setter
