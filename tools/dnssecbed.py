#!/usr/bin/env python3
"""A signed DNS tree on loopback for the DNSSEC tests and benchmarks: a root and top-level zones
signed with BIND's dnssec-signzone and ldns' ldns-signzone (keys made by their keygens at start),
served by one NSD; the trust anchor is the root KSK's DS.

Zones (each NAME. with www A/AAAA, alias CNAME www, *.wild A, txt TXT, the apex NS and glue):
  secure.  ECDSA P-256, NSEC; sub.secure. is an unsigned child (insecure delegation), cross CNAME
           into insecure., dn DNAME nsec3., tobogus CNAME into corrupt.
  rsa. rsa512. rsasha1. nsec3rsa. p384. ed.: RSA/SHA-256, RSA/SHA-512, RSA/SHA-1 (alg 5),
           RSA/SHA-1-NSEC3 (alg 7, NSEC3), ECDSA P-384, Ed25519
  nsec3.   NSEC3, no salt, no extra iterations (RFC 9276); optout.: NSEC3 opt-out with the
           unsigned child unsigned.optout.; iter.: NSEC3 with 200 iterations (insecure)
  ldns.    signed by ldns-signzone (ECDSA P-256); sha384.: its DS has digest type 4 only
  ed448.   Ed448 (algorithm 16)
  privalg. signed with ECDSA P-256, but the root's DS for it names algorithm 253 (PRIVATEDNS),
           which no validator offers: insecure (RFC 4035 5.2, RFC 6840 5.2)
  insecure.  unsigned, no DS
  bogus ones: expired. (signatures expired), future. (not yet valid), badds. (the root's DS for
           it matches no key), nosig. (www A without its RRSIG), corrupt. (www A's signature
           altered)

  python3 tools/dnssecbed.py run     build, start, print the hints and the anchor; Ctrl-C stops
From Python: bed = DnssecBed().start(); bed.hints, bed.anchor (trust-anchor= value),
bed.unbound(port) (a validating Unbound with the same anchor); bed.stop(). Everything runs under
build/dnssecbed/; every process is stopped by PID; loopback only.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from nsdconf import nsd_conf  # noqa: E402

RUN = os.path.join(ROOT, "build", "dnssecbed")
PORT = 53
HOST = 201  # the NSD's address: 127.0.X.201
PREFIX_TRIES = 10
START_S = 20
CMD_TIMEOUT_S = 120

# name, signer (None: unsigned), algorithm, denial ("nsec", "nsec3", "optout", "nsec3-200"),
# damage (None, "expired", "future", "badds", "nosig", "corrupt")
ZONES = [
    ("secure.", "bind", "ECDSAP256SHA256", "nsec", None),
    ("rsa.", "bind", "RSASHA256", "nsec", None),
    ("rsa512.", "bind", "RSASHA512", "nsec", None),
    ("rsasha1.", "bind", "RSASHA1", "nsec", None),
    ("nsec3rsa.", "bind", "NSEC3RSASHA1", "nsec3", None),
    ("p384.", "bind", "ECDSAP384SHA384", "nsec", None),
    ("ed.", "bind", "ED25519", "nsec", None),
    ("ed448.", "bind", "ED448", "nsec", None),
    ("nsec3.", "bind", "ECDSAP256SHA256", "nsec3", None),
    ("optout.", "bind", "ECDSAP256SHA256", "optout", None),
    ("iter.", "ldns", "ECDSAP256SHA256", "nsec3-200", None),  # BIND refuses over 150
    ("ldns.", "ldns", "ECDSAP256SHA256", "nsec", None),
    ("sha384.", "bind", "ECDSAP256SHA256", "nsec", "ds384"),  # its DS: digest type 4 only
    ("privalg.", "bind", "ECDSAP256SHA256", "nsec", "ds253"),  # its DS: algorithm 253
    ("insecure.", None, None, None, None),
    ("expired.", "bind", "ECDSAP256SHA256", "nsec", "expired"),
    ("future.", "bind", "ECDSAP256SHA256", "nsec", "future"),
    ("badds.", "bind", "ECDSAP256SHA256", "nsec", "badds"),
    ("nosig.", "bind", "ECDSAP256SHA256", "nsec", "nosig"),
    ("corrupt.", "bind", "ECDSAP256SHA256", "nsec", "corrupt"),
]
UNSIGNED_CHILDREN = {"secure.": "sub.secure.", "optout.": "unsigned.optout."}
LDNS_ALG = {"ECDSAP256SHA256": "ECDSAP256SHA256"}


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=CMD_TIMEOUT_S)
    if p.returncode:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                                  p.stdout.decode(errors="replace")[-800:]))
    return p.stdout.decode()


def zone_text(name, ip, extra=()):
    lines = ["$TTL 3600",
             "@ SOA ns.%s h.%s 1 3600 900 86400 300" % (name, name),
             "@ NS ns.%s" % name,
             "ns A %s" % ip,
             "www A 192.0.2.1",
             "www AAAA 2001:db8::1",
             "alias CNAME www",
             "*.wild A 192.0.2.9",
             'txt TXT "hello"']
    return "\n".join(lines + list(extra)) + "\n"


class DnssecBed:
    def __init__(self, run_dir=RUN, port=PORT):
        self.base = run_dir
        self.port = port
        self.procs = []
        self.prefix = None
        self.ip = None
        self.hints = None
        self.anchor = None  # trust-anchor= value: .,TAG,ALG,TYPE,HEX
        self.anchor_ds = None  # ". DS TAG ALG TYPE HEX" (Unbound's trust-anchor)

    # --- zones --------------------------------------------------------------------------------
    def build(self):
        d = os.path.join(self.base, self.prefix.rstrip("."))
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        self.dir = d
        ip = self.ip
        zones = []
        root_extra = ["ns.root. A %s" % ip]
        for name, signer, alg, denial, damage in ZONES:
            extra = []
            child = UNSIGNED_CHILDREN.get(name)
            if child:
                label = child[: -len(name) - 1]
                extra += ["%s NS ns.%s" % (label, child), "ns.%s A %s" % (label, ip)]
                path = os.path.join(d, child + "zone")
                with open(path, "w") as f:
                    f.write(zone_text(child, ip))
                zones.append((child, path))
            if name == "secure.":
                extra += ["cross CNAME www.insecure.", "dn DNAME nsec3.",
                          "tobogus CNAME www.corrupt."]
            path = os.path.join(d, name + "zone")
            with open(path, "w") as f:
                f.write(zone_text(name, ip, extra))
            ds = []
            if signer == "bind":
                path, ds = self._bind_sign(name, path, alg, denial, damage)
            elif signer == "ldns":
                path, ds = self._ldns_sign(name, path, alg, denial)
            zones.append((name, path))
            root_extra += ["%s NS ns.%s" % (name, name), "ns.%s A %s" % (name, ip)]
            if damage == "badds":
                ds = ["%s DS %s" % (name, _bad(r.split(None, 2)[2])) for r in ds]
            elif damage == "ds253":
                ds = ["%s DS %s 253 %s" % (name, f[0], " ".join(f[2:]))
                      for f in (r.split(None, 2)[2].split() for r in ds)]
            root_extra += ds
        path = os.path.join(d, "root.zone")
        with open(path, "w") as f:
            f.write("$TTL 86400\n. SOA ns.root. h.root. 1 1800 900 604800 86400\n"
                    ". NS ns.root.\n" + "\n".join(root_extra) + "\n")
        path, ds = self._bind_sign(".", path, "ECDSAP256SHA256", "nsec", None)
        zones.append((".", path))
        f = ds[0].split()
        # ". DS TAG ALG TYPE HEX..." (dsset lines: ". IN DS ...")
        f = [x for x in f if x.upper() not in ("IN",)]
        tag, alg, dtype, hexd = f[2], f[3], f[4], "".join(f[5:])
        self.anchor = ".,%s,%s,%s,%s" % (tag, alg, dtype, hexd)
        self.anchor_ds = ". DS %s %s %s %s" % (tag, alg, dtype, hexd)
        self.zones = zones

    def _bind_sign(self, name, path, alg, denial, damage):
        kd = os.path.join(self.dir, "keys-" + (name.strip(".") or "root"))
        os.makedirs(kd)
        size = ["-b", "2048"] if alg.startswith("RSA") or alg.startswith("NSEC3RSA") else []
        run(["dnssec-keygen", "-q", "-K", kd, "-a", alg, "-f", "KSK", "-n", "ZONE"] + size + [name],
            kd)
        run(["dnssec-keygen", "-q", "-K", kd, "-a", alg, "-n", "ZONE"] + size + [name], kd)
        cmd = ["dnssec-signzone", "-q", "-S", "-K", kd, "-d", kd, "-O", "full", "-o", name,
               "-f", path + ".signed"]
        if denial in ("nsec3", "optout", "nsec3-200"):
            cmd += ["-3", "-", "-H", "200" if denial == "nsec3-200" else "0"]
            if denial == "optout":
                cmd += ["-A"]
        if damage == "expired":  # -P: no check after signing (it would refuse these times)
            cmd += ["-P", "-s", "20200101000000", "-e", "20200201000000"]
        elif damage == "future":
            cmd += ["-P", "-s", "now+31536000", "-e", "now+41536000"]
        run(cmd + [path], self.dir)
        signed = path + ".signed"
        if damage in ("nosig", "corrupt"):
            _damage(signed, "www." + name, damage)
        with open(os.path.join(kd, "dsset-" + (name if name != "." else "."))) as f:
            ds = [" ".join(x.split()) for x in f if x.strip()]
        if damage == "ds384":
            ksk = [k for k in os.listdir(kd) if k.endswith(".key") and
                   " 257 " in open(os.path.join(kd, k)).read()][0]
            ds = [" ".join(run(["dnssec-dsfromkey", "-a", "SHA-384", os.path.join(kd, ksk)],
                                kd).split())]
        ds = [x.replace(" IN DS ", " DS ") for x in ds]
        return signed, ds

    def _ldns_sign(self, name, path, alg, denial):
        kd = os.path.join(self.dir, "keys-" + name.strip("."))
        os.makedirs(kd)
        ksk = run(["ldns-keygen", "-a", LDNS_ALG[alg], "-k", name], kd).split()[0]
        zsk = run(["ldns-keygen", "-a", LDNS_ALG[alg], name], kd).split()[0]
        n3 = ["-n", "-t", "200"] if denial == "nsec3-200" else []
        run(["ldns-signzone", "-o", name, "-f", path + ".signed"] + n3 + [
            path, os.path.join(kd, ksk), os.path.join(kd, zsk)], self.dir)
        dsline = run(["ldns-key2ds", "-n", "-2", os.path.join(kd, ksk + ".key")], kd)
        return path + ".signed", [" ".join(dsline.split()).replace(" IN DS ", " DS ")]

    # --- servers ------------------------------------------------------------------------------
    def start(self):
        for c in ("nsd", "dnssec-signzone", "ldns-signzone"):
            if not (shutil.which(c) or os.path.exists("/usr/sbin/" + c)):
                raise RuntimeError("%s missing (build.sh installs nsd, bind9-utils, ldnsutils)"
                                   % c)
        self.prefix = _free_prefix(self.port)
        self.ip = self.prefix + str(HOST)
        self.hints = self.ip
        self.build()
        conf = nsd_conf(self.dir, self.ip, self.port, self.zones,
                        ["hide-version: yes", "minimal-responses: yes"])
        cf = os.path.join(self.dir, "nsd.conf")
        with open(cf, "w") as f:
            f.write(conf)
        p = subprocess.Popen(["/usr/sbin/nsd", "-d", "-c", cf], stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(self.dir, "nsd.stderr"), "w"))
        self.procs.append(p)
        end = time.time() + START_S
        import testnet

        while time.time() < end:
            if testnet.answers(self.ip, "secure.", self.port):
                return self
            if p.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("NSD of the signed tree did not start (see %s)" % self.dir)

    def unbound(self, port):
        """A validating Unbound on 127.0.0.1:port with this tree's root and anchor."""
        import testnet

        return testnet.Unbound(port, self.hints, anchor=self.anchor_ds,
                               run_dir=os.path.join(self.dir, "unbound-%d" % port))

    def stop(self):
        import testnet

        testnet.stop_all(self.procs)
        self.procs = []


