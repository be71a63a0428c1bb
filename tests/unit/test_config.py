from dnsbox import config


def keys(cfg):
    return [p.key for p in cfg.problems]


def test_defaults_appliance_and_host():
    a = config.parse([])
    assert (a.mode, a.ip, a.port, a.problems) == ("auth", "dhcp", 53, [])
    h = config.parse([], host=True)
    assert (h.ip, h.port) == ("127.0.0.1", 5353)


def test_static_address():
    c = config.parse("ip=10.0.2.15 netmask=255.255.255.0 gw=10.0.2.2 port=5300".split())
    assert (c.ip, c.netmask, c.gw, c.port) == ("10.0.2.15", "255.255.255.0", "10.0.2.2", 5300)
    assert c.problems == []


def test_netmask_as_prefix():
    c = config.parse(["netmask=20"])
    assert c.netmask == "255.255.240.0"
    assert config.parse(["netmask=0"]).netmask == "0.0.0.0"
    assert keys(config.parse(["netmask=33"])) == ["netmask"]


def test_kernel_words_are_ignored():
    words = config.split_cmdline(
        'console=ttyAMA0 cma=0 panic=-1 quiet virtio_net.napi_tx=1 ro root=/dev/vda mode=auth\n')
    assert config.parse(words).problems == []


def test_later_words_override():
    assert config.parse(["port=1000", "port=2000"]).port == 2000


def test_bad_port_keeps_default_and_names_variable():
    for bad in ("abc", "0", "65536", "-1", "999999", ""):
        c = config.parse(["port=" + bad])
        assert c.port == 53, bad
        assert keys(c) == ["port"], bad
        assert not c.fatal()
        assert "port=" in str(c.problems[0])


def test_bad_address_is_fatal():
    for bad in ("10.0.2", "10.0.2.256", "a.b.c.d", "0.1.2.3", "224.0.0.1", "10.0.2.15.1"):
        c = config.parse(["ip=" + bad])
        assert [p.key for p in c.fatal()] == ["ip"], bad


def test_noncontiguous_netmask_is_fatal():
    c = config.parse(["netmask=255.0.255.0"])
    assert [p.key for p in c.fatal()] == ["netmask"]


def test_unknown_and_malformed_words_are_reported_not_fatal():
    c = config.parse(["colour=blue", "justaword", "gw=nowhere"])
    assert keys(c) == ["colour", "justaword", "gw"]
    assert c.fatal() == []
    assert c.gw is None


def test_modes():
    assert config.parse(["mode=auth"]).problems == []
    for m in ("resolver", "client"):
        c = config.parse(["mode=" + m])
        assert c.mode == m and c.problems == []
    c = config.parse(["mode=bogus"])
    assert keys(c) == ["mode"] and c.mode == "auth"


def test_hostname_and_iface():
    c = config.parse(["hostname=ns1.example", "iface=end0"])
    assert (c.hostname, c.iface) == ("ns1.example", "end0")
    assert keys(config.parse(["hostname=bad name!"])) == ["hostname"]
    assert keys(config.parse(["iface=" + "x" * 16])) == ["iface"]


def test_value_length_limit():
    c = config.parse(["hostname=" + "a" * (config.MAX_VALUE + 1)])
    assert keys(c) == ["hostname"] and c.hostname is None


def test_word_count_limit():
    c = config.parse(["port=53"] * (config.MAX_WORDS + 5))
    assert keys(c) == ["(command line)"]


def test_split_cmdline_quotes():
    assert config.split_cmdline('a=1  b="x y"\tc=3\n') == ["a=1", "b=x y", "c=3"]


def test_monitor_settings():
    c = config.parse([])
    assert not c.log_queries and c.http_port == 0 and c.http_allow is None
    c = config.parse(["log-queries", "http-port=8080", "http-allow=10.0.0.0/8,192.0.2.7"])
    assert c.problems == []
    assert c.log_queries and c.http_port == 8080
    assert c.http_allow == [(0x0A000000, 0xFF000000), (0xC0000207, 0xFFFFFFFF)]
    c = config.parse(["http-port=abc", "http-allow=10.0.0.300", "log-queries=maybe"])
    assert sorted(p.key for p in c.problems) == ["http-allow", "http-port", "log-queries"]
    assert c.http_port == 0 and c.http_allow is None and not c.log_queries
    c = config.parse(["http-allow=10.1.0.0/16"], conf_text="http-allow=10.2.0.0/16\n")
    assert c.http_allow == [(0x0A010000, 0xFFFF0000)]  # a boot variable replaces the file's list
