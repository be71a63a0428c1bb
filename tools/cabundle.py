"""The CA certificates the forwarder checks DNS-over-TLS upstreams against (server=IP#PORT#NAME),
frozen into the firmware as module `cabundle`.

  python3 tools/cabundle.py PEM_FILE -o build/gen/cabundle.py

PEM_FILE is a bundle of PEM certificates (Debian's ca-certificates: /etc/ssl/certs/
ca-certificates.crt; build.sh's TLS_CA_BUNDLE= names another, e.g. a test CA). The module holds
CERTS, a tuple of DER certificates (mbedTLS parses one DER certificate per call; frozen bytes
stay in the binary's read-only data), and BUILT, the build time (seconds since 1970,
SOURCE_DATE_EPOCH when set): the clock's floor before NTP answers (dnsbox.net.cert). Prints the
count and bytes. Exit 1 when the file is unreadable or holds no certificate.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "firmware"))
from dnsbox.net import cert  # noqa: E402

MAX_CERTS = 1000  # certificates taken from one bundle (Debian's has about 150)
MAX_BYTES = 4 << 20  # bytes of the PEM bundle read (Debian's is about 220 KB)


def ders(text):
    """The DER certificates of a PEM bundle, in order; ValueError on a broken block (the
    firmware's reader of tls-ca= files, with this tool's limits)."""
    return cert.pem_ders(text, MAX_BYTES, MAX_CERTS)


def main(argv):
    if len(argv) != 3 or argv[1] != "-o":
        print(__doc__.strip().split("\n\n")[1])
        return 2
    try:
        with open(argv[0]) as f:
            certs = ders(f.read())
    except (OSError, ValueError) as e:
        print("cabundle.py: %s: %s" % (argv[0], e))
        return 1
    if not certs:
        print("cabundle.py: %s holds no certificate" % argv[0])
        return 1
    built = int(os.environ.get("SOURCE_DATE_EPOCH") or time.time())
    out = argv[2]
    with open(out + ".tmp", "w") as f:
        f.write("# Written by tools/cabundle.py from %s: DER CA certificates.\n" %
                os.path.basename(argv[0]))
        f.write("BUILT = %d\nCERTS = (\n" % built)
        for c in certs:
            f.write("    %r,\n" % c)
        f.write(")\n")
    os.replace(out + ".tmp", out)
    print("cabundle: %d certificates, %d bytes DER, from %s" % (
        len(certs), sum(len(c) for c in certs), argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
