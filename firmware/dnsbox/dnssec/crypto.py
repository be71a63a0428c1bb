"""The signature checks and digests of DNSSEC, from maintained libraries (no cryptography of our
own): in the firmware the C module dnscrypto (board/cmodules: Nettle over GMP); under CPython
(tests, host tools) the `cryptography` package. Keys and signatures in their DNSKEY/RRSIG wire
forms (RFC 3110, 6605, 8080).

verify(alg, key, data, sig) -> bool   False: bad signature or malformed key
                                      Unsupported: an algorithm not offered here
digest(kind, data) -> bytes           DS digest types 1 SHA-1, 2 SHA-256, 4 SHA-384
nsec3(name, salt, iterations)         RFC 5155 5 (SHA-1, the only NSEC3 hash)
ALGORITHMS                            the algorithm numbers verify() takes
"""


class Unsupported(ValueError):
    pass


try:  # the firmware's C module
    import dnscrypto as _c
except ImportError:  # CPython: the cryptography package
    _c = None

if _c is not None:
    ALGORITHMS = _c.ALGORITHMS

    def verify(alg, key, data, sig):
        if alg not in ALGORITHMS:
            raise Unsupported("algorithm %d" % alg)
        return _c.verify(alg, key, data, sig)

    def digest(kind, data):
        if kind not in (1, 2, 4):
            raise Unsupported("digest type %d" % kind)
        return _c.digest(kind, data)

    def nsec3(name, salt, iterations):
        return _c.nsec3(name, salt, iterations)

else:
    import hashlib

    ALGORITHMS = (5, 7, 8, 10, 13, 14, 15, 16)
    _DIGESTS = {1: "sha1", 2: "sha256", 4: "sha384"}

    def digest(kind, data):
        if kind not in _DIGESTS:
            raise Unsupported("digest type %d" % kind)
        return hashlib.new(_DIGESTS[kind], bytes(data)).digest()

    def nsec3(name, salt, iterations):
        h = hashlib.sha1(bytes(name) + bytes(salt)).digest()
        for _ in range(iterations):
            h = hashlib.sha1(h + bytes(salt)).digest()
        return h

    def verify(alg, key, data, sig):
        from cryptography.exceptions import InvalidSignature

        if alg not in ALGORITHMS:
            raise Unsupported("algorithm %d" % alg)
        try:
            _verify(alg, bytes(key), bytes(data), bytes(sig))
        except (InvalidSignature, ValueError, IndexError):
            return False
        return True

    def _verify(alg, key, data, sig):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

        if alg in (5, 7, 8, 10):
            h = {5: hashes.SHA1(), 7: hashes.SHA1(), 8: hashes.SHA256(), 10: hashes.SHA512()}[alg]
            n = key[0]
            off = 1
            if n == 0:
                n = (key[1] << 8) | key[2]
                off = 3
            e = int.from_bytes(key[off : off + n], "big")
            mod = key[off + n :]
            if not mod or not e:
                raise ValueError("malformed RSA key")
            pub = rsa.RSAPublicNumbers(e, int.from_bytes(mod, "big")).public_key()
            pub.verify(sig, data, padding.PKCS1v15(), h)
        elif alg in (13, 14):
            size = 32 if alg == 13 else 48
            if len(key) != 2 * size or len(sig) != 2 * size:
                raise ValueError("malformed ECDSA key or signature")
            curve = ec.SECP256R1() if alg == 13 else ec.SECP384R1()
            pub = ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + key)
            der = encode_dss_signature(int.from_bytes(sig[:size], "big"),
                                       int.from_bytes(sig[size:], "big"))
            pub.verify(der, data, ec.ECDSA(hashes.SHA256() if alg == 13 else hashes.SHA384()))
        elif alg == 15:
            ed25519.Ed25519PublicKey.from_public_bytes(key).verify(sig, data)
        else:
            ed448.Ed448PublicKey.from_public_bytes(key).verify(sig, data)
