"""Processes we started: CPU time of a process and all its descendants, from /proc (benchmarks:
NSD and Unbound answer from forked children, so the started PID alone shows nothing), its RSS,
and stopping it by its PID."""
import os


def _table():
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended while we looked
            procs[int(d)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return procs


def cpu_seconds(pid):
    """User + system CPU seconds of pid and its descendants."""
    procs = _table()
    tree = {pid}
    grew = True
    while grew:
        grew = False
        for p, (parent, _t) in procs.items():
            if parent in tree and p not in tree:
                tree.add(p)
                grew = True
    return sum(procs[p][1] for p in tree if p in procs) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    """Resident set size of pid in KB (-1: unknown)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def stop(p, wait_s=5):
    """End a process we started (subprocess.Popen): SIGTERM, then SIGKILL after wait_s."""
    import subprocess

    if p.poll() is None:
        p.terminate()
        try:
            p.wait(wait_s)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(wait_s)
