"""System test: boot the A10 Cubieboard card image (the test-only variant of the Cubieboard 2
card, same layout) in QEMU >= 8 `-M cubieboard` from the SD card alone.

SPL (from 8 KiB into the card) -> u-boot -> uboot.env -> boot.scr -> dnsbox.txt -> kernel ->
firmware (which reads dnsbox.txt itself from the card's FAT partition, mounted read-only by
/init) -> DNS answers through the emulated EMAC, compared with the zone file as dnspython reads
it. Then dnsbox.txt is changed on the image with mtools: a bad ip= halts the appliance with a
HALTED: line; fixed (with a new port=, a static address with a prefix-length netmask, mac=, CRLF
line ends, a bad hostname= and an unknown key that are only reported by line), the next boot
serves on the new port with the new MAC. qemu is started and stopped by PID
(tools/qemu_run.Guest); every wait is bounded.
"""
import os
import shutil
import sys
import time

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import card_image  # noqa: E402
import card_qemu  # noqa: E402
import qemu_run  # noqa: E402
from ports import free_port  # noqa: E402

BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
IMAGE = os.path.join(BUILD, "cubieboard-a10", "dnsbox-cubieboard-a10.img")
BOARD = card_image.Board(os.path.join(ROOT, "board", "cubieboard2", "a10"))
ZONE_FILE = os.path.join(ROOT, "zones", "example.com.zone")
ORIGIN = dns.name.from_text("example.com.")

BOOT_TIMEOUT_S = 75  # power-on to "dnsbox ready" takes ~12-16 s under TCG; generous when loaded
QUERY_TIMEOUT_S = 3.0
POLL_S = 0.2  # console polling interval
NEW_PORT = 5300  # the port= written into dnsbox.txt for the second boot
NEW_MAC = "02:00:00:00:a1:0e"
A20_UBOOT_TIMEOUT_S = 30  # the A20 u-boot prints its model ~1 s after power-on


def qemu_binary():
    path = card_qemu.qemu_pointer(BUILD)
    assert os.path.isfile(path), "%s missing: ./build.sh provides QEMU >= 8" % path
    binary = open(path).read().strip()
    v = card_qemu.qemu_version(binary)
    assert v and v[0] >= int(BOARD.env["QEMU_MIN_VERSION"]), "%s is QEMU %r" % (binary, v)
    return binary


def boot(img, tmp_path, tag, guest_ports):
    """Start qemu on img; returns (guest, {guest port: host port})."""
    fwd = {g: free_port() for g in guest_ports}
    forwards = [("udp", h, g) for g, h in fwd.items()] + [("tcp", h, g) for g, h in fwd.items()]
    cmd = card_qemu.qemu_command(qemu_binary(), img, BOARD.env["QEMU_MACHINE"],
                                  BOARD.env["QEMU_NIC"], forwards)
    guest = qemu_run.Guest(cmd, log_path=str(tmp_path / ("console-%s.log" % tag)))
    return guest, fwd


def expected(zone, name, rdtype):
    node = zone.nodes[dns.name.from_text(name)]
    rds = node.get_rdataset(dns.rdataclass.IN, rdtype)
    return dns.rrset.from_rdata_list(dns.name.from_text(name), rds.ttl, rds)


def check_answers(port, zone):
    for name, rdtype in (("www.example.com.", dns.rdatatype.A),
                         ("example.com.", dns.rdatatype.SOA),
                         ("mail.example.com.", dns.rdatatype.A)):
        q = dns.message.make_query(name, rdtype)
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=QUERY_TIMEOUT_S)
        assert r.rcode() == dns.rcode.NOERROR
        assert r.answer == [expected(zone, name, rdtype)], r.to_text()
    q = dns.message.make_query("www.example.com.", dns.rdatatype.A)
    r = dns.query.tcp(q, "127.0.0.1", port=port, timeout=QUERY_TIMEOUT_S)
    assert r.answer == [expected(zone, "www.example.com.", dns.rdatatype.A)]


