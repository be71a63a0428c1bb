#!/usr/bin/env python3
"""The mini-Internet for the recursive resolver's tests: real name servers on loopback.

One NSD (Debian package `nsd`) per address in tests/testnet/servers.txt, each on its own
127.0.0.x (x >= 100, clear of other services) port 53, serving the test root, TLDs and leaf
zones in tests/testnet/; plus two fake servers (this file): 127.0.0.110 for poison.test. adds
out-of-bailiwick records to every answer; 127.0.0.112, the odd one, echoes questions about
nocase.test. in lower case, answers empty.test. lamely (empty NOERROR without AA) and the root's
NS query (a.root. at 127.0.0.101: an old root hint whose NS set names another server), REFUSED
otherwise, and logs every question as it came (net.odd_log). 127.0.0.103 (ns2.test.) is
deliberately dead. The root hints for resolvers: 127.0.0.101 (with do-not-query-localhost=no:
every server here is on loopback). When 127.0.0.101 is busy (another run of these
tests), the whole net moves to the next free 127.0.x.0/24 (addresses rewritten in copies of
the zone files): use net.hints, not the constant.

  python3 tools/testnet.py run      start everything, print the hints, serve until Ctrl-C
  python3 tools/testnet.py run6 [both]   the IPv6 variant (below), until Ctrl-C
  python3 tools/testnet.py poison   the poisoning server alone (used by `run`)
  python3 tools/testnet.py odd IP PORT PREFIX LOG   the odd server alone (used by `run`)
From Python: net = TestNet(); net.start(); ...; net.stop()  (processes stopped by PID).
Runtime files go under build/testnet/. Loopback only; every wait is bounded.

The IPv6 variant, TestNet6(glue): the same zones and servers inside a network namespace the
test bed creates (root needed): 127.0.0.x becomes fd00:53::x on the namespace's loopback, NSD
listens on IPv6 only, and the zone copies carry AAAA glue: glue="v6" rewrites every A glue
record into AAAA (an IPv6-only net: recursion must use IPv6), glue="both" keeps the A glue
beside it (the IPv4 addresses are dead in the namespace: the family fallback). Everything runs
inside the namespace: net.cmd(argv) is the argv that runs a program there (the firmware, dig);
net.stop() ends every process by PID and deletes the namespace.
"""
import re
import os
import signal
import socket
import struct
import subprocess
import sys
import time

from nsdconf import nsd_conf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZONES = os.path.join(ROOT, "tests", "testnet")
RUN = os.path.join(ROOT, "build", "testnet")
PORT = 53
PREFIX = "127.0.0."  # the addresses written in tests/testnet/ (moved when that /24 is busy)
PREFIX_TRIES = 10  # /24s of 127.0.0.0/16 tried
HINTS = "127.0.0.101"  # the root server (net.hints: where this run put it)
POISON_IP = "127.0.0.110"
ODD_IP = "127.0.0.112"
# The scenario set (tests, Unbound differential, bench): (name, type, what it exercises).
SCENARIOS = (
    ("www.example.test.", "A", "three levels, in-bailiwick glue"),
    ("www.example.test.", "AAAA", "same zone, other type"),
    ("mail.example.test.", "MX", "MX"),
    ("nx.example.test.", "A", "NXDOMAIN"),
    ("www.example.test.", "TXT", "NODATA"),
    ("a.b.c.d.example.test.", "A", "empty non-terminals (QNAME minimisation)"),
    ("www.oob.test.", "A", "out-of-bailiwick NS (lookup in net.)"),
    ("www.sib.test.", "A", "missing glue: NS name in a sibling zone, looked up"),
    ("www.nog.test.", "A", "in-bailiwick NS with no glue anywhere"),
    ("alias.example.test.", "A", "CNAME into another zone"),
    ("x.dn.example.test.", "A", "DNAME"),
    ("big.example.test.", "TXT", "truncated over UDP: TCP"),
    ("www.x.y.two.deep.test.", "A", "four delegations deep"),
    ("l4.example.test.", "A", "8 CNAME links"),
    ("l0.example.test.", "A", "12 CNAME links: over the limit"),
    ("loop1.example.test.", "A", "CNAME loop"),
    ("xloop.example.test.", "A", "CNAME loop across zones"),
    ("www.a.test.", "A", "NS cycle a.test./b.net."),
    ("www.nxns.test.", "A", "NXNS: 20 NS names that do not exist"),
    ("www.lame.test.", "A", "lame delegation"),
    ("www.poison.test.", "A", "server adding out-of-bailiwick records"),
    ("www.victim.test.", "A", "the poisoned name: must not come from the cache"),
    ("www.short.test.", "A", "delegation with a 5 s TTL"),
    ("nosuchtld.", "A", "NXDOMAIN from the root"),
    ("www.pgx.net.", "A", "parent-side glue: the child has no address for its NS name"),
    ("www.nocase.test.", "A", "a server echoing the question in lower case (0x20 fallback)"),
    ("www.empty.test.", "AAAA", "one lame server (empty NOERROR without AA), one good"),
)
START_S = 20  # seconds a server may take to answer its first query
POISON_MAX_S = 3600  # the poisoning server exits after this long even if nobody stops it


