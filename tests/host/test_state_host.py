"""The state journal end to end with the frozen host firmware (state=DIR): updates survive a
kill -9 in the middle of a burst (every acknowledged update present, none half applied, 20
rounds), IXFR answered from the history (dig, and dnspython applying it to the zone it had),
NOTIFY to also-notify= after every applied UPDATE, and the boot lines with and without state=."""
import os
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import dns.message
import dns.query
import dns.rcode
import dns.update
import dns.zone
import pytest

from tests.host.test_forwarder import Resolver

ZONE = "dyn.test."
ROUNDS = 20  # kill -9 rounds
BURST_MAX = 40  # updates sent in one round at most (the zone stays within the host heap)
ROUND_S = 10  # seconds a round's burst may last at most


@pytest.fixture
def state():
    d = tempfile.mkdtemp(prefix="dnsbox-state-")
    yield d
    shutil.rmtree(d)


def start(state, *extra):
    return Resolver(["mode=auth", "update-zone=" + ZONE, "allow-update=127.0.0.1",
                     "auth-peer=127.0.0.1", "state=" + state] + list(extra))


def add(fw, label, i, timeout=5):
    """One UPDATE adding an A and a TXT record at label: its rcode text."""
    u = dns.update.UpdateMessage(ZONE)
    name = label + "." + ZONE
    u.add(name, 300, "A", "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255))
    u.add(name, 300, "TXT", '"update %d"' % i)
    return dns.rcode.to_text(dns.query.tcp(u, "127.0.0.1", port=fw.port, timeout=timeout).rcode())


def types_at(fw, label):
    m = fw.ask(label + "." + ZONE, "ANY", tcp=True)
    return sorted(dns.rdatatype.to_text(rr.rdtype) for rr in m.answer)


def serial(fw):
    return fw.ask(ZONE, "SOA").answer[0][0].serial


def test_boot_says_where_state_lives(state):
    fw = start(state)
    try:
        assert any("state: %s (journal" % state in x for x in fw.lines), fw.lines
    finally:
        fw.stop()
    fw = Resolver(["mode=auth", "update-zone=" + ZONE])
    try:
        assert any("state: none (no state=)" in x for x in fw.lines), fw.lines
    finally:
        fw.stop()
    fw = start(state + "/nothere")
    try:
        assert any("is not writable" in x for x in fw.lines), fw.lines
    finally:
        fw.stop()


def test_updates_survive_restart_and_kill_mid_burst(state):
    acked = []
    n = 0
    rng = random.Random(15)
    for rnd in range(ROUNDS):
        fw = start(state)
        try:
            for label in acked:  # everything acknowledged before is there, whole
                assert types_at(fw, label) == ["A", "TXT"], (rnd, label, fw.lines)
            stop = [False]
            got = []

            def burst():
                t_end = time.monotonic() + ROUND_S
                for _ in range(BURST_MAX):
                    if stop[0] or time.monotonic() > t_end:
                        return
                    label = "r%d-%d" % (rnd, len(got))
                    try:
                        if add(fw, label, n + len(got), timeout=2) == "NOERROR":
                            got.append(label)
                    except (OSError, EOFError, dns.exception.DNSException):
                        return

            t = threading.Thread(target=burst)
            t.start()
            want = rng.randint(1, 12)
            t_end = time.monotonic() + ROUND_S
            while len(got) < want and t.is_alive() and time.monotonic() < t_end:
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.01))
            os.kill(fw.proc.pid, 9)  # mid-burst: no chance to flush anything
            stop[0] = True
            t.join(ROUND_S + 5)
            fw.proc.wait(5)
        finally:
            fw.stop()
        acked.extend(got)
        n += BURST_MAX
    assert len(acked) > ROUNDS  # the bursts did get updates through
    fw = start(state)
    try:
        for label in acked:
            assert types_at(fw, label) == ["A", "TXT"], label
        # any record of a label never acknowledged comes with its pair (all or nothing)
        for rnd in range(ROUNDS):
            label = "r%d-%d" % (rnd, len([x for x in acked if x.startswith("r%d-" % rnd)]))
            assert types_at(fw, label) in ([], ["A", "TXT"]), label
        assert any("changes replayed" in x for x in fw.lines)
    finally:
        fw.stop()


