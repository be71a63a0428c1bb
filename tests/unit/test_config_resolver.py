"""The dnsmasq-style options of resolver and client mode, the config file, and precedence."""
from dnsbox import config
from dnsbox.config import nets


def keys(cfg):
    return [p.key for p in cfg.problems]


def W(text):
    from dnsbox.wire.name import from_text

    return from_text(text).lc


def test_servers_plain_port_and_domain():
    c = config.parse(["mode=resolver", "server=192.0.2.1", "server=192.0.2.2#5300",
                      "server=/corp.example/lab.example/10.1.1.1"])
    assert c.problems == []
    assert c.servers == [(None, "192.0.2.1", 53), (None, "192.0.2.2", 5300),
                         (W("corp.example."), "10.1.1.1", 53), (W("lab.example."), "10.1.1.1", 53)]
    assert len(c.upstreams()) == 4


def test_server_without_address_is_local():
    c = config.parse(["server=/home.arpa/"])
    assert c.servers == [] and c.locals == [W("home.arpa.")]


def test_bad_servers_are_reported_with_the_option():
    for bad in ("server=1.2.3", "server=1.2.3.4#0", "server=1.2.3.4#x", "server=/nodomain",
                "server=/a..b/1.2.3.4", "server=::1::2", "server=2001:db8::1#0",
                "server=/a.b/fe80::1:2:3:4:5:6:7:8"):
        c = config.parse([bad])
        assert keys(c) == ["server"], bad
        assert c.servers == [], bad
        assert str(c.problems[0]).startswith("boot variable server="), bad
    assert "IPv6" in config.parse(["server=2001:db8::g"]).problems[0].reason


def test_server_limit():
    c = config.parse(["mode=resolver"] + [
        "server=10.0.0.%d" % i for i in range(config.resolving.MAX_SERVERS + 2)])
    assert len(c.servers) == config.resolving.MAX_SERVERS
    assert keys(c) == ["server", "server"]


def test_address_host_record_local():
    c = config.parse(["address=/ads.example/0.0.0.0", "address=/v6.example/2001:db8::5",
                      "address=/block.example/", "host-record=router.lan,gw.lan,192.168.1.1,fd00::1",
                      "local=/lan/", "domain-needed", "bogus-priv"])
    assert c.problems == []
    assert c.addresses == [(W("ads.example."), b"\x00\x00\x00\x00"),
                           (W("v6.example."), b" \x01\r\xb8" + bytes(10) + b"\x00\x05"),
                           (W("block.example."), None)]
    assert [h[0] for h in c.hosts] == [W("router.lan."), W("gw.lan.")]
    assert c.hosts[0][1] == b"\xc0\xa8\x01\x01" and len(c.hosts[0][2]) == 16
    assert c.locals == [W("lan.")]
    assert c.domain_needed and c.bogus_priv


def test_bad_local_entries():
    for bad in ("address=ads.example", "address=/x.example/1.2.3", "host-record=1.2.3.4",
                "host-record=name.lan", "host-record=a.lan,1.2.3.4,1.2.3.5", "local=/lan/1.2.3.4",
                "host-record=a.lan,1.2.3.4,300"):
        c = config.parse([bad])
        assert len(c.problems) == 1, bad
        assert c.addresses == [] and c.hosts == [], bad


def test_flags_take_no_value_but_accept_yes_no():
    assert config.parse(["domain-needed=no"]).domain_needed is False
    assert config.parse(["bogus-priv=1"]).bogus_priv is True
    assert keys(config.parse(["domain-needed=maybe"])) == ["domain-needed"]


def test_value_options_need_a_value():
    c = config.parse(["server", "cache-size"])
    assert keys(c) == ["server", "cache-size"]
    assert "needs a value" in c.problems[0].reason


def test_cache_size():
    assert config.parse([]).cache_size == config.resolving.CACHE_DEFAULT
    assert config.parse(["cache-size=0"]).cache_size == 0
    assert config.parse(["cache-size=150"]).cache_size == 150
    for bad in ("-1", "lots", str(config.resolving.CACHE_MAX + 1)):
        c = config.parse(["cache-size=" + bad])
        assert keys(c) == ["cache-size"] and c.cache_size == config.resolving.CACHE_DEFAULT


