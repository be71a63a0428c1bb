"""The resolver under a flood of new names, at the board's heap (board/qemu-arm/board.env
HEAPSIZE), in both modes: recursing from the mini-Internet's root (tools/testnet.py), and
forwarding to its example.test. server. The frozen host firmware, started and stopped by PID.

While one client (127.0.0.1) asks FLOOD_NAMES new names under a wildcard with WINDOW queries
outstanding (tools/flood.py), another (127.0.0.2) asks a cached name, a name of the compiled-in
zone and a cached negative answer every 0.1 s: every probe must be answered correctly within a
second, during the flood and after it; a new name must resolve within a second after it; every
flood query gets an answer (NOERROR, or SERVFAIL past the client's share); the firmware logs no
failure of its serving loop. Also: one client with many dead names in flight does not starve
another client's new names (forwarding, a fake upstream that never answers them).
"""
import os
import socket
import subprocess
import sys
import threading
import time

import dns.message
import dns.query
import dns.rcode
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import cardrun  # noqa: E402
import flood  # noqa: E402
import testnet  # noqa: E402
from ports import free_port  # noqa: E402
from tests.host.fakeupstream import FakeUpstream  # noqa: E402

BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
BINARY = os.path.join(BUILD, "host", "dnsbox")
FLOOD_NAMES = 100000
WINDOW = 200  # flood queries outstanding (the measurement)
RUN_MAX_S = 300  # each firmware started here exits by itself after this long
READY_S = 10
DEAD_NAMES = 150  # the starving client's names in flight


def board_heap():
    return cardrun.board_env()["HEAPSIZE"]


class Firmware:
    def __init__(self, words, heap=None):
        assert os.path.isfile(BINARY), "%s missing: run ./build.sh first" % BINARY
        self.port = free_port()
        env = dict(os.environ)
        env.pop("MICROPYPATH", None)
        self.proc = subprocess.Popen(
            [BINARY, "-X", "heapsize=" + (heap or board_heap()), "-m", "dnsbox.main", "--host",
             "--max-s=%d" % RUN_MAX_S, "port=%d" % self.port, "mode=resolver", "dnssec=no"]
            + list(words),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()
        end = time.time() + READY_S
        while time.time() < end and not any("dnsbox ready" in x for x in self.lines):
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not any("dnsbox ready" in x for x in self.lines):
            self.stop()
            raise AssertionError("firmware did not start:\n" + "\n".join(self.lines))

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def ask(self, name, rdtype="A", source="127.0.0.2", timeout=2.0):
        q = dns.message.make_query(name, rdtype)
        return dns.query.udp(q, "127.0.0.1", port=self.port, timeout=timeout, source=source)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def net():
    n = testnet.TestNet().start()
    yield n
    n.stop()


PROBES = [("www.example.test.", 1, 0), ("www.example.com.", 1, 0), ("nx.example.test.", 1, 3)]


@pytest.mark.parametrize("mode", ["recursing", "forwarding"])
def test_flood_of_new_names_leaves_every_probe_answered(net, mode):
    words = ["hints=" + net.hints, "do-not-query-localhost=no"] if mode == "recursing" else ["server=%s105" % net.prefix]
    fw = Firmware(words)
    try:
        for name, _t, rc in PROBES:  # cached before the flood (the zone name is ours)
            assert fw.ask(name).rcode() == rc
        fig = flood.flood(fw.port, "wild.example.test.", FLOOD_NAMES, WINDOW, PROBES)
        report = flood.report(fig)
        assert fig["lost"] == 0, report
        assert set(fig["rcodes"]) <= {dns.rcode.NOERROR, dns.rcode.SERVFAIL}, report
        assert fig["rcodes"].get(dns.rcode.NOERROR, 0) > 1000, report
        assert fig["probes_asked"] > 50 and fig["probes_late"] == 0, report
        assert fig["probes_wrong"] == 0 and fig["probes_ok"] == fig["probes_asked"], report
        assert 0 <= fig["fresh_s"] < 1.0, report
        failed = [x for x in fw.lines if "failed" in x or "MemoryError" in x]
        assert not failed, "\n".join(failed)
        print(mode, report)
    finally:
        fw.stop()


def test_a_small_heap_sheds_work_but_keeps_answering(net):
    """Half a megabyte: MemoryErrors happen; the loop survives them and keeps answering."""
    fw = Firmware(["hints=" + net.hints, "do-not-query-localhost=no"], heap="640K")
    try:
        for name, _t, rc in PROBES:
            assert fw.ask(name).rcode() == rc
        fig = flood.flood(fw.port, "wild.example.test.", 20000, WINDOW, PROBES)
        report = flood.report(fig)
        assert fig["lost"] == 0 and fig["probes_late"] == 0, report
        assert fig["probes_ok"] == fig["probes_asked"] > 20, report
        assert 0 <= fig["fresh_s"] < 1.0, report
        assert fw.ask("www.example.com.").rcode() == 0
    finally:
        fw.stop()


def test_one_client_with_dead_names_does_not_starve_another():
    up = FakeUpstream()
    fw = Firmware(["server=127.0.0.1#%d" % up.port])
    try:
        dead = []
        for i in range(DEAD_NAMES):  # never answered upstream: in flight for seconds
            q = dns.message.make_query("drop-%d.dead.test." % i, "A")
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.sendto(q.to_wire(), ("127.0.0.1", fw.port))
            dead.append(s)
        time.sleep(0.2)
        ok = 0
        for i in range(100):  # another client's new names meanwhile
            r = fw.ask("ok-%d.live.test." % i, timeout=3.0)
            ok += r.rcode() == dns.rcode.NOERROR
        assert ok == 100, "%d of 100 of the other client's names resolved" % ok
        shed = 0
        for s in dead:  # the first client got its share, the rest SERVFAIL at once
            s.settimeout(10)
            shed += dns.message.from_wire(s.recv(4096)).rcode() == dns.rcode.SERVFAIL
            s.close()
        assert shed == DEAD_NAMES
    finally:
        fw.stop()
        up.stop()
