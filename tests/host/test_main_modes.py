"""Safety of the binary: build/host/dnsbox -m dnsbox.main touches the network set-up (ip link,
DHCP, /proc/cmdline) only as PID 1 or with --appliance; otherwise, without --host, it prints its
usage and exits 2. Also build.sh's own help and `run`'s port argument.

A fake `ip` (the only command on PATH) records every call, so a test sees whether the firmware
tried to set up the network without letting it touch this machine's interfaces.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tools"))
from ports import free_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("DNSBOX_BUILD") or os.path.join(ROOT, "build")
BINARY = os.path.join(BUILD, "host", "dnsbox")
RUN_TIMEOUT_S = 20
APPLIANCE_WAIT_S = 10  # for the fake `ip` to be called in appliance mode
POLL_S = 0.1


def fake_path(tmp_path):
    """A directory holding only a fake `ip` that appends its arguments to tmp_path/ip.log."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "ip.log"
    ip = bindir / "ip"
    ip.write_text('#!/bin/sh\necho "$*" >> %s\n' % log)
    ip.chmod(0o755)
    return str(bindir), log


def run(args, path):
    return subprocess.run([BINARY, "-m", "dnsbox.main"] + args, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=RUN_TIMEOUT_S, cwd=ROOT,
                          env=dict(os.environ, PATH=path))


def test_without_a_mode_it_prints_usage_and_touches_nothing(tmp_path):
    path, log = fake_path(tmp_path)
    for args in ([], ["mode=resolver", "ip=dhcp"], ["--max-s=1"]):
        p = run(args, path)
        assert p.returncode == 2, args
        err = p.stderr.decode()
        assert "usage: dnsbox -m dnsbox.main (--host | --appliance)" in err, err
        assert b"starting" not in p.stdout + p.stderr  # it did not boot
        assert not log.exists(), log.read_text()  # no `ip` command ran


def test_help_names_the_modes_and_the_docs(tmp_path):
    path, log = fake_path(tmp_path)
    for flag in ("--help", "-h"):
        p = run([flag], path)
        assert p.returncode == 0
        out = p.stdout.decode()
        for word in ("--host", "--appliance", "--card=DIR", "PID 1", "mode=client",
                     "docs/boot-variables.md"):
            assert word in out, (word, out)
    assert os.path.isfile(os.path.join(ROOT, "docs", "boot-variables.md"))
    assert not log.exists()


def test_host_mode_never_sets_up_the_network(tmp_path):
    """--host serves without touching the network set-up; its ready line counts the compiled
    zones and the update-zone."""
    path, log = fake_path(tmp_path)
    port = free_port()
    p = run(["--host", "--max-s=1", "port=%d" % port, "update-zone=dyn.example",
             "allow-update=127.0.0.1"], path)
    out = p.stdout.decode()
    assert p.returncode == 0, out
    assert "update-zone dyn.example.: in memory" in out, out
    assert "dnsbox ready: mode=auth, 2 zones, listening on 127.0.0.1 and ::1 port %d" % port in out, out
    assert not log.exists()


def test_appliance_flag_sets_up_the_network(tmp_path):
    """--appliance is appliance mode although this process is not PID 1: the firmware reads
    /proc/cmdline and runs `ip link set lo up` first (here the fake one). With no real network
    set-up it would then halt and sleep, as an appliance does: it is stopped by its PID."""
    path, log = fake_path(tmp_path)
    proc = subprocess.Popen([BINARY, "-m", "dnsbox.main", "--appliance"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT,
                            env=dict(os.environ, PATH=path))
    try:
        deadline = time.monotonic() + APPLIANCE_WAIT_S
        while time.monotonic() < deadline and not log.exists() and proc.poll() is None:
            time.sleep(POLL_S)
        assert log.exists(), "appliance mode did not set up the network"
        assert log.read_text().split("\n")[0] == "link set lo up"
    finally:
        proc.kill()
        out = proc.communicate(timeout=RUN_TIMEOUT_S)[0]
    assert b"starting (appliance build" in out, out


def test_build_sh_help_is_the_header_only():
    p = subprocess.run(["bash", os.path.join(ROOT, "build.sh"), "help"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT_S,
                       env=dict(os.environ, DNSBOX_BUILD=BUILD))
    out = p.stdout.decode()
    assert p.returncode == 0, out
    assert "set -euo" not in out and "#" not in out, out
    assert out.startswith("dnsbox: the one entry point.")
    assert "run [--port N]" in out and "PORT=N" in out
    assert out.rstrip().endswith("time).")  # the last line of the header


def test_build_sh_run_checks_its_port_before_building():
    for args, env in ((["--port", "abc"], {}), (["--port=70000"], {}), ([], {"PORT": "x1"}),
                      (["--port"], {})):
        p = subprocess.run(["bash", os.path.join(ROOT, "build.sh"), "run"] + args,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=RUN_TIMEOUT_S, env=dict(os.environ, DNSBOX_BUILD=BUILD, **env))
        out = p.stdout.decode()
        assert p.returncode != 0 and "run: " in out and "port" in out, (args, out)
        assert "==>" not in out, out  # nothing was built or booted


if __name__ == "__main__":
    sys.exit("run with pytest")