def _bad(rest):
    """A DS rdata text ("TAG ALG TYPE HEX") with every nibble of its digest changed."""
    f = rest.split()
    h = "".join(f[3:])
    return " ".join(f[:3] + ["".join("%x" % ((int(c, 16) + 1) % 16) for c in h)])


def _damage(path, owner, how):
    """Remove (nosig) or alter (corrupt) the RRSIG of owner's A RRset in a signed zone file."""
    out = []
    with open(path) as f:
        for line in f:
            fields = line.split()
            if (len(fields) > 5 and fields[0].lower() == owner and fields[3] == "RRSIG"
                    and fields[4] == "A"):
                if how == "nosig":
                    continue
                sig = fields[-1]
                c = "A" if sig[5] != "A" else "B"
                line = line.replace(sig, sig[:5] + c + sig[6:])
            out.append(line)
    with open(path, "w") as f:
        f.writelines(out)


# --- signatures made by dnspython + cryptography (tests and benchmarks of the firmware's checks)
def signed_vectors(path, algs=None):
    """Sign www.example. A with a new key per algorithm (all of SIGN_ALGS, or algs); write
    the texts to path (5 lines each: algorithm, DNSKEY rdata, A rdata, RRSIG rdata, time);
    return the DS digests dnspython computes {(alg, digest type): hex}."""
    import dns.dnssec
    import dns.name
    import dns.rrset

    out = []
    digests = {}
    now = int(time.time())
    owner = dns.name.from_text("example.")
    allow = dns.dnssec.allow_all_policy  # RSA/SHA-1 and SHA-1 digests too: RFC 8624 still
    # has validators check them
    for alg in sorted(algs or SIGN_ALGS):
        priv = _key(alg)
        dnskey = dns.dnssec.make_dnskey(priv.public_key(), alg, flags=257)
        rrset = dns.rrset.from_text("www.example.", 3600, "IN", "A", "192.0.2.1")
        sig = dns.dnssec.sign(rrset, priv, owner, dnskey, inception=now - 60,
                              expiration=now + 3600, policy=allow)
        out += [str(alg), dnskey.to_text(), "192.0.2.1", sig.to_text(), str(now)]
        for kind in (1, 2, 4):
            digests[(alg, kind)] = dns.dnssec.make_ds(owner, dnskey, kind,
                                                      policy=allow).digest.hex()
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return digests


