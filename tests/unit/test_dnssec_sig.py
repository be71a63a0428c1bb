"""RRSIG checks (dnsbox.dnssec.sig) on published examples: RSA/SHA-1 (dnspython's test zone),
ECDSA P-256 and P-384, Ed25519 (RFC 8080 6): each verifies at its time, fails for other data,
outside its validity period, with another key; the key tag and the DS digest. Runs under both
interpreters (the firmware's dnscrypto module, CPython's cryptography)."""
from dnsbox.dnssec import crypto
from dnsbox.dnssec import sig as S
from dnsbox.wire import rdata
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.wire.rr import RR


def rr(owner, ttl, rtype, text):
    n = Name.from_text(owner)
    return RR(n, rtype, T.CLASS_IN, ttl, rdata.from_text(rtype, text, n))


def budget():
    return [16, 4]


RSA_KEYS = [rr("dnspython.org.", 3600, T.DNSKEY,
               "257 3 5 AwEAAenVTr9L1OMlL1/N2ta0Qj9LLLnnmFWIr1dJoAsWM9BQfsbV7kFZ"
               "XbAkER/FY9Ji2o7cELxBwAsVBuWn6IUUAJXLH74YbC1anY0lifjgt29z"
               "SwDzuB7zmC7yVYZzUunBulVW4zT0tg1aePbpVL2EtTL8VzREqbJbE25R"
               "KuQYHZtFwG8S4iBxJUmT2Bbd0921LLxSQgVoFXlQx/gFV2+UERXcJ5ce"
               "iX6A6wc02M/pdg/YbJd2rBa0MYL3/Fz/Xltre0tqsImZGxzi6YtYDs45"
               "NC8gH+44egz82e2DATCVM1ICPmRDjXYTLldQiWA2ZXIWnK0iitl5ue247EsWJefrIhE="),
            rr("dnspython.org.", 3600, T.DNSKEY,
               "256 3 5 AwEAAdSSghOGjU33IQZgwZM2Hh771VGXX05olJK49FxpSyuEAjDBXY58"
               "LGU9R2Zgeecnk/b9EAhFu/vCV9oECtiTCvwuVAkt9YEweqYDluQInmgP"
               "NGMJCKdSLlnX93DkjDw8rMYv5dqXCuSGPlKChfTJOLQxIAxGloS7lL+c0CTZydAF")]
RSA_SOA = [rr("dnspython.org.", 3600, T.SOA,
              "howl.dnspython.org. hostmaster.dnspython.org. 2010020047 3600 1800 604800 3600")]
RSA_OTHER = [rr("dnspython.org.", 3600, T.SOA,
                "foo.dnspython.org. hostmaster.dnspython.org. 2010020047 3600 1800 604800 3600")]
RSA_SIG = [rr("dnspython.org.", 3600, T.RRSIG,
              "SOA 5 2 3600 20101127004331 20101119213831 61695 dnspython.org. "
              "sDUlltRlFTQw5ITFxOXW3TgmrHeMeNpdqcZ4EXxM9FHhIlte6V9YCnDw"
              "t6dvM9jAXdIEi03l9H/RAd9xNNW6gvGMHsBGzpvvqFQxIBR2PoiZA1mX"
              "/SWHZFdbt4xjYTtXqpyYvrMK0Dt7bUYPadyhPFCJ1B+I8Zi7B5WJEOd08vs=")]
RSA_WHEN = 1290250287

P256_KEYS = [rr("example.", 86400, T.DNSKEY,
                "256 3 13 +3ss1sCpdARVA61DJigEsL/8quo2a8MszKtn2gkkfxgzFs8S2UHtpb4N"
                "fY+XFmNW+JK6MsCkI3jHYN8eEQUgMw=="),
             rr("example.", 86400, T.DNSKEY,
                "257 3 13 eJCEVH7AS3wnoaQpaNlAXH0W8wxymtT9P6P3qjN2ZCV641ED8pF7wZ5V"
                "yWfOpgTs6oaZevbJgehl/GaRPUgVyQ==")]
