"""The DHCP server's core and packets (dnsbox.dhcp): the RFC 2131 exchanges, address choice,
fixed hosts, declines, releases, restarts, the NAK cases, and malformed packets."""
from dnsbox.dhcp import packet as P
from dnsbox.dhcp.server import BROADCAST_TO, DECLINE_HOLD_S, OFFER_HOLD_S, Dhcp, host_label
from tests.unit.helpers import raises as _raises


def raises(exc, fn, *args):
    return str(_raises(exc, fn, *args))


def ip(text):
    a, b, c, d = (int(x) for x in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


SERVER = ip("198.51.100.1")
MASK = ip("255.255.255.0")
MAC1 = b"\x02\x00\x00\x00\x00\x01"
MAC2 = b"\x02\x00\x00\x00\x00\x02"
FIXED = b"\x02\x00\x00\x00\x00\x77"


def core(first="198.51.100.50", last="198.51.100.52", names=None):
    return Dhcp(SERVER, ip(first), ip(last), MASK, 600, ip("198.51.100.254"),
                [SERVER], "lan", {FIXED: (ip("198.51.100.7"), "printer")}, names)


def request(kind, mac=MAC1, ciaddr=0, requested=0, server=0, name=None, xid=b"abcd", giaddr=0):
    """The bytes a client sends."""
    p = P.Packet()
    p.op = P.BOOTREQUEST
    p.xid = xid
    p.ciaddr = ciaddr
    p.giaddr = giaddr
    p.chaddr = mac + b"\x00" * 10
    p.add(P.O_TYPE, bytes((kind,)))
    if requested:
        p.add(P.O_REQUESTED_IP, P.ip_bytes(requested))
    if server:
        p.add(P.O_SERVER_ID, P.ip_bytes(server))
    if name:
        p.add(P.O_HOSTNAME, name)
    return P.decode(p.encode())


def reply(r):
    """(message type, yiaddr, options, destination) of a reply."""
    data, dest = r
    assert data[0] == P.BOOTREPLY and data[236:240] == P.MAGIC and len(data) >= 300
    p = _decode_reply(data)
    return p.msg_type(), p.yiaddr, p.options, dest


def _decode_reply(data):
    b = bytearray(data)
    b[0] = P.BOOTREQUEST  # decode() reads requests; the layout is the same
    return P.decode(bytes(b))


def lease_of(d, mac=MAC1, now=0, name=None):
    t, y, _o, _d = reply(d.handle(request(P.DISCOVER, mac, name=name), now))
    assert t == P.OFFER
    t, y2, o, dest = reply(d.handle(request(P.REQUEST, mac, requested=y, server=SERVER,
                                            name=name), now))
    assert t == P.ACK and y2 == y and dest == BROADCAST_TO
    return y, o


def test_discover_offer_request_ack_with_options():
    d = core()
    t, y, o, dest = reply(d.handle(request(P.DISCOVER), 0))
    assert t == P.OFFER and y == ip("198.51.100.50") and dest == BROADCAST_TO
    assert o[P.O_SERVER_ID] == P.ip_bytes(SERVER)
    assert o[P.O_LEASE] == P.ip_bytes(600) and o[P.O_T1] == P.ip_bytes(300)
    assert o[P.O_T2] == P.ip_bytes(525)
    assert o[P.O_NETMASK] == P.ip_bytes(MASK) and o[P.O_ROUTER] == P.ip_bytes(ip("198.51.100.254"))
    assert o[P.O_DNS] == P.ip_bytes(SERVER) and o[P.O_DOMAIN] == b"lan"
    assert o[P.O_BROADCAST] == P.ip_bytes(ip("198.51.100.255"))
    ip1, _o = lease_of(d)
    assert ip1 == y
    assert d.stats["offers"] == 2 and d.stats["acks"] == 1


def test_same_client_same_address_and_others_get_others():
    d = core()
    a, _o = lease_of(d, MAC1)
    b, _o = lease_of(d, MAC2)
    assert a != b
    assert lease_of(d, MAC1, now=10)[0] == a  # asks again: the same one


def test_fixed_host_and_its_address_kept_from_others():
    d = core(first="198.51.100.5", last="198.51.100.8")
    assert lease_of(d, FIXED)[0] == ip("198.51.100.7")
    others = set(lease_of(d, bytes((2, 0, 0, 0, 1, i)))[0] for i in range(3))
    assert ip("198.51.100.7") not in others and len(others) == 3


def test_pool_exhausted_then_expiry_frees():
    d = core()
    for i in range(3):
        lease_of(d, bytes((2, 0, 0, 0, 9, i)))
    assert d.handle(request(P.DISCOVER, MAC2), 1) is None  # nothing free: no offer
    d.expire(601)
    assert reply(d.handle(request(P.DISCOVER, MAC2), 601))[0] == P.OFFER


def test_unanswered_offer_is_released_after_its_hold():
    d = core(last="198.51.100.50")
    reply(d.handle(request(P.DISCOVER, MAC1), 0))
    assert d.handle(request(P.DISCOVER, MAC2), 1) is None
    d.expire(OFFER_HOLD_S)
    assert reply(d.handle(request(P.DISCOVER, MAC2), OFFER_HOLD_S))[1] == ip("198.51.100.50")


def test_decline_keeps_the_address_out():
    d = core()
    a, _o = lease_of(d)
    assert d.handle(request(P.DECLINE, requested=a, server=SERVER), 5) is None
    assert reply(d.handle(request(P.DISCOVER, MAC2), 6))[1] != a
    d.expire(5 + DECLINE_HOLD_S)
    assert reply(d.handle(request(P.DISCOVER, bytes(6)), 5 + DECLINE_HOLD_S))[1] == a


def test_release_frees_and_renewing_unicasts():
    d = core()
    a, _o = lease_of(d)
    t, y, _o, dest = reply(d.handle(request(P.REQUEST, ciaddr=a), 100))  # renewing
    assert t == P.ACK and y == a and dest == a
    d.handle(request(P.RELEASE, ciaddr=a, server=SERVER), 101)
    assert a not in d.by_ip and MAC1 not in d.leases


def test_after_a_restart_clients_keep_their_addresses():
    d = core()
    a, _o = lease_of(d)
    fresh = core()  # the appliance rebooted: no leases in memory
    t, y, _o, _d = reply(fresh.handle(request(P.REQUEST, requested=a), 0))  # init-reboot
    assert t == P.ACK and y == a
    t, y, _o, dest = reply(core().handle(request(P.REQUEST, ciaddr=a), 0))  # renewing
    assert t == P.ACK and y == a and dest == a


def test_nak_cases():
    d = core()
    a, _o = lease_of(d, MAC1)
    # another client asks for a's address (init-reboot): NAK
    t, _y, o, dest = reply(d.handle(request(P.REQUEST, MAC2, requested=a), 1))
    assert t == P.NAK and dest == BROADCAST_TO and P.O_LEASE not in o
    # an address of another network at init-reboot: NAK
    assert reply(d.handle(request(P.REQUEST, MAC2, requested=ip("10.9.9.9")), 1))[0] == P.NAK
    # selecting with our server id but not the offered address: NAK
    reply(d.handle(request(P.DISCOVER, MAC2), 2))
    t = reply(d.handle(request(P.REQUEST, MAC2, requested=ip("198.51.100.52") if d.leases[
        MAC2].ip != ip("198.51.100.52") else ip("198.51.100.51"), server=SERVER), 2))[0]
    assert t == P.NAK
    # a fixed host asking for another address: NAK
    assert reply(d.handle(request(P.REQUEST, FIXED, requested=ip("198.51.100.51")), 3))[0] == P.NAK
    assert d.stats["naks"] == 4


def test_silent_cases():
    d = core()
    # it chose another server: our offer is withdrawn, nothing sent
    reply(d.handle(request(P.DISCOVER), 0))
    assert d.handle(request(P.REQUEST, requested=ip("198.51.100.50"), server=ip("198.51.100.9")),
                    0) is None
    assert MAC1 not in d.leases
    # relayed requests are not served; rebinding from another network is not ours to refuse
    assert d.handle(request(P.DISCOVER, giaddr=ip("203.0.113.1")), 0) is None
    assert d.handle(request(P.REQUEST, ciaddr=ip("10.1.1.1")), 0) is None
    assert d.handle(request(P.REQUEST), 0) is None  # no address asked for at all


def test_inform_gets_options_without_a_lease():
    t, y, o, dest = reply(core().handle(request(P.INFORM, ciaddr=ip("198.51.100.200")), 0))
    assert t == P.ACK and y == 0 and dest == ip("198.51.100.200")
    assert P.O_LEASE not in o and o[P.O_DNS] == P.ip_bytes(SERVER)


def test_host_names_go_to_the_dns_and_leave_with_the_lease():
    seen = []
    d = core(names=lambda label, addr: seen.append((label, addr)))
    a, _o = lease_of(d, MAC1, name=b"Bob's Laptop.home")
    assert seen == [("bobslaptop", a)]
    d.expire(601)
    assert seen[-1] == ("bobslaptop", None)
    lease_of(d, FIXED, now=700, name=b"whatever")
    assert seen[-1] == ("printer", ip("198.51.100.7"))  # dhcp-host's name wins


def test_host_label():
    assert host_label(b"My-PC") == "my-pc"
    assert host_label(b"pc.example.org") == "pc"
    assert host_label(b"name\x00junk") == "name"
    assert host_label(b"-x-") == "x"
    assert host_label(b"!!!") is None
    assert host_label(b"a" * 100) == "a" * 63


def test_range_must_fit_the_subnet_and_the_limit():
    assert "subnet" in raises(ValueError, core, "10.0.0.1", "10.0.0.5")
    assert "at most" in raises(ValueError, Dhcp, SERVER, ip("198.51.0.0"), ip("198.51.255.255"),
                               ip("255.255.0.0"), 600)


def test_malformed_packets():
    good = request(P.DISCOVER)
    data = bytearray(good_bytes())
    assert "shorter" in raises(ValueError, P.decode, bytes(data[:200]))
    bad = bytearray(data)
    bad[236] = 0
    assert "magic" in raises(ValueError, P.decode, bytes(bad))
    bad = bytearray(data)
    bad[0] = P.BOOTREPLY
    assert "not a request" in raises(ValueError, P.decode, bytes(bad))
    bad = bytearray(data)
    bad[2] = 16
    assert "Ethernet" in raises(ValueError, P.decode, bytes(bad))
    cut = bytes(data[:240]) + b"\x35\x05\x01"  # an option longer than the packet
    assert "past the end" in raises(ValueError, P.decode, cut)
    assert "END" in raises(ValueError, P.decode, bytes(data[:240]) + b"\x35\x01\x01")
    assert "type" in raises(ValueError, P.decode, bytes(data[:240]) + b"\xff")
    assert "longer" in raises(ValueError, P.decode, bytes(data) + bytes(1500))
    assert good.msg_type() == P.DISCOVER


def good_bytes():
    p = P.Packet()
    p.op = P.BOOTREQUEST
    p.chaddr = MAC1 + bytes(10)
    p.add(P.O_TYPE, bytes((P.DISCOVER,)))
    return p.encode()


def test_long_options_are_joined():
    data = bytearray(good_bytes())
    end = data.index(b"\xff", 240)
    extra = b"\x0c\x03abc\x0c\x03def"  # option 12 split in two (RFC 3396)
    p = P.decode(bytes(data[:end]) + extra + b"\xff")
    assert p.options[P.O_HOSTNAME] == b"abcdef"
