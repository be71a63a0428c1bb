"""Addresses, networks and peers in the settings' forms: the helpers every part shares (a leaf:
it imports nothing of dnsbox but the wire codec).

One form for both families: an address is an int. IPv4 is 0..V4_MAX; IPv6 is V6 | the 128-bit
address (V6, a bit above the address, marks the family), except IPv4-mapped ::ffff:a.b.c.d,
which is the IPv4 int (an IPv4 client seen through an IPv6 socket). A network is (net, mask) in
the same form (an IPv6 one has V6 in both), so `ip & mask == net` tests membership; only an
IPv6 address against an IPv4 network needs the family check too (see allowed). A peer is what a
socket gives: MicroPython's raw sockaddr_in (16 bytes) or sockaddr_in6 (28), CPython's (host,
port[, flow, scope]) tuple; peer_ip, peer_text and sockaddr read either."""

V4_MAX = 0xFFFFFFFF  # addresses up to this are IPv4
V6 = 1 << 128  # the family bit of an IPv6 address or network as an int
ALL6 = (1 << 128) - 1  # the 128 address bits of an IPv6 int
MAPPED = 0xFFFF00000000  # ::ffff:0:0/96, IPv4-mapped IPv6 addresses (RFC 4291 2.5.5.2)
AF_INET = 2  # Linux values: the first byte of a little-endian raw sockaddr
AF_INET6 = 10
_type = type  # builtins as module globals: MicroPython finds a builtin by a linear search
_tuple = tuple
_len = len


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

    if ":" not in text or len(text) > 45:  # the longest form: 6 groups and a dotted quad
        return None
    try:
        return rd_std.ipv6_from_text(text)
    except (TextError, ValueError):
        return None


def ipv4_int(b):
    return (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]


def addr_int(b):
    """4 or 16 address bytes -> the address int (IPv4-mapped IPv6 -> the IPv4 int)."""
    if len(b) == 4:
        return ipv4_int(b)
    v = int.from_bytes(bytes(b), "big")
    if v >> 32 == 0xFFFF:
        return v & V4_MAX
    return V6 | v


def parse_addr(text):
    """An address of either family as text -> its int, or None."""
    b = parse_ipv4(text) if ":" not in text else parse_ipv6(text)
    return None if b is None else addr_int(b)


def is_v6(text):
    """Whether the address text is an IPv6 one (the socket family an ask or a listener needs)."""
    return ":" in text


def ip_text(v):
    """An address int -> text: dotted IPv4, or RFC 5952 IPv6."""
    if v > V4_MAX:
        from dnsbox.wire.rd_std import ipv6_to_text

        return ipv6_to_text((v & ALL6).to_bytes(16, "big"))
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


def mask6_of(prefix):
    """The IPv6 mask int of a prefix length (with the family bit V6)."""
    return V6 | ((ALL6 << (128 - prefix)) & ALL6)


def parse_network(text):
    """'10.0.0.0/8', '10.1.2.3', '2001:db8::/32' or '::1' -> (net, mask) ints; ValueError."""
    addr, sep, pl = text.partition("/")
    v6 = ":" in addr
    top = 128 if v6 else 32
    if sep and (not pl.isdigit() or len(pl) > 3 or int(pl) > top):
        raise ValueError("bad prefix length in %r (0..%d)" % (text, top))
    prefix = int(pl) if sep else top
    if not v6:
        b = parse_ipv4(addr)
        if b is None:
            raise ValueError("not an IPv4 or IPv6 network: %r" % text)
        m = mask_of(prefix)
        return ipv4_int(b) & m, m
    b = parse_ipv6(addr)
    if b is None:
        raise ValueError("not an IPv6 network: %r" % text)
    v = int.from_bytes(b, "big")
    if v >> 32 == 0xFFFF and prefix >= 96:  # ::ffff:a.b.c.d/N: the IPv4 network it maps
        m = mask_of(prefix - 96)
        return v & m, m
    m = mask6_of(prefix)
    return (V6 | v) & m, m


def allowed(nets, ip):
    """True if the address int ip is in one of nets [(net, mask)] (either family)."""
    k = len(nets) - 1
    while k >= 0:
        n = nets[k]
        if ip & n[1] == n[0] and (ip <= V4_MAX or n[1] > V4_MAX):
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
    """(net, mask) -> 'a.b.c.d/len' or '2001:db8::/32'."""
    net, mask = n
    top = 128 if mask > V4_MAX else 32
    p = 0
    while p < top and mask & (1 << (top - 1 - p)):
        p += 1
    return "%s/%d" % (ip_text(net), p)


def in_nets(nets, text):
    """True if the address text (either family) is in one of nets."""
    v = parse_addr(text)
    return v is not None and allowed(nets, v)


def peer_ip(peer):
    """The address int of a peer (raw sockaddr or CPython tuple). On the fast path (every
    cached answer): an IPv4 sockaddr first, in a small frame."""
    if _type(peer) is _tuple:
        return _tuple_ip(peer[0])
    if _len(peer) < 24:
        return (peer[4] << 24) | (peer[5] << 16) | (peer[6] << 8) | peer[7]
    return addr_int(peer[8:24])


def _tuple_ip(host):
    if ":" not in host:
        p = host.split(".")
        return (int(p[0]) << 24) | (int(p[1]) << 16) | (int(p[2]) << 8) | int(p[3])
    return addr_int(parse_ipv6(host.split("%")[0]))


def peer_port(peer):
    if _type(peer) is _tuple:
        return peer[1]
    return (peer[2] << 8) | peer[3]


def peer_text(peer):
    """(ip text, port) of a peer in either interpreter's form (IPv4-mapped: the IPv4 text)."""
    if _type(peer) is _tuple and ":" not in peer[0]:
        return peer[0], peer[1]
    return ip_text(peer_ip(peer)), peer_port(peer)


def peer_v6(peer):
    """Whether a peer came through an IPv6 socket (the socket to answer it from)."""
    if _type(peer) is _tuple:
        return _len(peer) == 4
    return _len(peer) >= 24


def sockaddr(peer):
    """A peer as raw sockaddr bytes (what MicroPython gives) from CPython's (host, port, ...)."""
    if _type(peer) is not _tuple:
        return peer
    host = peer[0]
    port = bytes(((peer[1] >> 8) & 255, peer[1] & 255))
    if ":" in host:
        return b"\x0a\x00" + port + bytes(4) + bytes(parse_ipv6(host.split("%")[0])) + bytes(4)
    return b"\x02\x00" + port + parse_ipv4(host) + bytes(8)
