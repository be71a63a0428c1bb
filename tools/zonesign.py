#!/usr/bin/env python3
"""Signs a zone's master-file text with its keys (the build's signer: tools/crunch.py --keys).

  python3 tools/zonesign.py ZONEFILE [--keys DIR] [--origin ORIGIN] [-o OUT]

The keys are every K<origin>+<alg>+<tag>.key/.private pair in DIR (default: $DNSBOX_KEYS, else
keys/ at the repository root; tools/zonekeys.py makes them, and so do dnssec-keygen and
ldns-keygen): a KSK (flags 257) signs the DNSKEY, CDS and CDNSKEY RRsets, the ZSKs (256) the
rest; a KSK alone signs everything. All keys of a zone must use one algorithm (8, 13 or 15).

The zone's policy is the optional file DIR/<origin>policy (keys/example.com.policy), one
setting a line, `#` comments:

  nsec          authenticated denial with NSEC (the default)
  nsec3         NSEC3 instead: SHA-1, no extra iterations, no salt (RFC 9276)
  opt-out       with nsec3: delegations without DS get no NSEC3 record (RFC 5155 6)
  expiry=30d    how long the signatures stay valid from the build (s, m, h, d or w; default 30d)

Signatures are valid from an hour before the signing (clocks that lag) to the expiry. Signing
is dnspython's (dns.dnssec.sign_zone, `cryptography` underneath); its sign_zone has no NSEC3
yet, so the NSEC3 chain is built here (RFC 5155 7.1) and signed with dns.dnssec.sign.
As a library: load_keys(), read_policy(), sign_text() -> (signed text, Summary). Errors are
SignError, one line naming the file; the command prints it and exits with status 1.
"""

import base64
import os
import re
import sys
import time

import keyfile  # first: it quiets a warning printed on importing dns.dnssec
from keyfile import SignError

import dns.dnssec
import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.NSEC3
import dns.rrset
import dns.zone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POLICY_SUFFIX = "policy"  # DIR/<origin>policy: keys/example.com.policy
ZONE_SUFFIX = ".zone"  # zones/<origin>.zone, as tools/crunch.py names them
DAY = 86400  # seconds
BACKDATE = 3600  # seconds: signatures are valid from an hour before signing (lagging clocks)
DEFAULT_EXPIRY = 30 * DAY  # seconds of validity from signing
MIN_EXPIRY = DAY  # an image serves the signatures it was built with: less leaves no time
MAX_EXPIRY = 366 * DAY  # a signed answer can be replayed until it expires: no longer
NSEC3_HASH = 1  # SHA-1, the only NSEC3 hash (RFC 5155 11)
NSEC3_ITERATIONS = 0  # RFC 9276 3.1: no extra iterations
NSEC3_SALT = b""  # RFC 9276 3.1: no salt
NSEC3_OPT_OUT = 1  # the NSEC3 Opt-Out flag (RFC 5155 3.1.2.1)
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY}
DNSSEC_TYPES = (dns.rdatatype.RRSIG, dns.rdatatype.NSEC, dns.rdatatype.NSEC3,
                dns.rdatatype.NSEC3PARAM)


class Policy:
    """How a zone is signed: NSEC or NSEC3 (with or without opt-out), signature validity."""

    def __init__(self, nsec3=False, opt_out=False, expiry=DEFAULT_EXPIRY):
        self.nsec3 = nsec3
        self.opt_out = opt_out
        self.expiry = expiry

    def denial(self):
        return "NSEC3 (opt-out)" if self.opt_out else "NSEC3" if self.nsec3 else "NSEC"


class Summary:
    """What sign_text did, for the build's log."""

    def __init__(self, origin, keys, policy, inception, expiration):
        self.origin = origin
        self.algorithm = keys[0].algorithm
        self.ksks = sorted(k.tag for k in keys if k.ksk)
        self.zsks = sorted(k.tag for k in keys if not k.ksk)
        self.denial = policy.denial()
        self.inception = inception
        self.expiration = expiration

    def text(self):
        tags = "KSK %s" % ", ".join(str(t) for t in self.ksks)
        if self.zsks:
            tags += ", ZSK %s" % ", ".join(str(t) for t in self.zsks)
        else:
            tags += " (signs everything: no ZSK)"
        return "%s: algorithm %s, %s, %s, valid %s .. %s" % (
            self.origin, keyfile.algorithm_text(self.algorithm), tags, self.denial,
            _date(self.inception), _date(self.expiration))


def _date(t):
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t))


def policy_path(keys_dir, origin):
    return os.path.join(keys_dir, origin.to_text().lower() + POLICY_SUFFIX)


