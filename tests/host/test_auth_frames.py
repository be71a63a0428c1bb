"""The authoritative fast paths keep their MicroPython frames on the C stack.

MicroPython 1.25 allocates a frame on the heap when N_STATE + 2 x N_EXC_STACK exceeds 11
words (py/objfun.c VM_MAX_STATE_ON_STACK), several times the cost of the call. A cached hit
goes handle -> _plain -> Db.find -> _reply; the NXDOMAIN/NODATA/referral walk uses _walk and
Db.find per label; the EDNS hit _edns. `micropython -v -v` prints the numbers per code block.
Skipped without the host binary (build/host/dnsbox).
"""

import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.path.join(ROOT, "build", "host", "dnsbox")
MAX_WORDS = 11
HOT = {
    "auth/server.py": ["handle", "_plain", "_reply", "_edns", "_walk", "_limit"],
    "zonedb/__init__.py": ["find", "node"],
}


def _sizes(path):
    out = subprocess.run([BINARY, "-v", "-v", path], capture_output=True, text=True, timeout=60,
                         env={"MICROPYPATH": os.path.join(ROOT, "firmware")}).stdout
    sizes = {}
    name = None
    ns = 0
    base = "/" + path.rsplit("/", 2)[-2] + "/" + os.path.basename(path)
    src = ""
    for line in out.splitlines():
        m = re.match(r"File (\S+), code block '([^']*)'", line)
        if m:
            src, name = m.group(1), m.group(2)
            continue
        m = re.match(r"\(N_STATE (\d+)\)", line)
        if m:
            ns = int(m.group(1))
            continue
        m = re.match(r"\(N_EXC_STACK (\d+)\)", line)
        if m and src.endswith(base):
            sizes[name] = max(ns + 2 * int(m.group(1)), sizes.get(name, 0))
    return sizes


@pytest.mark.skipif(not os.path.exists(BINARY), reason="no build/host/dnsbox")
def test_fast_path_frames_fit_the_stack():
    too_big = []
    for mod, names in HOT.items():
        sizes = _sizes(os.path.join(ROOT, "firmware", "dnsbox", mod))
        assert sizes, "no bytecode dump for %s" % mod
        for n in names:
            assert n in sizes, (mod, n)
            if sizes[n] > MAX_WORDS:
                too_big.append("%s:%s %d words" % (mod, n, sizes[n]))
    assert not too_big, too_big
