"""What the board tools share (tools/card_image.py, tools/card_qemu.py, tools/qemu_run.py, the
tests and benchmarks that need a board's figures): their error, log line, command runner and
the board.env reader. A leaf: the card tools import it, not each other both ways."""
import os
import subprocess

CMD_TIMEOUT_S = 600  # any external command (xz of a big image is the slowest)


class CardError(Exception):
    pass


def log(msg):
    print("card_image: " + msg, flush=True)


def run(cmd, **kw):
    """Run a command; raise CardError with its output if it fails."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=CMD_TIMEOUT_S, **kw)
    except FileNotFoundError:
        raise CardError("command not found: %s (build.sh installs it)" % cmd[0])
    except subprocess.TimeoutExpired:
        raise CardError("timed out after %d s: %s" % (CMD_TIMEOUT_S, " ".join(cmd)))
    if p.returncode != 0:
        raise CardError("%s failed (%d):\n%s" % (" ".join(cmd), p.returncode,
                                                 p.stdout.decode(errors="replace")[-2000:]))
    return p.stdout.decode(errors="replace")


def read_env_file(path):
    """KEY=VALUE lines (values may hold spaces; # comments)."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def board_env(board="qemu-arm"):
    """board/BOARD/board.env as a dict (HEAPSIZE: the firmware's heap on that board)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return read_env_file(os.path.join(root, "board", board, "board.env"))
