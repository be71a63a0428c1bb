"""Addresses and networks in the settings' forms: the helpers every part shares (a leaf: it
imports nothing of dnsbox but the wire codec). IPv4 addresses as dotted text, 4 bytes or an int;
networks as (network int, mask int)."""


def parse_ipv4(text):
    """'10.0.2.15' -> 4 bytes, or None if it is not a dotted quad of 0..255."""
    parts = text.split(".")
    if len(parts) != 4:
        return None
    out = bytearray(4)
    for i in range(4):
        p = parts[i]
        if not p or len(p) > 3 or not p.isdigit():
            return None
        v = int(p)
        if v > 255:
            return None
        out[i] = v
    return bytes(out)


def parse_ipv6(text):
    """IPv6 text -> 16 bytes, or None."""
    from dnsbox.wire import rd_std
    from dnsbox.wire.errors import TextError

    try:
        return rd_std.ipv6_from_text(text)
    except (TextError, ValueError):
        return None


def ipv4_int(b):
    return (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]


def ip_text(v):
    """An IPv4 address as an int -> dotted text."""
    return "%d.%d.%d.%d" % (v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255)


def prefix_of(mask):
    """Netmask bytes -> prefix length, or -1 if the ones are not contiguous."""
    bits = ipv4_int(mask)
    n = 0
    while n < 32 and bits & (0x80000000 >> n):
        n += 1
    if bits & ((1 << (32 - n)) - 1):
        return -1
    return n


def mask_of(prefix):
    return (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF


def parse_network(text):
    """'10.0.0.0/8' or '10.1.2.3' -> (network int, mask int); ValueError."""
    if "/" in text:
        addr, pl = text.split("/", 1)
        if not pl.isdigit() or len(pl) > 2 or int(pl) > 32:
            raise ValueError("bad prefix length in %r" % text)
        prefix = int(pl)
    else:
        addr, prefix = text, 32
    b = parse_ipv4(addr)
    if b is None:
        raise ValueError("not an IPv4 network: %r" % text)
    m = mask_of(prefix)
    return ipv4_int(b) & m, m


def allowed(nets, ip):
    """True if the IPv4 address ip (an int) is in one of nets [(network, mask)]."""
    k = len(nets) - 1
    while k >= 0:
        if ip & nets[k][1] == nets[k][0]:
            return True
        k -= 1
    return False


def domain_wire(text):
    """Domain text -> lower-case wire bytes; ValueError."""
    from dnsbox.wire import name as _name
    from dnsbox.wire.errors import TextError

    if text in ("", "."):
        raise ValueError("empty domain")
    try:
        return _name.from_text(text.rstrip(".") + ".").lc
    except TextError as e:
        raise ValueError(str(e))


def net_text(n):
    """(network, mask) -> 'a.b.c.d/len'."""
    net, mask = n
    p = 0
    while p < 32 and mask & (0x80000000 >> p):
        p += 1
    return "%s/%d" % (ip_text(net), p)


def in_nets(nets, ip_text):
    """True if the dotted address ip_text is in one of nets."""
    b = parse_ipv4(ip_text)
    return b is not None and allowed(nets, ipv4_int(b))