def servers(prefix=PREFIX, zone_dir=ZONES):
    """[(ip, [(origin, path)])] from servers.txt, addresses moved into prefix."""
    out = []
    with open(os.path.join(ZONES, "servers.txt")) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            zs = []
            for fn in line[1:]:
                origin = "." if fn == "root.zone" else fn[: -len("zone")]
                zs.append((origin, os.path.join(zone_dir, fn)))
            out.append((prefix + line[0][len(PREFIX):], zs))
    return out


def _free_prefix(port):
    # another test run (another helper's) may hold the usual addresses: take the next /24
    for i in range(PREFIX_TRIES):
        prefix = "127.0.%d." % i
        if answers(prefix + "101", ".", port, 0.2):
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((prefix + "101", port))
            return prefix
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free 127.0.x.101-111 port %d (x < %d)" % (port, PREFIX_TRIES))


def _query(name, qtype=6):
    qid = int.from_bytes(os.urandom(2), "big")
    q = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
    for lab in name.strip(".").split("."):
        if lab:
            q += bytes((len(lab),)) + lab.encode()
    return q + b"\x00" + struct.pack(">HH", qtype, 1)


def answers(ip, name, port=PORT, timeout=0.5):
    """True if ip answers a SOA query for name (any rcode)."""
    s = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(_query(name), (ip, port))
        return len(s.recv(4096)) >= 12
    except OSError:
        return False
    finally:
        s.close()


class TestNet:
    def __init__(self, run_dir=RUN, port=PORT):
        self.base_dir = run_dir
        self.port = port
        self.procs = []  # (what, Popen)
        self.prefix = PREFIX
        self.hints = HINTS
        self.poison_ip = POISON_IP
        self.odd_ip = ODD_IP
        self.odd_log = None
        self.run_dir = run_dir

    def start(self):
        if not os.path.exists("/usr/sbin/nsd"):
            raise RuntimeError("nsd is not installed (apt-get install nsd)")
        self.prefix = _free_prefix(self.port)
        self.hints = self.prefix + "101"
        self.poison_ip = self.prefix + "110"
        self.odd_ip = self.prefix + "112"
        self.run_dir = os.path.join(self.base_dir, self.prefix.rstrip("."))
        zone_dir = os.path.join(self.run_dir, "zones")
        os.makedirs(zone_dir, exist_ok=True)
        for fn in os.listdir(ZONES):  # the zone files with this run's addresses
            if fn.endswith(".zone"):
                with open(os.path.join(ZONES, fn)) as f:
                    text = f.read().replace(PREFIX, self.prefix)
                with open(os.path.join(zone_dir, fn), "w") as f:
                    f.write(text)
        self.servers = servers(self.prefix, zone_dir)
        try:
            for ip, zones in self.servers:
                self._nsd(ip, zones)
            self._poison()
            self._odd()
            for ip, zones in self.servers:
                self._wait(ip, zones[0][0])
            self._wait(self.poison_ip, "poison.test.")
            self._wait(self.odd_ip, ".")
        except Exception:
            self.stop()
            raise
        return self

    def cmd(self, argv):
        """The argv that runs argv on this net (TestNet6: inside its namespace)."""
        return list(argv)

    def _nsd(self, ip, zones):
        d = os.path.join(self.run_dir, ip)
        os.makedirs(d, exist_ok=True)
        conf = nsd_conf(d, ip, self.port, zones,
                        ["hide-version: yes", "minimal-responses: no", "refuse-any: yes"])
        cf = os.path.join(d, "nsd.conf")
        with open(cf, "w") as f:
            f.write(conf)
        p = subprocess.Popen(self.cmd(["/usr/sbin/nsd", "-d", "-c", cf]),
                             stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(d, "stderr"), "w"))
        self.procs.append(("nsd " + ip, p))  # `ip netns exec` execs nsd: the PID is nsd's

    def _poison(self):
        p = subprocess.Popen(self.cmd([sys.executable, os.path.abspath(__file__), "poison",
                                       self.poison_ip, str(self.port)]),
                             stdout=subprocess.DEVNULL)
        self.procs.append(("poison " + self.poison_ip, p))

    def _odd(self):
        self.odd_log = os.path.join(self.run_dir, "odd.log")
        open(self.odd_log, "w").close()
        p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "odd", self.odd_ip,
                              str(self.port), self.prefix, self.odd_log],
                             stdout=subprocess.DEVNULL)
        self.procs.append(("odd " + self.odd_ip, p))

    def odd_questions(self):
        """[(name as it came, type)] the odd server was asked, in order."""
        with open(self.odd_log) as f:
            return [(x.split()[0], int(x.split()[1])) for x in f if x.strip()]

    def _wait(self, ip, name):
        end = time.time() + START_S
        while time.time() < end:
            if answers(ip, name, self.port):
                return
            time.sleep(0.1)
        raise RuntimeError("%s did not answer within %d s (see %s)" % (ip, START_S, self.run_dir))

    def stop(self):
        stop_all([p for _what, p in self.procs])
        self.procs = []


