// dnscrypto: the signature checks and digests DNSSEC validation needs, for MicroPython.
//
// A thin binding, no cryptography of its own: RSA (PKCS #1 v1.5) and ECDSA verification and
// the SHA digests come from mbedTLS 3.6 (the library the firmware's TLS already links), Ed25519
// from libsodium. Keys and signatures are taken in their DNSKEY / RRSIG wire forms:
//   RSA   RFC 3110 2: exponent length (1 byte, or 0 then 2 bytes), exponent, modulus
//   ECDSA RFC 6605 4: the point's X and Y (32 or 48 bytes each); signature r || s
//   EdDSA RFC 8080 3: the 32-byte public key; 64-byte signature
//
// verify(alg, key, data, sig) -> bool   False for a bad signature or a malformed key;
//                                       ValueError for an algorithm not offered here
// digest(kind, data) -> bytes           kind as a DS digest type: 1 SHA-1, 2 SHA-256, 4 SHA-384
// nsec3(name, salt, iterations) -> bytes  RFC 5155 5: H(...H(H(name|salt)|salt)...) with SHA-1
// ALGORITHMS                            the algorithm numbers verify() takes

#include <string.h>

#include "py/runtime.h"
#include "py/objstr.h"

#include "mbedtls/md.h"
#include "mbedtls/rsa.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/bignum.h"

#if DNSCRYPTO_SODIUM
#include <sodium.h>
static bool sodium_ready;
#endif

// DNSSEC algorithm numbers (IANA registry).
#define ALG_RSASHA1 (5)
#define ALG_RSASHA1_NSEC3 (7)
#define ALG_RSASHA256 (8)
#define ALG_RSASHA512 (10)
#define ALG_ECDSAP256 (13)
#define ALG_ECDSAP384 (14)
#define ALG_ED25519 (15)

#define MAX_RSA_BYTES (512)  // a 4096-bit modulus: longer keys are refused (RFC 3110 allows 4096)
#define MAX_HASH (64)

static const mbedtls_md_info_t *md_for(mbedtls_md_type_t t) {
    return mbedtls_md_info_from_type(t);
}

static bool hash_of(mbedtls_md_type_t t, const byte *data, size_t len, byte *out, size_t *olen) {
    const mbedtls_md_info_t *info = md_for(t);
    if (info == NULL || mbedtls_md(info, data, len, out) != 0) {
        return false;
    }
    *olen = mbedtls_md_get_size(info);
    return true;
}

static bool rsa_verify(mbedtls_md_type_t t, const byte *key, size_t klen, const byte *data,
    size_t dlen, const byte *sig, size_t slen) {
    // RFC 3110 2: the exponent's length first
    if (klen < 1) {
        return false;
    }
    size_t elen = key[0];
    size_t off = 1;
    if (elen == 0) {
        if (klen < 3) {
            return false;
        }
        elen = ((size_t)key[1] << 8) | key[2];
        off = 3;
    }
    if (elen == 0 || off + elen >= klen) {
        return false;
    }
    const byte *e = key + off;
    const byte *n = key + off + elen;
    size_t nlen = klen - off - elen;
    while (nlen > 0 && *n == 0) {  // leading zero bytes are not part of the modulus' length
        n++;
        nlen--;
    }
    if (nlen == 0 || nlen > MAX_RSA_BYTES || slen != nlen) {
        return false;
    }
    byte h[MAX_HASH];
    size_t hlen;
    if (!hash_of(t, data, dlen, h, &hlen)) {
        return false;
    }
    mbedtls_rsa_context rsa;
    mbedtls_rsa_init(&rsa);
    bool ok = mbedtls_rsa_import_raw(&rsa, n, nlen, NULL, 0, NULL, 0, NULL, 0, e, elen) == 0
        && mbedtls_rsa_complete(&rsa) == 0
        && mbedtls_rsa_check_pubkey(&rsa) == 0
        && mbedtls_rsa_pkcs1_verify(&rsa, t, (unsigned int)hlen, h, sig) == 0;
    mbedtls_rsa_free(&rsa);
    return ok;
}

