"""The certificate and key that DNS over TLS serves, frozen into the firmware as module `tlscert`.

  python3 tools/tlscert.py -o build/gen/tlscert.py [--dir build/tls] [--san dns.lan,192.0.2.53]
                           [--cert C.pem --key K.pem]

With --cert and --key (PEM files: a certificate chain's first certificate and its private key)
those are used. Without them: a self-signed EC P-256 certificate (CN "dnsbox", 10 years) is made
with openssl into --dir and kept there, so rebuilds keep the same key and pin. Its
subjectAltName is DNS:dnsbox and one entry per --san item (comma-separated: an IPv4 or IPv6
address becomes IP:, a host name DNS:); when the --san list changes, a new certificate is made
for the same key (the pin stays), and dnsbox.san in --dir records the list it was made for.
It is an end-entity certificate (basicConstraints CA:FALSE, extendedKeyUsage serverAuth):
Firefox refuses a server certificate that says CA:TRUE (openssl's default for req -x509) even
when the user trusts it (MOZILLA_PKIX_ERROR_CA_CERT_USED_AS_END_ENTITY); dig, kdig and curl
take the self-signed end-entity certificate as its own trust anchor. A directory made before
this (no PROFILE line in dnsbox.san) gets a new certificate for the same key.
The module holds CERT and KEY (DER bytes; the key as PKCS#8) and PIN: the base64 SHA-256 of
the certificate's SubjectPublicKeyInfo, the pin a DNS-over-TLS client can be given (RFC 7858
4.2). Prints the pin. Exit 1 with a message when openssl fails or a file is
unreadable.
"""
import base64
import hashlib
import ipaddress
import os
import subprocess
import sys

DAYS = 3650  # validity of the self-signed certificate
MAX_SAN = 32  # subjectAltName entries accepted from --san (a certificate, not a phone book)
LABEL_MAX = 63  # bytes of one DNS label (RFC 1035 2.3.4)
NAME_MAX = 253  # characters of a host name in text form (RFC 1035 2.3.4: 255 in wire form)
# What the self-signed certificate is besides its names (recorded in dnsbox.san with them)
PROFILE = "basicConstraints=critical,CA:FALSE extendedKeyUsage=serverAuth"


def _openssl(args, data=None):
    p = subprocess.run(["openssl"] + args, input=data, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args[:2]), p.stderr.decode().strip()))
    return p.stdout


def san_text(items):
    """The subjectAltName value for --san items (a comma-separated string): "DNS:dnsbox" then
    IP:ADDR for each address and DNS:NAME for each host name, duplicates dropped. ValueError
    naming the bad item."""
    out = ["DNS:dnsbox"]
    words = [w.strip() for w in items.split(",") if w.strip()]
    if len(words) > MAX_SAN:
        raise ValueError("more than %d --san entries" % MAX_SAN)
    for w in words:
        try:
            e = "IP:" + str(ipaddress.ip_address(w))
        except ValueError:
            name = w.rstrip(".").lower()
            labels = name.split(".")
            if (not name or len(name) > NAME_MAX or any(
                    not 0 < len(x) <= LABEL_MAX or x.startswith("-") or x.endswith("-")
                    or not all(c.isalnum() or c == "-" for c in x) for x in labels)):
                raise ValueError("--san: %r is neither an IP address nor a host name" % w)
            e = "DNS:" + name
        if e not in out:
            out.append(e)
    return ",".join(out)


def self_signed(directory, san="DNS:dnsbox"):
    """(cert path, key path) in directory: the key made if missing, the certificate made if
    missing or made for another subjectAltName (san: the value, see san_text)."""
    cert, key = os.path.join(directory, "dnsbox.crt"), os.path.join(directory, "dnsbox.key")
    rec = os.path.join(directory, "dnsbox.san")
    old = None
    if os.path.exists(cert) and os.path.exists(key):
        old = "DNS:dnsbox"  # a directory from before dnsbox.san: the only name then
        if os.path.exists(rec):
            with open(rec) as f:
                old = f.read().strip()
    if old == san + "\n" + PROFILE:
        return cert, key
    os.makedirs(directory, exist_ok=True)
    if not os.path.exists(key):
        _openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-out", key + ".tmp"])
        os.chmod(key + ".tmp", 0o600)
        os.replace(key + ".tmp", key)
    ext = ["-addext", "subjectAltName=" + san]
    for e in PROFILE.split():
        ext += ["-addext", e]
    _openssl(["req", "-x509", "-new", "-key", key, "-days", str(DAYS), "-subj", "/CN=dnsbox"] +
             ext + ["-out", cert + ".tmp"])
    os.replace(cert + ".tmp", cert)
    with open(rec + ".tmp", "w") as f:
        f.write(san + "\n" + PROFILE + "\n")
    os.replace(rec + ".tmp", rec)
    return cert, key


def spki_pin(cert_der):
    """The base64 SHA-256 of a certificate's SubjectPublicKeyInfo (RFC 7858 4.2, RFC 7469)."""
    pub = _openssl(["x509", "-inform", "DER", "-pubkey", "-noout"], cert_der)
    spki = _openssl(["pkey", "-pubin", "-outform", "DER"], pub)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def material(cert_path, key_path):
    """(cert DER, key DER, pin) from PEM files."""
    cert = _openssl(["x509", "-in", cert_path, "-outform", "DER"])
    key = _openssl(["pkcs8", "-topk8", "-nocrypt", "-in", key_path, "-outform", "DER"])
    return cert, key, spki_pin(cert)


def module_text(cert, key, pin):
    return ("# Written by tools/tlscert.py: the DNS-over-TLS certificate and key (DER).\n"
            "CERT = %r\nKEY = %r\nPIN = %r\n" % (cert, key, pin))


def main(argv):
    opts = {"-o": None, "--dir": os.path.join("build", "tls"), "--cert": None, "--key": None,
            "--san": ""}
    if len(argv) % 2:
        print(__doc__.strip().split("\n\n")[1])
        return 2
    for flag, value in zip(argv[::2], argv[1::2]):
        if flag not in opts:
            print("tlscert.py: unknown option %s" % flag)
            return 2
        opts[flag] = value
    if not opts["-o"] or (opts["--cert"] is None) != (opts["--key"] is None):
        print("tlscert.py: -o OUT is needed, and --cert and --key go together")
        return 2
    try:
        if opts["--cert"]:
            cert_path, key_path = opts["--cert"], opts["--key"]
        else:
            cert_path, key_path = self_signed(opts["--dir"], san_text(opts["--san"]))
        cert, key, pin = material(cert_path, key_path)
    except (RuntimeError, OSError, ValueError) as e:
        print("tlscert.py: %s" % e)
        return 1
    with open(opts["-o"] + ".tmp", "w") as f:
        f.write(module_text(cert, key, pin))
    os.replace(opts["-o"] + ".tmp", opts["-o"])
    print("tlscert: %s (SPKI pin sha256/%s)" % (cert_path, pin))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