def axfr_zone(fw):
    return dns.zone.from_xfr(dns.query.xfr("127.0.0.1", ZONE, port=fw.port, timeout=5))


def zone_texts(z):
    return sorted(z.to_text().splitlines())


def test_ixfr_from_history_and_after_restart(state):
    fw = start(state)
    try:
        for i in range(5):
            assert add(fw, "a%d" % i, i) == "NOERROR"
        old = axfr_zone(fw)
        s_old = serial(fw)
        for i in range(5, 9):
            assert add(fw, "a%d" % i, i) == "NOERROR"
        u = dns.update.UpdateMessage(ZONE)
        u.delete("a1." + ZONE)
        u.replace("a2." + ZONE, 60, "A", "192.0.2.2")  # a TTL and an address changed
        assert dns.query.tcp(u, "127.0.0.1", port=fw.port, timeout=5).rcode() == 0
        s_new = serial(fw)
        out = subprocess.run(["dig", "+noall", "+answer", "-p", str(fw.port), "@127.0.0.1",
                              ZONE, "IXFR=%d" % s_old], capture_output=True, text=True,
                             timeout=20).stdout.splitlines()
        soas = [x.split()[6] for x in out if x.split()[3] == "SOA"]
        # RFC 1995 4: new SOA, old SOA, deletions, new SOA, additions, new SOA
        assert soas == [str(s_new), str(s_old), str(s_new), str(s_new)], out
        assert len(out) < 20  # the differences, not the whole zone
        dels = out[out.index([x for x in out if x.split()[6:7] == [str(s_old)]][0]) + 1:]
        assert any(x.startswith("a1." + ZONE) for x in dels)
        check_ixfr_applies(fw, old, s_old)
    finally:
        fw.stop()
    fw = start(state)  # the history comes back from the journal
    try:
        check_ixfr_applies(fw, old, s_old)
        out = subprocess.run(["dig", "+noall", "+answer", "-p", str(fw.port), "@127.0.0.1",
                              ZONE, "IXFR=0"], capture_output=True, text=True,
                             timeout=20).stdout.splitlines()
        assert len(out) == len(axfr_zone(fw).to_text().splitlines()) - 1 + 2  # AXFR style
    finally:
        fw.stop()


def check_ixfr_applies(fw, old, s_old):
    """dnspython applies the IXFR from s_old to the zone it had (it fails on anything but an
    incremental answer for that serial): the result is the AXFR now."""
    import dns.xfr

    z = dns.zone.Zone(ZONE)
    with z.writer() as txn:
        for name, node in old.nodes.items():
            for rds in node.rdatasets:
                txn.add(name, rds)
    q, serial = dns.xfr.make_query(z, serial=s_old)
    assert q.question[0].rdtype == dns.rdatatype.IXFR and serial == s_old
    seen = []

    class Watch:  # a transaction manager around z that records how the transfer came
        def __getattr__(self, a):
            return getattr(z, a)

        def writer(self, replacement=False):
            seen.append(replacement)
            return z.writer(replacement)

    dns.query.inbound_xfr("127.0.0.1", Watch(), query=q, port=fw.port, timeout=5)
    assert seen == [False]  # applied as differences, not replaced by a whole zone
    assert zone_texts(z) == zone_texts(axfr_zone(fw))


def test_notify_after_every_update(state):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(5)
    fw = start(state, "also-notify=127.0.0.1#%d" % s.getsockname()[1])
    try:
        seen = []

        def take(want):
            t_end = time.monotonic() + 10
            while time.monotonic() < t_end:
                data, peer = s.recvfrom(4096)
                m = dns.message.from_wire(data)
                if m.opcode() != dns.opcode.NOTIFY or str(m.question[0].name) != ZONE:
                    continue
                r = dns.message.make_response(m)
                s.sendto(r.to_wire(), peer)
                got = m.answer[0][0].serial
                seen.append(got)
                if got == want:
                    return
            raise AssertionError("no NOTIFY for serial %d: %s" % (want, seen))

        take(serial(fw))  # at start
        for i in range(3):
            assert add(fw, "n%d" % i, i) == "NOERROR"
            take(serial(fw))
        assert any(("NOTIFY %s to 127.0.0.1" % ZONE) in x and "answered" in x for x in fw.lines)
    finally:
        fw.stop()
        s.close()
