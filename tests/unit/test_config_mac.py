"""Boot variable mac= (a stable Ethernet address for the Allwinner boards' network)."""
from dnsbox import config


def keys(cfg):
    return [p.key for p in cfg.problems]


def test_mac_default_is_none():
    assert config.parse([]).mac is None


def test_mac_is_stored_lower_case():
    c = config.parse(["mac=02:00:5E:10:AB:cd"])
    assert c.mac == "02:00:5e:10:ab:cd"
    assert c.problems == []


def test_mac_later_word_wins():
    assert config.parse(["mac=02:00:00:00:00:01", "mac=02:00:00:00:00:02"]).mac == (
        "02:00:00:00:00:02")


def test_bad_macs_are_reported_by_name_and_not_fatal():
    for bad in ("02:00:00:00:00", "02:00:00:00:00:01:02", "02-00-00-00-00-01", "0g:00:00:00:00:01",
                "2:00:00:00:00:01", "020:00:00:00:00:1", "01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff",
                "00:00:00:00:00:00", "02:00:00:00:00:0 "):
        c = config.parse(["mac=" + bad])
        assert c.mac is None, bad
        assert keys(c) == ["mac"], bad
        assert c.fatal() == [], bad


def test_mac_reasons_name_the_problem():
    assert "multicast" in config.parse(["mac=03:00:00:00:00:01"]).problems[0].reason
    assert "all-zero" in config.parse(["mac=00:00:00:00:00:00"]).problems[0].reason
    assert "six hex pairs" in str(config.parse(["mac=xyz"]).problems[0])


def test_mac_from_cmdline_next_to_kernel_words():
    words = config.split_cmdline("console=ttyS0,115200 panic=10 ip=dhcp mac=02:00:00:00:00:07\n")
    c = config.parse(words)
    assert (c.mac, c.ip, c.problems) == ("02:00:00:00:00:07", "dhcp", [])
