#!/usr/bin/env python3
"""Build the SD-card images of the Allwinner boards: no root, no loop devices.

Usage (build.sh calls this once, after the qemu-arm image step):
  card_image.py --build BUILD [--qemu] [--force] BOARD_DIR...
  e.g. card_image.py --build build board/cubieboard2 board/cubieboard2/a10
  card_image.py show IMAGE              print the boot-variable file (dnsbox.txt) of a card image
  card_image.py set IMAGE key=value...  change values in it, in place (mtools: no mount, no root)
IMAGE is a .img or a .img.xz (decompressed to a temporary file, edited, compressed again).
`set` checks every word with the firmware's own config parser (firmware/dnsbox/config) and
writes nothing when one is bad (an unknown key, a bad value: exit status 1, the firmware's
message). A key given several times (server=A server=B) replaces all of that key's lines with
these values; a flag is a bare word (domain-needed); key= (empty) means the firmware's default.

For each BOARD_DIR (its board.env names the u-boot target, DTB, console, image size, boot
script, boot-variable file, /init and module list) it writes BUILD/NAME/:
  dnsbox-NAME.img          the card: u-boot with SPL at 8 KiB, an MBR partition table (sfdisk on
                           the file), a FAT partition from 1 MiB (mkfs.vfat on a separate file,
                           filled with mtools, then written into place) and, with STATE_MIB=N in
                           board.env, an empty ext4 partition of N MiB at the end: the state
                           (/init mounts it read-write on /state, the firmware's --state=)
  dnsbox-NAME.img.xz       a compressed copy (unless COMPRESS=no)
  dnsbox-NAME.img.bmap     a block map for bmaptool (when bmaptool is installed)
  boot/                    what went on the FAT partition: zImage, the DTB, initrd.xz, boot.cmd,
                           boot.scr, dnsbox.txt, uboot.env
  modules.load             the initramfs's module list (dependencies first)
A step whose inputs have not changed is skipped (BUILD/NAME/stamp).

--qemu: also make sure a qemu-system-arm of at least the boards' QEMU_MIN_VERSION exists (the
A10 test variant boots only on QEMU >= 8): tools/card_qemu.py.

Inputs from the rest of the build (build.sh's qemu-arm step): BUILD/qemu-arm/kroot (the unpacked
kernel package, depmod done), BUILD/qemu-arm/bbroot + applets.txt (busybox-static),
BUILD/armhf/dnsbox (the firmware), BUILD/apt/apt.conf (the private armhf apt configuration, used
to download u-boot-sunxi).
"""
import argparse
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zlib

from cardrun import CMD_TIMEOUT_S, CardError, log, read_env_file, run

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, os.path.join(ROOT, "firmware"))  # the firmware's config parser, for `set`
from dnsbox import config  # noqa: E402

SECTOR = 512
SPL_OFFSET = 8 * 1024  # the A10/A20 boot ROM reads the eGON SPL from 8 KiB into the card
FAT_START = 2048  # first partition at sector 2048 = 1 MiB, well past u-boot (< 1 MiB)
UBOOT_MAX = FAT_START * SECTOR - SPL_OFFSET  # u-boot-sunxi-with-spl.bin must fit before it
ENV_SIZE = 0x10000  # CONFIG_ENV_SIZE of Debian's u-boot-sunxi: uboot.env must be exactly this
FAT_LABEL = "DNSBOX"
BOOTVARS_NAME = "dnsbox.txt"  # on the FAT partition; boot.cmd loads it with `env import -t -r`
FAT_VOLID = "646e7362"  # fixed volume id ("dnsb"): reproducible images
STATE_UUID = "646e7362-0000-4000-8000-000000000002"  # the state filesystem's, for the same reason
STATE_LABEL = "dnsbox-state"
DISK_ID = "0x646e7362"  # fixed MBR disk identifier, for the same reason
FILE_TIME = 1767225600  # 2026-01-01 00:00 UTC: the date of every file on the FAT (reproducible)
HOLE_BLOCK = 64 * 1024  # all-zero blocks of this size are left as holes (sparse image, bmap)
MAX_IMAGE_MIB = 4096  # sanity limit on IMAGE_MIB
UBOOT_PKG = "u-boot-sunxi"

