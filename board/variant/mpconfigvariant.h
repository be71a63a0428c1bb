// dnsbox: the MicroPython unix-port variant used for both firmware binaries
// (build/host/dnsbox on x86_64 for tests, build/armhf/dnsbox static for the boards).
// Built with VARIANT_DIR=board/variant; see mpconfigvariant.mk for the module switches.

// The standard unix feature level: long ints (MPZ), struct, binascii, hashlib,
// select.poll, socket, os.urandom, os.system, time, asyncio (frozen from the manifest).
#define MICROPY_CONFIG_ROM_LEVEL (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)

#include "variants/mpconfigvariant_common.h"  // ports/unix is on the include path

// The appliance has no use for these; leaving them out saves code size.
#undef MICROPY_PY_WEBSOCKET
#define MICROPY_PY_WEBSOCKET (0)
#define MICROPY_PY_WEBREPL (0)
#define MICROPY_PY_FRAMEBUF (0)
#define MICROPY_PY_BLUETOOTH (0)
