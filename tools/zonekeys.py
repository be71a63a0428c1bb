#!/usr/bin/env python3
"""Makes a zone's signing keys: a KSK (flags 257) and a ZSK (256), in BIND's key file format.

  python3 tools/zonekeys.py ORIGIN [--alg 13|8|15] [--keys DIR] [--cds]

The keys go to DIR (default: $DNSBOX_KEYS, else keys/ at the repository root; made with mode
0700 if missing) as K<origin>+<alg>+<tag>.key and .private (mode 0600), the files
dnssec-keygen writes; existing files are never overwritten. Algorithm 13 (ECDSA P-256 with
SHA-256) by default, 8 (RSA/SHA-256, 2048 bits) or 15 (Ed25519) on request.

stdout gets the DS record (digest type 2, SHA-256) to give to the parent zone and, with --cds,
the CDS and CDNSKEY records to add to the zone's apex (RFC 7344: a parent that scans for them
can take the DS from there); stderr says which files were written. The next build signs the
zone (tools/crunch.py --keys DIR). Errors are one line on stderr, exit status 1.
"""

import base64
import os
import sys
import time

import keyfile  # first: it quiets a warning printed on importing dns.dnssec
from keyfile import SignError

import dns.dnssec
import dns.exception
import dns.name

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DS_DIGEST = 2  # SHA-256 (RFC 4509): what every parent accepts
TAG_TRIES = 20  # new keys made when a key tag collides with one in use (RFC 4034 B.1)

USAGE = "usage: zonekeys.py ORIGIN [--alg %s] [--keys DIR] [--cds]\n" % "|".join(
    str(a) for a in keyfile.ALGORITHMS)


def default_keys_dir():
    return os.environ.get("DNSBOX_KEYS") or os.path.join(ROOT, "keys")


def ds_line(origin, dnskey, rtype="DS"):
    """The DS record as dnssec-dsfromkey -2 prints it (or the same digest as a CDS)."""
    ds = dns.dnssec.make_ds(origin, dnskey, "SHA256")
    return "%s IN %s %d %d %d %s" % (origin, rtype, ds.key_tag, ds.algorithm, ds.digest_type,
                                    ds.digest.hex().upper())


def cds_lines(origin, dnskey):
    """The CDS and CDNSKEY records of a KSK (RFC 7344)."""
    key = base64.b64encode(dnskey.key).decode()
    return [ds_line(origin, dnskey, "CDS"), "%s IN CDNSKEY %d %d %d %s" % (
        origin, dnskey.flags, dnskey.protocol, dnskey.algorithm, key)]


def _tags_in_use(keys_dir, origin):
    tags = set()
    for base in keyfile.bases_for(keys_dir, origin):
        tags.add(int(base.rsplit("+", 1)[1]))
    return tags


def make_keys(keys_dir, origin, algorithm, now):
    """Makes and writes the KSK and the ZSK; returns their (base path, DNSKEY) pairs."""
    used = _tags_in_use(keys_dir, origin)
    out = []
    for ksk in (True, False):
        for _ in range(TAG_TRIES):
            private, dnskey = keyfile.generate(algorithm, ksk)
            tag = dns.dnssec.key_id(dnskey)
            if tag not in used:
                break
        else:
            raise SignError("%s: no free key tag after %d keys" % (keys_dir, TAG_TRIES))
        used.add(tag)
        out.append((keyfile.write_pair(keys_dir, origin, dnskey, private, now), dnskey))
    return out


def _args(argv):
    """(origin, algorithm, keys_dir, cds) or a usage error message."""
    origin, algorithm, keys_dir, cds = None, keyfile.DEFAULT_ALGORITHM, None, False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--alg", "--keys") and i + 1 < len(argv):
            if a == "--keys":
                keys_dir = argv[i + 1]
            elif argv[i + 1].isdigit() and int(argv[i + 1]) in keyfile.ALGORITHMS:
                algorithm = int(argv[i + 1])
            else:
                return "algorithm %s is not offered (use %s)" % (
                    argv[i + 1], ", ".join(str(x) for x in keyfile.ALGORITHMS))
            i += 2
            continue
        if a == "--cds":
            cds = True
        elif a.startswith("-") or origin is not None:
            return "unexpected argument %s" % a
        else:
            origin = a
        i += 1
    if origin is None:
        return "no ORIGIN given"
    return origin, algorithm, keys_dir or default_keys_dir(), cds


def main(argv):
    got = _args(argv)
    if isinstance(got, str):
        sys.stderr.write("zonekeys: %s\n%s" % (got, USAGE))
        return 2
    text, algorithm, keys_dir, cds = got
    try:
        origin = dns.name.from_text(text.lower())
    except dns.exception.DNSException as e:
        sys.stderr.write("zonekeys: %s: not a domain name: %s\n" % (text, e))
        return 1
    try:
        if not os.path.isdir(keys_dir):
            os.makedirs(keys_dir, mode=0o700)
        made = make_keys(keys_dir, origin, algorithm, int(time.time()))
    except SignError as e:
        sys.stderr.write("zonekeys: %s\n" % e)
        return 1
    except OSError as e:
        sys.stderr.write("zonekeys: %s: %s\n" % (keys_dir, e.strerror))
        return 1
    for base, dnskey in made:
        sys.stderr.write("zonekeys: wrote %s.key and .private (%s, flags %d, algorithm %s)\n" % (
            base, "KSK" if dnskey.flags & keyfile.FLAG_SEP else "ZSK", dnskey.flags,
            keyfile.algorithm_text(algorithm)))
    ksk = made[0][1]
    print("; the DS record for the parent zone of %s (digest type %d, SHA-256):" % (
        origin, DS_DIGEST))
    print(ds_line(origin, ksk))
    if cds:
        print("; CDS and CDNSKEY for the apex of %s (add them to its zone file):" % origin)
        for line in cds_lines(origin, ksk):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
