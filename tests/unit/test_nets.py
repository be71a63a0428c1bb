"""config.nets: addresses, networks and peers of both families in one int form."""
from dnsbox import config
from dnsbox.config import nets, values
from dnsbox.resolver.local import default_nets
from tests.unit.helpers import raises

V6 = nets.V6


def sa4(ip, port):
    """MicroPython's raw sockaddr_in: family (little-endian), port, address, 8 zero bytes."""
    return b"\x02\x00" + bytes((port >> 8, port & 255)) + nets.parse_ipv4(ip) + bytes(8)


def sa6(ip, port):
    """MicroPython's raw sockaddr_in6 (28 bytes): family, port, flow, address, scope."""
    return b"\x0a\x00" + bytes((port >> 8, port & 255)) + bytes(4) + nets.parse_ipv6(ip) + \
        bytes(4)


def test_addresses_of_both_families():
    assert nets.parse_addr("10.0.0.1") == 0x0A000001
    assert nets.parse_addr("::1") == V6 | 1
    assert nets.parse_addr("2001:db8::1") == V6 | (0x20010DB8 << 96) | 1
    assert nets.parse_addr("::ffff:192.0.2.1") == 0xC0000201  # IPv4-mapped: the IPv4 int
    for bad in ("10.0.0", "1.2.3.256", "::1::", "2001:db8::g", "", ":", "1:2:3:4:5:6:7:8:9"):
        assert nets.parse_addr(bad) is None, bad
    for text in ("10.0.0.1", "::1", "2001:db8::53", "fe80::1"):
        assert nets.ip_text(nets.parse_addr(text)) == text
    assert nets.ip_text(nets.parse_addr("2001:DB8:0:0::0:53")) == "2001:db8::53"


def test_networks_of_both_families():
    assert nets.parse_network("10.1.2.3/8") == (0x0A000000, 0xFF000000)
    n, m = nets.parse_network("2001:db8:ff::1/32")
    assert n == V6 | (0x20010DB8 << 96) and m == V6 | (0xFFFFFFFF << 96)
    assert nets.parse_network("::1") == (V6 | 1, V6 | ((1 << 128) - 1))
    assert nets.parse_network("::/0") == (V6, V6)
    assert nets.parse_network("::ffff:10.0.0.0/104") == (0x0A000000, 0xFF000000)
    for text in ("10.0.0.0/8", "2001:db8::/32", "::1/128", "::/0", "fe80::/10"):
        assert nets.net_text(nets.parse_network(text)) == text
    for bad in ("10.0.0.0/33", "2001:db8::/129", "2001:db8::/x", "2001:db8::g/64", "::1/",
                "/8", "10.0.0.0/-1"):
        raises(ValueError, nets.parse_network, bad)


def test_membership_never_crosses_families():
    v4 = [nets.parse_network("10.0.0.0/8")]
    v6 = [nets.parse_network("2001:db8::/32")]
    # an IPv6 address whose low 32 bits are 10.0.0.1 is not in 10.0.0.0/8
    assert not nets.allowed(v4, nets.parse_addr("2001:db8::a00:1"))
    assert nets.allowed(v4, nets.parse_addr("10.9.9.9"))
    assert nets.allowed(v4, nets.parse_addr("::ffff:10.9.9.9"))
    assert nets.allowed(v6, nets.parse_addr("2001:db8:1::5"))
    assert not nets.allowed(v6, nets.parse_addr("2001:db9::5"))
    assert not nets.allowed(v6, nets.parse_addr("32.1.13.184"))  # 2001:db8 as IPv4 bits
    assert not nets.allowed([nets.parse_network("::/0")], nets.parse_addr("10.0.0.1"))
    assert not nets.allowed([(0, 0)], nets.parse_addr("::1"))  # 0.0.0.0/0 is IPv4 only
    assert nets.in_nets(v6, "2001:db8::1") and not nets.in_nets(v6, "bogus")


