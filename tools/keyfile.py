"""BIND's DNSSEC key files: K<zone>+<alg>+<tag>.key and .private, read and written.

The format dnssec-keygen writes (and ldns-keygen, with v1.2 and no timing lines):

  Kexample.com.+013+09359.key      `; comments` then `example.com. IN DNSKEY 257 3 13 <base64>`
  Kexample.com.+013+09359.private  `Private-key-format: v1.3`, `Algorithm: 13 (ECDSAP256SHA256)`,
                                   the key's fields (`PrivateKey:` for ECDSA and EdDSA; Modulus,
                                   PublicExponent, ... Coefficient for RSA, base64 big-endian),
                                   then `Created:`, `Publish:`, `Activate:` (YYYYMMDDHHMMSS, UTC)

Parsing is done here (a file format); the key objects are made by `cryptography`, the DNSKEY
rdata and key tags by dnspython. Every problem is a SignError "PATH: reason" (one line).
"""

import base64
import binascii
import os
import re
import time
import warnings

# dnspython's dnssecalgs imports its DSA classes, which newer `cryptography` flags as deprecated
# on import: algorithm 3 is never used here, and the warning would clutter every tool's output.
warnings.filterwarnings("ignore", message="DSA is deprecated")

import dns.dnssec  # noqa: E402
import dns.dnssecalgs  # noqa: E402
import dns.exception  # noqa: E402
import dns.name  # noqa: E402
import dns.rdata  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # noqa: E402

# The algorithms the signing tools make and read (RFC 8624's recommended ones).
ALGORITHMS = {8: "RSASHA256", 13: "ECDSAP256SHA256", 15: "ED25519"}
DEFAULT_ALGORITHM = 13
RSA_BITS = 2048  # dnssec-keygen's default RSA key size for both KSK and ZSK
PRIVATE_BYTES = 32  # ECDSA P-256 and Ed25519 private keys, as BIND writes them
RSA_FIELDS = ("Modulus", "PublicExponent", "PrivateExponent", "Prime1", "Prime2",
              "Exponent1", "Exponent2", "Coefficient")
TIMING_FIELDS = ("Created", "Publish", "Activate")
FLAG_ZONE = 256  # DNSKEY flags (RFC 4034 2.1.1): a zone key
FLAG_SEP = 1  # the secure entry point: a KSK (257)
FLAG_REVOKE = 128  # RFC 5011
BASE64_CHUNK = 56  # BIND splits the DNSKEY's base64 into groups of 56 characters
MAX_KEY_FILE = 65536  # bytes: a key file is a few lines; anything bigger is not one

NAME_RE = re.compile(r"^K(.+)\+(\d{3})\+(\d{5})\.(key|private)$")


class SignError(Exception):
    """A one-line error of the signing tools: "PATH: reason"."""


class KeyPair:
    """One key: its files' base path, origin, DNSKEY rdata and `cryptography` private key."""

    def __init__(self, base, origin, dnskey, private):
        self.base = base
        self.origin = origin
        self.dnskey = dnskey
        self.private = private
        self.algorithm = int(dnskey.algorithm)
        self.tag = dns.dnssec.key_id(dnskey)
        self.ksk = bool(dnskey.flags & FLAG_SEP)

    def role(self):
        return "KSK" if self.ksk else "ZSK"


def base_name(origin, algorithm, tag):
    """K<origin>+<alg>+<tag>, as dnssec-keygen names the pair (origin with its final dot)."""
    return "K%s+%03d+%05d" % (origin.to_text().lower(), algorithm, tag)


def algorithm_text(algorithm):
    return "%d (%s)" % (algorithm, ALGORITHMS.get(algorithm, "?"))


# ---------------------------------------------------------------- reading


def bases_for(keys_dir, origin):
    """The sorted base paths of every K<origin>+*.key or .private file in keys_dir."""
    want = origin.to_text().lower()
    try:
        names = os.listdir(keys_dir)
    except OSError as e:
        raise SignError("%s: cannot list the keys directory: %s" % (keys_dir, e.strerror))
    out = set()
    for n in names:
        m = NAME_RE.match(n)
        if m and m.group(1).lower() == want:
            out.add(os.path.join(keys_dir, n.rsplit(".", 1)[0]))
    return sorted(out)


