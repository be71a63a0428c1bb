"""tools/crunch.py as a command and as a library; the blob cross-checked against dnspython's
own master-file parser (zone -> blob -> records == zone, by an independent reader)."""

import os
import subprocess
import sys
import tempfile

import dns.rdataclass
import dns.rdatatype
import dns.zone
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRUNCH = os.path.join(ROOT, "tools", "crunch.py")
sys.path.insert(0, os.path.join(ROOT, "firmware"))

from dnsbox.wire import message as M  # noqa: E402
from dnsbox.zone.compile import compile_files  # noqa: E402
from dnsbox.zonedb import K_ANSWER, K_DELEG_NS, K_GLUE, open_blob  # noqa: E402

BENCH_ZONE = os.path.join(ROOT, "..", "shared", "bench", "data", "bench.test.zone")


def _run(*args):
    return subprocess.run([sys.executable, CRUNCH] + list(args), capture_output=True, text=True)


def _blob_rrsets(blob):
    out = set()
    db = open_blob(blob)
    for e in db.entries():
        if db.kind(e) not in (K_ANSWER, K_DELEG_NS, K_GLUE):
            continue
        key = db.key(e)
        rtype = (key[-4] << 8) | key[-3]
        m = M.decode(b"\x00\x00" + db.response(e))
        for r in m.answer:
            if r.rtype == rtype and r.name.wire == key[:-4]:
                out.add((r.name.to_text().lower(), rtype, r.ttl, r.rdata.to_text().lower()))
    return out


def _dnspython_rrsets(path, origin):
    z = dns.zone.from_file(path, origin, relativize=False)
    out = set()
    for name, node in z.nodes.items():
        for rds in node.rdatasets:
            for rd in rds:
                out.add((name.to_text().lower(), int(rds.rdtype), rds.ttl,
                         rd.to_text().lower()))
    return out


def _same_as_dnspython(path, origin):
    blob, _z, _w = compile_files([path])
    ours = _blob_rrsets(blob)
    theirs = _dnspython_rrsets(path, origin)
    assert ours == theirs, (sorted(ours - theirs)[:5], sorted(theirs - ours)[:5])
    return len(ours)


def test_example_zone_matches_dnspython():
    assert _same_as_dnspython(os.path.join(ROOT, "zones", "example.com.zone"), "example.com.") > 20


def test_diff_zones_match_dnspython():
    d = os.path.join(ROOT, "tests", "zones", "diff")
    for f in sorted(os.listdir(d)):
        if f.endswith(".zone"):
            assert _same_as_dnspython(os.path.join(d, f), f[:-5] + ".") >= 5


def test_bench_zone_matches_dnspython():
    if not os.path.exists(BENCH_ZONE):
        pytest.skip("the shared benchmark kit (../shared/bench) is not beside this checkout")
    assert _same_as_dnspython(BENCH_ZONE, "bench.test.") == 9925


def test_cli_writes_an_importable_module():
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "gen", "zoneblob.py")
        r = _run(os.path.join(ROOT, "zones"), "-o", out)
        assert r.returncode == 0, r.stderr
        assert "1 zone(s)" in r.stderr
        ns = {}
        with open(out) as f:
            exec(f.read(), ns)
        assert ns["ZONES"] == ("example.com.",)
        db = open_blob(ns["BLOB"])
        assert db.zone_names() == ["example.com."] and db.record_count() > 20


def test_cli_stops_with_file_and_line():
    with tempfile.TemporaryDirectory() as d:
        z = os.path.join(d, "bad.test.zone")
        with open(z, "w") as f:
            f.write("$TTL 1\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nwww CNAME ns\n"
                    "www A 192.0.2.2\n")
        out = os.path.join(d, "zoneblob.py")
        r = _run(z, "-o", out)
        assert r.returncode == 1
        assert r.stderr.strip() == z + ":6: CNAME and other data at www.bad.test. (CNAME at " + \
            z + ":5)"
        assert not os.path.exists(out)
        r = _run("-o", out)
        assert r.returncode == 2 and "usage" in r.stderr


def test_cli_warns_but_builds():
    with tempfile.TemporaryDirectory() as d:
        z = os.path.join(d, "warn.test.zone")
        with open(z, "w") as f:
            f.write("$TTL 1\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nns A 192.0.2.1\n")
        r = _run(z, "-o", os.path.join(d, "zoneblob.py"))
        assert r.returncode == 0 and (z + ":5: warning: duplicate") in r.stderr


