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

// TLS 1.3 (RFC 8446) beside 1.2 (issue 14), for DNS over TLS and HTTPS served and for the
// forwarder's DNS-over-TLS upstreams: mbedTLS 3.6 does 1.3 through PSA crypto (its HKDF),
// keeps the peer's certificate (1.3 needs it; the upstream SPKI pin reads it), and offers
// the (EC)DHE key exchange only: no PSK, no session tickets (the port sets no ticket keys).
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_HKDF_C
// RSA-PSS: TLS 1.3 signs with it when a server's certificate has an RSA key
#define MBEDTLS_PKCS1_V21

// Certificate dates are the firmware's to check (dnsbox.net.cert, with the NTP clock of
// ntp-server=): the boards boot near 1970 and the firmware cannot set the system clock, which
// is what mbedTLS would read.
#undef MBEDTLS_HAVE_TIME_DATE

#endif
