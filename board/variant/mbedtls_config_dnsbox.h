// dnsbox's mbedTLS configuration: the unix port's, plus what makes DNSSEC signature checks
// fast (issue 18): the bignum inner loops in assembly (x86-64 and ARM have them) and the
// NIST curves' fast modular reduction (ECDSA P-256/P-384, algorithms 13 and 14).
#ifndef DNSBOX_MBEDTLS_CONFIG_H
#define DNSBOX_MBEDTLS_CONFIG_H

#include "mbedtls/mbedtls_config_port.h"

#define MBEDTLS_HAVE_ASM
#define MBEDTLS_ECP_NIST_OPTIM
// ALPN (RFC 7301): h2 / http/1.1 on the DoH port, dot on the DoT port (modtls_alpn.patch)
#define MBEDTLS_SSL_ALPN

#endif