PREFIX6 = "fd00:53::"  # the IPv6 variant's addresses: 127.0.0.x -> fd00:53::x
HINTS6 = PREFIX6 + "101"
NETNS_CMD_S = 10  # seconds one `ip` command may take
_GLUE_A = re.compile(r"^(\S+\s+(?:\d+\s+)?)A(\s+)127\.0\.0\.(\d+)(.*)$", re.M)


def glue6(text, glue="v6"):
    """A zone file's text with its A glue (A 127.0.0.x) turned into AAAA fd00:53::x (glue="v6")
    or given an AAAA record beside it (glue="both"); other addresses in comments moved too."""

    def one(m):
        aaaa = "%sAAAA%s%s%s%s" % (m.group(1), m.group(2), PREFIX6, m.group(3), m.group(4))
        return aaaa if glue == "v6" else m.group(0) + "\n" + aaaa

    text = _GLUE_A.sub(one, text)
    return re.sub(r"\(127\.0\.0\.(\d+)", "(" + PREFIX6 + r"\1", text)


def _ip(*args, check=True):
    return subprocess.run(("ip",) + args, capture_output=True, text=True, timeout=NETNS_CMD_S,
                          check=check)


class TestNet6(TestNet):
    """The IPv6 mini-Internet in its own network namespace (see the module's text)."""

    def __init__(self, glue="v6", run_dir=RUN, port=PORT):
        TestNet.__init__(self, run_dir, port)
        self.glue = glue
        self.ns = "dnsbox6-%d-%s" % (os.getpid(), glue)  # one per test bed
        self.prefix = PREFIX6
        self.hints = HINTS6
        self.poison_ip = PREFIX6 + "110"
        self.run_dir = os.path.join(run_dir, self.ns)

    def cmd(self, argv):
        """The argv that runs argv inside the namespace."""
        return ["ip", "netns", "exec", self.ns] + list(argv)

    def start(self):
        if not os.path.exists("/usr/sbin/nsd"):
            raise RuntimeError("nsd is not installed (apt-get install nsd)")
        _ip("netns", "add", self.ns)
        try:
            _ip("-n", self.ns, "link", "set", "lo", "up")
            for x in range(101, 114):  # every address of servers.txt (and the dead one)
                _ip("-n", self.ns, "addr", "add", "%s%d/128" % (PREFIX6, x), "dev", "lo")
            zone_dir = os.path.join(self.run_dir, "zones")
            os.makedirs(zone_dir, exist_ok=True)
            for fn in os.listdir(ZONES):
                if fn.endswith(".zone"):
                    with open(os.path.join(ZONES, fn)) as f:
                        text = glue6(f.read(), self.glue)
                    with open(os.path.join(zone_dir, fn), "w") as f:
                        f.write(text)
            self.servers = servers(PREFIX, zone_dir)
            self.servers = [(PREFIX6 + ip[len(PREFIX):], z) for ip, z in self.servers]
            for ip, zones in self.servers:
                self._nsd(ip, zones)
            self._poison()
            for ip, zones in self.servers:
                self._wait(ip, zones[0][0])
            self._wait(self.poison_ip, "poison.test.")
        except Exception:
            self.stop()
            raise
        return self

    def _wait(self, ip, name):
        end = time.time() + START_S
        while time.time() < end:
            r = subprocess.run(self.cmd([sys.executable, os.path.abspath(__file__), "probe", ip,
                                         name, str(self.port)]), timeout=START_S)
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("%s did not answer within %d s (see %s)" % (ip, START_S, self.run_dir))

    def stop(self):
        TestNet.stop(self)
        _ip("netns", "del", self.ns, check=False)


