"""tools/hints.py: Debian's dns-root-data root.hints -> the frozen module roothints."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "hints.py")
DEBIAN = "/usr/share/dns/root.hints"


def run(*args):
    return subprocess.run([sys.executable, TOOL] + list(args), capture_output=True, text=True,
                          timeout=30)


def test_debian_root_hints_compile(tmp_path):
    assert os.path.exists(DEBIAN), "apt-get install dns-root-data"
    out = tmp_path / "roothints.py"
    r = run(DEBIAN, "-o", str(out))
    assert r.returncode == 0, r.stderr
    ns = {}
    exec(out.read_text(), ns)
    names = [n for n, _ip in ns["HINTS"]]
    assert len(ns["HINTS"]) == 13 and names[0] == "a.root-servers.net."
    assert names == sorted(names) and all(n.endswith(".root-servers.net.") for n in names)
    assert ("a.root-servers.net.", "198.41.0.4") in ns["HINTS"]
    assert len(ns["HINTS6"]) == 13 and "last update" in ns["SOURCE"]


def test_bad_file_is_named_with_its_line(tmp_path):
    bad = tmp_path / "root.hints"
    bad.write_text(".  3600000  NS  A.ROOT-SERVERS.NET.\nA.ROOT-SERVERS.NET. 3600000 A 1.2.3\n")
    r = run(str(bad), "-o", str(tmp_path / "x.py"))
    assert r.returncode == 1 and "root.hints:2: bad IPv4 address" in r.stderr
    empty = tmp_path / "empty.hints"
    empty.write_text("; nothing\n")
    r = run(str(empty))
    assert r.returncode == 1 and "no root server" in r.stderr