# u-boot's environment on the card (uboot.env on the FAT partition). A loaded environment
# replaces u-boot's whole default one, so it holds everything the boot needs. No boot delay and
# no `preboot=usb start` (together 7-9 s); a key press on the console still stops the boot.
# Addresses are Debian u-boot-sunxi 2023.01's defaults for sun4i/sun7i (DRAM at 0x40000000).
ENV_FIXED = (
    ("bootdelay", "0"),
    ("bootcmd", "load mmc 0:1 ${scriptaddr} boot.scr && source ${scriptaddr}"),
    ("baudrate", "115200"),
    ("stdin", "serial"),
    ("stdout", "serial"),
    ("stderr", "serial"),
    ("kernel_addr_r", "0x42000000"),
    ("fdt_addr_r", "0x43000000"),
    ("scriptaddr", "0x43100000"),
    ("ramdisk_addr_r", "0x43400000"),
    # Keep the relocated initramfs and device tree in the first 160 MiB, inside the kernel's
    # lowmem (without it u-boot puts them at the top of 1 GiB and the kernel hangs silently).
    ("bootm_size", "0xa000000"),
)


def sbin(name):
    for d in ("", "/usr/sbin/", "/sbin/"):
        p = shutil.which(name) if not d else d + name
        if p and os.access(p, os.X_OK):
            return p
    return name


# ---------------------------------------------------------------- board description


class Board:
    NEEDED = ("NAME", "UBOOT_TARGET", "DTB", "CONSOLE", "IMAGE_MIB", "HEAPSIZE", "BOOT_CMD",
              "BOOTVARS", "INIT", "MODULES")

    def __init__(self, path):
        self.dir = os.path.abspath(path)
        env_path = os.path.join(self.dir, "board.env")
        if not os.path.isfile(env_path):
            raise CardError("%s has no board.env" % path)
        self.env = read_env_file(env_path)
        for k in self.NEEDED:
            if not self.env.get(k):
                raise CardError("%s: no %s=" % (env_path, k))
        self.name = self.env["NAME"]
        if not re.match(r"^[a-z0-9][a-z0-9-]*$", self.name):
            raise CardError("%s: NAME must be lowercase letters, digits and '-'" % env_path)
        mib = self.env["IMAGE_MIB"]
        if not mib.isdigit() or not 8 <= int(mib) <= MAX_IMAGE_MIB or int(mib) & (int(mib) - 1):
            raise CardError("%s: IMAGE_MIB must be a power of two from 8 to %d (QEMU's SD card "
                            "wants a power-of-two size)" % (env_path, MAX_IMAGE_MIB))
        self.image_mib = int(mib)
        state = self.env.get("STATE_MIB", "0")
        if not state.isdigit() or int(state) >= self.image_mib // 2:
            raise CardError("%s: STATE_MIB=%s is not a size below half the card" % (
                env_path, state))
        self.state_mib = int(state)
        self.compress = self.env.get("COMPRESS", "yes") != "no"

    def file(self, key):
        p = os.path.normpath(os.path.join(self.dir, self.env[key]))
        if not os.path.isfile(p):
            raise CardError("board %s: %s=%s: no such file" % (self.name, key, self.env[key]))
        return p

    def modules(self):
        out = []
        with open(self.file("MODULES")) as f:
            for line in f:
                m = line.split("#", 1)[0].strip()
                if m:
                    out.append(m)
        return out


# ---------------------------------------------------------------- inputs


def file_digest(paths, words=()):
    h = hashlib.sha256()
    for w in words:
        h.update(w.encode() + b"\0")
    for p in paths:
        h.update(p.encode() + b"\0")
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:20]