static bool ecdsa_verify(mbedtls_ecp_group_id gid, mbedtls_md_type_t t, size_t size,
    const byte *key, size_t klen, const byte *data, size_t dlen, const byte *sig, size_t slen) {
    if (klen != 2 * size || slen != 2 * size) {
        return false;
    }
    byte h[MAX_HASH];
    size_t hlen;
    if (!hash_of(t, data, dlen, h, &hlen)) {
        return false;
    }
    byte point[1 + 2 * 48];
    point[0] = 0x04;  // an uncompressed point (SEC 1 2.3.3)
    memcpy(point + 1, key, klen);
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi r, s;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    bool ok = mbedtls_ecp_group_load(&grp, gid) == 0
        && mbedtls_ecp_point_read_binary(&grp, &q, point, 1 + klen) == 0
        && mbedtls_ecp_check_pubkey(&grp, &q) == 0
        && mbedtls_mpi_read_binary(&r, sig, size) == 0
        && mbedtls_mpi_read_binary(&s, sig + size, size) == 0
        && mbedtls_ecdsa_verify(&grp, h, hlen, &q, &r, &s) == 0;
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    return ok;
}

static mp_obj_t dnscrypto_verify(size_t n_args, const mp_obj_t *args) {
    mp_int_t alg = mp_obj_get_int(args[0]);
    mp_buffer_info_t key, data, sig;
    mp_get_buffer_raise(args[1], &key, MP_BUFFER_READ);
    mp_get_buffer_raise(args[2], &data, MP_BUFFER_READ);
    mp_get_buffer_raise(args[3], &sig, MP_BUFFER_READ);
    const byte *k = key.buf, *d = data.buf, *s = sig.buf;
    bool ok;
    switch (alg) {
        case ALG_RSASHA1:
        case ALG_RSASHA1_NSEC3:
            ok = rsa_verify(MBEDTLS_MD_SHA1, k, key.len, d, data.len, s, sig.len);
            break;
        case ALG_RSASHA256:
            ok = rsa_verify(MBEDTLS_MD_SHA256, k, key.len, d, data.len, s, sig.len);
            break;
        case ALG_RSASHA512:
            ok = rsa_verify(MBEDTLS_MD_SHA512, k, key.len, d, data.len, s, sig.len);
            break;
        case ALG_ECDSAP256:
            ok = ecdsa_verify(MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_MD_SHA256, 32, k, key.len, d,
                data.len, s, sig.len);
            break;
        case ALG_ECDSAP384:
            ok = ecdsa_verify(MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_MD_SHA384, 48, k, key.len, d,
                data.len, s, sig.len);
            break;
        #if DNSCRYPTO_SODIUM
        case ALG_ED25519:
            if (!sodium_ready) {
                if (sodium_init() < 0) {
                    mp_raise_ValueError(MP_ERROR_TEXT("libsodium failed to start"));
                }
                sodium_ready = true;
            }
            ok = key.len == crypto_sign_ed25519_PUBLICKEYBYTES
                && sig.len == crypto_sign_ed25519_BYTES
                && crypto_sign_ed25519_verify_detached(s, d, data.len, k) == 0;
            break;
        #endif
        default:
            mp_raise_ValueError(MP_ERROR_TEXT("algorithm not offered"));
    }
    return mp_obj_new_bool(ok);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(dnscrypto_verify_obj, 4, 4, dnscrypto_verify);

static mbedtls_md_type_t digest_type(mp_int_t kind) {
    switch (kind) {
        case 1:
            return MBEDTLS_MD_SHA1;
        case 2:
            return MBEDTLS_MD_SHA256;
        case 4:
            return MBEDTLS_MD_SHA384;
        default:
            mp_raise_ValueError(MP_ERROR_TEXT("digest type not offered"));
    }
}

static mp_obj_t dnscrypto_digest(mp_obj_t kind_in, mp_obj_t data_in) {
    mbedtls_md_type_t t = digest_type(mp_obj_get_int(kind_in));
    mp_buffer_info_t data;
    mp_get_buffer_raise(data_in, &data, MP_BUFFER_READ);
    byte h[MAX_HASH];
    size_t hlen;
    if (!hash_of(t, data.buf, data.len, h, &hlen)) {
        mp_raise_ValueError(MP_ERROR_TEXT("digest failed"));
    }
    return mp_obj_new_bytes(h, hlen);
}
static MP_DEFINE_CONST_FUN_OBJ_2(dnscrypto_digest_obj, dnscrypto_digest);

#define MAX_NSEC3_INPUT (255 + 255)  // a name and a salt (each at most 255 bytes)

static mp_obj_t dnscrypto_nsec3(mp_obj_t name_in, mp_obj_t salt_in, mp_obj_t iter_in) {
    mp_buffer_info_t name, salt;
    mp_get_buffer_raise(name_in, &name, MP_BUFFER_READ);
    mp_get_buffer_raise(salt_in, &salt, MP_BUFFER_READ);
    mp_int_t iterations = mp_obj_get_int(iter_in);
    if (name.len > 255 || salt.len > 255 || iterations < 0 || iterations > 65535) {
        mp_raise_ValueError(MP_ERROR_TEXT("bad NSEC3 hash input"));
    }
    const mbedtls_md_info_t *info = md_for(MBEDTLS_MD_SHA1);
    byte buf[MAX_NSEC3_INPUT];
    byte h[20];
    memcpy(buf, name.buf, name.len);
    memcpy(buf + name.len, salt.buf, salt.len);
    if (info == NULL || mbedtls_md(info, buf, name.len + salt.len, h) != 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("digest failed"));
    }
    for (mp_int_t i = 0; i < iterations; i++) {
        memcpy(buf, h, 20);
        memcpy(buf + 20, salt.buf, salt.len);
        if (mbedtls_md(info, buf, 20 + salt.len, h) != 0) {
            mp_raise_ValueError(MP_ERROR_TEXT("digest failed"));
        }
    }
    return mp_obj_new_bytes(h, 20);
}
static MP_DEFINE_CONST_FUN_OBJ_3(dnscrypto_nsec3_obj, dnscrypto_nsec3);