def stop_all(procs):
    """End the processes we started, by PID: SIGTERM to all, then SIGKILL to any that lingers."""
    for p in procs:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(5)


class Unbound:
    """Unbound (Debian package) as a recursive resolver with the test root as its hints, on
    127.0.0.1:port; iterator only (no validator), QNAME minimisation and 0x20 on as ours;
    stopped by PID. stats() reads its counters through unbound-control (a private socket).
    With anchor (". DS ..."), the validator too, with that trust anchor."""

    def __init__(self, port, hints=HINTS, run_dir=None, anchor=None):
        if not os.path.exists("/usr/sbin/unbound"):
            raise RuntimeError("unbound is not installed (apt-get install unbound)")
        self.port = port
        run_dir = run_dir or os.path.join(RUN, "unbound-%d" % port)
        self.dir = run_dir
        os.makedirs(run_dir, exist_ok=True)
        with open(os.path.join(run_dir, "root.hints"), "w") as f:
            f.write(".  3600000 NS a.root.\na.root. 3600000 %s %s\n" % (
                "AAAA" if ":" in hints else "A", hints))
        self.conf = os.path.join(run_dir, "unbound.conf")
        conf = [
            "server:",
            "  interface: 127.0.0.1",
            "  port: %d" % port,
            "  do-ip6: %s" % ("yes" if ":" in hints else "no"),
            "  num-threads: 1",
            '  username: ""',
            '  chroot: ""',
            '  directory: "%s"' % run_dir,
            '  pidfile: "%s/unbound.pid"' % run_dir,
            "  use-syslog: no",
            '  logfile: "%s/unbound.log"' % run_dir,
            "  verbosity: 1",
            '  root-hints: "%s/root.hints"' % run_dir,
            "  do-not-query-localhost: no",
            '  module-config: "%s"' % ("validator iterator" if anchor else "iterator"),
            "  qname-minimisation: yes",
            "  use-caps-for-id: yes",
            "  harden-glue: yes",
            "  access-control: 127.0.0.0/8 allow",
            '  local-zone: "test." nodefault',
            "  extended-statistics: yes",
            "  statistics-cumulative: yes",
            "  ede: yes",
        ] + (['  trust-anchor: "%s"' % anchor, "  val-log-level: 2"] if anchor else []) + [
            "remote-control:",
            "  control-enable: yes",
            '  control-interface: "%s/ctl"' % run_dir,
            "  control-use-cert: no",
        ]
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.proc = subprocess.Popen(["/usr/sbin/unbound", "-d", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.time() + START_S
        while time.time() < end:
            if answers("127.0.0.1", ".", port, 0.3):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("unbound did not start (see %s/unbound.log)" % run_dir)

    def stats(self):
        out = subprocess.run(["unbound-control", "-c", self.conf, "stats_noreset"],
                             capture_output=True, text=True, timeout=10).stdout
        st = {}
        for line in out.splitlines():
            k, _e, v = line.partition("=")
            try:
                st[k] = float(v)
            except ValueError:
                pass
        return st

    def upstream(self):
        st = self.stats()
        return int(st.get("num.query.udpout", 0) + st.get("num.query.tcpout", 0))

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


# --- the poisoning server -------------------------------------------------------------------


def _name_end(buf, off):
    while buf[off]:
        off += buf[off] + 1
    return off + 1


def poison_answer(q):
    """For a query about poison.test. or below: the real answer (www.poison.test. A
    192.0.2.66, NXDOMAIN otherwise, AA) plus out-of-bailiwick records in every section:
    www.victim.test. A 6.6.6.6 in answer and additional, test. NS ns.evil.net. in authority."""
    if len(q) < 17 or q[2] & 0x80 or q[5] != 1:
        return None
    qend = _name_end(q, 12) + 4
    qname = q[12 : qend - 4].lower()
    qtype = (q[qend - 4] << 8) | q[qend - 3]
    www = qname == b"\x03www\x06poison\x04test\x00"
    rr = []
    if www and qtype == 1:
        rr.append(b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + bytes((192, 0, 2, 66)))
    victim = b"\x03www\x06victim\x04test\x00"
    evil_a = victim + struct.pack(">HHIH", 1, 1, 86400, 4) + bytes((6, 6, 6, 6))
    evil_ns_rd = b"\x02ns\x04evil\x03net\x00"
    evil_ns = b"\x04test\x00" + struct.pack(">HHIH", 2, 1, 86400, len(evil_ns_rd)) + evil_ns_rd
    an = rr + [evil_a]
    rcode = 0 if www or qname == b"\x06poison\x04test\x00" else 3
    head = q[:2] + struct.pack(">BBHHHH", 0x84, rcode, 1, len(an), 1, 1)
    return head + q[12:qend] + b"".join(an) + evil_ns + evil_a


def serve_fake(ip, port, answer, log=None):
    """A fake server's loop on UDP ip:port for POISON_MAX_S: answer(query) -> bytes or None;
    with log, every question's name and type appended to that file as it arrived."""
    s = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, port))
    s.settimeout(1.0)
    end = time.time() + POISON_MAX_S
    f = open(log, "a") if log else None
    try:
        while time.time() < end:
            try:
                q, peer = s.recvfrom(4096)
            except socket.timeout:
                continue
            try:
                r = answer(q)
                if f is not None:
                    qend = _name_end(q, 12)
                    f.write("%s %d\n" % (_wire_text(q[12:qend]), (q[qend] << 8) | q[qend + 1]))
                    f.flush()
            except (IndexError, ValueError):
                r = None
            if r is not None:
                s.sendto(r, peer)
    finally:
        if f is not None:
            f.close()


