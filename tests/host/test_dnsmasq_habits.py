"""dnsmasq habits of resolver mode, end to end with dig against the host firmware
(build/host/dnsbox --host mode=resolver) on loopback: the local records (cname=, txt-record=,
mx-host=, mx-target=, srv-host=, ptr-record=), a hosts file (addn-hosts=) with bad lines,
expand-hosts with domain=, and the CH TXT statistics names (cachesize.bind ... servers.bind)
for allowed clients only. Where dnsmasq is installed (dnsmasq-base), the same settings are given
to it on another loopback port (started and stopped by PID) and the answers compared.
"""
import os
import pwd
import re
import shutil
import subprocess
import threading
import time

import pytest

import proctree
from ports import free_port
from tests.host.fakeupstream import FakeUpstream

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
BINARY = os.path.join(BUILD, "host", "dnsbox")
READY_TIMEOUT_S = 10
DIG_TIMEOUT_S = 10

HOSTS = """# hosts file for the test
192.0.2.10 laptop laptop-alias
192.0.2.11\tprinter.lan   # a comment
2001:db8::5 laptop
bad-address here
192.0.2.13 ok..not fine
"""

# the settings both dnsbox and dnsmasq read (the hosts file's path is added)
COMMON = """domain=lan
expand-hosts
cname=www.lan,laptop.lan
cname=ext.lan,example.org
cname=c2.lan,www.lan,300
txt-record=t.lan,"v=spf1 a, -all",second
txt-record=empty.lan
mx-host=lan,mail.lan,5
mx-target=mx.lan
mx-host=m2.lan
srv-host=_ldap._tcp.lan,ldap.lan,389,1,2
srv-host=_x._tcp
ptr-record=1.2.0.192.in-addr.arpa,ptr.lan
ptr-record=_http._tcp.lan,web._http._tcp.lan
host-record=h.lan,192.0.2.20
no-resolv
no-hosts
"""

# (name, type): asked of both; dnsmasq gives every one of these from its local data
QUESTIONS = [
    ("laptop", "A"), ("laptop.lan", "A"), ("laptop.lan", "AAAA"), ("laptop-alias.lan", "A"),
    ("printer.lan", "A"), ("www.lan", "A"), ("www.lan", "MX"), ("c2.lan", "A"),
    ("ext.lan", "A"), ("t.lan", "TXT"), ("empty.lan", "TXT"), ("lan", "MX"), ("m2.lan", "MX"),
    ("_ldap._tcp.lan", "SRV"), ("_x._tcp.lan", "SRV"), ("1.2.0.192.in-addr.arpa", "PTR"),
    ("10.2.0.192.in-addr.arpa", "PTR"), ("_http._tcp.lan", "PTR"), ("h.lan", "A"),
    ("www.lan", "CNAME"),
]


class Proc:
    """A server process whose output is collected; stopped by PID."""

    def __init__(self, argv, ready):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self.lines = []
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if any(ready in x for x in self.lines):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError("%s did not start:\n%s" % (argv[0], "\n".join(self.lines)))

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def stop(self):
        proctree.stop(self.proc, 3)
        self._t.join(2)


def dnsbox(port, words):
    assert os.path.isfile(BINARY), "%s missing: run ./build.sh first" % BINARY
    return Proc([BINARY, "-m", "dnsbox.main", "--host", "mode=resolver", "dnssec=no",
                 "port=%d" % port] + list(words), "dnsbox ready")


def dig(port, name, rdtype="A", rdclass="IN", source="127.0.0.1"):
    """(status, flags, [answer lines as 'name ttl class type data' with single spaces])."""
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "-b", source, "+norec",
                          "+tries=1", "+time=3", "-c", rdclass, "-t", rdtype, name],
                         stdout=subprocess.PIPE, text=True, timeout=DIG_TIMEOUT_S).stdout
    m = re.search(r"status: (\w+)", out)
    assert m, out
    flags = re.search(r";; flags: ([a-z ]*);", out).group(1).split()
    ans = []
    section = None
    for line in out.split("\n"):
        if line.startswith(";; ANSWER SECTION"):
            section = "answer"
        elif line.startswith(";;") or not line.strip():
            section = None if not line.strip() else section
        elif section == "answer":
            ans.append(" ".join(line.split()))
    return m.group(1), flags, ans


@pytest.fixture
def files(tmp_path):
    hosts = tmp_path / "hosts.txt"
    hosts.write_text(HOSTS)
    conf = tmp_path / "dnsbox.conf"
    conf.write_text(COMMON + "addn-hosts=%s\naddn-hosts=%s\n" % (hosts, tmp_path / "missing"))
    return tmp_path, conf


