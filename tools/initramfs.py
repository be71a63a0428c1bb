#!/usr/bin/env python3
"""Write a Linux initramfs: a cpio "newc" archive, xz-compressed the way the kernel wants it.

No root needed and reproducible: every entry is owned by 0:0 with mtime 0, entries are written in
sorted path order, inode numbers are assigned in that order, and the xz stream uses a fixed filter.

Usage:
  initramfs.py -o OUT.xz [--file SRC:DST[:MODE]]... [--dir DST]... [--symlink TARGET:DST]...
               [--applets-of BUSYBOX_PATH_IN_IMAGE:LISTFILE] [--raw OUT.cpio]

  --file SRC:DST[:MODE]   copy a host file to DST (MODE octal, default: the source's 0755/0644)
  --dir DST               an empty directory (parents are added automatically)
  --symlink TARGET:DST    a symbolic link DST -> TARGET
  --applets-of BB:LIST    a symlink to BB for every path in LIST (busybox --list-full output)
Always present: /dev/console (char 5:1, so the kernel gives /init a console), /proc, /sys, /dev,
/tmp, /run, /root.
"""
import argparse
import lzma
import os
import stat
import sys

NEWC_MAGIC = b"070701"
TRAILER = "TRAILER!!!"
XZ_DICT = 2 << 20  # 2 MiB: the default 64 MiB dictionary of xz -9 does not fit in a 64 MB guest
BASE_DIRS = ("dev", "proc", "sys", "tmp", "run", "root", "bin", "sbin", "usr/bin", "usr/sbin", "etc")


class Image:
    """The archive's entries, keyed by path without the leading slash."""

    def __init__(self):
        self.entries = {}  # path -> (mode, data bytes, rdev (major, minor))

    def _parents(self, path):
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self.entries:
                self.entries[d] = (stat.S_IFDIR | 0o755, b"", (0, 0))

    def add_dir(self, path, mode=0o755):
        path = _clean(path)
        self._parents(path)
        self.entries[path] = (stat.S_IFDIR | mode, b"", (0, 0))

    def add_file(self, path, data, mode):
        path = _clean(path)
        self._parents(path)
        self.entries[path] = (stat.S_IFREG | mode, data, (0, 0))

    def add_symlink(self, path, target):
        path = _clean(path)
        self._parents(path)
        self.entries[path] = (stat.S_IFLNK | 0o777, target.encode(), (0, 0))

    def add_chardev(self, path, major, minor, mode=0o600):
        path = _clean(path)
        self._parents(path)
        self.entries[path] = (stat.S_IFCHR | mode, b"", (major, minor))

    def cpio(self):
        out = bytearray()
        ino = 1
        for path in sorted(self.entries):
            mode, data, rdev = self.entries[path]
            out += _header(path, ino, mode, len(data), rdev)
            out += data
            out += _pad(len(out))
            ino += 1
        out += _header(TRAILER, 0, 0, 0, (0, 0))
        out += _pad(len(out), 512)  # round the archive to a block, as cpio does
        return bytes(out)


def _clean(path):
    path = path.strip("/")
    if not path or ".." in path.split("/"):
        raise ValueError("bad path in image: %r" % path)
    return path


def _pad(length, align=4):
    return b"\0" * ((align - length % align) % align)


def _header(name, ino, mode, size, rdev):
    raw = name.encode() + b"\0"
    nlink = 2 if stat.S_ISDIR(mode) else 1
    fields = (ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev[0], rdev[1], len(raw), 0)
    head = NEWC_MAGIC + b"".join(b"%08X" % f for f in fields)
    return head + raw + _pad(len(head) + len(raw))


def compress_xz(data):
    filters = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": XZ_DICT}]
    # The kernel's xz decoder supports CRC32 (not the default CRC64) as the integrity check.
    return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32, filters=filters)


def build(args):
    img = Image()
    for d in BASE_DIRS:
        img.add_dir(d)
    img.add_dir("tmp", 0o1777)
    img.add_chardev("dev/console", 5, 1)
    for d in args.dir:
        img.add_dir(d)
    for spec in args.file:
        parts = spec.split(":")
        if len(parts) not in (2, 3):
            raise SystemExit("initramfs: --file wants SRC:DST[:MODE], got %r" % spec)
        src, dst = parts[0], parts[1]
        try:
            with open(src, "rb") as f:
                data = f.read()
        except OSError as e:
            raise SystemExit("initramfs: cannot read %s: %s" % (src, e.strerror))
        if len(parts) == 3:
            mode = int(parts[2], 8)
        else:
            mode = 0o755 if os.stat(src).st_mode & 0o111 else 0o644
        img.add_file(dst, data, mode)
    for spec in args.symlink:
        target, _, dst = spec.partition(":")
        img.add_symlink(dst, target)
    for spec in args.applets_of:
        bb, _, listfile = spec.partition(":")
        with open(listfile) as f:
            for line in f:
                p = _clean(line.strip()) if line.strip() else None
                if p and p not in img.entries:
                    img.add_symlink(p, bb)
    return img


def main(argv):
    ap = argparse.ArgumentParser(description="write a reproducible newc initramfs (xz)")
    ap.add_argument("-o", "--out", required=True, help="compressed archive to write")
    ap.add_argument("--raw", help="also write the uncompressed cpio here")
    ap.add_argument("--file", action="append", default=[])
    ap.add_argument("--dir", action="append", default=[])
    ap.add_argument("--symlink", action="append", default=[])
    ap.add_argument("--applets-of", action="append", default=[])
    args = ap.parse_args(argv)
    data = build(args).cpio()
    if args.raw:
        with open(args.raw, "wb") as f:
            f.write(data)
    packed = compress_xz(data)
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(packed)
    os.replace(tmp, args.out)
    print("initramfs: %s: %d bytes (%d uncompressed)" % (args.out, len(packed), len(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