def fetch_uboot(build):
    """Unpack Debian's armhf u-boot-sunxi under BUILD/card/uboot. It is downloaded again only
    when the private apt lists (refreshed by build.sh's download step) name another version."""
    top = os.path.join(build, "card")
    root = os.path.join(top, "uboot")
    conf = os.path.join(build, "apt", "apt.conf")
    if not os.path.isfile(conf):
        raise CardError("no private apt configuration %s (build.sh's download step writes it)"
                        % conf)
    env = dict(os.environ, APT_CONFIG=conf)
    show = run(["apt-cache", "show", "--no-all-versions", UBOOT_PKG], env=env)
    m = re.search(r"^Version: (\S+)$", show, re.M)
    if not m:
        raise CardError("apt-cache show %s printed no version" % UBOOT_PKG)
    version = m.group(1)
    have = os.path.join(root, "version")
    try:
        with open(have) as f:
            if f.read().strip() == version and os.path.isdir(os.path.join(root, "usr", "lib")):
                return root
    except OSError:
        pass
    dl = os.path.join(top, "dl")
    os.makedirs(dl, exist_ok=True)
    for old in glob.glob(os.path.join(dl, UBOOT_PKG + "_*.deb")):
        os.remove(old)
    log("download: %s %s (armhf, private apt configuration)" % (UBOOT_PKG, version))
    run(["apt-get", "download", "-q", "%s=%s" % (UBOOT_PKG, version)], cwd=dl, env=env)
    debs = glob.glob(os.path.join(dl, UBOOT_PKG + "_*_armhf.deb"))
    if len(debs) != 1:
        raise CardError("apt-get download %s left %d packages in %s" % (UBOOT_PKG, len(debs), dl))
    tmp = root + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    run(["dpkg-deb", "-x", debs[0], tmp])
    with open(os.path.join(tmp, "version"), "w") as f:
        f.write(version + "\n")
    shutil.rmtree(root, ignore_errors=True)
    os.rename(tmp, root)
    return root


class Inputs:
    """Paths of what the rest of the build produced."""

    def __init__(self, build):
        self.build = build
        img = os.path.join(build, "qemu-arm")
        self.kroot = os.path.join(img, "kroot")
        self.bbroot = os.path.join(img, "bbroot")
        self.applets = os.path.join(img, "applets.txt")
        self.firmware = os.path.join(build, "armhf", "dnsbox")
        for p in (self.kroot, self.applets, self.firmware,
                  os.path.join(self.bbroot, "bin", "busybox")):
            if not os.path.exists(p):
                raise CardError("missing %s (run ./build.sh first: its qemu-arm image step "
                                "unpacks the kernel and busybox)" % p)
        vers = os.listdir(os.path.join(self.kroot, "lib", "modules"))
        if len(vers) != 1:
            raise CardError("expected one kernel version in %s/lib/modules, found %r"
                            % (self.kroot, vers))
        self.kver = vers[0]
        zimgs = glob.glob(os.path.join(self.kroot, "boot", "vmlinuz-*"))
        if len(zimgs) != 1:
            raise CardError("expected one vmlinuz in %s/boot" % self.kroot)
        self.zimage = zimgs[0]
        self.uboot_root = fetch_uboot(build)

    def dtb(self, name):
        return kernel_dtb(self.kroot, name)

    def uboot(self, target):
        p = os.path.join(self.uboot_root, "usr", "lib", "u-boot", target,
                         "u-boot-sunxi-with-spl.bin")
        if not os.path.isfile(p):
            raise CardError("u-boot-sunxi has no %s/u-boot-sunxi-with-spl.bin" % target)
        return p


def kernel_dtb(kroot, name):
    """Path of a device tree in the unpacked kernel package."""
    hits = glob.glob(os.path.join(kroot, "usr", "lib", "linux-image-*", name))
    if len(hits) != 1:
        raise CardError("device tree %s not found in the kernel package" % name)
    return hits[0]


def module_order(inputs, names):
    """modprobe --show-depends for each name, in order, dependencies first, no repeats.
    Returns paths relative to the kernel root ('/lib/modules/...')."""
    out = []
    for m in names:
        text = run([sbin("modprobe"), "-d", inputs.kroot, "-S", inputs.kver, "--show-depends", m])
        found = False
        for line in text.split("\n"):
            words = line.split()
            if len(words) >= 2 and words[0] == "insmod":
                rel = "/" + os.path.relpath(words[1], inputs.kroot)
                if rel not in out:
                    out.append(rel)
                found = True
            elif words and words[0] == "builtin":
                found = True
        if not found:
            raise CardError("module %s: modprobe --show-depends printed no insmod line" % m)
    return out


# ---------------------------------------------------------------- pieces of the card


def uboot_env(board):
    """The uboot.env blob: CRC32 (little endian) of the data, then NUL-terminated
    key=value strings, an empty string, zero padding to ENV_SIZE."""
    pairs = list(ENV_FIXED) + [("console", board.env["CONSOLE"]), ("fdtfile", board.env["DTB"])]
    data = b"".join(("%s=%s" % kv).encode() + b"\0" for kv in pairs) + b"\0"
    if len(data) > ENV_SIZE - 4:
        raise CardError("u-boot environment too big")
    data += b"\0" * (ENV_SIZE - 4 - len(data))
    return (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "little") + data


