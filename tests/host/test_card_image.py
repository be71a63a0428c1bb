"""Structure of the SD-card images built by tools/card_image.py (./build.sh builds them).

Checked for the Cubieboard 2 image and its A10 test variant, by reading the image files
themselves: the MBR, the eGON SPL header and checksum at 8 KiB, the FAT contents (through
mtools), u-boot's environment, the boot script (decoded by `mkimage -l` and unpacked), the
boot-variable file, the device tree (parsed here) and the initramfs (unpacked here), against the
kernel package, Debian's u-boot-sunxi and `modprobe --show-depends`.
"""
import lzma
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "firmware"))
import card_image  # noqa: E402
from dnsbox import config  # noqa: E402

BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
DOCS = os.path.join(ROOT, "docs", "boot-variables.md")
EGON_STAMP = 0x5F0A6C39  # the checksum field's value while the eGON checksum is computed
CMD_TIMEOUT_S = 60

# What each board's image must be: (board dir, u-boot target, DTB, root compatible strings,
# model, the network driver module and the modules it needs).
BOARDS = {
    "cubieboard2": ("board/cubieboard2", "Cubieboard2", "sun7i-a20-cubieboard2.dtb",
                    ("cubietech,cubieboard2", "allwinner,sun7i-a20"), "Cubietech Cubieboard2",
                    ("dwmac-sunxi", "realtek")),
    "cubieboard-a10": ("board/cubieboard2/a10", "Cubieboard", "sun4i-a10-cubieboard.dtb",
                       ("cubietech,a10-cubieboard", "allwinner,sun4i-a10"),
                       "Cubietech Cubieboard", ("sun4i-emac", "mdio-sun4i")),
}


class Card:
    def __init__(self, name):
        self.name = name
        (self.board_rel, self.uboot_target, self.dtb, self.compatible, self.model,
         self.net_modules) = BOARDS[name]
        self.board = card_image.Board(os.path.join(ROOT, self.board_rel))
        self.img = os.path.join(BUILD, name, "dnsbox-%s.img" % name)
        if not os.path.isfile(self.img):
            pytest.fail("%s is missing: run ./build.sh first" % self.img)
        with open(self.img, "rb") as f:
            self.data = f.read()
        self.kroot = os.path.join(BUILD, "qemu-arm", "kroot")
        self.kver = os.listdir(os.path.join(self.kroot, "lib", "modules"))[0]

    def fat_file(self, name):
        return card_image.read_card_file(self.img, name)

    def board_file(self, key):
        return open(self.board.file(key), "rb").read()


@pytest.fixture(scope="module", params=sorted(BOARDS))
def card(request):
    return Card(request.param)


@pytest.fixture(scope="module")
def cb2():
    return Card("cubieboard2")


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=CMD_TIMEOUT_S, **kw)
    assert p.returncode == 0, "%s failed: %s" % (cmd, p.stdout.decode(errors="replace"))
    return p.stdout.decode(errors="replace")


def sbin(name):
    return card_image.sbin(name)


# ---------------------------------------------------------------- partition table


def test_size_is_a_power_of_two(card):
    n = len(card.data)
    assert n == card.board.image_mib << 20
    assert n & (n - 1) == 0


def test_mbr_has_a_bootable_fat_partition_at_1mib_and_the_state_partition(card):
    mbr = card.data[:512]
    assert mbr[510:512] == b"\x55\xaa"
    entries = [mbr[446 + 16 * i: 462 + 16 * i] for i in range(4)]
    boot, ptype = entries[0][0], entries[0][4]
    start, count = struct.unpack("<II", entries[0][8:16])
    assert boot == 0x80
    assert ptype == 0x0E  # FAT16, LBA
    assert start == 2048
    # the state partition (Linux, ext4) takes the end of the card, the FAT the rest
    s_start, s_count = struct.unpack("<II", entries[1][8:16])
    assert entries[1][0] == 0 and entries[1][4] == 0x83
    assert start + count == s_start and s_start + s_count == len(card.data) // 512
    assert s_count * 512 == card.board.state_mib << 20 and s_count > 0
    assert all(e == b"\0" * 16 for e in entries[2:])
    # sfdisk reads the same table back.
    out = run([sbin("sfdisk"), "--dump", card.img])
    assert re.search(r"start=\s*2048, size=\s*%d, type=e, bootable" % count, out), out
    # an empty ext4 filesystem, labelled, fsck-clean
    part = card.img + ".state"
    with open(part, "wb") as f:
        f.write(card.data[s_start * 512:])
    try:
        fsck = subprocess.run([sbin("e2fsck"), "-n", "-f", part], capture_output=True, text=True)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
        label = run([sbin("e2label"), part]).strip()
        assert label == "dnsbox-state"
    finally:
        os.remove(part)


