"""dnsbox.net.cert: the SPKI pin and the validity dates of an upstream's certificate, and the
clock rules of check_dates."""
from dnsbox.net import cert
from tests.unit.helpers import raises, unhex

# A self-signed EC P-256 certificate made once with python `cryptography` (a fixed key): CN "t",
# notBefore 2024-01-01 00:00:00Z (UTCTime), notAfter 2060-06-30 12:00:00Z (GeneralizedTime: 2050
# and later, RFC 5280 4.1.2.5). Its pin and dates come from `cryptography` too.
CERT = unhex("""
308201073081ada003020102020101300a06082a8648ce3d040302300c310a300806035504030c01743020170d
3234303130313030303030305a180f32303630303633303132303030305a300c310a300806035504030c01743059
301306072a8648ce3d020106082a8648ce3d030107034200049fad84aeae08bbef7f010014d82cef6a09de2b0cf8
71b5ce0c4f1d13a59a593407cb45769f1070e2c2470fe5b1bfe63133c0b0cdc64ea4bf3791a8ec2a07fd4f300a06
082a8648ce3d040302034900304602210085ea9cf52ab618df494e549e1583650d638e7884ae53b5757139bb97c5
4b22d1022100dd74b616f09ad630408fd73149c30bdb64dcff62f02bd71fd11dd2915337d29d
""")
PIN = "KiKpH9dKybn0ssH7kvEQlpsAjYowThNELKz6FZnSEGk="
NOT_BEFORE = 1704067200
NOT_AFTER = 2855822400
BUILT = 1735689600  # 2025-01-01: a firmware build time (the clock floor)


def test_pin():
    assert cert.spki_pin(CERT) == PIN
    assert cert.spki_pin(memoryview(CERT)) == PIN


def test_validity_both_time_forms():
    assert cert.validity(CERT) == (NOT_BEFORE, NOT_AFTER)


def test_dates_with_a_set_clock():
    assert cert.check_dates(CERT, NOT_BEFORE + 10, True, BUILT) is None
    assert cert.check_dates(CERT, NOT_BEFORE - 1, True, 0) == "certificate not yet valid"
    assert cert.check_dates(CERT, NOT_AFTER + 1, True, BUILT) == "certificate expired"
    # not synced, but the clock reads after the build: it is believed (the host build)
    assert cert.check_dates(CERT, NOT_AFTER + 1, False, BUILT) == "certificate expired"


def test_dates_before_ntp():
    # a board near 1970 before NTP: the date is unknown; only "expired before the build" counts
    assert cert.check_dates(CERT, 100, False, BUILT) is None
    r = cert.check_dates(CERT, 100, False, NOT_AFTER + 1)
    assert r == "certificate expired (before the firmware was built)"


def test_malformed():
    for bad in (b"", b"\x30", CERT[:40], b"\x31\x03\x30\x01\x00", b"\x30\x84\xff\xff\xff\xff",
                b"\x30\x02\x02\x00"):
        raises(ValueError, cert.spki_pin, bad)
        raises(ValueError, cert.validity, bad)
    raises(ValueError, cert.spki_pin, bytes(cert.CERT_MAX + 1))
    # the notBefore time with a letter in it
    i = CERT.index(b"240101")
    raises(ValueError, cert.validity, CERT[:i] + b"2401x1" + CERT[i + 6 :])


def _pem(der):
    import binascii

    b64 = binascii.b2a_base64(der).decode().strip()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def test_pem_bundle():
    text = "# a comment\n" + _pem(CERT) + "junk between\n" + _pem(CERT)
    assert cert.pem_ders(text) == [CERT, CERT]
    assert cert.pem_ders("no certificates here") == []


def test_pem_bundle_broken():
    assert "no END" in str(raises(ValueError, cert.pem_ders, _pem(CERT)[:-30]))
    bad = _pem(CERT) + _pem(b"\x30\x03abc")
    assert "certificate 2" in str(raises(ValueError, cert.pem_ders, bad))
    assert "larger than" in str(raises(ValueError, cert.pem_ders, " " * (cert.PEM_MAX + 1)))
    many = _pem(CERT) * (cert.PEM_CERTS_MAX + 1)  # about 84 KB: within PEM_MAX
    assert "more than" in str(raises(ValueError, cert.pem_ders, many))
