"""Build-time zone signing: tools/zonekeys.py (keys in BIND's format), tools/zonesign.py (the
signer) and tools/crunch.py --keys. The signed text is checked by BIND's dnssec-verify and by
ldns-verify-zone, for algorithms 8, 13 and 15, NSEC, NSEC3 and NSEC3 opt-out, with keys made by
zonekeys.py, dnssec-keygen and ldns-keygen; the keys live in temporary directories only."""

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

import dns.name
import dns.rdatatype
import dns.zone
import pytest

import keyfile
import zonesign

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
EXAMPLE = os.path.join(ROOT, "zones", "example.com.zone")
ALGORITHMS = (8, 13, 15)
LDNS_NAMES = {8: "RSASHA256", 13: "ECDSAP256SHA256", 15: "ED25519"}
SOURCES = ("zonekeys", "bind", "ldns")
POLICIES = {"nsec": zonesign.Policy(), "nsec3": zonesign.Policy(nsec3=True),
            "opt-out": zonesign.Policy(nsec3=True, opt_out=True)}
DAY = 86400

# A zone with what denial has to get right: a secure delegation (DS) with glue, insecure ones
# (one with glue, one under an empty non-terminal that only it makes), wildcards (one under
# empty non-terminals), a chain of empty non-terminals; the SOA's TTL (300) is below its
# minimum (3600), so NSEC and NSEC3 get 300 (RFC 9077).
TEST_ZONE = """$ORIGIN signed.test.
$TTL 3600
@            300 SOA ns1 hostmaster 1 7200 1800 1209600 3600
@            NS   ns1
@            NS   ns.elsewhere.example.
@            A    192.0.2.1
ns1          A    192.0.2.53
www          A    192.0.2.80
             AAAA 2001:db8::80
cname        CNAME www
*.wild       TXT  "wildcard"
*.deep.wild2 A    192.0.2.99
a.b.c.ent    A    192.0.2.77
secure       NS   ns.secure
secure       DS   12345 13 2 2F88B036B83156868EBC88CA1EE7AB22C51FB7489CB0083A1E9C0EEFA334A3F7
ns.secure    A    192.0.2.10
insecure     NS   ns.insecure
ns.insecure  A    192.0.2.11
ns.insecure  AAAA 2001:db8::11
child.ent2   NS   ns.elsewhere.example.
"""

ZONES = {"example.com.": EXAMPLE, "signed.test.": None}


def _zone_text(origin):
    if ZONES[origin] is None:
        return TEST_ZONE
    with open(ZONES[origin]) as f:
        return f.read()


def _run(*cmd, **kw):
    return subprocess.run(list(cmd), capture_output=True, text=True, **kw)


def _tool(name, *args, **kw):
    return _run(sys.executable, os.path.join(TOOLS, name), *args, **kw)


@pytest.fixture(scope="module")
def tmp():
    d = tempfile.mkdtemp(prefix="zonesign-")
    yield d
    shutil.rmtree(d)


_KEY_DIRS = {}


def _make_keys(tmp, source, alg, origin):
    """A keys directory with a KSK and a ZSK for origin made by source (cached per module)."""
    k = (tmp, source, alg, origin)
    if k in _KEY_DIRS:
        return _KEY_DIRS[k]
    d = os.path.join(tmp, "keys-%s-%d-%s" % (source, alg, origin.rstrip(".")))
    os.makedirs(d)
    if source == "zonekeys":
        r = _tool("zonekeys.py", origin, "--alg", str(alg), "--keys", d)
        assert r.returncode == 0, r.stderr
    elif source == "bind":
        size = ["-b", "2048"] if alg == 8 else []
        for ksk in (["-f", "KSK"], []):
            r = _run("dnssec-keygen", "-q", "-K", d, "-a", str(alg), *size, *ksk, origin)
            assert r.returncode == 0, r.stderr
    else:
        size = ["-b", "2048"] if alg == 8 else []
        for ksk in (["-k"], []):
            r = _run("ldns-keygen", "-a", LDNS_NAMES[alg], *size, *ksk, origin, cwd=d)
            assert r.returncode == 0, r.stderr
    _KEY_DIRS[k] = d
    return d


def _sign(keys_dir, origin, policy, now, text=None):
    name = dns.name.from_text(origin)
    keys = zonesign.load_keys(keys_dir, name)
    assert len(keys) == 2
    return zonesign.sign_text(text or _zone_text(origin), name, keys, policy, now, origin)


