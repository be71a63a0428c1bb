#!/usr/bin/env python3
"""Boot the dnsbox image of a board in qemu-system-arm (TCG), DNS forwarded to the host's loopback.

Usage (build.sh run does this):
  qemu_run.py --board board/qemu-arm --image build/qemu-arm --pidfile build/run/qemu.pid
              [--port 5353] [--mem 64] [--disk build/qemu-arm/state.img] -- [key=value ...]

The kernel command line is the board's APPEND_BASE followed by the user's boot variables (later
words override earlier ones in the firmware). Host 127.0.0.1:PORT (UDP and TCP) is forwarded to
the guest's DNS port (the last valid `port=` boot variable, else 53); with a `tls-port=N` boot
variable, host 127.0.0.1:TLS_PORT (--tls-port, default 8853) goes to guest TCP port N (DNS over
TLS), and with `https-port=N` host 127.0.0.1:HTTPS_PORT (--https-port, default 8443) to guest
port N (DNS over HTTPS). With --disk FILE (made as an empty ext4 image of the board's
STATE_DISK_MIB when missing, kept otherwise) the guest gets it as its state disk (virtio block:
/init mounts it on /state). The console is this
terminal; Ctrl-C stops qemu (and so does killing the PID written to --pidfile).

As a library (tests, tools/bench_boot.py): `command(...)` builds the argument list and
`Guest` starts qemu with the console captured, waits for lines, and stops it by PID.
"""
import argparse
import os
import shlex
import signal
import subprocess
import sys
import threading
import time

from cardrun import read_env_file

DEFAULT_HOST_PORT = 5353
DEFAULT_TLS_HOST_PORT = 8853  # host side of the DNS-over-TLS forward (guest: tls-port=)
DEFAULT_HTTPS_HOST_PORT = 8443  # host side of the DNS-over-HTTPS forward (guest: https-port=)
GUEST_DNS_PORT = 53
STOP_WAIT_S = 5  # seconds qemu gets to exit after SIGTERM/SIGINT before SIGKILL
CONSOLE_KEEP = 2000  # console lines kept in memory by Guest
STATE_LABEL = "dnsbox-state"  # the ext4 label of a state disk made by make_disk


def guest_port(words):
    """The DNS port the firmware will use: the last well-formed port= word, else 53."""
    port = GUEST_DNS_PORT
    for w in words:
        if w.startswith("port="):
            v = w[5:]
            if v.isdigit() and 0 < int(v) < 65536:
                port = int(v)
    return port


def guest_tls_port(words, key="tls-port"):
    """The guest's tls-port= (or https-port= with that key): the last well-formed one, or 0."""
    port = 0
    for w in words:
        if w.startswith(key + "="):
            v = w[len(key) + 1 :]
            if v.isdigit() and int(v) < 65536:
                port = int(v)
    return port


def make_disk(board_dir, path):
    """An empty ext4 state disk at path of the board's STATE_DISK_MIB (no root needed: mkfs
    writes a file). An existing file is kept: the state lives across runs."""
    if os.path.exists(path):
        return False
    board = read_env_file(os.path.join(board_dir, "board.env"))
    mib = int(board.get("STATE_DISK_MIB", "16"))
    mkfs = "/usr/sbin/mkfs.ext4" if os.path.exists("/usr/sbin/mkfs.ext4") else "mkfs.ext4"
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.truncate(mib << 20)
    subprocess.run([mkfs, "-q", "-F", "-m", "0", "-L", STATE_LABEL, tmp], check=True)
    os.replace(tmp, path)
    return True


def command(board_dir, image_dir, words=(), host_port=DEFAULT_HOST_PORT, mem=None,
            interactive=False, host_ip="127.0.0.1", tls_host_port=DEFAULT_TLS_HOST_PORT,
            https_host_port=DEFAULT_HTTPS_HOST_PORT, disk=None):
    board = read_env_file(os.path.join(board_dir, "board.env"))
    append = " ".join([board["APPEND_BASE"]] + list(words))
    gport = guest_port(words)
    fwd = "hostfwd=udp:%s:%d-:%d,hostfwd=tcp:%s:%d-:%d" % (
        host_ip, host_port, gport, host_ip, host_port, gport)
    for key, hport in (("tls-port", tls_host_port), ("https-port", https_host_port)):
        if guest_tls_port(words, key):
            fwd += ",hostfwd=tcp:%s:%d-:%d" % (host_ip, hport, guest_tls_port(words, key))
    cmd = [
        board.get("QEMU_SYSTEM", "qemu-system-arm"),
        "-M", board.get("QEMU_MACHINE", "virt"),
        "-m", str(mem or board.get("QEMU_MEM", "64")),
        "-accel", "tcg",
        "-no-reboot",  # panic=-1 and poweroff end qemu instead of rebooting the guest
        "-nographic",
        "-monitor", "none",
        "-kernel", os.path.join(image_dir, "vmlinuz"),
        "-initrd", os.path.join(image_dir, "initrd.xz"),
        "-append", append,
        "-netdev", "user,id=n0," + fwd,
    ]
    cmd += shlex.split(board.get("QEMU_DEVICES", "-device virtio-net-device,netdev=n0"))
    if disk:
        # the path goes in after splitting: a space in it stays one argument (a comma is
        # doubled, qemu's escape in option values)
        cmd += [a.replace("@DISK@", os.path.abspath(disk).replace(",", ",,"))
                for a in shlex.split(board["QEMU_DISK"])]
    # The serial console on stdio. signal=on: Ctrl-C on the terminal stops qemu (with the
    # plain -nographic mux it would go to the guest, which has no shell to receive it).
    cmd += ["-chardev", "stdio,id=con0,signal=%s" % ("on" if interactive else "off"),
            "-serial", "chardev:con0"]
    return cmd


