"""server=IP#PORT#NAME[#sha256/PIN]: the DNS-over-TLS fields of dnsbox.config.resolving."""
from dnsbox.config.resolving import tls_fields
from tests.unit.helpers import raises

PIN = "KiKpH9dKybn0ssH7kvEQlpsAjYowThNELKz6FZnSEGk="


def test_name_pin_either_order():
    assert tls_fields(["Dns.Example."]) == ("dns.example", None)
    n, p = tls_fields(["sha256/" + PIN, "dns.example"])
    assert n == "dns.example" and len(p) == 32
    assert tls_fields(["sha256/" + PIN])[0] is None


def test_bad_fields():
    for bad in (["a", "b"], ["sha256/AAAA"], ["sha256/" + PIN, "sha256/" + PIN], [""],
                ["a", "b", "c"]):
        raises(ValueError, tls_fields, bad)


def test_tls_ca_setting():
    from dnsbox import config

    c = config.parse(["mode=resolver", "tls-ca=ca/private.pem"], True, "")
    assert c.tls_ca == "ca/private.pem" and not c.problems
    assert config.parse(["mode=resolver"], True, "").tls_ca is None
    c = config.parse(["mode=resolver", "tls-ca=certs/"], True, "")
    assert c.tls_ca is None and [p.key for p in c.problems] == ["tls-ca"]
