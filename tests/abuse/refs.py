"""The servers the abuse tests run: dnsbox itself (the frozen host firmware, or the firmware
source under CPython with a zone blob made for the test) and the reference servers it is
checked against: NSD and Knot (authoritative, serving the same zone files), Unbound
(recursing from root hints, or forwarding). Each listens on a loopback port (or the address
it is given), keeps its files in its own temporary directory, and is stopped by its PID.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import dns.message
import dns.query

from crunch import compile_files, module_text
from nsdconf import nsd_conf
from ports import free_port
from testnet import stop_all

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
BINARY = os.path.join(BUILD, "host", "dnsbox")
EXAMPLE_ZONE = os.path.join(ROOT, "zones", "example.com.zone")  # compiled into the firmware
START_S = 15  # seconds a server may take to answer its first query
RUN_MAX_S = 600  # a dnsbox started here exits by itself after this long (--max-s)
TRIES = 3  # starts tried (a free port may be taken by another process before the server binds)


def answers(port, name, ip="127.0.0.1", timeout=0.3):
    try:
        dns.query.udp(dns.message.make_query(name, "SOA"), ip, port=port, timeout=timeout)
        return True
    except Exception:  # noqa: BLE001 - not up yet (timeout, refused, garbage)
        return False


class _Proc:
    """A started server: its Popen, port, run directory; stop() ends it by PID."""

    def __init__(self, what, cmd, port, run_dir, probe, ip="127.0.0.1", env=None):
        self.what = what
        self.port = port
        self.ip = ip
        self.dir = run_dir
        self.cleanup = run_dir  # removed by stop()
        self.lines = []  # what it printed
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=env, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        end = time.monotonic() + START_S
        while time.monotonic() < end and self.proc.poll() is None:
            if probe(self):
                return
            time.sleep(0.05)
        stop(self)
        raise RuntimeError("%s did not start on %s#%d:\n%s" % (what, ip, port,
                                                               "\n".join(self.lines[-20:])))

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))


def _start(make):
    err = None
    for _ in range(TRIES):
        try:
            return make()
        except RuntimeError as e:
            err = e
    raise err


# --- dnsbox ----------------------------------------------------------------------------------


def dnsbox(words, zones=None):
    """The firmware with boot variables `words` on a free loopback port. zones=None: the frozen
    host binary (its compiled-in zone, zones/example.com.zone); zones=[paths]: the firmware
    source under CPython with a zone blob compiled from those files."""
    if zones is None:
        assert os.path.isfile(BINARY), "%s missing: run ./build.sh first" % BINARY
    return _start(lambda: _dnsbox(words, zones))


def _dnsbox(words, zones):
    port = free_port()
    run_dir = tempfile.mkdtemp(prefix="dnsbox-abuse-")
    args = ["-m", "dnsbox.main", "--host", "--max-s=%d" % RUN_MAX_S, "port=%d" % port]
    env = dict(os.environ)
    env.pop("MICROPYPATH", None)
    if zones is None:
        cmd = [BINARY] + args + list(words)
    else:
        blob, zs, _w = compile_files(zones)
        with open(os.path.join(run_dir, "zoneblob.py"), "w") as f:
            f.write(module_text(blob, zs))
        env["PYTHONPATH"] = run_dir + os.pathsep + os.path.join(ROOT, "firmware")
        cmd = [sys.executable] + args + list(words)
    return _Proc("dnsbox", cmd, port, run_dir,
                 lambda s: any("dnsbox ready" in x for x in s.lines), env=env)


# --- NSD and Knot ----------------------------------------------------------------------------


def nsd(zones, options=()):
    """NSD serving zones [(origin, file)] on a free loopback port; options: nsd.conf lines."""
    if not shutil.which("nsd"):
        raise RuntimeError("nsd is not installed (apt-get install nsd)")
    return _start(lambda: _nsd(zones, options))


def _nsd(zones, options):
    port = free_port()
    d = tempfile.mkdtemp(prefix="dnsbox-abuse-nsd-")
    with open(os.path.join(d, "nsd.conf"), "w") as f:
        f.write(nsd_conf(d, "127.0.0.1", port, zones, ["hide-version: yes"] + list(options)))
    return _Proc("nsd", ["nsd", "-d", "-c", os.path.join(d, "nsd.conf")], port, d,
                 lambda s: answers(s.port, zones[0][0]))


KNOT_CONF = """server:
    rundir: "{d}"
    listen: 127.0.0.1@{port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
{options}
database:
    storage: "{d}"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "{d}"
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off
"""


def knot(zones, options=()):
    """Knot DNS (knotd) serving zones [(origin, file)] on a free loopback port; options:
    more lines of its server section."""
    if not shutil.which("knotd"):
        raise RuntimeError("knotd is not installed (apt-get install knot)")
    return _start(lambda: _knot(zones, options))


def _knot(zones, options):
    port = free_port()
    d = tempfile.mkdtemp(prefix="dnsbox-abuse-knot-")
    conf = KNOT_CONF.format(d=d, port=port, options="".join("    %s\n" % o for o in options))
    conf += "zone:\n" + "".join('  - domain: "%s"\n    file: "%s"\n' % z for z in zones)
    with open(os.path.join(d, "knot.conf"), "w") as f:
        f.write(conf)
    return _Proc("knotd", ["knotd", "-c", os.path.join(d, "knot.conf"), "-s",
                           os.path.join(d, "knot.sock")], port, d,
                 lambda s: answers(s.port, zones[0][0]))


# --- Unbound -------------------------------------------------------------------------------


def unbound(lines, ip="127.0.0.1", port=None, netns=None):
    """Unbound on ip:port (a free loopback port by default) with `lines` added to its server
    section (a forward-zone: clause may follow them: it is written last);
    iterator only, one thread. netns: the network namespace to run it in."""
    if not shutil.which("unbound"):
        raise RuntimeError("unbound is not installed (apt-get install unbound)")
    return _start(lambda: _unbound(lines, ip, port or free_port(), netns))


def _unbound(lines, ip, port, netns):
    d = tempfile.mkdtemp(prefix="dnsbox-abuse-unbound-")
    server = []
    tail = []
    for ln in lines:  # clauses after the server section
        (tail if tail or ln.endswith("-zone:") else server).append(ln)
    conf = ["server:", "  interface: %s" % ip, "  port: %d" % port, "  do-ip6: no",
            "  num-threads: 1", '  username: ""', '  chroot: ""', '  directory: "%s"' % d,
            '  pidfile: "%s/unbound.pid"' % d, "  use-syslog: no",
            '  logfile: "%s/unbound.log"' % d, "  verbosity: 1",
            '  module-config: "iterator"', "  do-not-query-localhost: no"]
    conf += ["  " + x for x in server] + tail
    with open(os.path.join(d, "unbound.conf"), "w") as f:
        f.write("\n".join(conf) + "\n")
    cmd = ["unbound", "-d", "-c", os.path.join(d, "unbound.conf")]
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    probe = (lambda s: _logged(os.path.join(d, "unbound.log"), "start of service")) if netns \
        else (lambda s: answers(s.port, ".", ip))
    return _Proc("unbound", cmd, port, d, probe, ip=ip)


def _logged(path, text):
    try:
        with open(path) as f:
            return text in f.read()
    except OSError:
        return False


def stop(*procs):
    """Stop the servers given (None ignored) by PID and remove their run directories."""
    live = [p for p in procs if p is not None]
    stop_all([p.proc for p in live])
    for p in live:
        shutil.rmtree(p.cleanup, ignore_errors=True)
