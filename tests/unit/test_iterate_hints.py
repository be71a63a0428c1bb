"""Root hints: hints=IP[#port],... (dnsbox.config.values.hints) and the compiled-in default."""

from dnsbox.config import values
from dnsbox.resolver import hints
from dnsbox.resolver.iterate import Env
from dnsbox.resolver.servers import Servers
from tests.unit.helpers import raises


def test_parse_addresses_and_ports():
    h = values.hints("127.0.0.101#5300, 10.0.0.1")
    assert h == [("hint1.root-hints.invalid.", "127.0.0.101", 5300),
                 ("hint2.root-hints.invalid.", "10.0.0.1", 53)]


def test_parse_errors_name_the_item():
    for bad, word in (("1.2.3", "1.2.3"), ("10.0.0.1#0", "#0"), ("10.0.0.1#x", "#x"),
                      ("300.0.0.1", "300"), ("", "no address"), ("::1::2", "::1::2"),
                      ("2001:db8::1#70000", "#70000")):
        e = raises(ValueError, values.hints, bad)
        assert word in str(e), (bad, str(e))
    e = raises(ValueError, values.hints, ",".join(["10.0.0.1"] * (values.MAX_HINTS + 1)))
    assert "more than" in str(e)


def test_env_root_from_hints_keeps_ports():
    e = Env(values.hints("127.0.0.101#5300,127.0.0.102"), lambda n: bytes(n), Servers())
    root = e.deleg.root
    assert root.ips() == ["127.0.0.101", "127.0.0.102"] and root.expires == -1
    assert e.port_of("127.0.0.101") == 5300 and e.port_of("127.0.0.102") == 53


def test_default_is_a_list():
    h = hints.default()  # [] when no roothints module is frozen in / on the path
    assert isinstance(h, list)
    for n, ip, port in h:
        assert n.endswith(".") and (ip.count(".") == 3 or ":" in ip) and port == 53
    # the IPv6 ones (AAAA hints) are kept; only the families the box has are asked
    assert not h or any(":" in ip for _n, ip, _p in h) == hasattr(__import__("roothints"),
                                                                    "HINTS6")


def test_config_hints_variable_and_line():
    from dnsbox import config

    cfg = config.parse(["mode=resolver", "hints=127.0.0.101#5300"], True)
    assert cfg.hints == [("hint1.root-hints.invalid.", "127.0.0.101", 5300)] and not cfg.problems
    cfg = config.parse(["hints=1.2.3"], True)
    assert cfg.hints is None
    assert [(p.key, p.fatal) for p in cfg.problems] == [("hints", False)]
    assert "not an IPv4 or IPv6 address" in str(cfg.problems[0])
    cfg = config.parse([], True, "hints=10.0.0.1\n")
    assert cfg.hints == [("hint1.root-hints.invalid.", "10.0.0.1", 53)]
    cfg = config.parse(["hints=10.0.0.2"], True, "hints=10.0.0.1\n")  # boot variables win
    assert cfg.hints[0][1] == "10.0.0.2"
