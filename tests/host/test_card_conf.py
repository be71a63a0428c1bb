"""The card's files end to end on the host firmware: --card=DIR (a temporary directory standing
for the card's mounted FAT partition) with dnsbox.txt naming conf-file=dnsbox.conf, which names
addn-hosts=hosts (dnsmasq's format): all three read, their settings answered, each bad line
named by file and line number, and the limits of what is read (config.MAX_FILE_BYTES of each
file, config.MAX_LINES lines of dnsbox.txt and of the config file, records.MAX_HOSTS_LINES of a
hosts file) said on the console, never a silent cut or a traceback."""
import subprocess

import pytest

from dnsbox import config
from dnsbox.config import records
from ports import free_port
from tests.host.test_dnsmasq_habits import dig
from tests.host.test_forwarder import BINARY

RUN_S = 2  # --max-s of a run that only boots (the limits' cases)
WAIT_S = 15


class Card:
    """The firmware started on --card=DIR; its console lines."""

    def __init__(self, card, argv=(), max_s=0):
        self.proc = subprocess.Popen(
            [BINARY, "-m", "dnsbox.main", "--host", "--card=%s" % card] +
            (["--max-s=%d" % max_s] if max_s else []) + list(argv),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def ready(self):
        """Read the console up to the ready line (or the end); its text."""
        out = []
        for line in self.proc.stdout:
            out.append(line.rstrip("\n"))
            if "dnsbox ready" in line:
                break
        return "\n".join(out)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(WAIT_S)


def boot(card, argv=()):
    """Boot on the card for RUN_S seconds: the whole console text."""
    c = Card(card, argv, RUN_S)
    out, _ = c.proc.communicate(timeout=WAIT_S + RUN_S)
    return out


@pytest.fixture
def card(tmp_path):
    port = free_port()
    (tmp_path / "dnsbox.txt").write_text(
        "# the card's boot variables\nport=%d\nmode=resolver\ndnssec=no\nserver=127.0.0.1#9\n"
        "conf-file=dnsbox.conf\nbogus=1\n" % port)
    (tmp_path / "dnsbox.conf").write_text(
        "# dnsmasq's format\ndomain=lan\nlocal=/lan/\nexpand-hosts\naddn-hosts=hosts\n"
        'txt-record=info.lan,"from the card"\ncname=files.lan,nas.lan\nno-such-option=3\n')
    (tmp_path / "hosts").write_text("192.0.2.7 nas\n300.1.1.1 broken\n192.0.2.8 printer\n")
    return tmp_path, port


def test_card_files_read_and_bad_lines_named(card):
    path, port = card
    c = Card(path)
    try:
        text = c.ready()
        assert "dnsbox ready" in text, text
        assert "card: boot variables from %s/dnsbox.txt" % path in text
        assert "(config file: dnsbox.conf)" in text
        assert "dnsbox.txt line 7: bogus=1: unknown option (ignored)" in text
        assert "dnsbox.conf line 8: no-such-option=3: unknown option (ignored)" in text
        assert "addn-hosts: hosts line 2: not an IPv4 or IPv6 address: '300.1.1.1' " \
               "(line ignored)" in text
        assert "addn-hosts=hosts: 4 names" in text  # nas, printer, each with .lan
        assert "Traceback" not in text
        assert dig(port, "nas.lan")[2][-1].split()[-1] == "192.0.2.7"
        assert dig(port, "printer.lan")[2][-1].split()[-1] == "192.0.2.8"
        st, _f, ans = dig(port, "info.lan", "TXT")
        assert st == "NOERROR" and ans[-1].endswith('"from the card"'), ans
        st, _f, ans = dig(port, "files.lan")
        assert st == "NOERROR" and ans[0].split()[3:] == ["CNAME", "nas.lan."], ans
    finally:
        c.stop()


def test_config_file_over_the_byte_limit_is_not_read(card):
    path, port = card
    conf = path / "dnsbox.conf"
    conf.write_text(conf.read_text() + "#" * config.MAX_FILE_BYTES + "\n")
    text = boot(path)
    assert "conf-file=dnsbox.conf: cannot read %s (larger than %d bytes); using the built-in " \
           "config" % (conf, config.MAX_FILE_BYTES) in text, text
    assert "(config file: built-in)" in text and "dnsbox ready" in text
    assert "addn-hosts=hosts" not in text  # named only by the file that was not read


def test_config_file_lines_past_the_limit_are_said_and_ignored(card):
    path, port = card
    conf = path / "dnsbox.conf"
    lines = conf.read_text().split("\n")[:-1]
    lines += ["# filler"] * (config.MAX_LINES - len(lines)) + ["txt-record=late.lan,late"]
    conf.write_text("\n".join(lines) + "\n")
    assert len(lines) == config.MAX_LINES + 1
    c = Card(path)
    try:
        text = c.ready()
        assert "dnsbox.conf line %d: (dnsbox.conf): more than %d lines: the rest is ignored" % (
            config.MAX_LINES + 1, config.MAX_LINES) in text, text
        assert dig(port, "info.lan", "TXT")[0] == "NOERROR"  # the lines before: read
        assert dig(port, "late.lan", "TXT")[0] == "NXDOMAIN"  # line 1025: not
    finally:
        c.stop()


def test_boot_file_over_the_limits(card):
    path, port = card
    boot_file = path / "dnsbox.txt"
    good = boot_file.read_text()
    # too many lines: the first MAX_LINES are read, the rest said
    boot_file.write_text(good + "# filler\n" * config.MAX_LINES + "mode=auth\n")
    text = boot(path)
    assert "more than %d lines: the rest is ignored" % config.MAX_LINES in text, text
    assert "config: mode=resolver" in text  # the mode=auth past the limit: not read
    # too many bytes: not read at all; the command line's words are used, and it says so
    boot_file.write_text(good + "#" * config.MAX_FILE_BYTES + "\n")
    other = free_port()
    text = boot(path, ["port=%d" % other])
    assert "card: cannot read %s (larger than %d bytes): the kernel command line's boot " \
           "variables are used" % (boot_file, config.MAX_FILE_BYTES) in text, text
    assert "config: mode=auth" in text and "port=%d" % other in text


def test_hosts_file_over_the_limits(card):
    path, port = card
    hosts = path / "hosts"
    hosts.write_text("192.0.2.9 first\n" + "# filler\n" * records.MAX_HOSTS_LINES +
                     "192.0.2.10 late\n")
    c = Card(path)
    try:
        text = c.ready()
        assert "addn-hosts: hosts line %d: more than %d lines: the rest is ignored" % (
            records.MAX_HOSTS_LINES + 1, records.MAX_HOSTS_LINES) in text, text
        assert dig(port, "first.lan")[2][-1].split()[-1] == "192.0.2.9"
        assert dig(port, "late.lan")[0] == "NXDOMAIN"
    finally:
        c.stop()
    hosts.write_text("192.0.2.9 first\n" + "#" * config.MAX_FILE_BYTES + "\n")
    text = boot(path)
    assert "addn-hosts=hosts: cannot read %s (larger than %d bytes): skipped" % (
        hosts, config.MAX_FILE_BYTES) in text, text
    assert "dnsbox ready" in text and "Traceback" not in text