def test_peers_of_either_interpreter():
    for peer in (sa4("192.0.2.1", 5353), ("192.0.2.1", 5353)):
        assert nets.peer_ip(peer) == 0xC0000201
        assert nets.peer_text(peer) == ("192.0.2.1", 5353)
        assert not nets.peer_v6(peer)
    for peer in (sa6("2001:db8::7", 853), ("2001:db8::7", 853, 0, 0)):
        assert nets.peer_ip(peer) == nets.parse_addr("2001:db8::7")
        assert nets.peer_text(peer) == ("2001:db8::7", 853)
        assert nets.peer_v6(peer)
    # an IPv4 client through an IPv6 socket: its IPv4 address, answered on the IPv6 socket
    for peer in (sa6("::ffff:10.0.0.5", 53), ("::ffff:10.0.0.5", 53, 0, 0)):
        assert nets.peer_ip(peer) == 0x0A000005
        assert nets.peer_text(peer) == ("10.0.0.5", 53)
        assert nets.peer_v6(peer)
    assert nets.peer_ip(("fe80::1%eth0", 53, 0, 2)) == nets.parse_addr("fe80::1")
    assert nets.sockaddr(("2001:db8::7", 853, 0, 0)) == sa6("2001:db8::7", 853)
    assert nets.sockaddr(("192.0.2.1", 5353)) == sa4("192.0.2.1", 5353)


def test_ip_port_takes_dnsmasq_form():
    assert values.ip_port("2001:db8::1#5353") == ("2001:db8::1", 5353)
    assert values.ip_port("2001:DB8:0::1") == ("2001:db8::1", 53)
    assert values.ip_port("[::1]#53") == ("::1", 53)
    assert values.ip_port("192.0.2.1#5300") == ("192.0.2.1", 5300)
    raises(ValueError, values.ip_port, "2001:db8::1", False)
    for bad in ("2001:db8::1#", "2001:db8::1#65536", "2001:db8::1:", "::1#x"):
        raises(ValueError, values.ip_port, bad)


def test_ipv6_settings():
    c = config.parse(["mode=resolver", "server=2001:db8::1#5353", "server=/lan/fd00::53",
                      "hints=fd00:53::101,192.0.2.1#5300", "allow=2001:db8::/32,::1,10.0.0.0/8",
                      "ip6=2001:db8::53/64", "gw6=fe80::1"])
    assert c.problems == [], [str(p) for p in c.problems]
    assert c.servers == [(None, "2001:db8::1", 5353), (nets.domain_wire("lan"), "fd00::53", 53)]
    assert [h[1:] for h in c.hints] == [("fd00:53::101", 53), ("192.0.2.1", 5300)]
    assert [nets.net_text(n) for n in c.allow] == ["2001:db8::/32", "::1/128", "10.0.0.0/8"]
    assert c.ip6 == "2001:db8::53/64" and c.gw6 == "fe80::1"
    c = config.parse(["auth-peer=2001:db8::/48", "allow-update=::1"])
    assert [nets.net_text(n) for n in c.peers + c.updaters] == ["2001:db8::/48", "::1/128"]
    assert config.parse([]).ip6 == "auto" and config.parse([], True).ip6 == "::1/128"
    assert config.parse(["ip6=off"]).ip6 == "off"
    assert config.parse(["ip6=2001:db8::9"]).ip6 == "2001:db8::9/64"


def test_ipv6_settings_errors_are_clear():
    c = config.parse(["ip=2001:db8::5"])
    assert [p.key for p in c.fatal()] == ["ip"] and "ip6=" in c.problems[0].reason
    c = config.parse(["gw=fe80::1"])
    assert "gw6=" in c.problems[0].reason and not c.problems[0].fatal
    for bad in ("ip6=2001:db8::1/129", "ip6=ff02::1/64", "ip6=::/64", "ip6=bogus", "gw6=ff02::2",
                "gw6=10.0.0.1", "allow=2001:db8::/200", "also-notify=2001:db8::1"):
        c = config.parse([bad])
        assert len(c.problems) == 1 and not c.problems[0].fatal, bad


def test_default_clients_with_ipv6():
    texts = [nets.net_text(n) for n in default_nets("192.168.1.5", "255.255.255.0",
                                                     "2001:db8:1::53/64")]
    assert texts == ["127.0.0.0/8", "::1/128", "fe80::/10", "2001:db8:1::/64", "192.168.1.0/24"]
    assert [nets.net_text(n) for n in default_nets("127.0.0.1", "255.0.0.0", None)] == [
        "127.0.0.0/8"]