def build_initrd(board, inputs, out_dir):
    mods = module_order(inputs, board.modules())
    load = os.path.join(out_dir, "modules.load")
    with open(load, "w") as f:
        f.write("".join(m + "\n" for m in mods))
    heap = os.path.join(out_dir, "heapsize")
    with open(heap, "w") as f:
        f.write(board.env["HEAPSIZE"] + "\n")
    args = [sys.executable, os.path.join(TOOLS, "initramfs.py"),
            "-o", os.path.join(out_dir, "boot", "initrd.xz"),
            "--file", os.path.join(inputs.bbroot, "bin", "busybox") + ":/bin/busybox:0755",
            "--applets-of", "/bin/busybox:" + inputs.applets,
            "--file", board.file("INIT") + ":/init:0755",
            "--file", load + ":/etc/modules.load:0644",
            "--file", heap + ":/etc/heapsize:0644",
            "--file", inputs.firmware + ":/bin/dnsbox:0755"]
    for m in mods:
        args += ["--file", inputs.kroot + m + ":" + m + ":0644"]
    run(args)
    return mods


def file_time():
    """Seconds since 1970 for every date in the card: SOURCE_DATE_EPOCH if set, else FILE_TIME."""
    v = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(v) if v.isdigit() else FILE_TIME


def fat_image(path, size, files):
    """A FAT filesystem of `size` bytes in `path` holding `files` (name -> host path).
    Reproducible: fixed volume id, --invariant, every file dated FILE_TIME (UTC)."""
    with open(path, "wb") as f:
        f.truncate(size)
    run([sbin("mkfs.vfat"), "--invariant", "-i", FAT_VOLID, "-n", FAT_LABEL, path])
    stamp = file_time()
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1", TZ="UTC")
    for name in sorted(files):
        os.utime(files[name], (stamp, stamp))
        run(["mcopy", "-i", path, "-o", "-m", files[name], "::/" + name], env=env)


def state_image(path, size):
    """An empty ext4 filesystem of size bytes (the state partition), reproducible: fixed UUID
    and hash seed, the file time as every time stamp."""
    with open(path, "wb") as f:
        f.truncate(size)
    run([sbin("mkfs.ext4"), "-q", "-F", "-m", "0", "-L", STATE_LABEL, "-U", STATE_UUID,
         "-E", "hash_seed=" + STATE_UUID, path],
        env=dict(os.environ, E2FSPROGS_FAKE_TIME=str(file_time())))


def partition(path, fat_sectors, state_sectors=0):
    # The first primary partition: FAT16 with LBA (type 0x0e), bootable, from sector FAT_START;
    # the state partition (Linux, 0x83) after it.
    script = "label: dos\nlabel-id: %s\nunit: sectors\n\nstart=%d, size=%d, type=e, bootable\n" % (
        DISK_ID, FAT_START, fat_sectors)
    if state_sectors:
        script += "start=%d, size=%d, type=83\n" % (FAT_START + fat_sectors, state_sectors)
    run([sbin("sfdisk"), "--no-reread", "--no-tell-kernel", "-q", path], input=script.encode())


def copy_sparse(src, dst_f, offset):
    """Write file src into the open file dst_f at offset; all-zero blocks are skipped (holes)."""
    with open(src, "rb") as s:
        pos = offset
        for block in iter(lambda: s.read(HOLE_BLOCK), b""):
            if block.count(0) != len(block):
                dst_f.seek(pos)
                dst_f.write(block)
            pos += len(block)


def write_boot_files(board, inputs, boot):
    """Everything that goes on the FAT partition, into the directory boot."""
    shutil.copyfile(inputs.zimage, os.path.join(boot, "zImage"))
    shutil.copyfile(inputs.dtb(board.env["DTB"]), os.path.join(boot, board.env["DTB"]))
    shutil.copyfile(board.file("BOOT_CMD"), os.path.join(boot, "boot.cmd"))
    shutil.copyfile(board.file("BOOTVARS"), os.path.join(boot, BOOTVARS_NAME))
    # mkimage dates the image header: SOURCE_DATE_EPOCH keeps it reproducible.
    run(["mkimage", "-A", "arm", "-O", "linux", "-T", "script", "-C", "none", "-n",
         "dnsbox boot script", "-d", os.path.join(boot, "boot.cmd"),
         os.path.join(boot, "boot.scr")],
        env=dict(os.environ, SOURCE_DATE_EPOCH=str(file_time())))
    with open(os.path.join(boot, "uboot.env"), "wb") as f:
        f.write(uboot_env(board))


