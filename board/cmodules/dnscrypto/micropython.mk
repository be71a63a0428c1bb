# dnscrypto: DNSSEC signature checks and digests, bound to Nettle (libhogweed, libnettle) over
# GMP. build.sh passes DNSBOX_CRYPTO=DIR holding include/, include-arch/ (gmp.h) and
# lib/lib{hogweed,nettle,gmp}.a for the target (Debian's nettle-dev and libgmp-dev, host or
# armhf), linked statically.
DNSCRYPTO_DIR := $(USERMOD_DIR)
SRC_USERMOD_C += $(DNSCRYPTO_DIR)/dnscrypto.c
ifeq ($(DNSBOX_CRYPTO),)
$(error DNSBOX_CRYPTO is not set: build through build.sh)
endif
CFLAGS_USERMOD += -I$(DNSBOX_CRYPTO)/include -I$(DNSBOX_CRYPTO)/include-arch
LDFLAGS_USERMOD += $(DNSBOX_CRYPTO)/lib/libhogweed.a $(DNSBOX_CRYPTO)/lib/libnettle.a \
	$(DNSBOX_CRYPTO)/lib/libgmp.a
