"""DHCP messages (RFC 2131 2, RFC 2132): decode with bounds checked, encode replies.

decode(data) -> Packet, or raises ValueError with the reason (the server drops the datagram).
Packet.encode() -> bytes (a reply: BOOTREPLY, options in the given order, END, padded to the
BOOTP minimum of 300 bytes so old clients take it).
"""
from dnsbox.compat import const

HEADER = const(236)  # op .. file (RFC 2131 figure 1)
MAGIC = b"\x63\x82\x53\x63"  # RFC 2132 2
MIN_REPLY = const(300)  # BOOTP's minimum message (RFC 1542 2.1)
MAX_MESSAGE = const(1500)  # bytes read from one datagram: an Ethernet MTU
BOOTREQUEST = const(1)
BOOTREPLY = const(2)
HTYPE_ETHER = const(1)
BROADCAST = const(0x8000)  # the flags bit (RFC 2131 2)

# Message types (option 53).
DISCOVER = const(1)
OFFER = const(2)
REQUEST = const(3)
DECLINE = const(4)
ACK = const(5)
NAK = const(6)
RELEASE = const(7)
INFORM = const(8)

# Options (RFC 2132).
O_PAD = const(0)
O_NETMASK = const(1)
O_ROUTER = const(3)
O_DNS = const(6)
O_HOSTNAME = const(12)
O_DOMAIN = const(15)
O_BROADCAST = const(28)
O_REQUESTED_IP = const(50)
O_LEASE = const(51)
O_OVERLOAD = const(52)
O_TYPE = const(53)
O_SERVER_ID = const(54)
O_MESSAGE = const(56)
O_T1 = const(58)
O_T2 = const(59)
O_CLIENT_ID = const(61)
O_END = const(255)


class Packet:
    def __init__(self):
        self.op = BOOTREPLY
        self.htype = HTYPE_ETHER
        self.hlen = 6
        self.xid = b"\x00\x00\x00\x00"
        self.secs = 0
        self.flags = 0
        self.ciaddr = 0
        self.yiaddr = 0
        self.siaddr = 0
        self.giaddr = 0
        self.chaddr = b"\x00" * 16
        self.options = {}  # code -> bytes (decoded); for encode: [(code, bytes)] in order
        self.order = []

    def mac(self):
        return self.chaddr[: self.hlen]

    def msg_type(self):
        v = self.options.get(O_TYPE)
        return v[0] if v is not None and len(v) == 1 else 0

    def ip_option(self, code):
        """An option holding one IPv4 address, as an int; 0 when absent or malformed."""
        v = self.options.get(code)
        if v is None or len(v) != 4:
            return 0
        return _u32(v, 0)

    def add(self, code, value):
        self.order.append((code, value))

    def encode(self):
        out = bytearray(HEADER)
        out[0] = self.op
        out[1] = self.htype
        out[2] = self.hlen
        out[4:8] = self.xid
        out[10] = self.flags >> 8
        out[11] = self.flags & 0xFF
        for off, v in ((12, self.ciaddr), (16, self.yiaddr), (20, self.siaddr), (24, self.giaddr)):
            out[off : off + 4] = ip_bytes(v)
        out[28:44] = self.chaddr
        out += MAGIC
        for code, value in self.order:
            if len(value) > 255:
                raise ValueError("option %d longer than 255 bytes" % code)
            out += bytes((code, len(value)))
            out += value
        out.append(O_END)
        while len(out) < MIN_REPLY:
            out.append(O_PAD)
        return bytes(out)


def ip_bytes(v):
    return bytes(((v >> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255))


def _u32(b, off):
    return (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]


def decode(data):
    """A BOOTREQUEST with DHCP options (ValueError otherwise)."""
    if len(data) < HEADER + 4:
        raise ValueError("shorter than a DHCP message")
    if len(data) > MAX_MESSAGE:
        raise ValueError("longer than %d bytes" % MAX_MESSAGE)
    if data[HEADER : HEADER + 4] != MAGIC:
        raise ValueError("no DHCP magic cookie (plain BOOTP is not served)")
    p = Packet()
    p.op, p.htype, p.hlen = data[0], data[1], data[2]
    if p.op != BOOTREQUEST:
        raise ValueError("not a request")
    if p.htype != HTYPE_ETHER or p.hlen != 6:
        raise ValueError("hardware type %d length %d: only Ethernet" % (p.htype, p.hlen))
    p.xid = bytes(data[4:8])
    p.secs = (data[8] << 8) | data[9]
    p.flags = (data[10] << 8) | data[11]
    p.ciaddr, p.yiaddr = _u32(data, 12), _u32(data, 16)
    p.siaddr, p.giaddr = _u32(data, 20), _u32(data, 24)
    p.chaddr = bytes(data[28:44])
    i = HEADER + 4
    n = len(data)
    while i < n:
        code = data[i]
        if code == O_END:
            break
        if code == O_PAD:
            i += 1
            continue
        if i + 2 > n or i + 2 + data[i + 1] > n:
            raise ValueError("option %d runs past the end" % code)
        value = bytes(data[i + 2 : i + 2 + data[i + 1]])
        p.options[code] = p.options.get(code, b"") + value  # split long options (RFC 3396)
        i += 2 + data[i + 1]
    else:
        raise ValueError("options without an END")
    if len(p.options.get(O_TYPE, b"")) != 1:
        raise ValueError("no DHCP message type")
    return p
