"""The platform around the image: a no-op rebuild, `run`/`stop` by PID, the initramfs itself."""
import os
import signal
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import initramfs  # noqa: E402
import qemu_run  # noqa: E402
from tests.system.test_qemu_boot import BOARD_DIR, BUILD, IMAGE_DIR, free_port  # noqa: E402

NOOP_LIMIT_S = 30  # a rebuild with nothing changed must finish in seconds (issue 2)
READY_TIMEOUT_S = 90  # boot under TCG on a loaded machine
STOP_TIMEOUT_S = 15  # ./build.sh stop, then qemu gone


def test_second_build_is_a_noop():
    """Right after a build, `./build.sh build` rebuilds nothing (no step header but sizes)."""
    env = dict(os.environ, DNSBOX_BUILD=BUILD)
    t0 = time.monotonic()
    out = subprocess.run([os.path.join(ROOT, "build.sh"), "build"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    took = time.monotonic() - t0
    assert out.returncode == 0, out.stderr[-3000:]
    steps = [line for line in out.stdout.split("\n") if line.startswith("==> ")]
    assert steps == ["==> sizes"], "a no-op build ran steps: %s" % steps
    assert took < NOOP_LIMIT_S, "no-op build took %.1f s" % took


def test_run_then_stop_by_pid(tmp_path):
    """qemu_run (what `./build.sh run` execs) writes the PID; `./build.sh stop` ends qemu."""
    build = tmp_path / "b"
    pidfile = build / "run" / "qemu.pid"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "tools", "qemu_run.py"), "--board", BOARD_DIR,
         "--image", IMAGE_DIR, "--pidfile", str(pidfile), "--port", str(port), "--",
         "hostname=stoptest"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        seen = []
        os.set_blocking(proc.stdout.fileno(), False)
        buf = b""
        while time.monotonic() < deadline and b"dnsbox ready" not in buf:
            chunk = proc.stdout.read()
            if chunk:
                buf += chunk
            elif proc.poll() is not None:
                break
            else:
                time.sleep(0.1)
        seen = buf.decode("utf-8", "replace")
        assert "dnsbox ready" in seen, seen[-3000:]
        assert pidfile.exists()
        qpid = int(pidfile.read_text())
        with open("/proc/%d/cmdline" % qpid, "rb") as f:
            cmdline = f.read().split(b"\0")
        assert cmdline[0].endswith(b"qemu-system-arm")
        assert b"hostname=stoptest" in b" ".join(cmdline)
        out = subprocess.run([os.path.join(ROOT, "build.sh"), "stop"], cwd=ROOT,
                             env=dict(os.environ, DNSBOX_BUILD=str(build)),
                             capture_output=True, text=True, timeout=STOP_TIMEOUT_S)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "stopped qemu (pid %d)" % qpid in out.stdout
        assert proc.wait(STOP_TIMEOUT_S) == 0
        assert not os.path.exists("/proc/%d" % qpid) or _is_zombie(qpid)
        assert not pidfile.exists()
    finally:
        if proc.poll() is None:
            try:
                qpid = int(pidfile.read_text())
                os.kill(qpid, signal.SIGKILL)
            except (OSError, ValueError):
                pass
            proc.kill()
            proc.wait(5)


def _is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def test_qemu_command_line():
    """Boot variables come after the board's words; the forwarded port follows a valid port=."""
    cmd = qemu_run.command(BOARD_DIR, IMAGE_DIR, ["mode=auth", "port=5300"], host_port=15353)
    append = cmd[cmd.index("-append") + 1]
    assert append.startswith("console=ttyAMA0 cma=0 panic=-1 ip=10.0.2.15")
    assert append.endswith("mode=auth port=5300")
    net = cmd[cmd.index("-netdev") + 1]
    assert "hostfwd=udp:127.0.0.1:15353-:5300" in net
    assert "hostfwd=tcp:127.0.0.1:15353-:5300" in net
    assert cmd[cmd.index("-m") + 1] == "64"
    assert "-no-reboot" in cmd
    bad = qemu_run.command(BOARD_DIR, IMAGE_DIR, ["port=abc"], host_port=15353)
    assert "hostfwd=udp:127.0.0.1:15353-:53" in bad[bad.index("-netdev") + 1]


def _parse_newc(data):
    """{path: (mode, body)} from a newc archive (an independent reader for the writer's output)."""
    out, off = {}, 0
    while True:
        assert data[off:off + 6] == b"070701", "bad magic at %d" % off
        f = [int(data[off + 6 + 8 * i: off + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = f[1], f[6], f[11]
        name = data[off + 110: off + 110 + namesize - 1].decode()
        off = (off + 110 + namesize + 3) & ~3
        body = data[off: off + size]
        off = (off + size + 3) & ~3
        if name == "TRAILER!!!":
            return out
        out[name] = (mode, body)


def test_initramfs_is_reproducible_and_complete(tmp_path):
    src = tmp_path / "hello"
    src.write_bytes(b"#!/bin/sh\necho hi\n")
    src.chmod(0o755)
    outs = []
    for i in range(2):
        out = tmp_path / ("i%d.xz" % i)
        args = ["-o", str(out), "--file", "%s:/bin/hello" % src, "--symlink", "hello:/bin/hi",
                "--dir", "/var/empty"]
        assert initramfs.main(args) == 0
        os.utime(src, (i * 1000, i * 1000))  # mtimes must not leak into the archive
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    import lzma

    entries = _parse_newc(lzma.decompress(outs[0]))
    assert entries["bin/hello"] == (0o100755, b"#!/bin/sh\necho hi\n")
    assert entries["bin/hi"] == (0o120777, b"hello")
    assert entries["dev/console"][0] == 0o020600
    assert entries["var/empty"][0] == 0o040755
    assert entries["tmp"][0] == 0o041777


@pytest.mark.parametrize("name", ["vmlinuz", "initrd.xz"])
def test_image_files_exist(name):
    path = os.path.join(IMAGE_DIR, name)
    assert os.path.getsize(path) > 100000, path


def test_image_holds_init_modules_and_firmware():
    import lzma

    with open(os.path.join(IMAGE_DIR, "initrd.xz"), "rb") as f:
        entries = _parse_newc(lzma.decompress(f.read()))
    init = entries["init"]
    assert init[0] & 0o111 and init[1].startswith(b"#!/bin/busybox sh")
    assert b"poweroff -f" in init[1] and b"-m dnsbox.main" in init[1]
    with open(os.path.join(BUILD, "armhf", "dnsbox"), "rb") as f:
        assert entries["bin/dnsbox"][1] == f.read()
    order = entries["etc/modules.load"][1].decode().split()
    names = [p.rsplit("/", 1)[1] for p in order]
    assert names.index("virtio_mmio.ko") < names.index("virtio_net.ko")
    assert names.index("net_failover.ko") < names.index("virtio_net.ko")
    for p in order:
        assert p.lstrip("/") in entries, p
    assert entries["bin/sh"] == (0o120777, b"/bin/busybox")