def read_pair(base, origin):
    """The KeyPair in base.key and base.private, checked against each other, the file name and
    the origin."""
    m = NAME_RE.match(os.path.basename(base) + ".key")
    if not m:
        raise SignError("%s.key: not a key file name (K<zone>+<alg>+<tag>.key)" % base)
    dnskey = _read_key(base + ".key", origin)
    key_path = base + ".key"
    if int(m.group(2)) != dnskey.algorithm:
        raise SignError("%s: algorithm %d in the file but %s in its name" % (
            key_path, dnskey.algorithm, m.group(2)))
    if int(m.group(3)) != dns.dnssec.key_id(dnskey):
        raise SignError("%s: key tag %d of its DNSKEY but %s in its name" % (
            key_path, dns.dnssec.key_id(dnskey), m.group(3)))
    private = _read_private(base + ".private", dnskey.algorithm)
    made = dns.dnssecalgs.get_algorithm_cls(dnskey.algorithm)(key=private)
    if made.public_key().to_dnskey(flags=dnskey.flags).key != dnskey.key:
        raise SignError("%s.private: not the private key of the DNSKEY in %s" % (base, key_path))
    return KeyPair(base, origin, dnskey, private)


def _read_text(path):
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_KEY_FILE + 1)
    except FileNotFoundError:
        raise SignError("%s: missing (a key needs both its .key and its .private file)" % path)
    except OSError as e:
        raise SignError("%s: cannot read: %s" % (path, e.strerror))
    if len(data) > MAX_KEY_FILE:
        raise SignError("%s: over %d bytes: not a key file" % (path, MAX_KEY_FILE))
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise SignError("%s: not a text file (non-ASCII bytes)" % path)


def _read_key(path, origin):
    """The DNSKEY of a .key file: `; comments`, then one `owner [ttl] [IN] DNSKEY rdata` line
    (ldns-keygen ends it with a `;{id = ...}` comment)."""
    records = []
    for line in _read_text(path).splitlines():
        line = line.split(";", 1)[0].strip()  # base64 has no ';'
        if line:
            records.append(line)
    if len(records) != 1:
        raise SignError("%s: expected one DNSKEY record, found %d records" % (path, len(records)))
    words = records[0].split()
    upper = [w.upper() for w in words]
    if "DNSKEY" not in upper:
        raise SignError("%s: not a DNSKEY record: %s" % (path, records[0][:60]))
    i = upper.index("DNSKEY")
    if i < 1 or any(w not in ("IN",) and not w.isdigit() for w in upper[1:i]):
        raise SignError("%s: expected `owner [ttl] [IN] DNSKEY ...`" % path)
    try:
        owner = dns.name.from_text(words[0])
        rd = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, " ".join(words[i + 1:]))
    except dns.exception.DNSException as e:
        raise SignError("%s: bad DNSKEY record: %s" % (path, e))
    if owner != origin:
        raise SignError("%s: a key of %s, not of %s" % (path, owner, origin))
    if rd.algorithm not in ALGORITHMS:
        raise SignError("%s: algorithm %d is not supported (use %s)" % (
            path, rd.algorithm, ", ".join(str(a) for a in ALGORITHMS)))
    if not rd.flags & FLAG_ZONE or rd.flags & FLAG_REVOKE or rd.protocol != 3:
        raise SignError("%s: flags %d protocol %d: not a zone key in use (256 or 257, 3)" % (
            path, rd.flags, rd.protocol))
    return rd


def _fields(path, text):
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if ":" not in line:
            raise SignError("%s:%d: expected `Field: value`" % (path, n))
        k, v = line.split(":", 1)
        out[k.strip()] = v.strip()
    return out


def _b64(path, fields, name):
    if name not in fields:
        raise SignError("%s: no %s: field" % (path, name))
    try:
        return base64.b64decode(fields[name], validate=True)
    except (binascii.Error, ValueError):
        raise SignError("%s: %s: is not base64" % (path, name))


def _int(path, fields, name):
    return int.from_bytes(_b64(path, fields, name), "big")


