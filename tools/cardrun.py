"""What the card tools share (tools/card_image.py, tools/card_qemu.py): their error, log line
and command runner. A leaf: the card tools import it, not each other both ways."""
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