def assemble(img, size, uboot, boot, work, state_bytes=0):
    """The card image: partition table, u-boot at 8 KiB, the FAT (built from boot/) at 1 MiB,
    the state partition (ext4, state_bytes) at the end."""
    fat_bytes = size - FAT_START * SECTOR - state_bytes
    fat = os.path.join(work, "fat.img")
    fat_image(fat, fat_bytes, {n: os.path.join(boot, n) for n in os.listdir(boot)})
    with open(uboot, "rb") as f:
        spl = f.read()
    if len(spl) > UBOOT_MAX:
        raise CardError("u-boot (%d bytes) does not fit between 8 KiB and the partition"
                        % len(spl))
    tmp = img + ".tmp"
    with open(tmp, "wb") as f:
        f.truncate(size)  # a sparse file: only the written parts take disk space
    partition(tmp, fat_bytes // SECTOR, state_bytes // SECTOR)
    state = os.path.join(work, "state.img")
    if state_bytes:
        state_image(state, state_bytes)
    with open(tmp, "r+b") as f:
        f.seek(SPL_OFFSET)  # = dd bs=1024 seek=8 conv=notrunc
        f.write(spl)
        copy_sparse(fat, f, FAT_START * SECTOR)  # = dd bs=1M seek=1 conv=notrunc,sparse
        if state_bytes:
            copy_sparse(state, f, FAT_START * SECTOR + fat_bytes)
    os.remove(fat)
    if state_bytes:
        os.remove(state)
    os.replace(tmp, img)


def build_card(board, inputs, force=False):
    out = os.path.join(inputs.build, board.name)
    boot = os.path.join(out, "boot")
    img = os.path.join(out, "dnsbox-%s.img" % board.name)
    uboot = inputs.uboot(board.env["UBOOT_TARGET"])
    srcs = [uboot, inputs.zimage, inputs.dtb(board.env["DTB"]), inputs.firmware,
            os.path.join(inputs.bbroot, "bin", "busybox"), inputs.applets,
            os.path.join(board.dir, "board.env"), board.file("BOOT_CMD"),
            board.file("BOOTVARS"), board.file("INIT"), board.file("MODULES"),
            os.path.abspath(__file__), os.path.join(TOOLS, "initramfs.py")]
    key = file_digest(srcs, [inputs.kver, "bmap" if shutil.which("bmaptool") else ""])
    stamp = os.path.join(out, "stamp")
    try:
        with open(stamp) as f:
            if f.read().strip() == key and os.path.isfile(img) and not force:
                log("%s: up to date (%s)" % (board.name, img))
                return img
    except OSError:
        pass
    t0 = time.monotonic()
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(boot)
    log("%s: initramfs, boot files, card image -> %s" % (board.name, img))

    mods = build_initrd(board, inputs, out)
    write_boot_files(board, inputs, boot)
    assemble(img, board.image_mib << 20, uboot, boot, out, board.state_mib << 20)
    t_img = time.monotonic() - t0

    extra = []
    if shutil.which("bmaptool"):
        run(["bmaptool", "create", "-o", img + ".bmap", img])
        extra.append(img + ".bmap")
    if board.compress:
        # bmaptool and `xzcat | dd` both read .xz. Level 1: the payload (zImage, xz initramfs) is
        # already compressed; -6 took twice as long for 0.3 % less.
        run(["xz", "-k", "-f", "-T2", "-1", "--check=crc32", img])
        extra.append(img + ".xz")
    with open(stamp, "w") as f:
        f.write(key + "\n")
    names = " ".join(os.path.basename(m) for m in mods)
    log("%s: %d modules: %s" % (board.name, len(mods), names))
    log("%s: image %d bytes (%d MiB, %d KiB used) in %.1f s, total %.1f s%s" % (
        board.name, board.image_mib << 20, board.image_mib, used_kib(img), t_img,
        time.monotonic() - t0,
        "".join("\n    " + p + " (%d bytes)" % os.path.getsize(p) for p in extra)))
    return img


def used_kib(path):
    return os.stat(path).st_blocks * 512 // 1024


# ---------------------------------------------------------------- the boot-variable file

MAX_BOOTVARS = 16 * 1024  # bytes of dnsbox.txt read back (the template is ~1 KiB)


def parse_bootvars(text):
    """dnsbox.txt text -> [(key, value)] as u-boot's `env import -t -r` reads it: one
    key=value per line, '#' comment lines and blank lines skipped, CR before LF dropped.
    An empty value (`gw=`) deletes the variable in u-boot: it stays in the list as ''."""
    out = []
    for line in text.split("\n"):
        line = line[:-1] if line.endswith("\r") else line
        if not line.strip() or line.lstrip().startswith("#") or "=" not in line:
            continue
        k, v = line.split("=", 1)
        out.append((k, v))
    return out


def bootvars_dict(text):
    """Last value of each key (later lines win, as in u-boot)."""
    return dict(parse_bootvars(text))


def set_bootvar(text, key, value):
    """Text with key set to value: the last `key=` line is rewritten (comments and line ends
    kept), or a line is appended."""
    if not re.match(r"^[a-z][a-z0-9_-]*$", key):
        raise CardError("not a boot variable name: %r" % key)
    if "\n" in value or "\r" in value:
        raise CardError("a value cannot hold a line break")
    crlf = "\r\n" in text
    lines = text.split("\n")
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i].rstrip("\r")
        if not line.lstrip().startswith("#") and line.split("=", 1)[0] == key and "=" in line:
            lines[i] = key + "=" + value + ("\r" if crlf else "")
            return "\n".join(lines)
    if text and not text.endswith("\n"):
        text += "\r\n" if crlf else "\n"
    return text + key + "=" + value + ("\r\n" if crlf else "\n")