static const mp_rom_obj_tuple_t dnscrypto_algorithms_obj = {
    {&mp_type_tuple},
    #if DNSCRYPTO_SODIUM
    7,
    #else
    6,
    #endif
    {
        MP_ROM_INT(ALG_RSASHA1), MP_ROM_INT(ALG_RSASHA1_NSEC3), MP_ROM_INT(ALG_RSASHA256),
        MP_ROM_INT(ALG_RSASHA512), MP_ROM_INT(ALG_ECDSAP256), MP_ROM_INT(ALG_ECDSAP384),
        #if DNSCRYPTO_SODIUM
        MP_ROM_INT(ALG_ED25519),
        #endif
    },
};

static const mp_rom_map_elem_t dnscrypto_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_dnscrypto) },
    { MP_ROM_QSTR(MP_QSTR_verify), MP_ROM_PTR(&dnscrypto_verify_obj) },
    { MP_ROM_QSTR(MP_QSTR_digest), MP_ROM_PTR(&dnscrypto_digest_obj) },
    { MP_ROM_QSTR(MP_QSTR_nsec3), MP_ROM_PTR(&dnscrypto_nsec3_obj) },
    { MP_ROM_QSTR(MP_QSTR_ALGORITHMS), MP_ROM_PTR(&dnscrypto_algorithms_obj) },
};
static MP_DEFINE_CONST_DICT(dnscrypto_globals, dnscrypto_globals_table);

const mp_obj_module_t dnscrypto_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&dnscrypto_globals,
};

MP_REGISTER_MODULE(MP_QSTR_dnscrypto, dnscrypto_module);
