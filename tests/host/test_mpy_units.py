"""The unit tests (tests/unit) run under the built MicroPython firmware binaries.

tools/mpytest.py runs inside the frozen binary (frozen modules come first on sys.path, so this
tests the frozen copy of dnsbox, not the source tree) and prints `N passed, N failed`.
The armhf binary runs under qemu-arm-static (user-mode emulation), as it would on the board.
"""
import os
import re
import shutil
import subprocess

import cardrun

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
RUN_TIMEOUT_S = 300  # the whole unit suite under one interpreter; it takes seconds today
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$", re.M)


def _binary(target):
    path = os.path.join(BUILD, target, "dnsbox")
    assert os.path.isfile(path), "%s missing: run ./build.sh first" % path
    return path


def _heapsize():
    """The appliance's MicroPython heap (board/qemu-arm/board.env HEAPSIZE): tests get the same."""
    return cardrun.board_env()["HEAPSIZE"]


def _run(argv, modules=(), source=False):
    """Run mpytest.py; return the passed count after asserting nothing failed."""
    args = ["-X", "heapsize=" + _heapsize(), os.path.join(ROOT, "tools", "mpytest.py")]
    args += ["--source"] if source else []
    proc = subprocess.run(argv + args + list(modules), cwd=ROOT, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    out = proc.stdout + proc.stderr
    found = SUMMARY.findall(out)
    assert found, "no summary line from %s:\n%s" % (argv, out[-4000:])
    passed, failed = int(found[-1][0]), int(found[-1][1])
    assert failed == 0, "unit tests failed under %s:\n%s" % (argv, out[-4000:])
    assert passed > 0, "no unit test ran under %s" % argv
    assert proc.returncode == 0, out[-4000:]
    return passed


def _unit_modules():
    """{module name: (number of test_* functions, needs the build-time dnsbox.zone package)}."""
    unit = os.path.join(ROOT, "tests", "unit")
    texts = {}
    for name in sorted(os.listdir(unit)):
        if name.endswith(".py"):
            with open(os.path.join(unit, name)) as f:
                texts[name[:-3]] = f.read()
    zone_use = re.compile(r"dnsbox\.zone\b|from dnsbox import [^\n]*\bzone\b")
    # helper modules of tests/unit that use dnsbox.zone make their importers need it too
    zone_helpers = [m for m, t in texts.items() if not m.startswith("test_") and zone_use.search(t)]
    out = {}
    for mod, text in texts.items():
        if not mod.startswith("test_"):
            continue
        needs_zone = bool(zone_use.search(text)) or any(
            re.search(r"\b%s\b" % h, text) for h in zone_helpers)
        out[mod] = (len(re.findall(r"^def test_\w+", text, re.M)), needs_zone)
    return out


# The firmware binaries freeze dnsbox without dnsbox/zone/ (the master-file parser runs only at
# build time). A frozen package's subpackages are looked up only among frozen modules, so unit
# tests that import dnsbox.zone run with --source (firmware/ first on sys.path); all the others
# run against the frozen copy of dnsbox, the code that really boots.


def _check(argv, source):
    mods = _unit_modules()
    frozen = [m for m, (_, zone) in mods.items() if not zone]
    assert frozen, "no unit test module runs without dnsbox.zone"
    passed = _run(argv, frozen)
    assert passed == sum(mods[m][0] for m in frozen)
    if source:
        passed = _run(argv, source=True)
        assert passed == sum(n for n, _ in mods.values())


def test_units_under_host_micropython():
    _check([_binary("host")], source=True)


def test_units_under_armhf_micropython():
    """Frozen modules only: compiling the big test sources at run time needs more C stack than
    the unix port's fixed 40,000-byte limit on 32-bit ARM (RuntimeError: maximum recursion depth);
    the firmware never compiles at run time, so the frozen run is the one that matters."""
    qemu = shutil.which("qemu-arm-static")
    assert qemu, "qemu-arm-static missing (apt package qemu-user-static; build.sh installs it)"
    _check([qemu, _binary("armhf")], source=False)


def test_frozen_binary_has_the_platform_modules():
    """The variant keeps what the firmware needs and leaves out what issue 2 excludes."""
    code = (
        "import hashlib, cryptolib, binascii, asyncio, select, socket, struct, os, tls\n"
        "print(hashlib.sha1(b'abc').digest().hex())\n"
        "print(hashlib.sha256(b'abc').digest().hex())\n"
        "print(len(os.urandom(16)), 2 ** 100)\n"
        "print(hasattr(select, 'poll'), hasattr(tls, 'SSLContext'))\n"
        "for m in ('ffi', 'btree', 'jni', 'dnsbox.zone.parser', 'dnsbox.zone.blob'):\n"
        "    try:\n"
        "        __import__(m)\n"
        "        print('present', m)\n"
        "    except ImportError:\n"
        "        print('absent', m)\n"
    )
    out = subprocess.run([_binary("host"), "-c", code], capture_output=True, text=True,
                         timeout=30, cwd="/")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    assert lines[0] == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert lines[1] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert lines[2] == "16 %d" % 2 ** 100
    assert lines[3] == "True True"
    # the master-file parser is build-time only; the blob builder compiles secondary zones
    assert lines[4:9] == ["absent ffi", "absent btree", "absent jni", "absent dnsbox.zone.parser",
                          "present dnsbox.zone.blob"]
