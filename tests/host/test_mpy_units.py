"""The unit tests (tests/unit) run under the built MicroPython firmware binaries.

tools/mpytest.py runs inside the frozen binary (frozen modules come first on sys.path, so this
tests the frozen copy of dnsbox, not the source tree) and prints `N passed, N failed`.
The armhf binary runs under qemu-arm-static (user-mode emulation), as it would on the board.
"""
import os
import re
import shutil
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
RUN_TIMEOUT_S = 300  # the whole unit suite under one interpreter; it takes seconds today
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$", re.M)


def _binary(target):
    path = os.path.join(BUILD, target, "dnsbox")
    assert os.path.isfile(path), "%s missing: run ./build.sh first" % path
    return path


def _run(argv):
    proc = subprocess.run(
        argv + [os.path.join(ROOT, "tools", "mpytest.py")], cwd=ROOT, capture_output=True,
        text=True, timeout=RUN_TIMEOUT_S)
    out = proc.stdout + proc.stderr
    found = SUMMARY.findall(out)
    assert found, "no summary line from %s:\n%s" % (argv, out[-4000:])
    passed, failed = int(found[-1][0]), int(found[-1][1])
    assert failed == 0, "unit tests failed under %s:\n%s" % (argv, out[-4000:])
    assert passed > 0, "no unit test ran under %s" % argv
    assert proc.returncode == 0, out[-4000:]
    return passed


def _cpython_count():
    """How many test_* functions tests/unit holds, counted the way mpytest.py finds them."""
    n = 0
    unit = os.path.join(ROOT, "tests", "unit")
    for name in os.listdir(unit):
        if name.startswith("test_") and name.endswith(".py"):
            with open(os.path.join(unit, name)) as f:
                n += len(re.findall(r"^def test_\w+", f.read(), re.M))
    return n


def test_units_under_host_micropython():
    passed = _run([_binary("host")])
    assert passed == _cpython_count()


def test_units_under_armhf_micropython():
    qemu = shutil.which("qemu-arm-static")
    assert qemu, "qemu-arm-static missing (apt package qemu-user-static; build.sh installs it)"
    passed = _run([qemu, _binary("armhf")])
    assert passed == _cpython_count()


def test_frozen_binary_has_the_platform_modules():
    """The variant keeps what the firmware needs and leaves out what issue 2 excludes."""
    code = (
        "import hashlib, cryptolib, binascii, asyncio, select, socket, struct, os, tls\n"
        "print(hashlib.sha1(b'abc').digest().hex())\n"
        "print(hashlib.sha256(b'abc').digest().hex())\n"
        "print(len(os.urandom(16)), 2 ** 100)\n"
        "print(hasattr(select, 'poll'), hasattr(tls, 'SSLContext'))\n"
        "for m in ('ffi', 'btree', 'jni', 'dnsbox.zone'):\n"
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
    assert lines[4:8] == ["absent ffi", "absent btree", "absent jni", "absent dnsbox.zone"]