class Guest:
    """A qemu started in the background, console captured line by line (for tests/benchmarks)."""

    def __init__(self, cmd, log_path=None):
        self.cmd = cmd
        self.lines = []
        self.t_start = time.monotonic()
        self._log = open(log_path, "w") if log_path else None
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.pid = self.proc.pid
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self._cond:
                self.lines.append(line)
                if len(self.lines) > CONSOLE_KEEP:
                    del self.lines[: len(self.lines) - CONSOLE_KEEP]
                if self._log:
                    self._log.write(line + "\n")
                    self._log.flush()
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, text, timeout):
        """The first console line containing text, or None after timeout seconds or qemu exit."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for line in self.lines[seen:]:
                    if text in line:
                        return line
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    return None
                self._cond.wait(min(left, 0.5))

    def console(self):
        with self._cond:
            return "\n".join(self.lines)

    def stop(self):
        """Stop qemu by its PID (SIGTERM, then SIGKILL); returns its exit status."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(STOP_WAIT_S)
        self._reader.join(2)
        if self._log:
            self._log.close()
            self._log = None
        return self.proc.returncode


def _running_qemu(pidfile):
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            if b"qemu-system" in f.read():
                return pid
    except (OSError, ValueError):
        pass
    return None


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--board", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--port", type=int, default=DEFAULT_HOST_PORT, help="host loopback port")
    ap.add_argument("--mem", type=int, default=None, help="guest RAM in MB (board default)")
    ap.add_argument("--tls-port", type=int, default=DEFAULT_TLS_HOST_PORT,
                    help="host loopback port for the guest's tls-port= (DNS over TLS)")
    ap.add_argument("--https-port", type=int, default=DEFAULT_HTTPS_HOST_PORT,
                    help="host loopback port for the guest's https-port= (DNS over HTTPS)")
    ap.add_argument("--disk", help="state disk image (made when missing, kept across runs)")
    ap.add_argument("words", nargs="*", help="boot variables key=value")
    args = ap.parse_args(argv)
    for w in args.words:
        if "=" not in w:
            print("qemu_run: boot variables are key=value words, got %r" % w, file=sys.stderr)
            return 2
    other = _running_qemu(args.pidfile)
    if other:
        print("qemu_run: qemu already running (pid %d); ./build.sh stop ends it" % other,
              file=sys.stderr)
        return 1
    if args.disk and make_disk(args.board, args.disk):
        print("qemu_run: made the state disk %s (ext4)" % args.disk, flush=True)
    cmd = command(args.board, args.image, args.words, args.port, args.mem, interactive=True,
                  tls_host_port=args.tls_port, https_host_port=args.https_port, disk=args.disk)
    print("qemu_run: %s" % " ".join(shlex.quote(c) for c in cmd), flush=True)
    print("qemu_run: DNS on 127.0.0.1:%d (udp, tcp) -> guest port %d" % (
        args.port, guest_port(args.words)), flush=True)
    for key, hport, what in (("tls-port", args.tls_port, "TLS"),
                             ("https-port", args.https_port, "HTTPS")):
        if guest_tls_port(args.words, key):
            print("qemu_run: DNS over %s on 127.0.0.1:%d -> guest port %d" % (
                what, hport, guest_tls_port(args.words, key)), flush=True)
    # qemu shares our process group: Ctrl-C reaches it directly; we only wait for it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    proc = subprocess.Popen(cmd)
    os.makedirs(os.path.dirname(os.path.abspath(args.pidfile)), exist_ok=True)
    with open(args.pidfile, "w") as f:
        f.write("%d\n" % proc.pid)

    def on_term(signum, frame):
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    try:
        rc = proc.wait()
    finally:
        if _running_qemu(args.pidfile) in (None, proc.pid):
            try:
                os.remove(args.pidfile)
            except OSError:
                pass
    print("\nqemu_run: qemu exited (status %d)" % rc, flush=True)
    # SIGINT/SIGTERM from the user is a clean stop.
    return 0 if rc in (0, -signal.SIGINT, -signal.SIGTERM, 1) else rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