P256_SOA = [rr("example.", 86400, T.SOA, "ns1.example. hostmaster.example. 4 10800 3600 "
                                         "604800 86400")]
P256_SIG = [rr("example.", 86400, T.RRSIG,
               "SOA 13 1 86400 20130921221753 20130921221638 7460 example. "
               "Sm09SOGz1ULB5D/duwdE2Zpn8bWbVBM77H6N1wPkc42LevvVO+kZEjpq"
               "2nq4GOMJcih52667GIAbMrwmU5P2MQ==")]
P256_WHEN = 1379801800

P384_KEYS = [rr("example.", 86400, T.DNSKEY,
                "256 3 14 1bG8qWviKNXQX3BIuG6/T5jrP1FISiLW/8qGF6BsM9DQtWYhhZUA3Owr"
                "OAEiyHAhQwjkN2kTvWiAYoPN80Ii+5ff9/atzY4F9W50P4l75Dj9PYrLHN/hLUgWMNVc9pvA"),
             rr("example.", 86400, T.DNSKEY,
                "257 3 14 mSub2n0KRt6u2FaD5XJ3oQu0R4XvB/9vUJcyW6+oo0y+KzfQeTdkf1ro"
                "ZMVKoyWXW9zUKBYGJpMUIdbAxzrYi7f5HyZ3yDpBFz1hw9+o3CX+gtgb+RyhHfJDwwFXBid9")]
P384_SOA = [rr("example.", 86400, T.SOA, "ns1.example. hostmaster.example. 2 10800 3600 "
                                         "604800 86400")]
P384_SIG = [rr("example.", 86400, T.RRSIG,
               "SOA 14 1 86400 20130929021229 20130921230729 63571 example. "
               "CrnCu34EeeRz0fEhL9PLlwjpBKGYW8QjBjFQTwd+ViVLRAS8tNkcDwQE"
               "NhSV89NEjj7ze1a/JcCfcJ+/mZgnvH4NHLNg3Tf6KuLZsgs2I4kKQXEk37oIHravPEOlGYNI")]
P384_WHEN = 1379804850

# RFC 8080 6.1 and 6.2: two Ed25519 keys, the same MX RRset signed by each
ED_MX = [rr("example.com.", 3600, T.MX, "10 mail.example.com.")]
ED_OTHER = [rr("example.com.", 3600, T.MX, "11 mail.example.com.")]
ED_KEYS_1 = [rr("example.com.", 3600, T.DNSKEY,
                "257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=")]
ED_SIG_1 = [rr("example.com.", 3600, T.RRSIG,
               "MX 15 2 3600 1440021600 1438207200 3613 example.com. "
               "oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg==")]
ED_KEYS_2 = [rr("example.com.", 3600, T.DNSKEY,
                "257 3 15 zPnZ/QwEe7S8C5SPz2OfS5RR40ATk2/rYnE9xHIEijs=")]
ED_SIG_2 = [rr("example.com.", 3600, T.RRSIG,
               "MX 15 2 3600 1440021600 1438207200 35217 example.com. "
               "zXQ0bkYgQTEFyfLyi9QoiY6D8ZdYo4wyUhVioYZXFdT410QPRITQSqJSnzQoSm5poJ7gD7AQR0O7KuI5k2pcBg==")]
ED_WHEN = 1439000000

CASES = [
    ("RSA/SHA-1", RSA_SOA, RSA_OTHER, RSA_SIG, RSA_KEYS, RSA_WHEN),
    ("ECDSA P-256", P256_SOA, P384_SOA, P256_SIG, P256_KEYS, P256_WHEN),
    ("ECDSA P-384", P384_SOA, P256_SOA, P384_SIG, P384_KEYS, P384_WHEN),
    ("Ed25519 (RFC 8080) 1", ED_MX, ED_OTHER, ED_SIG_1, ED_KEYS_1, ED_WHEN),
    ("Ed25519 (RFC 8080) 2", ED_MX, ED_OTHER, ED_SIG_2, ED_KEYS_2, ED_WHEN),
]