@pytest.fixture
def up():
    u = FakeUpstream()
    yield u
    u.stop()


@pytest.fixture
def box(files, up):
    tmp, conf = files
    port = free_port()
    p = dnsbox(port, ["conf-file=%s" % conf, "server=127.0.0.1#%d" % up.port,
                      "allow=127.0.0.1/32"])
    p.port = port
    yield p
    p.stop()


def test_each_record_setting_answered_locally(box, up):
    want = {
        ("www.lan", "A"): ["www.lan. 0 IN CNAME laptop.lan.", "laptop.lan. 0 IN A 192.0.2.10"],
        ("c2.lan", "A"): ["c2.lan. 300 IN CNAME www.lan.", "www.lan. 0 IN CNAME laptop.lan.",
                          "laptop.lan. 0 IN A 192.0.2.10"],
        ("ext.lan", "A"): ["ext.lan. 0 IN CNAME example.org."],
        ("t.lan", "TXT"): ['t.lan. 0 IN TXT "v=spf1 a, -all" "second"'],
        ("empty.lan", "TXT"): ['empty.lan. 0 IN TXT ""'],
        ("lan", "MX"): ["lan. 0 IN MX 5 mail.lan."],
        ("m2.lan", "MX"): ["m2.lan. 0 IN MX 1 mx.lan."],
        ("_ldap._tcp.lan", "SRV"): ["_ldap._tcp.lan. 0 IN SRV 1 2 389 ldap.lan."],
        ("_x._tcp.lan", "SRV"): ["_x._tcp.lan. 0 IN SRV 0 0 1 ."],
        ("1.2.0.192.in-addr.arpa", "PTR"): ["1.2.0.192.in-addr.arpa. 0 IN PTR ptr.lan."],
        ("_http._tcp.lan", "PTR"): ["_http._tcp.lan. 0 IN PTR web._http._tcp.lan."],
    }
    for (name, t), lines in want.items():
        status, flags, ans = dig(box.port, name, t)
        assert status == "NOERROR" and "aa" in flags and ans == lines, (name, t, ans)
    # a local name answers other types with NODATA; nothing reached the upstream
    assert dig(box.port, "t.lan", "A")[::2] == ("NOERROR", [])
    assert up.total() == 0


def test_hosts_file_with_bad_lines_and_expand_hosts(box, up):
    out = "\n".join(box.lines)
    assert "hosts.txt line 5: not an IPv4 or IPv6 address: 'bad-address'" in out, out
    assert "hosts.txt line 6: 'ok..not'" in out, out
    assert re.search(r"addn-hosts=\S*missing: cannot read .*: skipped", out), out
    assert re.search(r"addn-hosts=\S*hosts.txt: 9 names", out), out  # 2+2+1+2 (AAAA)+2
    assert "Traceback" not in out
    for name, t, want in (("laptop", "A", "192.0.2.10"), ("laptop.lan", "A", "192.0.2.10"),
                          ("laptop-alias.lan", "A", "192.0.2.10"),
                          ("laptop.lan", "AAAA", "2001:db8::5"), ("fine.lan", "A", "192.0.2.13"),
                          ("printer.lan", "A", "192.0.2.11")):
        status, flags, ans = dig(box.port, name, t)
        assert status == "NOERROR" and ans and ans[0].endswith(" " + want), (name, ans)
    assert dig(box.port, "10.2.0.192.in-addr.arpa", "PTR")[2] == [
        "10.2.0.192.in-addr.arpa. 0 IN PTR laptop.lan."]
    assert up.total() == 0


def test_chaos_statistics_names(box, up):
    port = box.port
    for _ in range(3):
        assert dig(port, "ok.example.org", "A")[0] == "NOERROR"  # one miss, then hits
    got = {}
    for n in ("cachesize", "insertions", "evictions", "misses", "hits", "auth", "servers"):
        status, flags, ans = dig(port, n + ".bind", "TXT", "CH")
        got[n] = (status, ans)
        if n == "insertions" and status == "REFUSED":
            continue  # the cache has no insertions counter yet (see dnsbox.resolver.chaos)
        assert status == "NOERROR" and "aa" in flags and len(ans) == 1, (n, status, ans)
        assert ans[0].startswith("%s.bind. 0 CH TXT " % n), ans
    value = {n: got[n][1][0].split(" TXT ", 1)[1] for n in got if got[n][1]}
    assert int(value["misses"].strip('"')) >= 1 and int(value["hits"].strip('"')) >= 2, value
    assert int(value["cachesize"].strip('"')) > 0 and value["evictions"] == '"0"'
    assert value["servers"] == '"127.0.0.1#%d 1 0"' % up.port, value
    # from an address outside allow=: REFUSED, and no recursion offered
    for n in ("cachesize", "hits", "servers"):
        status, flags, ans = dig(port, n + ".bind", "TXT", "CH", source="127.0.0.2")
        assert status == "REFUSED" and ans == [] and "ra" not in flags, (n, status)