# MicroPython (or CPython) source that reads signed_vectors' file: prepend it to a script run in
# the firmware; vectors(path) yields (algorithm, [DNSKEY], [RRSIG], [A], time) per algorithm.
VECTOR_READER = r'''
import sys
from dnsbox.dnssec import sig as S
from dnsbox.wire import rdata
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.wire.rr import RR
def rr(owner, rtype, text):
    n = Name.from_text(owner)
    return RR(n, rtype, 1, 3600, rdata.from_text(rtype, text, n))
def vectors(path):
    lines = open(path).read().split("\n")
    i = 0
    while i + 5 <= len(lines):
        alg, key, a, sig, when = lines[i:i + 5]
        i += 5
        yield (alg, [rr("example.", T.DNSKEY, key)], [rr("www.example.", T.RRSIG, sig)],
               [rr("www.example.", T.A, a)], int(when))
'''

SIGN_ALGS = {5: ("rsa", 1024), 7: ("rsa", 1024), 8: ("rsa", 2048), 10: ("rsa", 2048),
             13: ("ec", "P-256"), 14: ("ec", "P-384"), 15: ("ed", 25519), 16: ("ed", 448)}


def _key(alg):
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    kind, arg = SIGN_ALGS[alg]
    if kind == "rsa":
        return rsa.generate_private_key(65537, arg)
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1() if arg == "P-256" else ec.SECP384R1())
    if arg == 448:
        return ed448.Ed448PrivateKey.generate()
    return ed25519.Ed25519PrivateKey.generate()


def _free_prefix(port):
    import socket

    for i in range(PREFIX_TRIES):
        prefix = "127.0.%d." % (50 + i)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((prefix + str(HOST), port))
            return prefix
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free 127.0.x.%d port %d" % (HOST, port))


def main(argv):
    if argv[:1] != ["run"]:
        print(__doc__)
        return 2
    bed = DnssecBed().start()
    print("dnssec bed up: hints=%s trust-anchor=%s" % (bed.hints, bed.anchor), flush=True)

    def _term(_sig, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        bed.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