def test_allow_networks():
    assert config.parse([]).allow is None  # main: own subnet and loopback
    c = config.parse(["allow=10.0.0.0/8,192.168.1.7"])
    assert c.allow == [(0x0A000000, 0xFF000000), (0xC0A80107, 0xFFFFFFFF)]
    assert config.parse(["allow=any"]).allow == [(0, 0), (nets.V6, nets.V6)]  # and ::/0
    assert config.parse(["allow=10.1.2.3/8"]).allow == [(0x0A000000, 0xFF000000)]
    for bad in ("10.0.0.0/33", "10.0.0/8", "everyone"):
        c = config.parse(["allow=" + bad])
        assert keys(c) == ["allow"] and c.allow is None, bad


def test_auth_peer_networks():
    assert config.parse([]).peers == []  # no transfers by default
    c = config.parse(["auth-peer=192.0.2.53,10.0.0.0/8", "auth-peer=198.51.100.1"])
    assert c.problems == []
    assert c.peers == [(0xC0000235, 0xFFFFFFFF), (0x0A000000, 0xFF000000),
                       (0xC6336401, 0xFFFFFFFF)]
    for bad in ("any", "10.0.0.0/40", "2001:db8::/129", "2001:db8::g", "192.0.2.1#53"):
        c = config.parse(["auth-peer=" + bad])
        assert keys(c) == ["auth-peer"] and c.peers == [], bad
        assert not c.problems[0].fatal
    many = ",".join("10.0.0.%d" % i for i in range(config.serving.MAX_PEERS + 1))
    c = config.parse(["auth-peer=" + many])
    assert keys(c) == ["auth-peer"] and "more than 16" in c.problems[0].reason and c.peers == []
    # a boot variable replaces the config file's list
    c = config.parse(["auth-peer=192.0.2.9"],
                     conf_text="auth-peer=192.0.2.1\nauth-peer=192.0.2.2\n")
    assert c.peers == [(0xC0000209, 0xFFFFFFFF)]


def test_tls_port():
    assert config.parse([]).tls_port == 0  # off unless asked for
    assert config.parse(["tls-port=853"]).tls_port == 853
    assert config.parse(["tls-port=853", "tls-port=0"]).tls_port == 0
    for bad in ("65536", "-1", "dot", "85 3"):
        c = config.parse(["tls-port=" + bad])
        assert keys(c) == ["tls-port"] and c.tls_port == 0 and not c.problems[0].fatal, bad


def test_https_port_and_endpoint():
    c = config.parse([])
    assert c.https_port == 0 and c.http_endpoint == "/dns-query"
    c = config.parse(["https-port=443", "http-endpoint=/q"])
    assert c.problems == [] and c.https_port == 443 and c.http_endpoint == "/q"
    for bad in ("dns-query", "/a b", "/a?b", "/" + "x" * config.box.MAX_ENDPOINT, "/caf\u00e9"):
        c = config.parse(["http-endpoint=" + bad])
        assert keys(c) == ["http-endpoint"] and c.http_endpoint == "/dns-query", bad
    c = config.parse(["https-port=99999"])
    assert keys(c) == ["https-port"] and c.https_port == 0


def test_dhcp_options():
    c = config.parse(["dhcp-range=192.168.7.50,192.168.7.99,255.255.255.0,12h",
                      "dhcp-host=02:00:00:00:00:07,192.168.7.7,printer",
                      "dhcp-host=02:00:00:00:00:08,scanner,192.168.7.8",
                      "dhcp-option=option:router,192.168.7.1",
                      "dhcp-option=6,192.168.7.2,192.168.7.3",
                      "dhcp-option=15,Lan."])
    assert c.problems == []
    assert c.dhcp_range == (0xC0A80732, 0xC0A80763, 0xFFFFFF00, 43200)
    assert c.dhcp_hosts == [(b"\x02\x00\x00\x00\x00\x07", 0xC0A80707, "printer"),
                            (b"\x02\x00\x00\x00\x00\x08", 0xC0A80708, "scanner")]
    assert (c.dhcp_router, c.dhcp_dns, c.dhcp_domain) == (0xC0A80701, [0xC0A80702, 0xC0A80703],
                                                          "lan")
    assert config.parse(["dhcp-range=10.0.0.1,10.0.0.9"]).dhcp_range[2:] == (None, 3600)
    assert config.parse(["dhcp-range=10.0.0.1,10.0.0.9,45m"]).dhcp_range[3] == 2700
    assert config.parse(["dhcp-option=3"]).dhcp_router == 0  # no router offered
    for bad in ("dhcp-range=10.0.0.9,10.0.0.1", "dhcp-range=10.0.0.1", "dhcp-range=10.0.0.1,x",
                "dhcp-range=10.0.0.1,10.0.0.9,255.0.255.0", "dhcp-range=10.0.0.1,10.0.0.9,30s",
                "dhcp-range=10.0.0.1,10.0.0.9,forever", "dhcp-host=02:00:00:00:00,10.0.0.2",
                "dhcp-host=02:00:00:00:00:01,pc", "dhcp-host=02:00:00:00:00:01,10.0.0.2,a.b",
                "dhcp-option=42,10.0.0.1", "dhcp-option=option:router,x",
                "dhcp-option=6,1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5"):
        c = config.parse([bad])
        assert keys(c) == [bad.split("=")[0]] and not c.problems[0].fatal, bad
        assert c.dhcp_range is None and c.dhcp_hosts == [], bad