def wait_any(guest, texts, timeout):
    """The first console line holding one of texts, or None (timeout or qemu gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        console = guest.console()
        for line in console.split("\n"):
            if any(t in line for t in texts):
                return line
        if guest.proc.poll() is not None:
            return None
        time.sleep(POLL_S)
    return None


def wait_ready(guest):
    """The ready line; fails at once if the firmware halts or exits instead."""
    line = wait_any(guest, ("dnsbox ready", "HALTED:", "init: firmware exited"), BOOT_TIMEOUT_S)
    if line is None or "dnsbox ready" not in line:
        console = guest.console()
        guest.stop()
        pytest.fail("no 'dnsbox ready' within %d s (%s); console:\n%s" % (
            BOOT_TIMEOUT_S, line or "timeout", console[-4000:]))
    return line


def in_order(console, marks):
    pos = 0
    for m in marks:
        i = console.find(m, pos)
        assert i >= 0, "console lacks %r after position %d" % (m, pos)
        pos = i + len(m)


def test_a10_card_boots_and_follows_its_text_file(tmp_path):
    zone = dns.zone.from_file(ZONE_FILE, origin=ORIGIN, relativize=False)
    img = str(tmp_path / "card.img")
    shutil.copyfile(IMAGE, img)

    # Boot 1: the card as built (dnsbox.txt as shipped: DHCP, port 53).
    guest, fwd = boot(img, tmp_path, "1", [53])
    try:
        ready = wait_ready(guest)
        assert "port 53 " in ready
        check_answers(fwd[53], zone)
        console = guest.console()
    finally:
        guest.stop()
    in_order(console, ["U-Boot SPL", "Trying to boot from MMC1", "U-Boot 20",
                       "Loading Environment from FAT... OK", "dnsbox: boot script",
                       "dnsbox: kernel command line: console=ttyS0,115200 panic=10 mode=auth "
                       "ip=dhcp",
                       "Starting kernel", "Run /init",
                       "dnsbox: card: boot variables from /card/dnsbox.txt",
                       "dnsbox: dhcp lease", "dnsbox ready"])
    assert "init: card partition not mounted" not in console
    assert "Hit any key to stop autoboot:  0" in console  # no boot delay
    assert "usb" not in console.split("Starting kernel")[0].lower()  # no USB scan
    assert "bad CRC" not in console  # our uboot.env, not u-boot's default environment
    assert "MAC set to" not in console

    # Boot 2: a bad address written into the text file (CRLF line ends, as a Windows editor
    # might save it): the appliance stops with a HALTED: line naming it and does not serve.
    text = card_image.read_card_file(img, "dnsbox.txt").decode()
    card_image.write_card_file(img, "dnsbox.txt", text.replace("\n", "\r\n").encode())
    # (card_set refuses a bad value: written as an editor would)
    text = card_image.read_card_file(img, "dnsbox.txt").decode()
    card_image.write_card_file(img, "dnsbox.txt",
                               card_image.set_bootvar(text, "ip", "10.0.2.300").encode())
    guest, fwd = boot(img, tmp_path, "2", [53])
    try:
        halted = wait_any(guest, ("HALTED:", "dnsbox ready", "init: firmware exited"),
                          BOOT_TIMEOUT_S)
        console = guest.console()
    finally:
        guest.stop()
    assert halted is not None and "HALTED:" in halted and "ip" in halted, console[-3000:]
    assert "ip=10.0.2.300: not an IPv4 address" in console and "dnsbox.txt line " in console
    assert "dnsbox ready" not in console

    # Boot 3, the recovery: the file fixed (and more values changed); the appliance follows it.
    card_image.card_set(img, ["ip=10.0.2.15", "port=%d" % NEW_PORT, "netmask=24", "gw=10.0.2.2",
                              "mac=" + NEW_MAC.upper()])
    text = card_image.read_card_file(img, "dnsbox.txt").decode()
    text = card_image.set_bootvar(text, "hostname", "bad!name") + "foo=bar\r\n"
    card_image.write_card_file(img, "dnsbox.txt", text.encode())
    guest, fwd = boot(img, tmp_path, "3", [NEW_PORT, 53])
    try:
        ready = wait_ready(guest)
        assert "port %d " % NEW_PORT in ready
        check_answers(fwd[NEW_PORT], zone)
        # Nothing listens on the old port any more.
        with pytest.raises(dns.exception.Timeout):
            dns.query.udp(dns.message.make_query("www.example.com.", "A"), "127.0.0.1",
                          port=fwd[53], timeout=1.5)
        console = guest.console()
    finally:
        guest.stop()
    assert ("ip=10.0.2.15 netmask=24 port=%d" % NEW_PORT) in console  # the boot script's copy
    assert "network: eth0 MAC set to %s" % NEW_MAC in console
    assert "network: eth0 up with 10.0.2.15" in console
    # A bad value that has a safe default, and an unknown key, are reported by name and line;
    # the rest was accepted.
    reported = [ln for ln in console.split("\n") if "dnsbox.txt line" in ln]
    assert len(reported) == 2, reported
    assert "hostname=bad!name" in reported[0] and "foo=bar: unknown option (ignored)" in (
        reported[1]), reported


def test_cubieboard2_card_starts_its_spl_and_uboot(tmp_path):
    """The real product's card (A20) cannot boot in any QEMU, but QEMU's A10 boot ROM reads the
    A20 SPL from 8 KiB into the card, the SPL loads u-boot proper from the card, and u-boot names
    the A20 and the Cubieboard 2 before it stops on hardware QEMU lacks."""
    img = str(tmp_path / "a20.img")
    shutil.copyfile(os.path.join(BUILD, "cubieboard2", "dnsbox-cubieboard2.img"), img)
    cmd = card_qemu.qemu_command(qemu_binary(), img, BOARD.env["QEMU_MACHINE"],
                                 BOARD.env["QEMU_NIC"])
    guest = qemu_run.Guest(cmd, log_path=str(tmp_path / "console-a20.log"))
    try:
        line = guest.wait_for("Model:", A20_UBOOT_TIMEOUT_S)
        console = guest.console()
    finally:
        guest.stop()
    assert line is not None, console
    in_order(console, ["U-Boot SPL", "Trying to boot from MMC1", "U-Boot 20",
                       "CPU:   Allwinner A20 (SUN7I)", "Model: Cubietech Cubieboard2"])
