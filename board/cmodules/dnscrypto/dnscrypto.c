// dnscrypto: the signature checks and digests DNSSEC validation needs, for MicroPython.
//
// A thin binding, no cryptography of its own: everything comes from Nettle 3 (libhogweed for
// the public-key algorithms, over GMP; libnettle for the digests), Debian's nettle-dev and
// libgmp-dev linked statically. Keys and signatures are taken in their DNSKEY / RRSIG wire forms:
//   RSA   RFC 3110 2: exponent length (1 byte, or 0 then 2 bytes), exponent, modulus
//   ECDSA RFC 6605 4: the point's X and Y (32 or 48 bytes each); signature r || s
//   EdDSA RFC 8080 3: the 32- or 57-byte public key; 64- or 114-byte signature
//
// verify(alg, key, data, sig) -> bool   False for a bad signature or a malformed key;
//                                       ValueError for an algorithm not offered here
// digest(kind, data) -> bytes           kind as a DS digest type: 1 SHA-1, 2 SHA-256, 4 SHA-384
// nsec3(name, salt, iterations) -> bytes  RFC 5155 5: H(...H(H(name|salt)|salt)...) with SHA-1
// ALGORITHMS                            the algorithm numbers verify() takes

#include <string.h>

#include "py/runtime.h"
#include "py/objstr.h"

#include <nettle/bignum.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecdsa.h>
#include <nettle/eddsa.h>
#include <nettle/rsa.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>

// DNSSEC algorithm numbers (IANA registry).
#define ALG_RSASHA1 (5)
#define ALG_RSASHA1_NSEC3 (7)
#define ALG_RSASHA256 (8)
#define ALG_RSASHA512 (10)
#define ALG_ECDSAP256 (13)
#define ALG_ECDSAP384 (14)
#define ALG_ED25519 (15)
#define ALG_ED448 (16)

#define MAX_RSA_BYTES (512)  // a 4096-bit modulus: longer keys are refused (RFC 3110 allows 4096)
#define MAX_HASH (SHA512_DIGEST_SIZE)

// DS digest types, and the hashes the RSA and ECDSA algorithms sign with
#define HASH_SHA1 (1)
#define HASH_SHA256 (2)
#define HASH_SHA384 (4)
#define HASH_SHA512 (100)  // not a DS digest type: RSA/SHA-512 only

static size_t hash_of(int kind, const byte *data, size_t len, byte *out) {
    switch (kind) {
        case HASH_SHA1: {
            struct sha1_ctx c;
            sha1_init(&c);
            sha1_update(&c, len, data);
            sha1_digest(&c, SHA1_DIGEST_SIZE, out);
            return SHA1_DIGEST_SIZE;
        }
        case HASH_SHA256: {
            struct sha256_ctx c;
            sha256_init(&c);
            sha256_update(&c, len, data);
            sha256_digest(&c, SHA256_DIGEST_SIZE, out);
            return SHA256_DIGEST_SIZE;
        }
        case HASH_SHA384: {
            struct sha384_ctx c;
            sha384_init(&c);
            sha384_update(&c, len, data);
            sha384_digest(&c, SHA384_DIGEST_SIZE, out);
            return SHA384_DIGEST_SIZE;
        }
        case HASH_SHA512: {
            struct sha512_ctx c;
            sha512_init(&c);
            sha512_update(&c, len, data);
            sha512_digest(&c, SHA512_DIGEST_SIZE, out);
            return SHA512_DIGEST_SIZE;
        }
        default:
            return 0;
    }
}

static bool rsa_verify(int hash, const byte *key, size_t klen, const byte *data, size_t dlen,
    const byte *sig, size_t slen) {
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
    if (nlen == 0 || nlen > MAX_RSA_BYTES || slen != nlen || elen > nlen) {
        return false;
    }
    byte h[MAX_HASH];
    hash_of(hash, data, dlen, h);
    struct rsa_public_key pub;
    mpz_t s;
    rsa_public_key_init(&pub);
    nettle_mpz_set_str_256_u(pub.n, nlen, n);
    nettle_mpz_set_str_256_u(pub.e, elen, e);
    nettle_mpz_init_set_str_256_u(s, slen, sig);
    bool ok = false;
    if (rsa_public_key_prepare(&pub)) {
        switch (hash) {
            case HASH_SHA1:
                ok = rsa_sha1_verify_digest(&pub, h, s);
                break;
            case HASH_SHA256:
                ok = rsa_sha256_verify_digest(&pub, h, s);
                break;
            default:
                ok = rsa_sha512_verify_digest(&pub, h, s);
                break;
        }
    }
    mpz_clear(s);
    rsa_public_key_clear(&pub);
    return ok;
}

