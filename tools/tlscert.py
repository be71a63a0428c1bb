"""The certificate and key that DNS over TLS serves, frozen into the firmware as module `tlscert`.

  python3 tools/tlscert.py -o build/gen/tlscert.py [--dir build/tls] [--cert C.pem --key K.pem]

With --cert and --key (PEM files: a certificate chain's first certificate and its private key)
those are used. Without them: a self-signed EC P-256 certificate (CN and subjectAltName
"dnsbox", 10 years) is made once with openssl into --dir and kept there, so rebuilds keep the
same key and pin. The module holds CERT and KEY (DER bytes; the key as PKCS#8) and PIN: the
base64 SHA-256 of the certificate's SubjectPublicKeyInfo, the pin a DNS-over-TLS client can be
given (RFC 7858 4.2). Prints the pin. Exit 1 with a message when openssl fails or a file is
unreadable.
"""
import base64
import hashlib
import os
import subprocess
import sys

DAYS = 3650  # validity of the self-signed certificate


def _openssl(args, data=None):
    p = subprocess.run(["openssl"] + args, input=data, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args[:2]), p.stderr.decode().strip()))
    return p.stdout


def self_signed(directory):
    """(cert path, key path) in directory, made if missing."""
    cert, key = os.path.join(directory, "dnsbox.crt"), os.path.join(directory, "dnsbox.key")
    if not (os.path.exists(cert) and os.path.exists(key)):
        os.makedirs(directory, exist_ok=True)
        _openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-nodes", "-days", str(DAYS), "-subj", "/CN=dnsbox",
                  "-addext", "subjectAltName=DNS:dnsbox", "-keyout", key + ".tmp",
                  "-out", cert + ".tmp"])
        os.chmod(key + ".tmp", 0o600)
        os.replace(key + ".tmp", key)
        os.replace(cert + ".tmp", cert)
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
    opts = {"-o": None, "--dir": os.path.join("build", "tls"), "--cert": None, "--key": None}
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
            cert_path, key_path = self_signed(opts["--dir"])
        cert, key, pin = material(cert_path, key_path)
    except (RuntimeError, OSError) as e:
        print("tlscert.py: %s" % e)
        return 1
    with open(opts["-o"] + ".tmp", "w") as f:
        f.write(module_text(cert, key, pin))
    os.replace(opts["-o"] + ".tmp", opts["-o"])
    print("tlscert: %s (SPKI pin sha256/%s)" % (cert_path, pin))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