def test_mutated_zone_files_stop_cleanly():
    """Random edits of the example zone either compile or raise ZoneError (file:line), never
    anything else (seeded, 1,500 variants)."""
    import random

    from dnsbox.zone.compile import compile_text
    from dnsbox.zone.errors import ZoneError

    with open(os.path.join(ROOT, "zones", "example.com.zone")) as f:
        base = f.read()
    rng = random.Random(1)
    alphabet = ' \t\n;()"\\$@.*0123456789abcAZ-:/#'
    errors = 0
    for _ in range(1500):
        t = list(base)
        for _ in range(rng.randint(1, 5)):
            p = rng.randrange(len(t))
            op = rng.random()
            if op < 0.4:
                t[p] = rng.choice(alphabet)
            elif op < 0.7:
                del t[p]
            else:
                t.insert(p, rng.choice(alphabet))
        try:
            compile_text("".join(t), "example.com.", "f.zone")
        except ZoneError as e:
            assert str(e).startswith("f.zone:")
            errors += 1
    assert errors > 300


def test_include_missing_file_is_a_zone_error():
    from dnsbox.zone.compile import compile_text
    from dnsbox.zone.errors import ZoneError

    try:
        compile_text("$TTL 1\n@ SOA ns hm 1 2 3 4 5\n$INCLUDE /nonexistent/x.inc\n",
                     "example.com.", "f.zone")
    except ZoneError as e:
        assert e.file == "f.zone" and e.line == 3 and "cannot read" in e.reason
    else:
        raise AssertionError("no error")


def test_golden_blob_is_what_crunch_builds():
    """The committed golden blobs pin the format: a change to the compiler or the format
    that changes them must regenerate them on purpose:
      python3 tools/crunch.py tests/zones/golden/example.com.zone \\
          -o tests/zones/golden/example.com.blob
      python3 tools/crunch.py tests/zones/golden/signed/example.com.zone \\
          -o tests/zones/golden/signed/example.com.blob"""
    for g in (os.path.join(ROOT, "tests", "zones", "golden"),
              os.path.join(ROOT, "tests", "zones", "golden", "signed")):
        blob, _z, w = compile_files([os.path.join(g, "example.com.zone")])
        assert not w, w
        with open(os.path.join(g, "example.com.blob"), "rb") as f:
            assert f.read() == blob, g


def test_rrset_too_large_for_a_message():
    """(Host only: the 100 KB zone text would strain a 2 MB MicroPython heap mid-suite.)"""
    from dnsbox.zone.compile import compile_text
    from dnsbox.zone.errors import ZoneError

    txt = " ".join(['"%s"' % ("x" * 255)] * 200)  # 200 strings of 255: one 51 KB TXT record
    head = "$TTL 1h\n@ SOA ns1 hm 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n"
    try:
        compile_text(head + "big TXT " + txt + '\nbig TXT "2" ' + txt + "\n", "example.com.",
                     "c.zone")
    except ZoneError as e:
        assert e.line == 5 and "too large" in e.reason
    else:
        raise AssertionError("no error")


# --- bytes in master files, and failures that must never show a traceback -------------------

HEAD_BYTES = b"$TTL 3600\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n"
# records holding bytes outside ASCII (Latin-1, UTF-8, neither), CR and VT inside strings
NSD_CASES = [b'a TXT "caf\xe9"', b"b TXT caf\xe9", b'c TXT "caf\xc3\xa9" "\xff\xfe"',
             b"caf\xe9 A 192.0.2.2", b"caf\xc3\xa9 A 192.0.2.3", b"\xff\xfe A 192.0.2.4",
             b"m MX 10 m\xe9", b'q CAA 0 issue "ca\xe9"', b'r TXT "x\ry"', b"v TXT x\x0by",
             b'w TXT "\\\xe9"', b"x\\\xe9y A 192.0.2.5"]
FUZZ_FILES = 400  # random and mutated zone files compiled through the library
FUZZ_CLI = 12  # of them, also through the command line (a process each)


def _write_zone(d, body, name="example.com.zone"):
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(body)
    return path


