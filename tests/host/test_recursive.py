"""The recursive resolver over real sockets against the mini-Internet (tools/testnet.py: NSD
instances on 127.0.0.101-111 port 53, a dead server, a lame one, a poisoning one).

The resolver runs as a process, `dnsbox.main --host mode=resolver hints=127.0.0.101`, under
CPython (the source tree), the frozen MicroPython host binary, and the frozen armhf firmware
binary under qemu-arm-static (skipped if that binary predates this code); each stopped by PID
(and by its own --max-s). Queries with dnspython. DNSBOX_BUILD as in build.sh."""
import os
import subprocess
import sys
import time

import dns.edns
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import testnet  # noqa: E402
from ports import free_port  # noqa: E402
from proctree import stop  # noqa: E402

BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
MPY = os.path.join(BUILD, "host", "dnsbox")
ARMHF = os.path.join(BUILD, "armhf", "dnsbox")  # frozen modules, run with qemu-arm-static
SERVE_MAX_S = 240  # a resolver started here exits by itself after this long
QUERY_TIMEOUT_S = 12  # one client query (the resolver gives up after 10 s)

# name, type -> (rcode, answer RRsets as "owner type rdata" sorted, lower case)
EXPECT = {
    ("www.example.test.", "A"): ("NOERROR", ["www.example.test. A 192.0.2.1"]),
    ("www.example.test.", "AAAA"): ("NOERROR", ["www.example.test. AAAA 2001:db8::1"]),
    ("mail.example.test.", "MX"): ("NOERROR", ["mail.example.test. MX 10 www.example.test."]),
    ("nx.example.test.", "A"): ("NXDOMAIN", []),
    ("www.example.test.", "TXT"): ("NOERROR", []),
    ("a.b.c.d.example.test.", "A"): ("NOERROR", ["a.b.c.d.example.test. A 192.0.2.4"]),
    ("www.oob.test.", "A"): ("NOERROR", ["www.oob.test. A 192.0.2.2"]),
    ("www.sib.test.", "A"): ("NOERROR", ["www.sib.test. A 192.0.2.8"]),
    ("www.nog.test.", "A"): ("SERVFAIL", []),
    ("alias.example.test.", "A"): ("NOERROR", ["alias.example.test. CNAME www.oob.test.",
                                               "www.oob.test. A 192.0.2.2"]),
    ("x.dn.example.test.", "A"): ("NOERROR", ["dn.example.test. DNAME oob.test.",
                                              "x.dn.example.test. CNAME x.oob.test.",
                                              "x.oob.test. A 192.0.2.3"]),
    ("www.x.y.two.deep.test.", "A"): ("NOERROR", ["www.x.y.two.deep.test. A 192.0.2.9"]),
    ("l0.example.test.", "A"): ("SERVFAIL", []),
    ("loop1.example.test.", "A"): ("SERVFAIL", []),
    ("xloop.example.test.", "A"): ("SERVFAIL", []),
    ("www.a.test.", "A"): ("SERVFAIL", []),
    ("www.nxns.test.", "A"): ("SERVFAIL", []),
    ("www.lame.test.", "A"): ("SERVFAIL", []),
    ("www.poison.test.", "A"): ("NOERROR", ["www.poison.test. A 192.0.2.66"]),
    ("www.victim.test.", "A"): ("NXDOMAIN", []),
    ("www.short.test.", "A"): ("NOERROR", ["www.short.test. A 192.0.2.5"]),
    ("nosuchtld.", "A"): ("NXDOMAIN", []),
    ("www.pgx.net.", "A"): ("NOERROR", ["www.pgx.net. A 192.0.2.22"]),
    ("www.nocase.test.", "A"): ("NOERROR", ["www.nocase.test. A 192.0.2.77"]),
    ("www.empty.test.", "AAAA"): ("NOERROR", ["www.empty.test. AAAA 2001:db8::24"]),
}


def start_resolver(kind, port, hints, extra=(), local=True):
    """The resolver; local: do-not-query-localhost=no (the test net lives on 127.0.0.x)."""
    args = ["--host", "--max-s=%d" % SERVE_MAX_S, "mode=resolver", "dnssec=no", "hints=%s" % hints,
            "port=%d" % port] + (["do-not-query-localhost=no"] if local else [])
    args += list(extra)
    if kind == "cpython":
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "firmware"))
        cmd = [sys.executable, "-m", "dnsbox.main"] + args
    elif kind == "armhf":
        if not os.path.exists(ARMHF):
            pytest.skip("%s not built (./build.sh)" % ARMHF)
        with open(ARMHF, "rb") as f:
            if b"root-hints.invalid" not in f.read():
                pytest.skip("%s predates the recursive resolver (./build.sh)" % ARMHF)
        env = dict(os.environ)
        env.pop("MICROPYPATH", None)
        cmd = ["qemu-arm-static", ARMHF, "-X", "heapsize=4M", "-m", "dnsbox.main"] + args
    else:
        if not os.path.exists(MPY):
            pytest.skip("build/host/dnsbox not built (./build.sh host)")
        env = dict(os.environ)
        env.pop("MICROPYPATH", None)
        cmd = [MPY, "-X", "heapsize=8M", "-m", "dnsbox.main"] + args
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.time() + 20
    while time.time() < end:
        try:
            q = dns.message.make_query("stats.dnsbox.", "TXT", "CH")
            dns.query.udp(q, "127.0.0.1", port=port, timeout=0.3)
            return p
        except Exception:
            if p.poll() is not None:
                break
            time.sleep(0.1)
    stop(p)
    raise RuntimeError("resolver %s did not start" % kind)


