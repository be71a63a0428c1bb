"""The authoritative fast paths keep their MicroPython frames on the C stack.

MicroPython 1.25 allocates a frame on the heap when N_STATE + 2 x N_EXC_STACK exceeds 11
words (py/objfun.c VM_MAX_STATE_ON_STACK), several times the cost of the call. A cached hit
goes handle -> _plain -> Db.find -> _reply; the NXDOMAIN/NODATA/referral walk uses Db.closest and
Db.find per label; the EDNS hit _edns. `micropython -v -v` prints the numbers per code block.
Skipped without the host binary (build/host/dnsbox).
"""

import os

import pytest

from tests.host.frames import BINARY, too_big

HOT = {
    "auth/server.py": ["handle", "_plain", "_reply", "_edns", "_limit"],
    "zonedb/__init__.py": ["find", "node", "closest"],
}


@pytest.mark.skipif(not os.path.exists(BINARY), reason="no build/host/dnsbox")
def test_fast_path_frames_fit_the_stack():
    big = too_big("", HOT)
    assert not big, big