def test_other_bytes_compile_as_nsd_reads_them(tmp_path):
    """Every byte is data, as in NSD: nsd-checkzone -p prints the zone it read (other bytes
    as \\DDD), dnspython reads that print, and the records equal ours, byte for byte."""
    if not os.path.exists("/usr/sbin/nsd-checkzone"):
        pytest.skip("nsd-checkzone missing (apt-get install nsd)")
    path = _write_zone(str(tmp_path), HEAD_BYTES + b"\n".join(NSD_CASES) + b"\n")
    r = subprocess.run(["/usr/sbin/nsd-checkzone", "-p", "example.com", path],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    printed = _write_zone(str(tmp_path / "nsd"), r.stdout)
    theirs = _dnspython_rrsets(printed, "example.com.")
    blob, _z, _w = compile_files([path])
    ours = _blob_rrsets(blob)
    assert ours == theirs, (sorted(ours - theirs), sorted(theirs - ours))
    assert ("a.example.com.", 16, 3600, '"caf\\233"') in ours
    assert ("caf\\195\\169.example.com.", 1, 3600, "192.0.2.3") in ours
    c = _run(path, "-o", str(tmp_path / "out.py"))
    assert c.returncode == 0 and "Traceback" not in c.stderr, c.stderr


def test_nul_byte_is_data():
    """NSD 4.6 cuts a string at a NUL byte (a C string); we keep the byte, as \\000 would."""
    from dnsbox.zone.compile import compile_text

    _b, zones, _w = compile_text(HEAD_BYTES + b'a TXT "x\x00y"\nb\x00c A 192.0.2.9\n',
                                 "example.com.", "n.zone")
    texts = sorted(r.name.to_text() + " " + r.rdata.to_text() for r in zones[0].records())
    assert 'a.example.com. "x\\000y"' in texts
    assert "b\\000c.example.com. 192.0.2.9" in texts


def test_text_without_utf8_form_is_a_zone_error():
    from dnsbox.zone.compile import compile_text
    from dnsbox.zone.errors import ZoneError

    with pytest.raises(ZoneError) as e:
        compile_text("$TTL 1\n@ SOA ns hm 1 2 3 4 5\na TXT \udce9\n", "example.com.", "s.zone")
    assert str(e.value).startswith("s.zone:")


def _mutate(rng, base):
    t = bytearray(base)
    for _ in range(rng.randint(1, 8)):
        p = rng.randrange(len(t))
        op = rng.random()
        b = rng.choice(b' \t\r\n;()"\\$@.*09aZ#\x00\x0b\x7f\x80\xc3\xa9\xe9\xfe\xff')
        if rng.random() < 0.3:
            b = rng.randrange(256)
        if op < 0.4:
            t[p] = b
        elif op < 0.7:
            del t[p]
        else:
            t.insert(p, b)
    return bytes(t)


def test_any_bytes_give_file_line_and_reason(tmp_path):
    """Random bytes and randomly edited zone files (bytes of every value, NUL, CR, invalid
    UTF-8): each compiles or stops with ZoneError naming its file (seeded, bounded); a few go
    through the command line too, which never shows a Python traceback."""
    import random

    from dnsbox.zone.errors import ZoneError

    with open(os.path.join(ROOT, "zones", "example.com.zone"), "rb") as f:
        base = f.read()
    rng = random.Random(7)
    errors = 0
    paths = []
    for i in range(FUZZ_FILES):
        if i % 4 == 0:
            body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 400)))
        else:
            body = _mutate(rng, base)
        path = _write_zone(str(tmp_path / str(i)), body)
        paths.append(path)
        try:
            compile_files([path])
        except ZoneError as e:
            assert str(e).startswith(path + ":"), str(e)
            assert "internal" not in str(e)
            errors += 1
    assert errors > FUZZ_FILES // 4
    for path in paths[:FUZZ_CLI]:
        r = _run(path, "-o", path + ".py")
        assert r.returncode in (0, 1) and "Traceback" not in r.stderr, r.stderr
        assert r.returncode == 0 or r.stderr.startswith(path + ":"), r.stderr


def test_failures_around_the_files_are_one_line(tmp_path):
    """No traceback for a missing file, a directory where a zone file should be, an
    $INCLUDE of a directory, a file name that is no domain name, an output that cannot be
    written: one line naming it, exit status 1."""
    d = str(tmp_path)
    ok = _write_zone(os.path.join(d, "ok"), HEAD_BYTES)
    os.makedirs(os.path.join(d, "zones", "sub.example.zone"))  # a directory named like a zone
    inc = _write_zone(os.path.join(d, "inc"), HEAD_BYTES + b"$INCLUDE " + d.encode() + b"\n")
    bad = _write_zone(os.path.join(d, "bad"), HEAD_BYTES, "a..b.zone")
    plain = os.path.join(d, "plain")
    with open(plain, "w") as f:
        f.write("not a folder")
    cases = [
        ([os.path.join(d, "missing.zone"), "-o", os.path.join(d, "o1.py")], "cannot read"),
        ([os.path.join(d, "zones"), "-o", os.path.join(d, "o2.py")], "cannot read"),
        ([inc, "-o", os.path.join(d, "o3.py")], "cannot read"),
        ([bad, "-o", os.path.join(d, "o4.py")], "bad zone origin"),
        ([ok, "-o", os.path.join(plain, "x", "o5.py")], "cannot write"),
    ]
    for args, what in cases:
        r = _run(*args)
        assert r.returncode == 1, (args, r.stderr)
        assert "Traceback" not in r.stderr and what in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