def ask(port, name, rtype, tcp=False):
    q = dns.message.make_query(name, rtype, use_edns=0, payload=1232)
    if tcp:
        return dns.query.tcp(q, "127.0.0.1", port=port, timeout=QUERY_TIMEOUT_S)
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=QUERY_TIMEOUT_S,
                      raise_on_truncation=False)
    if r.flags & dns.flags.TC:
        r = dns.query.tcp(q, "127.0.0.1", port=port, timeout=QUERY_TIMEOUT_S)
    return r


def answer_sets(r):
    out = []
    for rrset in r.answer:
        for rd in rrset:
            out.append("%s %s %s" % (rrset.name.to_text().lower(),
                                     dns.rdatatype.to_text(rrset.rdtype), rd.to_text().lower()))
    return sorted(out)


def stats(port):
    q = dns.message.make_query("stats.dnsbox.", "TXT", "CH")
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
    out = {}
    for rrset in r.answer:
        for rd in rrset:
            for s in rd.strings:
                k, _e, v = s.decode().partition("=")
                out[k] = int(v)
    return out


@pytest.fixture(scope="module")
def net():
    n = testnet.TestNet().start()
    yield n
    n.stop()


@pytest.fixture(scope="module", params=["cpython", "micropython", "armhf"])
def resolver(request, net):
    port = free_port()
    p = start_resolver(request.param, port, net.hints)
    yield port
    stop(p)


def test_scenarios(resolver):
    problems = []
    for name, rtype, _what in testnet.SCENARIOS:
        if (name, rtype) not in EXPECT:
            continue
        want_rc, want = EXPECT[(name, rtype)]
        r = ask(resolver, name, rtype)
        got = (dns.rcode.to_text(r.rcode()), answer_sets(r))
        if got != (want_rc, want):
            problems.append("%s %s: %r, expected %r" % (name, rtype, got, (want_rc, want)))
        if want_rc == "SERVFAIL" and got[0] == "SERVFAIL":
            ede = [o for o in r.options if o.otype == dns.edns.EDE]
            if not ede:
                problems.append("%s %s: SERVFAIL without an Extended DNS Error" % (name, rtype))
        if want_rc == "NXDOMAIN" and got[0] == "NXDOMAIN" and name != "www.victim.test.":
            if not any(s.rdtype == dns.rdatatype.SOA for s in r.authority):
                problems.append("%s %s: NXDOMAIN without SOA" % (name, rtype))
    assert not problems, "\n".join(problems)


def test_truncated_answer_is_fetched_over_tcp(resolver):
    r = ask(resolver, "big.example.test.", "TXT", tcp=True)
    assert r.rcode() == 0 and len(r.answer) == 1 and len(r.answer[0][0].strings) == 6


def test_cache_answers_without_upstream_queries(resolver):
    ask(resolver, "www.oob.test.", "A")
    before = stats(resolver)["upstream"]
    for _ in range(5):
        r = ask(resolver, "www.oob.test.", "A")
        assert answer_sets(r) == ["www.oob.test. A 192.0.2.2"]
    assert stats(resolver)["upstream"] == before


def test_failure_is_cached_briefly(resolver):
    ask(resolver, "www.nxns.test.", "A")
    s0 = stats(resolver)
    r = ask(resolver, "www.nxns.test.", "A")
    s1 = stats(resolver)
    assert r.rcode() == dns.rcode.SERVFAIL
    assert s1["upstream"] == s0["upstream"] and s1["failcache"] == s0["failcache"] + 1


def test_poison_not_served(resolver):
    ask(resolver, "www.poison.test.", "A")
    r = ask(resolver, "www.victim.test.", "A")
    assert "6.6.6.6" not in r.to_text()
    r = ask(resolver, "www.example.test.", "A")  # test. still delegated to the real servers
    assert answer_sets(r) == ["www.example.test. A 192.0.2.1"]


def test_upstream_queries_bounded_per_request(resolver):
    problems = []
    for name, rtype, _what in testnet.SCENARIOS:
        s0 = stats(resolver)["upstream"]
        ask(resolver, "fresh-%d.%s" % (s0, name) if name != "nosuchtld." else name, rtype)
        n = stats(resolver)["upstream"] - s0
        if n > 30:
            problems.append("%s: %d upstream queries" % (name, n))
    assert not problems, problems


def test_foreign_client_refused(net):
    port = free_port()
    p = start_resolver("cpython", port, net.hints, ["allow=10.9.9.0/24"])
    try:
        r = ask(port, "www.example.test.", "A")
        assert r.rcode() == dns.rcode.REFUSED and not r.answer
    finally:
        stop(p)
