"""A master file with records of every type the codec knows (tests/host/rdtexts.py): the zone
compiler takes it and the blob answers each record with its wire; BIND's named-checkzone
accepts the same file; and named-compilezone's own text of every record parses in dnsbox to the
same wire (BIND as a second oracle beside dnspython, and the only one for MB, MG, MR, MINFO)."""

import os
import shutil
import subprocess
import tempfile

import pytest

from dnsbox.wire import message as M
from dnsbox.wire import name as N
from dnsbox.wire import rdata as R
from dnsbox.wire import types as T
from dnsbox.zone.compile import compile_text
from dnsbox.zonedb import K_ANSWER, K_DELEG_NS, K_NSEC3, K_SIG, open_blob
from tests.host.rdtexts import NOT_IN_ZONES, TEXTS

ORIGIN = "example."
HEAD = "$TTL 300\n@ SOA %s\n@ NS ns\nns A 192.0.2.53\n" % TEXTS["SOA"][0]
BIND_TIMEOUT_S = 60  # one named-checkzone / named-compilezone run on a zone of ~200 records


def _zone():
    """(master file text, {owner text: (type, wire)}) with one owner name per record."""
    lines = [HEAD]
    want = {}
    i = 0
    for mnemonic in TEXTS:
        if mnemonic in NOT_IN_ZONES or mnemonic == "SOA":
            continue
        rtype = T.type_from_text(mnemonic)
        for text in TEXTS[mnemonic]:
            i += 1
            owner = "r%d-%s" % (i, mnemonic.lower())
            if mnemonic == "NSEC3":  # BIND wants a hashed owner name (base32hex, RFC 5155)
                owner = "%02d3j8arqeve4isq12lq2u3t2rp3tom12" % i
            lines.append("%s %s %s\n" % (owner, mnemonic, text))
            wire = R.from_text(rtype, text, N.ROOT).to_wire()
            want[owner + "." + ORIGIN] = (rtype, wire)
    return "".join(lines), want


def _tool(name):
    path = shutil.which(name)
    assert path, "%s missing (apt package bind9-utils)" % name
    return path


def test_the_compiler_takes_every_type_and_the_blob_serves_it():
    text, want = _zone()
    blob, _zones, _warnings = compile_text(text, ORIGIN, "every.zone")
    db = open_blob(blob)
    got = {}
    for e in db.entries():
        if db.kind(e) not in (K_ANSWER, K_DELEG_NS, K_SIG, K_NSEC3):
            continue
        key = db.key(e)
        m = M.decode(b"\x00\x00" + db.response(e))
        for r in m.answer + m.authority:
            got.setdefault(r.name.to_text(), set()).add((r.rtype, r.rdata.to_wire()))
    types = set()
    for owner in want:
        assert want[owner] in got.get(owner, ()), (owner, want[owner])
        types.add(want[owner][0])
    soa = R.from_text(T.SOA, TEXTS["SOA"][0], N.ROOT).to_wire()
    assert (T.SOA, soa) in got[ORIGIN]
    types.add(T.SOA)
    missing = set(R.CLASSES) - types
    assert missing == set([T.OPT, T.TKEY, T.TSIG]), sorted(missing)  # not zone data
    assert key  # the loop ran


def test_named_checkzone_accepts_the_same_file():
    text, _want = _zone()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "every.zone")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run(
            [_tool("named-checkzone"), ORIGIN, path],
            capture_output=True,
            text=True,
            timeout=BIND_TIMEOUT_S,
        )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK" in r.stdout


def test_bind_prints_every_record_as_dnsbox_reads_it():
    text, want = _zone()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "every.zone")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run(
            [_tool("named-compilezone"), "-i", "none", "-o", "-", ORIGIN, path],
            capture_output=True,
            text=True,
            timeout=BIND_TIMEOUT_S,
        )
    assert r.returncode == 0, r.stderr
    seen = set()
    for line in r.stdout.split("\n"):
        parts = line.split(None, 4)
        if len(parts) < 4 or parts[0] not in want:
            continue
        rtype, wire = want[parts[0]]
        assert T.type_from_text(parts[3]) == rtype, line
        ours = R.from_text(rtype, parts[4] if len(parts) > 4 else "", N.ROOT)
        assert ours.to_wire() == wire, line
        seen.add(parts[0])
        # and BIND reads what dnsbox prints: checked for the whole zone below
    assert seen == set(want)


def test_bind_reads_what_dnsbox_prints():
    _text, want = _zone()
    lines = [HEAD]
    for owner in sorted(want):
        rtype, wire = want[owner]
        rd = R.decode(rtype, wire, 0, len(wire))
        lines.append("%s %s %s\n" % (owner, T.type_to_text(rtype), rd.to_text()))
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "printed.zone")
        with open(path, "w") as f:
            f.write("".join(lines))
        r = subprocess.run(
            [_tool("named-compilezone"), "-i", "none", "-o", "-", ORIGIN, path],
            capture_output=True,
            text=True,
            timeout=BIND_TIMEOUT_S,
        )
    assert r.returncode == 0, r.stderr
    n = 0
    for line in r.stdout.split("\n"):
        parts = line.split(None, 4)
        if len(parts) >= 4 and parts[0] in want:
            rtype, wire = want[parts[0]]
            rest = parts[4] if len(parts) > 4 else ""
            assert R.from_text(rtype, rest, N.ROOT).to_wire() == wire, line
            n += 1
    assert n == len(want)


@pytest.mark.parametrize("bad", ['x HTTPS 1 . alpn= "h2"', "x LOC 91 N 0 E 0m", "x APL 1:1/8"])
def test_both_refuse(bad):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bad.zone")
        with open(path, "w") as f:
            f.write(HEAD + bad + "\n")
        r = subprocess.run(
            [_tool("named-checkzone"), ORIGIN, path],
            capture_output=True,
            text=True,
            timeout=BIND_TIMEOUT_S,
        )
    assert r.returncode != 0
    with pytest.raises(ValueError):
        compile_text(HEAD + bad + "\n", ORIGIN, "bad.zone")
