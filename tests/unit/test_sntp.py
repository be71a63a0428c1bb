"""SNTP (RFC 4330) for the appliance's wall clock: the request, the answers taken and refused,
and the offset kept (the system clock is not set)."""
import struct

from dnsbox import sntp
from tests.unit.helpers import raises

NONCE = b"\x01\x02\x03\x04\x05\x06\x07\x08"


def answer(secs, frac=0, mode=4, stratum=2, li=0, origin=NONCE):
    return (bytes(((li << 6) | (4 << 3) | mode, stratum)) + bytes(22) + origin + bytes(8) +
            struct.pack(">II", secs + sntp.NTP_EPOCH, frac))


def test_request():
    r = sntp.request(NONCE)
    assert len(r) == 48 and r[0] == 0x23 and r[40:] == NONCE  # version 4, mode 3


def test_parse_and_offset():
    assert sntp.parse(answer(1764000000, 1 << 31), NONCE) == 1764000000.5
    import time

    sntp.set_offset(1764000000.0 + 3600, 1764000000.0, 1764000000.2)  # an hour ahead
    try:
        assert sntp.synced() and sntp._offset[0] == 3600
        assert abs(sntp.wall() - int(time.time()) - 3600) <= 1
    finally:
        sntp._offset[0], sntp._offset[1] = 0, False


def test_answers_refused():
    for data, why in ((answer(5, mode=3), "synchronised"), (answer(5, stratum=0), "synchronised"),
                      (answer(5, stratum=16), "synchronised"), (answer(5, li=3), "synchronised"),
                      (answer(5, origin=bytes(8)), "another request"),
                      (answer(-sntp.NTP_EPOCH), "no transmit time"), (answer(5)[:47], "short")):
        assert why in str(raises(ValueError, sntp.parse, data, NONCE)), why