def test_published_signatures_verify():
    for what, rrs, _other, sigs, keys, when in CASES:
        status, code, text = S.check(rrs, sigs, keys, when, budget())
        assert status == S.SECURE, (what, code, text)


def test_other_data_fails():
    for what, _rrs, other, sigs, keys, when in CASES:
        status, code, _t = S.check(other, sigs, keys, when, budget())
        assert status == S.BOGUS and code in (S.EDE_BOGUS,), what


def test_validity_period_and_key():
    for what, rrs, _other, sigs, keys, _when in CASES:
        s = sigs[0].rdata
        assert S.check(rrs, sigs, keys, s.expiration + 1, budget())[:2] == (
            S.BOGUS, S.EDE_EXPIRED), what
        assert S.check(rrs, sigs, keys, s.inception - 1, budget())[:2] == (
            S.BOGUS, S.EDE_NOT_YET_VALID), what
        assert S.check(rrs, [], keys, s.inception, budget())[:2] == (
            S.BOGUS, S.EDE_RRSIGS_MISSING), what
    # the other Ed25519 key: no key with that tag
    assert S.check(ED_MX, ED_SIG_1, ED_KEYS_2, ED_WHEN, budget())[:2] == (
        S.BOGUS, S.EDE_DNSKEY_MISSING)


def test_key_tags():
    assert [S.key_tag(k.rdata) for k in ED_KEYS_1 + ED_KEYS_2] == [3613, 35217]
    assert S.key_tag(P256_KEYS[0].rdata) == 7460 and S.key_tag(P384_KEYS[0].rdata) == 63571
    assert S.key_tag(RSA_KEYS[1].rdata) == 61695


def test_budget_stops_the_checks():
    status, code, text = S.check(RSA_SOA, RSA_SIG, RSA_KEYS, RSA_WHEN, [0, 0])
    assert status == S.BOGUS and "too many" in text


def test_ds_digests():
    # DS digests of the RFC 8080 key, as dnspython's dns.dnssec.make_ds computes them
    # (SHA-256 and SHA-384), and the DS match
    owner = Name.from_text("example.com.").lc
    k = ED_KEYS_1[0]
    d2 = S.ds_digest(owner, k.rdata, 2)
    assert len(d2) == 32 and len(S.ds_digest(owner, k.rdata, 4)) == 48
    assert len(S.ds_digest(owner, k.rdata, 1)) == 20
    ds = rr("example.com.", 3600, T.DS, "3613 15 2 " + "".join("%02x" % b for b in d2))
    assert S.ds_matches(owner, ED_KEYS_1 + ED_KEYS_2, [ds], budget()) == ([k], True)
    unknown = rr("example.com.", 3600, T.DS, "3613 15 3 " + "00" * 32)  # GOST: not offered
    assert S.ds_matches(owner, ED_KEYS_1, [unknown], budget()) == ([], False)


def test_wildcard_owner():
    n = Name.from_text("a.b.example.com.").lc
    assert S.signed_owner(n, 4) == n
    assert S.signed_owner(n, 3) == Name.from_text("*.b.example.com.").lc
    assert S.signed_owner(n, 2) == Name.from_text("*.example.com.").lc
    assert S.signed_owner(n, 5) is None


def test_nsec3_hash_rfc5155_appendix():
    # RFC 5155 Appendix A: H(example) with salt aabbccdd, 12 iterations
    h = crypto.nsec3(Name.from_text("example.").lc, b"\xaa\xbb\xcc\xdd", 12)
    assert _b32hex(h) == "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"


def _b32hex(b):
    digits = "0123456789abcdefghijklmnopqrstuv"
    n = int.from_bytes(b, "big")
    out = []
    for _ in range(len(b) * 8 // 5):
        out.append(digits[n & 31])
        n >>= 5
    return "".join(reversed(out))
