"""MicroPython frame sizes of firmware functions, read from the host binary's `-v -v` dump.

MicroPython 1.25 allocates a function's frame on the heap when N_STATE + 2 x N_EXC_STACK
exceeds 11 words (py/objfun.c VM_MAX_STATE_ON_STACK), several times the cost of the call.
"""
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.path.join(ROOT, "build", "host", "dnsbox")
MAX_WORDS = 11  # VM_MAX_STATE_ON_STACK


def frame_words(path):
    """{function name: max words} for the code blocks compiled from path (a firmware file)."""
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


def too_big(package_dir, hot):
    """For {module file: [function names]} under firmware/dnsbox/package_dir: the functions whose
    frames exceed MAX_WORDS, as 'module:function N words' texts. Fails if a name is missing."""
    out = []
    for mod, names in hot.items():
        sizes = frame_words(os.path.join(ROOT, "firmware", "dnsbox", package_dir, mod))
        assert sizes, "no bytecode dump for %s (binary without -v -v?)" % mod
        for n in names:
            assert n in sizes, (mod, n)
            if sizes[n] > MAX_WORDS:
                out.append("%s:%s %d words" % (mod, n, sizes[n]))
    return out