@pytest.mark.skipif(shutil.which("dnsmasq") is None, reason="dnsmasq not installed")
def test_same_answers_as_dnsmasq(files, tmp_path):
    tmp, conf = files
    dead = free_port()  # an upstream that never answers: every question here is local
    port = free_port()
    box = dnsbox(port, ["conf-file=%s" % conf, "server=127.0.0.1#%d" % dead])
    mport = free_port()
    mconf = tmp / "dnsmasq.conf"
    mconf.write_text("port=%d\nlisten-address=127.0.0.1\nbind-interfaces\nserver=127.0.0.1#%d\n"
                     % (mport, dead) + conf.read_text().replace(
                         "addn-hosts=%s\n" % (tmp / "missing"), ""))
    mask = Proc([shutil.which("dnsmasq"), "--keep-in-foreground", "--log-facility=-",
                 "--user=%s" % pwd.getpwuid(os.geteuid()).pw_name, "--pid-file=",
                 "--conf-file=%s" % mconf], "read %s" % (tmp / "hosts.txt"))
    try:
        for name, t in QUESTIONS:
            mine = dig(port, name, t)
            theirs = dig(mport, name, t)
            assert mine[0] == theirs[0] and mine[2] == theirs[2], (name, t, mine, theirs)
            assert "aa" in mine[1] and "aa" in theirs[1]
        # the statistics names: the same set of names, dnsmasq's forms
        for n in ("cachesize", "evictions", "misses", "hits", "auth", "servers"):
            mine = dig(port, n + ".bind", "TXT", "CH")
            theirs = dig(mport, n + ".bind", "TXT", "CH")
            assert mine[0] == theirs[0] == "NOERROR", (n, mine, theirs)
            shape = r'^%s\.bind\. 0 CH TXT "(\d+|127\.0\.0\.1#\d+ \d+ \d+)"$' % n
            assert re.match(shape, mine[2][0]) and re.match(shape, theirs[2][0]), (mine, theirs)
    finally:
        box.stop()
        mask.stop()


def test_auth_mode_auth_bind():
    """mode=auth: auth.bind counts the queries answered, for allow= only; dig's UDP question is
    answered truncated and dig asks again over TCP, where the client's address is checked."""
    port = free_port()
    box = Proc([BINARY, "-m", "dnsbox.main", "--host", "port=%d" % port, "allow=127.0.0.1/32"],
               "dnsbox ready")
    try:
        for _ in range(3):
            assert dig(port, "www.example.com", "A")[0] == "NOERROR"
        status, flags, ans = dig(port, "auth.bind", "TXT", "CH")
        assert status == "NOERROR" and "aa" in flags and len(ans) == 1, (status, ans)
        n = int(ans[0].split(" TXT ", 1)[1].strip('"'))
        assert 4 <= n <= 6, ans  # the 3 above, the truncated UDP question, its TCP retry
        assert dig(port, "auth.bind", "TXT", "CH", source="127.0.0.2")[0] == "REFUSED"
        assert dig(port, "cachesize.bind", "TXT", "CH")[0] == "REFUSED"  # no cache here
    finally:
        box.stop()


def test_addn_hosts_relative_to_the_card(tmp_path):
    """With --card=DIR a relative addn-hosts= is read from DIR (as conf-file=); the boot log
    names each bad line and a file that is missing; nothing raises."""
    from dnsbox import config, main

    (tmp_path / "lan.hosts").write_text("192.0.2.7 nas\n300.1.1.1 broken\n")
    cfg = config.parse(["mode=resolver", "domain=lan", "expand-hosts",
                        "addn-hosts=lan.hosts", "addn-hosts=nothere.hosts"], True)
    lines = []
    old = main.log.log
    main.log.log = lines.append
    try:
        got = main.load_hosts(cfg, str(tmp_path))
    finally:
        main.log.log = old
    assert [n for n, _a, _b in got] == [b"\x03nas\x03lan\x00", b"\x03nas\x00"]
    assert "addn-hosts: lan.hosts line 2: not an IPv4 or IPv6 address: '300.1.1.1' " \
           "(line ignored)" in lines, lines
    assert any(x.startswith("addn-hosts=nothere.hosts: cannot read %s/nothere.hosts" % tmp_path)
               for x in lines), lines