def read_policy(keys_dir, origin):
    """The zone's Policy from DIR/<origin>policy; the defaults when there is no such file."""
    path = policy_path(keys_dir, origin)
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return Policy()
    except (OSError, UnicodeDecodeError) as e:
        raise SignError("%s: cannot read: %s" % (path, e))
    p = Policy()
    for n, line in enumerate(lines, 1):
        word = line.split("#", 1)[0].strip().lower()
        if not word:
            continue
        m = re.match(r"^expiry\s*=\s*(\d+)\s*([smhdw]?)$", word)
        if word in ("nsec", "nsec3"):
            p.nsec3 = word == "nsec3"
        elif word == "opt-out":
            p.opt_out = True
        elif m:
            p.expiry = int(m.group(1)) * UNITS[m.group(2)]
            if not MIN_EXPIRY <= p.expiry <= MAX_EXPIRY:
                raise SignError("%s:%d: expiry %s%s is outside %dd .. %dd" % (
                    path, n, m.group(1), m.group(2), MIN_EXPIRY // DAY, MAX_EXPIRY // DAY))
        else:
            raise SignError("%s:%d: unknown setting %r (nsec, nsec3, opt-out, expiry=30d)" % (
                path, n, line.strip()))
    if p.opt_out and not p.nsec3:
        raise SignError("%s: opt-out needs nsec3" % path)
    return p


def load_keys(keys_dir, origin):
    """The zone's KeyPairs in keys_dir ([] when it has none), checked as a set."""
    keys = [keyfile.read_pair(b, origin) for b in keyfile.bases_for(keys_dir, origin)]
    if not keys:
        return keys
    for k in keys[1:]:
        if k.algorithm != keys[0].algorithm:
            raise SignError("%s.key: algorithm %d, but %s.key has %d: a zone's keys share one"
                            " algorithm" % (k.base, k.algorithm, keys[0].base, keys[0].algorithm))
    if not any(k.ksk for k in keys):
        raise SignError("%s.key: a ZSK (flags 256) but no KSK (flags 257) for %s in %s" % (
            keys[0].base, origin, keys_dir))
    return keys


# ---------------------------------------------------------------- signing


def sign_text(text, origin, keys, policy, now, file="<zone>"):
    """The zone in master-file text signed with keys (KeyPairs) under policy at time now (UNIX
    seconds): (signed master-file text, Summary)."""
    try:
        zone = dns.zone.from_text(text, origin, relativize=False, filename=file)
    except (dns.exception.DNSException, ValueError) as e:
        raise SignError("%s: %s" % (file, e) if file not in str(e) else str(e))
    for name, node in zone.nodes.items():
        for rds in node.rdatasets:
            if rds.rdtype in DNSSEC_TYPES:
                raise SignError("%s: %s has %s records: give the signer an unsigned zone" % (
                    file, name, dns.rdatatype.to_text(rds.rdtype)))
    inception, expiration = now - BACKDATE, now + policy.expiry
    soa = zone.get_rdataset(origin, dns.rdatatype.SOA)
    neg_ttl = min(soa.ttl, soa[0].minimum)  # RFC 9077: the TTL of NSEC and NSEC3 records
    pairs = [(k.private, k.dnskey) for k in keys]
    ksks = [p for p in pairs if p[1].flags & keyfile.FLAG_SEP]
    zsks = [p for p in pairs if not p[1].flags & keyfile.FLAG_SEP] or ksks

    def sign(txn, rrset):
        dns.dnssec.default_rrset_signer(txn, rrset, origin, ksks, zsks, inception=inception,
                                        expiration=expiration, origin=origin)

    def sign_or_skip(txn, rrset):
        if rrset.rdtype == dns.rdatatype.NSEC:
            if policy.nsec3:
                return  # dnspython's NSEC chain, dropped below for the NSEC3 chain
            if rrset.ttl > neg_ttl:  # dnspython gives NSEC the SOA minimum
                txn.add(rrset.name, neg_ttl, *rrset)  # the lower TTL wins
                rrset = dns.rrset.from_rdata(rrset.name, neg_ttl, *rrset)
        sign(txn, rrset)

    try:
        with zone.writer() as txn:
            if policy.nsec3:
                param = "%d 0 %d -" % (NSEC3_HASH, NSEC3_ITERATIONS)
                txn.add(origin, neg_ttl, dns.rdata.from_text(
                    dns.rdataclass.IN, dns.rdatatype.NSEC3PARAM, param))
            dns.dnssec.sign_zone(zone, txn, keys=pairs, rrset_signer=sign_or_skip)
            if policy.nsec3:
                for name in list(txn.iterate_names()):
                    txn.delete(name, dns.rdatatype.NSEC)
                _add_nsec3_chain(txn, origin, policy, neg_ttl, sign, file)
    except (dns.exception.DNSException, ValueError, TypeError) as e:
        raise SignError("%s: cannot sign: %s" % (file, e))
    return _master_text(zone, keys, policy, inception, expiration)


def _master_text(zone, keys, policy, inception, expiration):
    s = Summary(zone.origin, keys, policy, inception, expiration)
    head = "; signed by tools/zonesign.py: %s\n" % s.text()
    return head + zone.to_text(sorted=True, relativize=False), s


def _nsec3_owners(txn, origin, opt_out):
    """{name: set of types} of the names that get an NSEC3 record (RFC 5155 7.1): the
    authoritative names and delegations (without unsigned delegations under opt-out), and the
    empty non-terminals above them; names below a delegation (glue) get none."""
    owners = {}
    cut = None
    for name in sorted(txn.iterate_names()):
        if cut is not None and name.is_subdomain(cut):
            continue
        node = txn.get_node(name)
        types = {rds.rdtype for rds in node.rdatasets}
        cut = name if name != origin and dns.rdatatype.NS in types else None
        if cut is not None and opt_out and dns.rdatatype.DS not in types:
            continue
        owners[name] = types
        up = name
        while up != origin:
            up = up.parent()
            owners.setdefault(up, set())  # canonical order: a real parent came first
    return owners


def _add_nsec3_chain(txn, origin, policy, ttl, sign, file):
    hashed = {}  # hash -> (name, types)
    for name, types in _nsec3_owners(txn, origin, policy.opt_out).items():
        h = dns.dnssec.nsec3_hash(name, NSEC3_SALT, NSEC3_ITERATIONS, NSEC3_HASH).lower()
        if h in hashed:
            raise SignError("%s: %s and %s have one NSEC3 hash %s" % (
                file, name, hashed[h][0], h))
        hashed[h] = (name, types)
    chain = sorted(hashed)
    flags = NSEC3_OPT_OUT if policy.opt_out else 0
    for i, h in enumerate(chain):
        nxt = base64.b32hexdecode(chain[(i + 1) % len(chain)].upper())
        bitmap = dns.rdtypes.ANY.NSEC3.Bitmap.from_rdtypes(sorted(hashed[h][1]))
        rd = dns.rdtypes.ANY.NSEC3.NSEC3(dns.rdataclass.IN, dns.rdatatype.NSEC3, NSEC3_HASH,
                                         flags, NSEC3_ITERATIONS, NSEC3_SALT, nxt, bitmap)
        rrset = dns.rrset.from_rdata(dns.name.from_text(h, origin), ttl, rd)
        txn.add(rrset)
        sign(txn, rrset)


# ---------------------------------------------------------------- command line


def default_keys_dir():
    return os.environ.get("DNSBOX_KEYS") or os.path.join(ROOT, "keys")


def sign_file(path, keys_dir, origin=None, now=None):
    """Reads, loads the keys and policy, signs: (signed text, Summary). SignError if the zone
    has no keys in keys_dir."""
    if origin is None:
        base = os.path.basename(path)
        if not base.endswith(ZONE_SUFFIX):
            raise SignError("%s: name it <origin>%s or give --origin" % (path, ZONE_SUFFIX))
        origin = base[: -len(ZONE_SUFFIX)]
    try:
        origin = dns.name.from_text(origin.lower())
        with open(path) as f:
            text = f.read()
    except dns.exception.DNSException as e:
        raise SignError("%s: origin %s: %s" % (path, origin, e))
    except OSError as e:
        raise SignError("%s: cannot read: %s" % (path, e.strerror))
    except UnicodeDecodeError as e:
        raise SignError("%s: cannot read: %s" % (path, e))
    keys = load_keys(keys_dir, origin)
    if not keys:
        raise SignError("%s: no keys for %s (make them: python3 tools/zonekeys.py %s --keys %s)"
                        % (keys_dir, origin, origin, keys_dir))
    policy = read_policy(keys_dir, origin)
    return sign_text(text, origin, keys, policy, int(time.time()) if now is None else now, path)


def main(argv):
    opts = {"--keys": None, "--origin": None, "-o": None}
    files = []
    i = 0
    while i < len(argv):
        if argv[i] in opts and i + 1 < len(argv):
            opts[argv[i]] = argv[i + 1]
            i += 2
            continue
        files.append(argv[i])
        i += 1
    if len(files) != 1 or files[0].startswith("-"):
        sys.stderr.write("usage: zonesign.py ZONEFILE [--keys DIR] [--origin ORIGIN] [-o OUT]\n")
        return 2
    try:
        text, summary = sign_file(files[0], opts["--keys"] or default_keys_dir(), opts["--origin"])
        if opts["-o"]:
            with open(opts["-o"], "w") as f:
                f.write(text)
        else:
            sys.stdout.write(text)
    except SignError as e:
        sys.stderr.write("zonesign: %s\n" % e)
        return 1
    except OSError as e:
        sys.stderr.write("zonesign: %s: %s\n" % (opts["-o"], e.strerror))
        return 1
    sys.stderr.write("zonesign: signed %s\n" % summary.text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
