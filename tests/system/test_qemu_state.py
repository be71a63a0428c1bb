"""System test: the qemu guest's state disk (board/qemu-arm: a virtio ext4 image that /init
mounts on /state and gives the firmware as --state=/state). UPDATEs sent over TCP through the
forwarded port are in the zone after qemu is killed (SIGKILL by PID: a power cut) and booted
again with the same disk; without a disk the guest says so and keeps everything in memory."""
import os
import shutil
import tempfile

import dns.query
import dns.rcode
import dns.update
import pytest

from tests.system.test_qemu_boot import BOARD_DIR, ask, boot, qemu_run

ZONE = "dyn.test."
UPDATES = 12  # UPDATEs acknowledged before the power cut
QUERY_TIMEOUT_S = 5.0  # one UPDATE or query (TCG guest; the journal's fsync included)
WORDS = ["update-zone=" + ZONE, "allow-update=10.0.2.2"]  # 10.0.2.2: the host, seen from qemu


@pytest.fixture
def disk():
    d = tempfile.mkdtemp(prefix="dnsbox-disk-")
    path = os.path.join(d, "state.img")
    assert qemu_run.make_disk(BOARD_DIR, path)
    yield path
    shutil.rmtree(d)


def kill(guest):
    """SIGKILL qemu by its PID: no shutdown, no sync of the guest."""
    os.kill(guest.pid, 9)
    guest.proc.wait(10)
    guest.stop()


def add(port, i):
    u = dns.update.UpdateMessage(ZONE)
    u.add("h%d.%s" % (i, ZONE), 300, "A", "192.0.2.%d" % (i + 1))
    u.add("h%d.%s" % (i, ZONE), 300, "TXT", '"update %d"' % i)
    r = dns.query.tcp(u, "127.0.0.1", port=port, timeout=QUERY_TIMEOUT_S)
    return dns.rcode.to_text(r.rcode())


def present(port, i):
    m = ask(port, "h%d.%s" % (i, ZONE), "A", tcp=True)
    return [rd.address for rr in m.answer for rd in rr] == ["192.0.2.%d" % (i + 1)]


def test_updates_survive_power_cut(disk):
    guest, port = boot(WORDS, "qemu-state-1.log", disk=disk)
    try:
        assert guest.wait_for("init: state disk /dev/vda mounted read-write", 1), \
            guest.console()[-3000:]
        assert guest.wait_for("state: /state (journal", 1), guest.console()[-3000:]
        for i in range(UPDATES):
            assert add(port, i) == "NOERROR"
        serial = ask(port, ZONE, "SOA", tcp=True).answer[0][0].serial
    finally:
        kill(guest)
    guest, port = boot(WORDS, "qemu-state-2.log", disk=disk)
    try:
        assert guest.wait_for("changes replayed", 1) or guest.wait_for("replayed", 1), \
            guest.console()[-3000:]
        missing = [i for i in range(UPDATES) if not present(port, i)]
        assert not missing, "updates lost: %s\n%s" % (missing, guest.console()[-3000:])
        assert ask(port, ZONE, "SOA", tcp=True).answer[0][0].serial == serial
        assert add(port, UPDATES) == "NOERROR"  # and the zone goes on from there
    finally:
        kill(guest)


def test_no_disk_says_so():
    guest, port = boot(WORDS, "qemu-state-none.log")
    try:
        assert guest.wait_for("init: no state disk", 1), guest.console()[-3000:]
        assert guest.wait_for("state: none", 1), guest.console()[-3000:]
    finally:
        guest.stop()
