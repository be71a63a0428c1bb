# dnsbox unix-port variant (VARIANT_DIR=board/variant), for x86_64 and armhf alike.
# build.sh passes BUILD=, FROZEN_MANIFEST= (firmware/manifest.py) and, for armhf,
# CROSS_COMPILE=arm-linux-gnueabihf- LDFLAGS_EXTRA=-static.

PROG = dnsbox

# Not wanted on the appliance (issue 2): no ffi, no btree, no jni.
MICROPY_PY_FFI = 0
MICROPY_PY_BTREE = 0
MICROPY_PY_JNI = 0
# The firmware is single-threaded (asyncio/poll); no pthreads in the static binary.
MICROPY_PY_THREAD = 0
# No block-device filesystems: the image runs from the initramfs.
MICROPY_VFS_FAT = 0
MICROPY_VFS_LFS1 = 0
MICROPY_VFS_LFS2 = 0

# TLS through mbedTLS 3.6 (Debian's source, copied into lib/mbedtls by build.sh);
# also brings hashlib.sha1/md5 and cryptolib.
MICROPY_PY_SSL = 1
MICROPY_SSL_MBEDTLS = 1
MICROPY_SSL_AXTLS = 0

FROZEN_MANIFEST ?= $(VARIANT_DIR)/../../firmware/manifest.py

# The unix port's mbedTLS configuration plus fast signature checks (issue 18).
MBEDTLS_CONFIG_FILE = \"mbedtls_config_dnsbox.h\"

# TLS 1.3 (mbedtls_config_dnsbox.h): the mbedTLS sources MicroPython's extmod.mk does not list
# (PSA crypto, its HKDF, the TLS 1.3 handshake). Files whose code the configuration leaves out
# compile to nothing.
SRC_THIRDPARTY_C += $(addprefix lib/mbedtls/library/,\
	hkdf.c \
	psa_crypto.c \
	psa_crypto_aead.c \
	psa_crypto_cipher.c \
	psa_crypto_client.c \
	psa_crypto_driver_wrappers_no_static.c \
	psa_crypto_ecp.c \
	psa_crypto_ffdh.c \
	psa_crypto_hash.c \
	psa_crypto_mac.c \
	psa_crypto_pake.c \
	psa_crypto_random.c \
	psa_crypto_rsa.c \
	psa_crypto_se.c \
	psa_crypto_slot_management.c \
	psa_crypto_storage.c \
	psa_util.c \
	ssl_tls13_client.c \
	ssl_tls13_generic.c \
	ssl_tls13_keys.c \
	ssl_tls13_server.c \
	)