def _read_private(path, algorithm):
    """The `cryptography` private key of a .private file of the given algorithm."""
    fields = _fields(path, _read_text(path))
    fmt = fields.get("Private-key-format", "")
    if not re.match(r"^v1\.\d+$", fmt):
        raise SignError("%s: Private-key-format is %r, not v1.x" % (path, fmt))
    alg = fields.get("Algorithm", "").split()
    if not alg or not alg[0].isdigit():
        raise SignError("%s: no Algorithm: field" % path)
    if int(alg[0]) != algorithm:
        raise SignError("%s: algorithm %s but %d in the .key file" % (path, alg[0], algorithm))
    try:
        if algorithm == 8:
            n, e, d, p, q, dp, dq, qi = (_int(path, fields, f) for f in RSA_FIELDS)
            return rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi,
                                         rsa.RSAPublicNumbers(e, n)).private_key()
        raw = _b64(path, fields, "PrivateKey")
        if len(raw) != PRIVATE_BYTES:
            raise SignError("%s: PrivateKey: is %d bytes, not %d" % (
                path, len(raw), PRIVATE_BYTES))
        if algorithm == 13:
            return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        return ed25519.Ed25519PrivateKey.from_private_bytes(raw)
    except ValueError as e:
        raise SignError("%s: not a valid %s key: %s" % (path, ALGORITHMS[algorithm], e))


# ---------------------------------------------------------------- writing


def generate(algorithm, ksk):
    """A new key of the algorithm: (cryptography private key, DNSKEY rdata)."""
    cls = dns.dnssecalgs.get_algorithm_cls(algorithm)
    made = cls.generate(key_size=RSA_BITS) if algorithm == 8 else cls.generate()
    flags = FLAG_ZONE | (FLAG_SEP if ksk else 0)
    return made.key, made.public_key().to_dnskey(flags=flags)


def _stamp(t):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(t))


def key_text(origin, dnskey, now):
    """The .key file as dnssec-keygen writes it."""
    b64 = base64.b64encode(dnskey.key).decode()
    chunks = " ".join(b64[i:i + BASE64_CHUNK] for i in range(0, len(b64), BASE64_CHUNK))
    kind = "key-signing" if dnskey.flags & FLAG_SEP else "zone-signing"
    out = ["; This is a %s key, keyid %d, for %s\n" % (kind, dns.dnssec.key_id(dnskey), origin)]
    for f in TIMING_FIELDS:
        out.append("; %s: %s (%s)\n" % (f, _stamp(now), time.asctime(time.localtime(now))))
    out.append("%s IN DNSKEY %d %d %d %s\n" % (origin, dnskey.flags, dnskey.protocol,
                                               dnskey.algorithm, chunks))
    return "".join(out)


def _fixed(n, size):
    return base64.b64encode(n.to_bytes(size, "big")).decode()


def _minimal(n):
    return base64.b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).decode()


def private_text(algorithm, private, now):
    """The .private file as dnssec-keygen writes it."""
    out = ["Private-key-format: v1.3\n", "Algorithm: %s\n" % algorithm_text(algorithm)]
    if algorithm == 8:
        nums = private.private_numbers()
        pub = nums.public_numbers
        values = (pub.n, pub.e, nums.d, nums.p, nums.q, nums.dmp1, nums.dmq1, nums.iqmp)
        out += ["%s: %s\n" % (f, _minimal(v)) for f, v in zip(RSA_FIELDS, values)]
    elif algorithm == 13:
        out.append("PrivateKey: %s\n" % _fixed(private.private_numbers().private_value,
                                                 PRIVATE_BYTES))
    else:
        raw = private.private_bytes_raw()
        out.append("PrivateKey: %s\n" % base64.b64encode(raw).decode())
    out += ["%s: %s\n" % (f, _stamp(now)) for f in TIMING_FIELDS]
    return "".join(out)


def _create(path, text, mode):
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise SignError("%s: exists already; not overwritten" % path)
    except OSError as e:
        raise SignError("%s: cannot create: %s" % (path, e.strerror))
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)  # the umask may have taken bits off


def write_pair(keys_dir, origin, dnskey, private, now):
    """Writes K<origin>+<alg>+<tag>.key (0644) and .private (0600); refuses to overwrite either.
    Returns the base path."""
    base = os.path.join(keys_dir, base_name(origin, dnskey.algorithm, dns.dnssec.key_id(dnskey)))
    for suffix in (".key", ".private"):
        if os.path.exists(base + suffix):
            raise SignError("%s%s: exists already; not overwritten" % (base, suffix))
    _create(base + ".private", private_text(dnskey.algorithm, private, now), 0o600)
    _create(base + ".key", key_text(origin, dnskey, now), 0o644)
    return base