# ---------------------------------------------------------------- SPL and u-boot


def egon_checksum(spl):
    """Sum of the little-endian 32-bit words with the checksum field (offset 12) = EGON_STAMP."""
    words = struct.unpack("<%dI" % (len(spl) // 4), spl)
    return (sum(words) - words[3] + EGON_STAMP) & 0xFFFFFFFF


def test_spl_at_8k_has_a_valid_egon_header(card):
    head = card.data[8192:8192 + 32]
    assert head[4:12] == b"eGON.BT0"
    check, length = struct.unpack("<II", head[12:20])
    assert length % 4 == 0 and 0 < length <= 32 * 1024  # the A10/A20 boot ROM loads <= 32 KiB
    spl = card.data[8192:8192 + length]
    assert egon_checksum(spl) == check
    # A corrupted byte breaks the checksum (the boot ROM would refuse it).
    bad = bytearray(spl)
    bad[100] ^= 0x01
    assert egon_checksum(bytes(bad)) != check
    assert card.data[512:8192] == bytes(8192 - 512)  # nothing between the MBR and the SPL


def test_uboot_is_debians_for_the_board(card):
    src = os.path.join(BUILD, "card", "uboot", "usr", "lib", "u-boot", card.uboot_target,
                       "u-boot-sunxi-with-spl.bin")
    blob = open(src, "rb").read()
    assert card.data[8192:8192 + len(blob)] == blob
    assert 8192 + len(blob) <= 2048 * 512  # ends before the partition
    assert ("fdtfile=" + card.dtb).encode() in blob  # the target's own default device tree


# ---------------------------------------------------------------- FAT contents


def test_fat_holds_the_boot_files(card):
    listing = run(["mdir", "-b", "-i", "%s@@1M" % card.img, "::/"],
                  env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    names = sorted(os.path.basename(x.strip()) for x in listing.split("\n") if x.strip())
    assert names == sorted(["zImage", card.dtb, "initrd.xz", "boot.cmd", "boot.scr",
                            "dnsbox.txt", "uboot.env"])
    vmlinuz = [f for f in os.listdir(os.path.join(card.kroot, "boot")) if f.startswith("vmlinuz")]
    with open(os.path.join(card.kroot, "boot", vmlinuz[0]), "rb") as f:
        assert card.fat_file("zImage") == f.read()
    assert card.fat_file("dnsbox.txt") == card.board_file("BOOTVARS")
    assert card.fat_file("boot.cmd") == card.board_file("BOOT_CMD")
    assert card.fat_file("initrd.xz") == open(
        os.path.join(BUILD, card.name, "boot", "initrd.xz"), "rb").read()
    # The filesystem is labelled and spans the partition.
    boot = card.data[1 << 20: (1 << 20) + 512]
    assert boot[510:512] == b"\x55\xaa"
    assert b"DNSBOX" in boot[43:54]
    total = struct.unpack("<H", boot[19:21])[0] or struct.unpack("<I", boot[32:36])[0]
    assert total == (len(card.data) >> 9) - 2048 - (card.board.state_mib << 11)


def test_uboot_env_boots_at_once_without_usb(card):
    env = card.fat_file("uboot.env")
    assert len(env) == 0x10000  # u-boot's CONFIG_ENV_SIZE: another size is "bad CRC"
    assert struct.unpack("<I", env[:4])[0] == zlib.crc32(env[4:]) & 0xFFFFFFFF
    pairs = env[4:].split(b"\0\0", 1)[0].decode().split("\0")
    kv = dict(p.split("=", 1) for p in pairs)
    assert kv["bootdelay"] == "0"
    assert "preboot" not in kv  # no `usb start`
    assert "boot.scr" in kv["bootcmd"] and "usb" not in kv["bootcmd"]
    assert kv["fdtfile"] == card.dtb
    assert kv["console"] == "ttyS0,115200"  # UART0
    assert kv["bootm_size"] == "0xa000000"  # initrd and DTB stay in the kernel's lowmem
    for k in ("kernel_addr_r", "fdt_addr_r", "scriptaddr", "ramdisk_addr_r"):
        assert int(kv[k], 16) >= 0x40000000  # in the A10/A20's DRAM


# ---------------------------------------------------------------- boot script


def documented_variables():
    """Option names in the first column of the tables in docs/boot-variables.md
    (`ip`, `server=IP[#port]` -> ip, server)."""
    names = []
    for line in open(DOCS):
        m = re.match(r"^\|\s*`([a-z][a-z0-9_-]*)(=[^`]*)?`\s*\|", line)
        if m and m.group(1) not in names:
            names.append(m.group(1))
    assert len(names) >= 7, "no boot-variable table found in %s" % DOCS
    return names


def script_of(scr):
    """The text of a u-boot legacy script image: 64-byte header, a size list ending in 0, data."""
    assert struct.unpack(">I", scr[:4])[0] == 0x27051956  # legacy image magic
    size = struct.unpack(">I", scr[12:16])[0]
    assert zlib.crc32(scr[64:64 + size]) & 0xFFFFFFFF == struct.unpack(">I", scr[24:28])[0]
    first = struct.unpack(">I", scr[64:68])[0]
    assert struct.unpack(">I", scr[68:72])[0] == 0
    return scr[72:72 + first].decode()


def test_boot_script_decodes_and_is_boot_cmd(card, tmp_path):
    scr = card.fat_file("boot.scr")
    path = tmp_path / "boot.scr"
    path.write_bytes(scr)
    out = run(["mkimage", "-l", str(path)])
    assert "Script" in out and "ARM" in out, out
    assert script_of(scr) == card.board_file("BOOT_CMD").decode()


def test_boot_script_sets_every_documented_variable(cb2):
    text = cb2.board_file("BOOT_CMD").decode()
    lines = [ln.strip() for ln in text.split("\n") if not ln.strip().startswith("#")]
    body = "\n".join(lines)
    for name in documented_variables() + ["mac"]:
        assert re.search(r"^setenv %s( |$)" % name, body, re.M), "%s has no default" % name
        assert "%s=${%s}" % (name, name) in body, "%s is not put on the command line" % name
    assert "env import -t -r ${scriptaddr} ${filesize}" in body
    assert "load mmc 0:1 ${scriptaddr} dnsbox.txt" in body
    # bootz takes the initramfs size from the last load: the initramfs must be loaded last.
    loads = [ln for ln in lines if ln.startswith("load mmc")]
    assert loads[-1].split()[-1] == "initrd.xz"
    assert "bootz ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdt_addr_r}" in body


# ---------------------------------------------------------------- boot-variable file


def boot_script_defaults(text):
    out = {}
    for m in re.finditer(r"^setenv ([a-z][a-z0-9-]*)(?: (\S+))?$", text, re.M):
        out[m.group(1)] = m.group(2) or ""
    return out


def test_bootvars_template_matches_the_boot_script_and_the_firmware(cb2):
    text = cb2.board_file("BOOTVARS").decode()
    vars_ = card_image.bootvars_dict(text)
    defaults = boot_script_defaults(cb2.board_file("BOOT_CMD").decode())
    # The file lists every variable the script handles, with the script's default value.
    assert sorted(vars_) == sorted(defaults)
    assert vars_ == defaults
    # The words the boot script makes of it are accepted by the firmware without a problem.
    words = ["%s=%s" % kv for kv in vars_.items() if kv[1] and kv[0] != "extra"]
    cfg = config.parse(words)
    assert cfg.problems == []
    # The firmware reads the file itself (--card): no problem either, the same settings.
    cfg = config.parse([], boot_text=text)
    assert cfg.problems == []
    assert (cfg.ip, cfg.netmask, cfg.mode, cfg.port, cfg.iface) == (
        "dhcp", "255.255.255.0", "auth", 53, "eth0")


def test_bootvars_round_trip_through_the_card(card, tmp_path):
    img = str(tmp_path / "card.img")
    shutil.copyfile(card.img, img)
    before = card_image.read_card_file(img, "dnsbox.txt")
    assert before == card.board_file("BOOTVARS")
    card_image.write_card_file(img, "dnsbox.txt", before)
    assert card_image.read_card_file(img, "dnsbox.txt") == before
    text = card_image.card_set(img, ["port=5300", "ip=10.0.2.15", "gw=10.0.2.2", "hostname=b1"])
    back = card_image.read_card_file(img, "dnsbox.txt").decode()
    assert back == text
    got = card_image.bootvars_dict(back)
    assert (got["port"], got["ip"], got["gw"], got["hostname"]) == (
        "5300", "10.0.2.15", "10.0.2.2", "b1")
    # Only the values changed: every comment line and the order of the keys stay.
    assert [ln for ln in back.split("\n") if ln.startswith("#")] == [
        ln for ln in before.decode().split("\n") if ln.startswith("#")]
    assert [k for k, _ in card_image.parse_bootvars(back)] == [
        k for k, _ in card_image.parse_bootvars(before.decode())]
    # The rest of the card is untouched (the partition table and u-boot).
    with open(img, "rb") as f:
        assert f.read(1 << 20) == card.data[: 1 << 20]


def test_bootvars_parse_like_uboot_env_import():
    text = "# comment\r\nip=10.0.0.2\r\n\r\n  # indented comment\nport=53\nport=5300\ngw=\nx\n"
    assert card_image.parse_bootvars(text) == [("ip", "10.0.0.2"), ("port", "53"),
                                                ("port", "5300"), ("gw", "")]
    assert card_image.bootvars_dict(text)["port"] == "5300"
    # set keeps CRLF files CRLF and rewrites the last occurrence.
    out = card_image.set_bootvar(text, "port", "99")
    assert out.count("port=99") == 1 and "port=53\n" in out
    crlf = card_image.set_bootvar("ip=dhcp\r\n", "mac", "02:00:00:00:00:01")
    assert crlf == "ip=dhcp\r\nmac=02:00:00:00:00:01\r\n"
    with pytest.raises(card_image.CardError):
        card_image.set_bootvar(text, "Port", "1")
    with pytest.raises(card_image.CardError):
        card_image.set_bootvar(text, "port", "1\nip=1.2.3.4")


# ---------------------------------------------------------------- device tree


def fdt_root(blob):
    """(root properties {name: bytes}, node names at depth 1, aliases {name: path})."""
    magic, total, off_struct, off_strings = struct.unpack(">IIII", blob[:16])
    assert magic == 0xD00DFEED and total == len(blob)

    def string(off):
        end = blob.index(b"\0", off_strings + off)
        return blob[off_strings + off: end].decode()

    pos, depth, path = off_struct, 0, []
    props, children, aliases = {}, [], {}
    while True:
        tok = struct.unpack(">I", blob[pos: pos + 4])[0]
        pos += 4
        if tok == 1:  # FDT_BEGIN_NODE
            end = blob.index(b"\0", pos)
            name = blob[pos:end].decode()
            pos = (end + 4) & ~3
            depth += 1
            path.append(name)
            if depth == 2:
                children.append(name)
        elif tok == 2:  # FDT_END_NODE
            depth -= 1
            path.pop()
        elif tok == 3:  # FDT_PROP
            size, nameoff = struct.unpack(">II", blob[pos: pos + 8])
            value = blob[pos + 8: pos + 8 + size]
            pos = (pos + 8 + size + 3) & ~3
            if depth == 1:
                props[string(nameoff)] = value
            elif path[1:] == ["aliases"]:
                aliases[string(nameoff)] = value.rstrip(b"\0").decode()
        elif tok == 4:  # FDT_NOP
            continue
        elif tok == 9:  # FDT_END
            return props, children, aliases
        else:
            raise AssertionError("bad FDT token %d at %d" % (tok, pos - 4))


def test_dtb_is_the_boards(card):
    blob = card.fat_file(card.dtb)
    assert blob == open(card_image.kernel_dtb(card.kroot, card.dtb), "rb").read()
    props, children, aliases = fdt_root(blob)
    compat = props["compatible"].rstrip(b"\0").decode().split("\0")
    assert compat[0] == card.compatible[0] and card.compatible[1] in compat
    assert props["model"].rstrip(b"\0").decode() == card.model
    # u-boot writes its MAC into the node that alias ethernet0 names.
    assert "ethernet0" in aliases and "ethernet@" in aliases["ethernet0"]


# ---------------------------------------------------------------- initramfs


def cpio_entries(data):
    out, pos = {}, 0
    while True:
        assert data[pos: pos + 6] == b"070701", "bad cpio magic at %d" % pos
        f = [int(data[pos + 6 + 8 * i: pos + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = f[1], f[6], f[11]
        name = data[pos + 110: pos + 110 + namesize - 1].decode()
        pos = (pos + 110 + namesize + 3) & ~3
        if name == "TRAILER!!!":
            return out
        out[name] = (mode, data[pos: pos + size])
        pos = (pos + size + 3) & ~3


@pytest.fixture(scope="module")
def initrd(card):
    return cpio_entries(lzma.decompress(card.fat_file("initrd.xz")))


def show_depends(card, module):
    out = run([sbin("modprobe"), "-d", card.kroot, "-S", card.kver, "--show-depends", module])
    return ["/" + os.path.relpath(ln.split()[1], card.kroot)
            for ln in out.split("\n") if ln.startswith("insmod ")]


def test_initramfs_holds_the_network_modules_in_load_order(card, initrd):
    load = initrd["etc/modules.load"][1].decode().split()
    for module in card.net_modules:
        deps = show_depends(card, module)
        assert deps and deps[-1].endswith("/%s.ko" % module), deps
        for i, path in enumerate(deps):
            assert path in load, "%s (needed by %s) is not loaded" % (path, module)
            body = initrd[path.lstrip("/")][1]
            assert body == open(card.kroot + path, "rb").read()
            if i:
                assert load.index(deps[i - 1]) < load.index(path), (
                    "%s must be loaded before %s" % (deps[i - 1], path))
    # Nothing loaded that the board's list does not need.
    needed = set()
    for module in card.board.modules():
        needed.update(show_depends(card, module))
    assert set(load) == needed
    assert len(load) == len(set(load))


def test_initramfs_runs_the_firmware(card, initrd):
    assert initrd["init"][1] == card.board_file("INIT")
    init = initrd["init"][1].decode()
    # Appliance mode asked for in so many words (the firmware is /init's child, not PID 1), the
    # card's FAT partition mounted read-only and handed to the firmware.
    assert "-m dnsbox.main --appliance $card" in init
    assert "mount -t vfat -o ro /dev/mmcblk0p1 /card" in init and "card=--card=/card" in init
    assert initrd["init"][0] & 0o111
    assert initrd["bin/dnsbox"][1] == open(os.path.join(BUILD, "armhf", "dnsbox"), "rb").read()
    assert initrd["etc/heapsize"][1].decode().strip() == card.board.env["HEAPSIZE"]
    assert "dev/console" in initrd


# ---------------------------------------------------------------- compressed copy and block map


def test_xz_copy_and_bmap_give_the_same_card(cb2, tmp_path):
    assert cb2.board.compress
    with lzma.open(cb2.img + ".xz") as f:
        assert f.read() == cb2.data
    assert shutil.which("bmaptool"), "bmap-tools is in build.sh's package list"
    out = tmp_path / "flashed.img"
    # A "card" holding junk where the image has data (the first block) and zeros elsewhere, as
    # a fresh card might: bmaptool writes only the mapped blocks.
    out.write_bytes(b"\xff" * 4096)
    with open(out, "r+b") as f:
        f.truncate(len(cb2.data))
    # bmaptool finds dnsbox-cubieboard2.img.bmap next to the .xz and checks its checksums.
    run(["bmaptool", "copy", cb2.img + ".xz", str(out)])
    assert out.read_bytes() == cb2.data


# ---------------------------------------------------------------- reproducible


def test_card_is_reproducible(tmp_path):
    """The A10 card rebuilt from the same inputs in another directory (at another time) is the
    same bytes as the one ./build.sh made."""
    a10 = Card("cubieboard-a10")
    for d in ("qemu-arm", "armhf", "apt", "card"):
        os.symlink(os.path.join(BUILD, d), str(tmp_path / d))
    run([sys.executable, os.path.join(ROOT, "tools", "card_image.py"), "--build", str(tmp_path),
         os.path.join(ROOT, a10.board_rel)])
    with open(str(tmp_path / a10.name / os.path.basename(a10.img)), "rb") as f:
        assert f.read() == a10.data


# ---------------------------------------------------------------- card_image.py show / set


def cli(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "tools", "card_image.py")] +
                          list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=CMD_TIMEOUT_S)


def test_help_shows_show_and_set():
    p = cli("--help")
    out = p.stdout.decode()
    assert p.returncode == 0
    assert "card_image.py show IMAGE" in out and "card_image.py set IMAGE key=value" in out
    assert ".img.xz" in out
    p = cli("set")
    assert p.returncode == 2 and "card_image.py set IMAGE" in p.stderr.decode()


def test_set_refuses_bad_words_with_the_firmwares_messages(cb2, tmp_path):
    img = str(tmp_path / "card.img")
    shutil.copyfile(cb2.img, img)
    before = card_image.read_card_file(img, "dnsbox.txt")
    for word, reason in (("ip=999.1.1.1", "not an IPv4 address or 'dhcp'"),
                         ("port=abc", "not a port number"),
                         ("bogus=1", "unknown option (ignored)"),
                         ("hostname=a b", "only letters, digits, '-', '.' and '_' are allowed"),
                         ("server=8.8.8.8:53", "write server=8.8.8.8#53"),
                         ("log-async", "not implemented by dnsbox")):
        p = cli("set", img, "port=5300", word)
        err = p.stderr.decode()
        assert p.returncode == 1, (word, err)
        assert "%s: " % word in err and reason in err, (word, err)
        assert "nothing written" in err
        assert card_image.read_card_file(img, "dnsbox.txt") == before, word


def test_set_keeps_repeated_keys_and_flags(cb2, tmp_path):
    img = str(tmp_path / "card.img")
    shutil.copyfile(cb2.img, img)
    text = card_image.card_set(img, ["mode=resolver", "server=10.0.2.2#5460",
                                     "server=10.0.2.3", "domain-needed", "gw="])
    back = card_image.read_card_file(img, "dnsbox.txt").decode()
    assert back == text
    assert [v for k, v in card_image.parse_bootvars(back) if k == "server"] == [
        "10.0.2.2#5460", "10.0.2.3"]
    assert "\ndomain-needed\n" in back
    cfg = config.parse([], boot_text=back)  # as the firmware reads the card
    assert cfg.problems == [] and cfg.domain_needed and cfg.mode == "resolver"
    assert [s[1:] for s in cfg.servers] == [("10.0.2.2", 5460), ("10.0.2.3", 53)]
    # Set again: exactly the new servers remain.
    back = card_image.card_set(img, ["server=10.0.2.9"])
    assert [v for k, v in card_image.parse_bootvars(back) if k == "server"] == ["10.0.2.9"]


def test_set_bootvars_replaces_every_line_of_the_key():
    text = "# c\r\nserver=1.1.1.1\r\nport=53\r\nserver=2.2.2.2\r\n"
    out = card_image.set_bootvars(text, "server", ["3.3.3.3", "4.4.4.4"])
    assert out == "# c\r\nport=53\r\nserver=3.3.3.3\r\nserver=4.4.4.4\r\n"
    assert card_image.set_bootvars("ip=dhcp\n", "bogus-priv", [None]) == "ip=dhcp\nbogus-priv\n"


def test_show_and_set_on_the_xz_image(cb2, tmp_path):
    xz = str(tmp_path / "dnsbox-cubieboard2.img.xz")
    shutil.copyfile(cb2.img + ".xz", xz)
    p = cli("show", xz)
    assert p.returncode == 0, p.stderr
    assert p.stdout == cb2.board_file("BOOTVARS")
    p = cli("set", xz, "port=5300", "server=10.0.0.1", "server=10.0.0.2", "mode=resolver")
    assert p.returncode == 0, p.stderr
    with lzma.open(xz) as f:
        data = f.read()
    assert len(data) == len(cb2.data) and data[: 1 << 20] == cb2.data[: 1 << 20]
    out = cli("show", xz).stdout.decode()
    got = card_image.parse_bootvars(out)
    assert ("port", "5300") in got and ("mode", "resolver") in got
    assert [v for k, v in got if k == "server"] == ["10.0.0.1", "10.0.0.2"]
    assert not [n for n in os.listdir(str(tmp_path)) if n != os.path.basename(xz)]
    p = cli("show", str(tmp_path / "missing.img.xz"))
    assert p.returncode == 1 and "no such image" in p.stderr.decode()
