"""Settings that never vanish: the card's boot-variable file read line by line (repeated keys,
unknown keys, flags), server= typos and bad server= words, and what each problem's console line
says."""
from dnsbox import config

CARD = (
    "# dnsbox.txt as an operator edits it\r\n"
    "mode=resolver\r\n"
    "server=10.0.2.2#5460\r\n"
    "server=10.0.2.3\r\n"
    "foo=bar\r\n"
    "log-async\r\n"
    "domain-needed\r\n"
    "gw=\r\n"
    "\r\n"
    "extra=server=/corp.example/10.0.2.4 port=5300\r\n"
)


def texts(cfg):
    return [p.text() for p in cfg.problems]


def test_every_line_of_the_card_file_is_used_or_named():
    c = config.parse([], boot_text=CARD)
    assert c.mode == "resolver" and c.port == 5300 and c.domain_needed
    assert [s[1:] for s in c.servers] == [("10.0.2.2", 5460), ("10.0.2.3", 53), ("10.0.2.4", 53)]
    assert c.gw is None  # an empty value: the default
    assert texts(c) == [
        "dnsbox.txt line 5: foo=bar: unknown option (ignored)",
        "dnsbox.txt line 6: log-async: dnsmasq option not implemented by dnsbox (ignored)",
    ]
    assert c.fatal() == []


def test_card_file_overrides_the_config_file_lists():
    conf = "server=192.0.2.1\nserver=192.0.2.2\nport=99\n"
    c = config.parse([], conf_text=conf, boot_text="server=10.0.0.1\nserver=10.0.0.2\n")
    assert [s[1] for s in c.servers] == ["10.0.0.1", "10.0.0.2"]
    assert c.port == 99


def test_bad_lines_are_named_with_their_file_and_line():
    c = config.parse([], boot_text="ip=999.1.1.1\nport=abc\nhostname=a b\n", boot_name="card")
    assert texts(c) == [
        "card line 1: ip=999.1.1.1: not an IPv4 address or 'dhcp'",
        "card line 2: port=abc: not a port number; using the default",
        "card line 3: hostname=a b: only letters, digits, '-', '.' and '_' are allowed; using "
        "the default",
    ]
    assert [p.key for p in c.fatal()] == ["ip"]


def test_config_file_named_in_messages():
    c = config.parse([], conf_text="# x\nbogus=1\n", conf_name="dnsbox.conf")
    assert texts(c) == ["dnsbox.conf line 2: bogus=1: unknown option (ignored)"]
    c = config.parse([], conf_text="bogus=1\n")
    assert texts(c) == ["config line 1: bogus=1: unknown option (ignored)"]


def test_file_line_limit():
    c = config.parse([], boot_text="port=5300\n" * (config.MAX_LINES + 5))
    assert c.port == 5300
    assert [p.key for p in c.problems] == ["(dnsbox.txt)"]
    assert "more than %d lines" % config.MAX_LINES in c.problems[0].text()


def test_unknown_words_say_one_thing():
    for word in ("colour=blue", "justaword", "dhcp-boot=x"):
        line = config.parse([word]).problems[0].text()
        assert "(ignored)" in line and "default" not in line, line


def test_server_ip_colon_port_is_named_as_a_typo():
    c = config.parse(["mode=resolver", "server=8.8.8.8:53", "server=10.0.0.1"])
    p = c.problems[0]
    assert p.key == "server" and not p.fatal
    assert "write server=8.8.8.8#53" in p.text()
    assert "forwarding to the server= that could be read" in p.text()
    assert c.upstreams() == [(None, "10.0.0.1", 53)]
    d = config.parse(["mode=resolver", "server=/corp/10.1.1.1:5300", "server=10.0.0.1"])
    assert "write server=/corp/10.1.1.1#5300" in d.problems[0].text()


def test_unreadable_server_never_turns_forwarding_into_recursion():
    for bad in ("server=8.8.8.8:53", "server=8.8.8", "server=/corp/"):
        c = config.parse(["mode=resolver", bad])
        if bad == "server=/corp/":  # a local domain, not an upstream: recursion stays
            assert c.fatal() == []
            continue
        assert [p.key for p in c.fatal()] == ["server"], bad
        assert "halted rather than recurse" in c.fatal()[0].text()
    # The same word in the file, then a good boot variable: forwarding to that one.
    c = config.parse(["server=10.0.0.1"], conf_text="mode=resolver\nserver=1.2.3.4:53\n")
    assert c.fatal() == [] and c.upstreams() == [(None, "10.0.0.1", 53)]
    # No server= at all: recursion from the root hints, as before (nothing reported).
    assert config.parse(["mode=resolver"]).problems == []


def test_server_in_auth_mode_is_reported_as_ignored():
    c = config.parse(["server=10.0.0.1"])
    assert texts(c) == ["boot variable server: ignored in mode=auth (used in mode=resolver and "
                        "mode=client)"]
    assert config.parse(["mode=client", "server=10.0.0.1"]).problems == []
    assert config.parse(["mode=resolver", "server=10.0.0.1"]).problems == []