def test_update_key():
    secret = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    c = config.parse(["update-key=hmac-sha256:Upd.Example:" + secret])
    assert c.problems == [] and c.update_key == ("upd.example", b"0123456789abcdef" * 2)
    assert config.parse(["update-key=upd:" + secret]).update_key[0] == "upd"
    assert config.parse(["xfr-key=xfr:" + secret]).xfr_key == ("xfr", b"0123456789abcdef" * 2)
    for bad in ("hmac-md5:k:" + secret, "k", "k:", "k:!!!!", "k:c2hvcnQ=", "a..b:" + secret):
        c = config.parse(["update-key=" + bad])
        assert keys(c) == ["update-key"] and c.update_key is None, bad


def test_dnsmasq_options_not_implemented_are_named():
    c = config.parse(["enable-tftp", "log-async", "no-resolv"])
    assert keys(c) == ["enable-tftp", "log-async"]
    for p in c.problems:
        assert "dnsmasq option not implemented" in p.reason
        assert not p.fatal


def test_config_file_lines_and_errors_name_the_line():
    text = "\n".join([
        "# a comment",
        "mode=resolver",
        "",
        "server=192.0.2.53",
        "  domain-needed  ",
        "colour=blue",
        "cache-size=many",
        "dhcp-boot=pxelinux.0",
    ])
    c = config.parse([], conf_text=text)
    assert c.mode == "resolver" and c.servers == [(None, "192.0.2.53", 53)]
    assert c.domain_needed
    assert [(p.key, p.where) for p in c.problems] == [("colour", 6), ("cache-size", 7),
                                                      ("dhcp-boot", 8)]
    assert str(c.problems[0]) == "config line 6: colour=blue: unknown option (ignored)"
    assert "dnsmasq option not implemented" in str(c.problems[2])


def test_boot_variables_override_the_file():
    text = "mode=resolver\nserver=192.0.2.1\nserver=192.0.2.2\ncache-size=10\nlocal=/lan/\n"
    c = config.parse(["server=198.51.100.1", "cache-size=20"], conf_text=text)
    assert c.servers == [(None, "198.51.100.1", 53)]  # the file's list replaced
    assert c.cache_size == 20 and c.mode == "resolver"
    assert c.locals == [W("lan.")]  # not given at boot: the file's stays
    c = config.parse(["server=198.51.100.1", "server=198.51.100.2"], conf_text=text)
    assert [s[1] for s in c.servers] == ["198.51.100.1", "198.51.100.2"]


def test_kernel_words_not_ignored_in_a_file():
    c = config.parse([], conf_text="console=ttyAMA0\n")
    assert keys(c) == ["console"]


def test_client_settings():
    c = config.parse(["mode=client", "domain=www.example.com", "server=10.0.2.2", "type=aaaa",
                      "port=5300"])
    assert c.problems == []
    assert (c.domain, c.qtype, c.servers[0][1], c.port) == ("www.example.com", "AAAA",
                                                            "10.0.2.2", 5300)
    c = config.parse(["domain=bad..name", "type=NOTATYPE"])
    assert keys(c) == ["domain", "type"]


def test_builtin_config_file_parses_cleanly():
    from dnsbox import siteconf

    c = config.parse([], conf_text=siteconf.TEXT)
    assert c.problems == []
