"""Slow and idle TCP floods against the firmware (host build, board heap, auth mode) with TCP
service measured meanwhile (tools/tcpflood.py). Reference, same kit, by hand: NSD answers every
probe through both floods, Unbound all but a few (figures in the closing note of the abuse
issue); before the connection limits dnsbox answered 0-7 of 80 during the drip flood."""
import resource

import pytest

import tcpflood

CONNS = 200  # the slow-loris: 200 connections, a byte every few seconds
PROBES = 20
SECONDS = 6.0


@pytest.fixture
def fw(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 4 * CONNS:
        pytest.skip("needs %d descriptors, the hard limit is %d" % (4 * CONNS, hard))
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port = tcpflood.free_port()
    p = tcpflood.start("dnsbox", port, str(tmp_path))
    yield port
    p.terminate()
    p.wait(10)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_slow_drip_flood_does_not_block_tcp(fw):
    ok = tcpflood.measure(fw, "drip", CONNS, SECONDS, PROBES, 1.0)
    assert ok >= PROBES - 1, "%d of %d TCP queries answered during the drip flood" % (
        ok, PROBES)


def test_idle_flood_does_not_block_tcp(fw):
    ok = tcpflood.measure(fw, "idle", 2 * CONNS, SECONDS, PROBES, 1.0)
    assert ok >= PROBES - 1, "%d of %d TCP queries answered during the idle flood" % (
        ok, PROBES)
