"""The firmware's signature checks (board/cmodules/dnscrypto through dnsbox.dnssec.sig) against
dnspython + cryptography on freshly generated keys: for every algorithm the validator offers
(5, 7, 8, 10, 13, 14, 15, 16), an RRset signed by dnspython verifies in the frozen host firmware and
in the armhf firmware under qemu-arm-static; the same signature over other data does not; the DS
digests (1, 2, 4) equal dnspython's."""
import os
import shutil
import subprocess

import pytest

from dnssecbed import SIGN_ALGS as ALGS
from dnssecbed import VECTOR_READER
from dnssecbed import signed_vectors as vectors

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")

CHECK = VECTOR_READER + r'''
for alg, keys, sigs, good, w in vectors(sys.argv[1]):
    other = [rr("www.example.", T.A, "192.0.2.99")]
    st = S.check(good, sigs, keys, w, [8, 2])[0]
    st2 = S.check(other, sigs, keys, w, [8, 2])[0]
    print(alg, st == S.SECURE, st2 == S.BOGUS)
    for kind in (1, 2, 4):
        print("ds", alg, kind, "".join("%02x" % b for b in S.ds_digest(
            Name.from_text("example.").lc, keys[0].rdata, kind)))
'''


def run(cmd, tmp_path):
    script = tmp_path / "check.py"
    script.write_text(CHECK)
    env = dict(os.environ)
    env.pop("MICROPYPATH", None)
    p = subprocess.run(cmd + [str(script), str(tmp_path / "vectors.txt")], capture_output=True,
                       text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def check(out, digests):
    seen = set()
    for line in out.splitlines():
        f = line.split()
        if f[0] == "ds":
            assert digests[(int(f[1]), int(f[2]))] == f[3], line
        else:
            assert f[1:] == ["True", "True"], "algorithm %s: %s" % (f[0], line)
            seen.add(int(f[0]))
    assert seen == set(ALGS)


@pytest.mark.parametrize("target", ["host", "armhf"])
def test_generated_signatures_verify_in_the_firmware(tmp_path, target):
    binary = os.path.join(BUILD, target, "dnsbox")
    if not os.path.exists(binary):
        pytest.skip("%s not built (./build.sh)" % binary)
    cmd = [binary, "-X", "heapsize=8M"]
    if target == "armhf":
        if not shutil.which("qemu-arm-static"):
            pytest.skip("qemu-arm-static missing")
        cmd = ["qemu-arm-static"] + cmd
    digests = vectors(str(tmp_path / "vectors.txt"))
    check(run(cmd, tmp_path), digests)


def test_generated_signatures_verify_under_cpython(tmp_path, monkeypatch):
    import sys

    digests = vectors(str(tmp_path / "vectors.txt"))
    monkeypatch.setenv("PYTHONPATH", os.path.join(ROOT, "firmware"))
    check(run([sys.executable], tmp_path), digests)
