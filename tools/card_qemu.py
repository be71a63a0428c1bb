#!/usr/bin/env python3
"""QEMU >= 8 for the A10 test variant of the card image, and how to boot a card in it.

No QEMU emulates the A20 of the Cubieboard 2; QEMU >= 8 emulates the A10 Cubieboard and boots it
from an SD card (its boot ROM loads the SPL from 8 KiB into the card). Debian 12 has QEMU 7.2.
`ensure_qemu` (tools/card_image.py --qemu calls it) keeps the machine's qemu-system-arm when it
is new enough; otherwise it downloads bookworm-backports' qemu-system-arm with a private apt
configuration (URI and keyring copied at run time from this machine's own Debian entry, through
tools/apt_private.py; the machine's apt set-up is not changed) and unpacks it under
BUILD/qemu-bpo/root without installing anything: its shared libraries are bookworm's.
BUILD/qemu-bpo/qemu-system-arm is a one-line text file naming the binary to use.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import time

from cardrun import CardError, log, run

TOOLS = os.path.dirname(os.path.abspath(__file__))
QEMU_PKG = "qemu-system-arm"
BACKPORTS = "bookworm-backports"
UPDATE_TRIES = 3  # a mirror sync glitch on apt-get update is common: retry
VERSION_TIMEOUT_S = 30

# ---------------------------------------------------------------- booting a card


def qemu_command(qemu, img, machine="cubieboard", nic="allwinner-emac", forwards=()):
    """qemu-system-arm booting a card image from its SD card (no -kernel: the emulated boot
    ROM loads the SPL from 8 KiB into the card). forwards: (proto, host_port, guest_port) on
    127.0.0.1. The console is on stdio."""
    fwd = "".join(",hostfwd=%s:127.0.0.1:%d-:%d" % f for f in forwards)
    return [qemu, "-M", machine, "-accel", "tcg", "-no-reboot",
            # No display and no audio: the backports qemu would otherwise try to load the
            # machine's (older) qemu's UI/audio modules and abort.
            "-display", "none", "-audio", "none", "-monitor", "none", "-serial", "stdio",
            "-drive", "file=%s,format=raw,if=sd" % img,
            "-nic", "user,model=%s%s" % (nic, fwd)]


def qemu_version(binary):
    """(major, minor) of a qemu-system binary, or None if it does not run."""
    try:
        text = subprocess.run([binary, "--version"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=VERSION_TIMEOUT_S).stdout.decode()
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"version (\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def qemu_pointer(build):
    return os.path.join(build, "qemu-bpo", "qemu-system-arm")


def ensure_qemu(build, need_major):
    """Path of a qemu-system-arm >= need_major; downloads bookworm-backports' if needed.
    Writes the path into BUILD/qemu-bpo/qemu-system-arm (a one-line text file)."""
    pointer = qemu_pointer(build)
    os.makedirs(os.path.dirname(pointer), exist_ok=True)
    candidates = [shutil.which("qemu-system-arm") or "qemu-system-arm",
                  os.path.join(build, "qemu-bpo", "root", "usr", "bin", "qemu-system-arm")]
    for c in candidates:
        v = qemu_version(c)
        if v and v[0] >= need_major:
            _write(pointer, c + "\n")
            return c
    top = os.path.join(build, "qemu-bpo")
    conf = private_apt_host(top)
    log("download: %s from %s (the machine's qemu is older than %d; nothing is installed)"
        % (QEMU_PKG, BACKPORTS, need_major))
    env = dict(os.environ, APT_CONFIG=conf)
    err = None
    for _ in range(UPDATE_TRIES):
        try:
            run(["apt-get", "update", "-q"], env=env)
            err = None
            break
        except CardError as e:
            err = e
            time.sleep(3)
    if err:
        raise err
    dl = os.path.join(top, "deb")
    shutil.rmtree(dl, ignore_errors=True)
    os.makedirs(dl)
    run(["apt-get", "download", "-q", QEMU_PKG], cwd=dl, env=env)
    debs = glob.glob(os.path.join(dl, QEMU_PKG + "_*.deb"))
    if len(debs) != 1:
        raise CardError("apt-get download %s gave %d packages" % (QEMU_PKG, len(debs)))
    root = os.path.join(top, "root")
    shutil.rmtree(root, ignore_errors=True)
    run(["dpkg-deb", "-x", debs[0], root])
    binary = candidates[1]
    v = qemu_version(binary)
    if not v or v[0] < need_major:
        raise CardError("%s from %s does not run or is older than %d (version %r); its shared "
                        "libraries come from this machine" % (binary, BACKPORTS, need_major, v))
    _write(pointer, binary + "\n")
    log("qemu %d.%d: %s" % (v[0], v[1], binary))
    return binary


def private_apt_host(top):
    """A private apt configuration for this machine's architecture and bookworm-backports,
    derived from the machine's own Debian entry (no host name is written in the repository)."""
    sys.path.insert(0, TOOLS)
    import apt_private

    uri, key = apt_private.find_debian_source()
    arch = run(["dpkg", "--print-architecture"]).strip()
    return apt_private.write_tree(top, arch, "tools/card_qemu.py",
                                  "deb [arch=%s signed-by=%s] %s %s main\n"
                                  % (arch, key, uri, BACKPORTS))


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)