def set_bootvars(text, key, values):
    """Text where key's lines are exactly values: the last `key...` line becomes them (one line
    each; a value None is the bare flag), the earlier ones are dropped; appended when absent."""
    if not re.match(r"^[a-z][a-z0-9_-]*$", key):
        raise CardError("not a boot variable name: %r" % key)
    for v in values:
        if v is not None and ("\n" in v or "\r" in v):
            raise CardError("a value cannot hold a line break")
    crlf = "\r\n" in text
    new = [key if v is None else key + "=" + v for v in values]
    lines = text.split("\n")
    mine = [i for i, ln in enumerate(lines)
            if not ln.lstrip().startswith("#") and ln.rstrip("\r").split("=", 1)[0] == key]
    if not mine:
        if text and not text.endswith("\n"):
            text += "\r\n" if crlf else "\n"
        return text + "".join(n + ("\r\n" if crlf else "\n") for n in new)
    end = "\r" if crlf else ""
    out = []
    for i, ln in enumerate(lines):
        if i == mine[-1]:
            out += [n + end for n in new]
        elif i not in mine:
            out.append(ln)
    return "\n".join(out)


def check_words(words):
    """[(key, value or None)] of key=value / flag words, each checked by the firmware's own
    parser; CardError with the firmware's message for an unknown key or a bad value."""
    out = []
    bad = []
    for w in words:
        key, eq, value = w.partition("=")
        if eq and value == "":
            out.append((key, ""))  # key= : the firmware's default
            continue
        cfg = config.parse([], boot_text=w, boot_name="set")
        for p in cfg.problems:
            if p.key not in config.SETTINGS or p.value is not None or p.fatal:
                bad.append("%s: %s" % (w, p.reason))
        out.append((key, value if eq else None))
    if bad:
        raise CardError("bad boot variable%s (nothing written):\n  %s" % (
            "s" if len(bad) > 1 else "", "\n  ".join(bad)))
    return out


def _mtools_env():
    return dict(os.environ, MTOOLS_SKIP_CHECK="1")


def read_card_file(img, name):
    """A file of the card's FAT partition (mtools, the partition at FAT_START)."""
    out = subprocess.run(["mtype", "-i", "%s@@%d" % (img, FAT_START * SECTOR), "::/" + name],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_mtools_env(),
                         timeout=CMD_TIMEOUT_S)
    if out.returncode != 0:
        raise CardError("cannot read %s from %s: %s" % (name, img, out.stderr.decode().strip()))
    return out.stdout


def write_card_file(img, name, data):
    tmp = "%s.%d.tmp" % (img, os.getpid())
    with open(tmp, "wb") as f:
        f.write(data)
    try:
        run(["mcopy", "-o", "-i", "%s@@%d" % (img, FAT_START * SECTOR), tmp, "::/" + name],
            env=_mtools_env())
    finally:
        os.remove(tmp)


