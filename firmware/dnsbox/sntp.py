"""The appliance's wall clock from an NTP server (SNTP, RFC 4330), for TSIG's time check: the
boards boot with a clock near 1970 and the firmware cannot set the system's, so it keeps its own
offset (wall() = time.time() + offset). Pure packet code here; the socket is dnsbox.net.ntp's
(one UDP socket in the serving loop, asking at start until answered, then every RESYNC_S).
"""
import struct
import time

from dnsbox.compat import const

NTP_EPOCH = const(2208988800)  # seconds from 1900 (NTP's era 0) to 1970
PACKET = const(48)
RETRY_S = const(2)  # wait before asking again while unanswered
RESYNC_S = const(3600)  # ask again this often once answered
_offset = [0, False]  # seconds added to time.time(); synchronised yet


def wall():
    """Seconds since 1970: the system's clock corrected by the last NTP answer."""
    return int(time.time()) + _offset[0]


def synced():
    return _offset[1]


def request(nonce):
    """A client request (version 4, mode 3) whose transmit time is the 8 bytes nonce (RFC 4330
    recommends a random one: the answer must echo it as its originate time)."""
    return b"\x23" + bytes(39) + nonce


def parse(data, nonce):
    """The server's transmit time (seconds since 1970, float) of an answer to request(nonce);
    ValueError when it is not one (wrong mode, unsynchronised server, another request's)."""
    if len(data) < PACKET:
        raise ValueError("short NTP packet")
    li, mode, stratum = data[0] >> 6, data[0] & 7, data[1]
    if mode != 4 or li == 3 or not 1 <= stratum <= 15:
        raise ValueError("not a synchronised server's answer")
    if data[24:32] != nonce:
        raise ValueError("an answer to another request")
    secs, frac = struct.unpack_from(">II", data, 40)
    if secs == 0:
        raise ValueError("no transmit time")
    return secs - NTP_EPOCH + frac / 4294967296.0


def set_offset(server_time, sent, received):
    """Take the server's time: it was server_time half-way between sent and received (local)."""
    _offset[0] = int(server_time - (sent + received) / 2.0 + 0.5)
    _offset[1] = True