def _verify(tmp, origin, text):
    """dnssec-verify and ldns-verify-zone both accept the signed text."""
    path = os.path.join(tmp, "signed-%s.zone" % origin.rstrip("."))
    with open(path, "w") as f:
        f.write(text)
    r = _run("dnssec-verify", "-o", origin, path)
    assert r.returncode == 0, r.stdout + r.stderr
    r = _run("ldns-verify-zone", path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Zone is verified and complete" in r.stdout


def _rrsigs(zone):
    for name, node in zone.nodes.items():
        for rds in node.rdatasets:
            if rds.rdtype == dns.rdatatype.RRSIG:
                for sig in rds:
                    yield name, rds.ttl, sig


def _check_signed(text, origin, policy, summary, now):
    """What the verifiers do not look at: the validity window, which key signs what, the NSEC3
    parameters (RFC 9276), opt-out and the denial records' TTL (RFC 9077)."""
    zone = dns.zone.from_text(text, origin, relativize=False)
    soa = zone.find_rdataset(origin, "SOA")
    neg_ttl = min(soa.ttl, soa[0].minimum)
    ksk, zsk = summary.ksks[0], summary.zsks[0]
    covered = set()
    for name, _ttl, sig in _rrsigs(zone):
        assert sig.inception == now - 3600 and sig.expiration == now + 30 * DAY
        assert sig.algorithm == summary.algorithm
        want = ksk if sig.type_covered == dns.rdatatype.DNSKEY else zsk
        assert sig.key_tag == want, (name, sig)
        covered.add(sig.type_covered)
    denial = dns.rdatatype.NSEC3 if policy.nsec3 else dns.rdatatype.NSEC
    assert denial in covered and dns.rdatatype.DNSKEY in covered
    records = [(n, rds) for n, node in zone.nodes.items() for rds in node.rdatasets
               if rds.rdtype in (dns.rdatatype.NSEC, dns.rdatatype.NSEC3)]
    assert records and all(rds.rdtype == denial and rds.ttl == neg_ttl for _n, rds in records)
    if not policy.nsec3:
        assert zone.get_rdataset(origin, "NSEC3PARAM") is None
        return zone
    assert zone.find_rdataset(origin, "NSEC3PARAM")[0].to_text() == "1 0 0 -"
    for _n, rds in records:
        assert rds[0].iterations == 0 and rds[0].salt == b"" and rds[0].algorithm == 1
        assert rds[0].flags == (1 if policy.opt_out else 0)
    return zone


def _hashed(zone, origin, name):
    h = dns.dnssec.nsec3_hash(dns.name.from_text(name), None, 0, 1).lower()
    return zone.get_node(dns.name.from_text(h, dns.name.from_text(origin))) is not None


# ---------------------------------------------------------------- the matrix


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("alg", ALGORITHMS)
def test_signed_zones_verify(tmp, source, alg):
    """Both zones, every denial policy, keys from the three key makers: the verifiers accept the
    signed text, and it has the window, keys and parameters asked for."""
    now = int(time.time())
    for origin in ZONES:
        keys_dir = _make_keys(tmp, source, alg, origin)
        for pname, policy in POLICIES.items():
            text, summary = _sign(keys_dir, origin, policy, now)
            assert summary.algorithm == alg and summary.denial == policy.denial()
            _verify(tmp, origin, text)
            zone = _check_signed(text, origin, policy, summary, now)
            if origin == "signed.test." and policy.nsec3:
                # NSEC3 for empty non-terminals, the secure delegation; opt-out leaves the
                # insecure delegations out, and the empty non-terminal only one of them made
                for name in ("c.ent.signed.test.", "deep.wild2.signed.test.",
                             "secure.signed.test."):
                    assert _hashed(zone, origin, name), (pname, name)
                for name in ("insecure.signed.test.", "ent2.signed.test."):
                    assert _hashed(zone, origin, name) != policy.opt_out, (pname, name)
                assert not _hashed(zone, origin, "ns.insecure.signed.test.")  # glue


def test_cds_and_cdnskey_are_signed_by_the_ksk(tmp):
    keys_dir = os.path.join(tmp, "cds")
    r = _tool("zonekeys.py", "signed.test", "--keys", keys_dir, "--cds")
    assert r.returncode == 0, r.stderr
    records = [ln for ln in r.stdout.splitlines() if not ln.startswith(";")]
    assert [ln.split()[2] for ln in records] == ["DS", "CDS", "CDNSKEY"]
    assert records[0].split(" DS ")[1] == records[1].split(" CDS ")[1]
    now = int(time.time())
    text, summary = _sign(keys_dir, "signed.test.", zonesign.Policy(), now,
                          TEST_ZONE + "\n".join(records[1:]) + "\n")
    _verify(tmp, "signed.test.", text)
    zone = dns.zone.from_text(text, "signed.test.", relativize=False)
    for _n, _t, sig in _rrsigs(zone):
        if sig.type_covered in (dns.rdatatype.CDS, dns.rdatatype.CDNSKEY):
            assert sig.key_tag == summary.ksks[0]
    cdnskey = zone.find_rdataset("signed.test.", "CDNSKEY")[0]
    assert cdnskey.flags == 257 and dns.dnssec.key_id(cdnskey) == summary.ksks[0]


# ---------------------------------------------------------------- zonekeys.py


def _shape(d):
    """{(KSK or ZSK, suffix): the file's form}: .key comment lines with their numbers as N, the
    record's words but the key (and its base64 groups' lengths); the .private field names, its
    format and algorithm; each .private's mode."""
    out = {}
    for f in os.listdir(d):
        base, suffix = f.rsplit(".", 1)
        with open(os.path.join(d, base + ".key")) as fh:
            role = "KSK" if " 257 3 " in fh.read() else "ZSK"
        with open(os.path.join(d, f)) as fh:
            lines = fh.read().splitlines()
        if suffix == "key":
            words = lines[-1].split()
            form = [re.sub(r"[0-9]+", "N", ln) for ln in lines[:-1]]
            form += [words[1:6], [len(w) for w in words[6:]]]
        else:
            form = [ln.split(":")[0] if ln.split(":")[0] not in ("Private-key-format",
                    "Algorithm") else ln for ln in lines]
            form.append(oct(stat.S_IMODE(os.stat(os.path.join(d, f)).st_mode)))
        out[(role, suffix)] = form
    return out


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_zonekeys_writes_what_dnssec_keygen_writes(tmp, alg):
    """The same file names, line forms and fields as dnssec-keygen's, .private mode 0600; the DS
    printed is dnssec-dsfromkey -2's; BIND's dnssec-signzone and ldns-signzone sign with them."""
    ours = _make_keys(tmp, "zonekeys", alg, "example.com.")
    bind = _make_keys(tmp, "bind", alg, "example.com.")

    assert _shape(ours) == _shape(bind)
    for f in os.listdir(ours):
        assert keyfile.NAME_RE.match(f), f
    d = os.path.join(tmp, "ds%d" % alg)
    r = _tool("zonekeys.py", "example.com", "--alg", str(alg), "--keys", d)
    assert r.returncode == 0, r.stderr
    ds = [ln for ln in r.stdout.splitlines() if not ln.startswith(";")]
    ksk = [k.base for k in zonesign.load_keys(d, dns.name.from_text("example.com.")) if k.ksk]
    assert len(ds) == 1 and len(ksk) == 1
    assert r.stderr.startswith("zonekeys: wrote %s.key and .private (KSK, flags 257" % ksk[0])
    theirs = _run("dnssec-dsfromkey", "-2", ksk[0] + ".key")
    assert theirs.returncode == 0, theirs.stderr
    assert ds[0] == theirs.stdout.strip()
    # BIND's and ldns' signers read the keys zonekeys.py wrote (BIND's -S: by their timing)
    small = os.path.join(tmp, "small-%d.zone" % alg)
    with open(small, "w") as f:
        f.write("$ORIGIN example.com.\n$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n")
    r = _run("dnssec-signzone", "-S", "-K", ours, "-d", tmp, "-o", "example.com.", "-f",
             small + ".b", small)  # -d: its dsset- file goes to tmp, not the working directory
    assert r.returncode == 0 and "KSKs: 1 active" in r.stdout, r.stdout + r.stderr
    pairs = sorted({os.path.join(ours, f.rsplit(".", 1)[0]) for f in os.listdir(ours)})
    r = _run("ldns-signzone", "-o", "example.com.", "-f", small + ".l", small, *pairs)
    assert r.returncode == 0, r.stdout + r.stderr
    r = _run("ldns-verify-zone", small + ".l")
    assert r.returncode == 0, r.stdout + r.stderr


def test_zonekeys_never_overwrites(tmp):
    d = os.path.join(tmp, "overwrite")
    os.makedirs(d)
    origin = dns.name.from_text("example.com.")
    private, dnskey = keyfile.generate(13, True)
    base = keyfile.write_pair(d, origin, dnskey, private, int(time.time()))
    with open(base + ".private") as f:
        before = f.read()
    with pytest.raises(keyfile.SignError, match="exists already"):
        keyfile.write_pair(d, origin, dnskey, private, int(time.time()))
    with open(base + ".private") as f:
        assert f.read() == before
    r = _tool("zonekeys.py", "example.com", "--alg", "7", "--keys", d)
    assert r.returncode == 2 and "not offered" in r.stderr


# ---------------------------------------------------------------- zonesign.py and its policy


def test_cli_window_defaults_and_policy_expiry(tmp):
    """The command's signatures run from an hour back to 30 days on (or the policy's expiry)."""
    keys_dir = os.path.join(tmp, "cli")
    shutil.copytree(_make_keys(tmp, "zonekeys", 13, "example.com."), keys_dir)
    for policy, days in ((None, 30), ("# a week\nnsec3\nexpiry = 7d\n", 7)):
        if policy:
            with open(os.path.join(keys_dir, "example.com.policy"), "w") as f:
                f.write(policy)
        t0 = int(time.time())
        r = _tool("zonesign.py", EXAMPLE, "--keys", keys_dir)
        t1 = int(time.time())
        assert r.returncode == 0, r.stderr
        assert r.stderr.startswith("zonesign: signed example.com.: algorithm 13")
        zone = dns.zone.from_text(r.stdout, "example.com.", relativize=False)
        sigs = [sig for _n, _t, sig in _rrsigs(zone)]
        assert len(sigs) > 20
        for sig in sigs:
            assert t0 - 3600 <= sig.inception <= t1 - 3600
            assert sig.expiration - sig.inception == days * DAY + 3600
        assert (zone.get_rdataset("example.com.", "NSEC3PARAM") is not None) == bool(policy)


@pytest.mark.parametrize("text, error", [
    ("nsec3\nfast\n", "policy:2: unknown setting 'fast'"),
    ("expiry=2h\n", "policy:1: expiry 2h is outside 1d .. 366d"),
    ("opt-out\n", "policy: opt-out needs nsec3"),
])
def test_bad_policy_is_one_line(tmp, text, error):
    keys_dir = os.path.join(tempfile.mkdtemp(dir=tmp), "keys")
    shutil.copytree(_make_keys(tmp, "zonekeys", 13, "example.com."), keys_dir)
    with open(os.path.join(keys_dir, "example.com.policy"), "w") as f:
        f.write(text)
    _fails_in_one_line(keys_dir, error)


def _fails_in_one_line(keys_dir, error):
    """zonesign.py and crunch.py --keys both stop with exit 1 and one line holding error."""
    r = _tool("zonesign.py", EXAMPLE, "--keys", keys_dir)
    assert r.returncode == 1 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    assert error in r.stderr, r.stderr
    out = os.path.join(keys_dir, "zoneblob.py")
    r = _tool("crunch.py", os.path.join(ROOT, "zones"), "--keys", keys_dir, "-o", out)
    assert r.returncode == 1 and not os.path.exists(out)
    assert len(r.stderr.splitlines()) == 1 and error in r.stderr, r.stderr


def _broken(tmp, name):
    """A copy of a zonekeys.py keys directory, and its (KSK base, ZSK base)."""
    d = os.path.join(tmp, "broken-" + name)
    shutil.copytree(_make_keys(tmp, "zonekeys", 13, "example.com."), d)
    keys = zonesign.load_keys(d, dns.name.from_text("example.com."))
    return d, [k.base for k in keys if k.ksk][0], [k.base for k in keys if not k.ksk][0]


def _edit(path, old, new):
    with open(path) as f:
        text = f.read()
    assert old in text
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def test_missing_private_file(tmp):
    d, _ksk, zsk = _broken(tmp, "missing")
    os.remove(zsk + ".private")
    _fails_in_one_line(d, zsk + ".private: missing")


def test_key_of_another_zone(tmp):
    d, ksk, _zsk = _broken(tmp, "other")
    _edit(ksk + ".key", "example.com. IN DNSKEY", "example.org. IN DNSKEY")
    _fails_in_one_line(d, ksk + ".key: a key of example.org., not of example.com.")


def test_corrupt_key_files(tmp):
    d, ksk, zsk = _broken(tmp, "corrupt")
    with open(zsk + ".private") as f:
        good = f.read()
    _edit(zsk + ".private", "PrivateKey: ", "PrivateKey: %%%")
    _fails_in_one_line(d, zsk + ".private: PrivateKey: is not base64")
    with open(zsk + ".private", "w") as f:
        f.write(good.replace("PrivateKey: ", "PrivateKey: AAAA"))
    _fails_in_one_line(d, zsk + ".private: PrivateKey: is 35 bytes, not 32")
    with open(zsk + ".private", "w") as f:
        f.write(good)
    _edit(ksk + ".key", " IN DNSKEY 257 3 13 ", " IN DNSKEY 257 3 13 !")
    _fails_in_one_line(d, ksk + ".key: bad DNSKEY record")


def test_private_key_of_another_key(tmp):
    d, ksk, zsk = _broken(tmp, "swapped")
    shutil.copy(ksk + ".private", zsk + ".private")
    _fails_in_one_line(d, zsk + ".private: not the private key of the DNSKEY in " + zsk + ".key")


def test_algorithm_mismatches(tmp):
    d, ksk, zsk = _broken(tmp, "algs")
    _edit(zsk + ".private", "Algorithm: 13 (ECDSAP256SHA256)", "Algorithm: 15 (ED25519)")
    _fails_in_one_line(d, zsk + ".private: algorithm 15 but 13 in the .key file")
    # a KSK of algorithm 13 beside a ZSK of algorithm 15
    os.remove(zsk + ".key")
    os.remove(zsk + ".private")
    other = _make_keys(tmp, "zonekeys", 15, "example.com.")
    for k in zonesign.load_keys(other, dns.name.from_text("example.com.")):
        if not k.ksk:
            shutil.copy(k.base + ".key", d)
            shutil.copy(k.base + ".private", d)
    _fails_in_one_line(d, "a zone's keys share one algorithm")


def test_no_ksk(tmp):
    d, ksk, _zsk = _broken(tmp, "noksk")
    os.remove(ksk + ".key")
    os.remove(ksk + ".private")
    _fails_in_one_line(d, "no KSK (flags 257)")


def test_already_signed_zone_is_refused(tmp):
    keys_dir = _make_keys(tmp, "zonekeys", 13, "example.com.")
    text, _s = _sign(keys_dir, "example.com.", zonesign.Policy(), int(time.time()))
    with pytest.raises(keyfile.SignError, match="give the signer an unsigned zone"):
        _sign(keys_dir, "example.com.", zonesign.Policy(), int(time.time()), text)


# ---------------------------------------------------------------- crunch.py --keys


def test_crunch_signs_zones_with_keys(tmp):
    """crunch.py --keys signs the zone that has keys and says how; the compiler gets the signed
    text (its own checks of signed zones are another test's business) and writes the module."""
    keys_dir = os.path.join(tmp, "crunch")
    shutil.copytree(_make_keys(tmp, "zonekeys", 13, "example.com."), keys_dir)
    with open(os.path.join(keys_dir, "example.com.policy"), "w") as f:
        f.write("nsec3\n")
    zdir = os.path.join(tmp, "crunch-zones")
    os.makedirs(zdir)
    shutil.copy(EXAMPLE, zdir)
    with open(os.path.join(zdir, "signed.test.zone"), "w") as f:
        f.write(TEST_ZONE)
    out = os.path.join(tmp, "gen", "zoneblob.py")
    r = _tool("crunch.py", zdir, "--keys", keys_dir, "-o", out)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    signed = [ln for ln in lines if ln.startswith("crunch: signed example.com.: algorithm 13")]
    assert len(signed) == 1 and "NSEC3, valid " in signed[0], r.stderr
    assert "crunch: signed.test. not signed (no keys for it in %s)" % keys_dir in lines
    assert "Traceback" not in r.stderr
    ns = {}
    with open(out) as f:
        exec(f.read(), ns)
    assert ns["ZONES"] == ("example.com.", "signed.test.") and len(ns["BLOB"]) > 0
    r = _tool("crunch.py", zdir, "--keys", os.path.join(tmp, "no-such-dir"), "-o", out)
    assert r.returncode == 1 and r.stderr.strip().endswith("not a directory")
