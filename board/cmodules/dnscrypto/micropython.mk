# dnscrypto: DNSSEC signature checks and digests (mbedTLS, which the TLS build already links,
# and libsodium for Ed25519). build.sh passes DNSBOX_SODIUM=DIR holding include/ and
# lib/libsodium.a for the target (Debian's libsodium-dev, host or armhf).
DNSCRYPTO_DIR := $(USERMOD_DIR)
SRC_USERMOD_C += $(DNSCRYPTO_DIR)/dnscrypto.c
ifneq ($(DNSBOX_SODIUM),)
CFLAGS_USERMOD += -DDNSCRYPTO_SODIUM=1 -I$(DNSBOX_SODIUM)/include
LDFLAGS_USERMOD += $(DNSBOX_SODIUM)/lib/libsodium.a
endif