# --- the odd server ------------------------------------------------------------------------


def _wire_text(w):
    out = []
    i = 0
    while w[i]:
        out.append(w[i + 1 : i + 1 + w[i]].decode("latin-1"))
        i += w[i] + 1
    return ".".join(out) + "."


def odd_answer(q, prefix):
    """The odd server's answer to q (bytes), or None (not a query)."""
    if len(q) < 17 or q[2] & 0x80 or q[5] != 1:
        return None
    qend = _name_end(q, 12) + 4
    lc = q[12 : qend - 4].lower()
    qtype = (q[qend - 4] << 8) | q[qend - 3]
    question = q[12:qend]
    an = []
    add = []
    flags = 0x84  # QR AA
    rcode = 0
    if lc.endswith(b"\x06nocase\x04test\x00"):
        question = question.lower()  # label lengths stay (all < 0x41)
        if lc == b"\x03www\x06nocase\x04test\x00" and qtype == 1:
            an.append(b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + bytes((192, 0, 2, 77)))
        elif lc not in (b"\x03www\x06nocase\x04test\x00", b"\x06nocase\x04test\x00"):
            rcode = 3
    elif lc.endswith(b"\x05empty\x04test\x00"):
        flags = 0x80  # NOERROR, nothing, not authoritative: lame
    elif lc == b"\x00" and qtype == 2:
        aroot = b"\x01a\x04root\x00"
        an.append(b"\x00" + struct.pack(">HHIH", 2, 1, 86400, len(aroot)) + aroot)
        ip = bytes(int(x) for x in (prefix + "101").split("."))
        add.append(aroot + struct.pack(">HHIH", 1, 1, 86400, 4) + ip)
    else:
        flags = 0x80
        rcode = 5  # REFUSED
    head = q[:2] + struct.pack(">BBHHHH", flags, rcode, 1, len(an), 0, len(add))
    return head + question + b"".join(an) + b"".join(add)


def main(argv):
    if argv[:1] == ["poison"]:
        serve_fake(argv[1] if len(argv) > 1 else POISON_IP,
                   int(argv[2]) if len(argv) > 2 else PORT, poison_answer)
        return 0
    if argv[:1] == ["odd"] and len(argv) == 5:
        serve_fake(argv[1], int(argv[2]), lambda q: odd_answer(q, argv[3]), argv[4])
        return 0
    if argv[:1] == ["probe"]:  # inside a namespace: does ip answer? (TestNet6._wait)
        return 0 if answers(argv[1], argv[2], int(argv[3]), 0.5) else 1
    if argv[:1] == ["run"] or argv[:1] == ["run6"]:

        def _term(_sig, _frame):
            raise KeyboardInterrupt  # SIGTERM too stops the servers (finally below)

        signal.signal(signal.SIGTERM, _term)
        if argv[0] == "run6":
            net = TestNet6("both" if argv[1:2] == ["both"] else "v6").start()
            print("testnet (IPv6, namespace %s: `ip netns exec %s ...`) up:" % (net.ns, net.ns),
                  end=" ")
        else:
            net = TestNet().start()
        print("testnet up: hints=%s (servers: %s, %s poison)" % (
            net.hints, ", ".join(ip for ip, _z in net.servers), net.poison_ip), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            net.stop()
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