def card_set(img, words):
    """Set key=value words in the card's dnsbox.txt (in place), after the firmware's parser
    accepted each of them; returns the new text."""
    pairs = check_words(words)
    data = read_card_file(img, BOOTVARS_NAME)[:MAX_BOOTVARS]
    text = data.decode("utf-8", "replace")
    keys = []
    for k, _ in pairs:
        if k not in keys:
            keys.append(k)
    for k in keys:
        text = set_bootvars(text, k, [v for kk, v in pairs if kk == k])
    cfg = config.parse([], boot_text=text)
    for p in cfg.problems:
        print("card_image: the firmware will say: %s" % p.text(), file=sys.stderr)
    if cfg.fatal():
        raise CardError("the card would halt at boot (nothing written): %s" % ", ".join(
            str(p) for p in cfg.fatal()))
    write_card_file(img, BOOTVARS_NAME, text.encode())
    return text


class Opened:
    """The card image to read or edit: a .img itself, or a .img.xz decompressed into a
    temporary file (with `changed`, compressed back in place on close, as build_card does)."""

    def __init__(self, path):
        if not os.path.isfile(path):
            raise CardError("no such image: %s" % path)
        self.path = path
        self.tmp = None
        self.img = path
        if path.endswith(".xz"):
            self.tmp = tempfile.mkdtemp(prefix="card_image.")
            self.img = os.path.join(self.tmp, "card.img")
            with open(self.img, "wb") as f:
                subprocess.run(["xz", "-d", "-c", path], stdout=f, check=True,
                               timeout=CMD_TIMEOUT_S)
        elif not path.endswith(".img"):
            raise CardError("%s: expected a card image (.img or .img.xz)" % path)

    def close(self, changed):
        try:
            if changed and self.tmp:
                run(["xz", "-k", "-f", "-T2", "-1", "--check=crc32", self.img])
                os.replace(self.img + ".xz", self.path)
        finally:
            if self.tmp:
                shutil.rmtree(self.tmp, ignore_errors=True)
        bmap = re.sub(r"\.xz$", "", self.path) + ".bmap"
        if changed and os.path.isfile(bmap):
            print("card_image: note: %s no longer matches the changed card (bmaptool checks "
                  "it): use `bmaptool copy --nobmap`, or remove it" % bmap, file=sys.stderr)


# ---------------------------------------------------------------- main


def main_edit(argv):
    """show IMAGE | set IMAGE key=value..."""
    if len(argv) < 2 or (argv[0] == "show" and len(argv) != 2) or (
            argv[0] == "set" and len(argv) < 3):
        print(__doc__, file=sys.stderr)
        return 2
    opened = None
    changed = False
    try:
        opened = Opened(argv[1])
        if argv[0] == "show":
            text = read_card_file(opened.img, BOOTVARS_NAME).decode("utf-8", "replace")
        else:
            text = card_set(opened.img, argv[2:])
            changed = True
        opened.close(changed)
    except (CardError, subprocess.SubprocessError) as e:
        if opened is not None and opened.tmp:
            shutil.rmtree(opened.tmp, ignore_errors=True)
        print("card_image: ERROR: %s" % e, file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


def main(argv):
    if argv and argv[0] in ("show", "set"):
        return main_edit(argv)
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s --build BUILD [--qemu] [--force] BOARD_DIR...\n"
              "       %(prog)s show IMAGE\n       %(prog)s set IMAGE key=value...")
    ap.add_argument("--build", required=True, help="the build directory (build/)")
    ap.add_argument("--qemu", action="store_true",
                    help="also provide a qemu-system-arm as new as the boards' QEMU_MIN_VERSION")
    ap.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    ap.add_argument("boards", nargs="+", help="board directories (board/cubieboard2 ...)")
    args = ap.parse_args(argv)
    build = os.path.abspath(args.build)
    try:
        boards = [Board(b) for b in args.boards]
        inputs = Inputs(build)
        for b in boards:
            build_card(b, inputs, args.force)
        if args.qemu:
            need = max([int(b.env.get("QEMU_MIN_VERSION", "0")) for b in boards])
            if need:
                import card_qemu

                card_qemu.ensure_qemu(build, need)
    except CardError as e:
        print("card_image: ERROR: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
