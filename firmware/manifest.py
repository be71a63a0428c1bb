# What is frozen into the dnsbox firmware binaries (build/host/dnsbox, build/armhf/dnsbox).
# makemanifest.py executes this file with firmware/ as the current directory.
#
# - the dnsbox package, except the master-file parser of dnsbox/zone/ (it runs only at build
#   time, inside tools/crunch.py; the zone checks and the blob builder are frozen: secondary
#   zones are compiled in RAM, dnsbox.auth.secondary);
# - the compiled zone blob as the top-level module `zoneblob` (build/gen/zoneblob.py, written by
#   tools/crunch.py; DNSBOX_GEN_DIR overrides the directory, used by build.sh for other build dirs);
# - the root hints as the top-level module `roothints` (build/gen/roothints.py, tools/hints.py);
# - the DNS-over-TLS certificate and key as the top-level module `tlscert` (tools/tlscert.py);
# - asyncio from MicroPython's extmod.
import os

include("$(MPY_DIR)/extmod/asyncio")

# Files of dnsbox that stay out of the firmware (build-time only).
_BUILD_TIME_ONLY = ("zone/lexer.py", "zone/parser.py", "zone/compile.py")


def _firmware_files():
    out = []
    for dirpath, dirnames, filenames in os.walk("dnsbox"):
        rel = os.path.relpath(dirpath, "dnsbox")
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py") and os.path.join(rel, name) not in _BUILD_TIME_ONLY:
                out.append(os.path.normpath(os.path.join(rel, name)))
    return out


package("dnsbox", files=_firmware_files())

_gen = os.environ.get("DNSBOX_GEN_DIR") or os.path.join("..", "build", "gen")
if os.path.exists(os.path.join(_gen, "zoneblob.py")):
    module("zoneblob.py", base_path=_gen)
if os.path.exists(os.path.join(_gen, "roothints.py")):
    module("roothints.py", base_path=_gen)
if os.path.exists(os.path.join(_gen, "tlscert.py")):
    module("tlscert.py", base_path=_gen)
if os.path.exists(os.path.join(_gen, "cabundle.py")):
    module("cabundle.py", base_path=_gen)