static bool ecdsa_verify_wire(const struct ecc_curve *curve, int hash, size_t size,
    const byte *key, size_t klen, const byte *data, size_t dlen, const byte *sig, size_t slen) {
    if (klen != 2 * size || slen != 2 * size) {
        return false;
    }
    byte h[MAX_HASH];
    size_t hlen = hash_of(hash, data, dlen, h);
    struct ecc_point pub;
    struct dsa_signature rs;
    mpz_t x, y;
    nettle_mpz_init_set_str_256_u(x, size, key);
    nettle_mpz_init_set_str_256_u(y, size, key + size);
    ecc_point_init(&pub, curve);
    dsa_signature_init(&rs);
    nettle_mpz_set_str_256_u(rs.r, size, sig);
    nettle_mpz_set_str_256_u(rs.s, size, sig + size);
    // ecc_point_set refuses a point that is not on the curve
    bool ok = ecc_point_set(&pub, x, y) && ecdsa_verify(&pub, hlen, h, &rs);
    dsa_signature_clear(&rs);
    ecc_point_clear(&pub);
    mpz_clear(y);
    mpz_clear(x);
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
            ok = rsa_verify(HASH_SHA1, k, key.len, d, data.len, s, sig.len);
            break;
        case ALG_RSASHA256:
            ok = rsa_verify(HASH_SHA256, k, key.len, d, data.len, s, sig.len);
            break;
        case ALG_RSASHA512:
            ok = rsa_verify(HASH_SHA512, k, key.len, d, data.len, s, sig.len);
            break;
        case ALG_ECDSAP256:
            ok = ecdsa_verify_wire(nettle_get_secp_256r1(), HASH_SHA256, 32, k, key.len, d,
                data.len, s, sig.len);
            break;
        case ALG_ECDSAP384:
            ok = ecdsa_verify_wire(nettle_get_secp_384r1(), HASH_SHA384, 48, k, key.len, d,
                data.len, s, sig.len);
            break;
        case ALG_ED25519:
            ok = key.len == ED25519_KEY_SIZE && sig.len == ED25519_SIGNATURE_SIZE
                && ed25519_sha512_verify(k, data.len, d, s);
            break;
        case ALG_ED448:
            ok = key.len == ED448_KEY_SIZE && sig.len == ED448_SIGNATURE_SIZE
                && ed448_shake256_verify(k, data.len, d, s);
            break;
        default:
            mp_raise_ValueError(MP_ERROR_TEXT("algorithm not offered"));
    }
    return mp_obj_new_bool(ok);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(dnscrypto_verify_obj, 4, 4, dnscrypto_verify);

static mp_obj_t dnscrypto_digest(mp_obj_t kind_in, mp_obj_t data_in) {
    mp_int_t kind = mp_obj_get_int(kind_in);
    if (kind != HASH_SHA1 && kind != HASH_SHA256 && kind != HASH_SHA384) {
        mp_raise_ValueError(MP_ERROR_TEXT("digest type not offered"));
    }
    mp_buffer_info_t data;
    mp_get_buffer_raise(data_in, &data, MP_BUFFER_READ);
    byte h[MAX_HASH];
    size_t hlen = hash_of(kind, data.buf, data.len, h);
    return mp_obj_new_bytes(h, hlen);
}
static MP_DEFINE_CONST_FUN_OBJ_2(dnscrypto_digest_obj, dnscrypto_digest);

static mp_obj_t dnscrypto_nsec3(mp_obj_t name_in, mp_obj_t salt_in, mp_obj_t iter_in) {
    mp_buffer_info_t name, salt;
    mp_get_buffer_raise(name_in, &name, MP_BUFFER_READ);
    mp_get_buffer_raise(salt_in, &salt, MP_BUFFER_READ);
    mp_int_t iterations = mp_obj_get_int(iter_in);
    if (name.len > 255 || salt.len > 255 || iterations < 0 || iterations > 65535) {
        mp_raise_ValueError(MP_ERROR_TEXT("bad NSEC3 hash input"));
    }
    byte h[SHA1_DIGEST_SIZE];
    struct sha1_ctx c;
    sha1_init(&c);
    sha1_update(&c, name.len, name.buf);
    sha1_update(&c, salt.len, salt.buf);
    sha1_digest(&c, SHA1_DIGEST_SIZE, h);
    for (mp_int_t i = 0; i < iterations; i++) {
        sha1_update(&c, SHA1_DIGEST_SIZE, h);  // sha1_digest left c ready for the next hash
        sha1_update(&c, salt.len, salt.buf);
        sha1_digest(&c, SHA1_DIGEST_SIZE, h);
    }
    return mp_obj_new_bytes(h, SHA1_DIGEST_SIZE);
}
static MP_DEFINE_CONST_FUN_OBJ_3(dnscrypto_nsec3_obj, dnscrypto_nsec3);

static const mp_rom_obj_tuple_t dnscrypto_algorithms_obj = {
    {&mp_type_tuple},
    8,
    {
        MP_ROM_INT(ALG_RSASHA1), MP_ROM_INT(ALG_RSASHA1_NSEC3), MP_ROM_INT(ALG_RSASHA256),
        MP_ROM_INT(ALG_RSASHA512), MP_ROM_INT(ALG_ECDSAP256), MP_ROM_INT(ALG_ECDSAP384),
        MP_ROM_INT(ALG_ED25519), MP_ROM_INT(ALG_ED448),
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
