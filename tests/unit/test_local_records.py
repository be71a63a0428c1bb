"""dnsmasq's local records in resolver mode (dnsbox.config.records, dnsbox.resolver.local):
cname=, txt-record=, mx-host=, mx-target=, srv-host=, ptr-record=, hosts files (addn-hosts=)
with expand-hosts and domain=; and the CH TXT statistics names (dnsbox.resolver.chaos). The
expected answers are what dnsmasq 2.90 gives for the same settings (tests/host/test_dnsmasq_habits
compares them on the wire)."""
from dnsbox import config
from dnsbox.config import records as R
from dnsbox.resolver import forward as F
from dnsbox.resolver.local import Local, default_nets, records
from dnsbox.wire import message as M
from dnsbox.wire import rcode as RC
from dnsbox.wire import types as T
from dnsbox.wire.name import Name

LOOP = 0x7F000001  # 127.0.0.1
FOREIGN = 0xC6336407  # 198.51.100.7

HOSTS = """# a comment line
192.0.2.10 laptop laptop-alias   # a comment after the names
192.0.2.11\tprinter.lan
2001:db8::5 laptop
not-an-address here
192.0.2.12
192.0.2.13 bad..name good
"""


class Rng:
    def __init__(self):
        self.n = 0

    def __call__(self, k):
        self.n = (self.n + 1) & 0xFF
        return bytes([self.n] * k)


def parse(*words):
    return config.parse(["mode=resolver"] + list(words), True)


def problems(cfg):
    return [p.text() for p in cfg.problems]


def driver(*words, hosts=None):
    """A driver made as dnsbox.main makes it, forwarding to 192.0.2.1 (no answers come)."""
    from dnsbox import main
    from dnsbox.resolver import budget

    cfg = parse("dnssec=no", "server=192.0.2.1", *words)
    assert cfg.fatal() == [], problems(cfg)
    if hosts is not None:
        dom = R.local_domain(cfg) if cfg.expand_hosts else None
        cfg.file_hosts = R.parse_hosts(hosts, "hosts", dom)[0]
    nets = default_nets("10.0.2.15", "255.255.255.0")
    lim = budget.Limits(budget.BOARD_HEAP, cfg.cache_size)
    return main.make_driver(cfg, nets, None, (), lim, Rng())


def ask(f, name, qtype=T.A, ip=LOOP, qclass=T.CLASS_IN):
    """The decoded answer, or None when the query waits (forwarded)."""
    q = M.encode_query(Name.from_text(name), qtype, qclass, 0x4242, True, None)
    r = f.query(q, F.UDP, "c", ip, 0)
    return None if r is None else M.decode(r)


def texts(m):
    return [r.to_text() for r in m.answer]


# --- settings ---------------------------------------------------------------------------------
def test_record_settings_parse():
    cfg = parse("cname=www.lan,alias.lan,laptop.lan,300", 'txt-record=t.lan,"a, b",c',
                "mx-host=lan,mail.lan,5", "srv-host=_ldap._tcp.lan,ldap.lan,389,1,2",
                "ptr-record=1.2.0.192.in-addr.arpa,ptr.lan", "addn-hosts=hosts.txt",
                "expand-hosts", "domain=lan")
    assert problems(cfg) == []
    assert [c[2] for c in cfg.cnames] == [300, 300] and len(cfg.cnames) == 2
    assert cfg.txt_records[0][1].strings == (b"a, b", b"c")
    assert cfg.mx_hosts[0][2] == 5 and cfg.srv_hosts[0][2:] == (389, 1, 2)
    assert cfg.addn_hosts == ["hosts.txt"] and cfg.expand_hosts
    assert cfg.dhcp_domain == "lan"  # domain= in resolver mode: the DHCP server's option 15


def test_bad_record_settings_are_named():
    cfg = parse("cname=lonely.lan", 'txt-record=t.lan,"open', "mx-host=a.lan,b.lan,99999",
                "srv-host=_x._tcp.lan,t.lan,port", "ptr-record=a..b", "cname=a.lan,a.lan",
                "mx-host=a,b,1,2", "addn-hosts=dir/")
    got = problems(cfg)
    assert len(got) == 8, got
    assert "cname=ALIAS" in got[0] and "not closed" in got[1] and "0..65535" in got[2]
    assert "the port" in got[3] and "its own alias" in got[5] and "directory" in got[7]
    assert cfg.cnames == [] and cfg.txt_records == [] and cfg.srv_hosts == []
    assert cfg.fatal() == []  # a bad local record never halts boot


def test_record_limit():
    text = "\n".join("txt-record=t%d.lan,x" % i for i in range(R.MAX_RECORDS + 1))
    cfg = config.parse(["mode=resolver"], True, text)
    assert len(cfg.txt_records) == R.MAX_RECORDS
    assert len(cfg.problems) == 1 and "more than %d" % R.MAX_RECORDS in problems(cfg)[0]


def test_long_txt_split_in_255_byte_strings():
    cfg = config.Config()
    assert R._set_txt(cfg, "t.lan," + "x" * 600) == ""
    assert [len(s) for s in cfg.txt_records[0][1].strings] == [255, 255, 90]


def test_client_mode_keeps_domain_as_its_query_name():
    cfg = config.parse(["mode=client", "domain=www.example.org", "server=127.0.0.1"], True)
    assert cfg.domain == "www.example.org" and cfg.dhcp_domain is None


def test_dhcp_option_15_wins_over_domain():
    cfg = parse("domain=lan", "dhcp-option=15,corp.example")
    assert cfg.dhcp_domain == "corp.example"


def test_cname_checks():
    cfg = parse("host-record=h.lan,192.0.2.1", "cname=h.lan,x.lan", "cname=l1.lan,l2.lan",
                "cname=l2.lan,l1.lan", "cname=ok.lan,h.lan")
    got = problems(cfg)
    assert len(got) == 3 and "other local records" in got[0] and "loop" in got[1]
    assert [c[0] for c in cfg.cnames] == [Name.from_text("ok.lan.").lc]


def test_mx_host_without_a_host():
    assert "needs mx-target= or hostname=" in problems(parse("mx-host=lan"))[0]
    cfg = parse("mx-host=lan", "hostname=box")
    assert cfg.mx_hosts == [(Name.from_text("lan.").lc, Name.from_text("box.").lc, 1)]
    cfg = parse("mx-host=lan", "hostname=box", "mx-target=mail.lan")
    assert cfg.mx_hosts[0][1] == Name.from_text("mail.lan.").lc


def test_srv_host_takes_the_local_domain():
    cfg = parse("srv-host=_x._tcp", "domain=lan")
    assert cfg.srv_hosts[0] == (Name.from_text("_x._tcp.lan.").lc, b"\x00", 1, 0, 0)


# --- hosts files ------------------------------------------------------------------------------
def test_hosts_file_lines_and_errors():
    entries, errs = R.parse_hosts(HOSTS, "hosts.txt")
    assert [(Name(n, n).to_text(), a is not None, b is not None) for n, a, b in entries] == [
        ("laptop.", True, False), ("laptop-alias.", True, False), ("printer.lan.", True, False),
        ("laptop.", False, True), ("good.", True, False)]
    assert errs[0].startswith("hosts.txt line 5: not an IPv4 or IPv6 address")
    assert errs[1].startswith("hosts.txt line 6: an address without a name")
    assert errs[2].startswith("hosts.txt line 7: 'bad..name'") and len(errs) == 3


def test_hosts_file_expand_hosts():
    entries, errs = R.parse_hosts("192.0.2.10 laptop printer.lan\n", "h", "lan")
    assert [Name(n, n).to_text() for n, _a, _b in entries] == [
        "laptop.lan.", "laptop.", "printer.lan."]


def test_hosts_file_bounds():
    text = "\n".join("192.0.2.1 h%d" % i for i in range(R.MAX_HOSTS_LINES + 10))
    entries, errs = R.parse_hosts(text, "big")
    assert len(entries) == R.MAX_HOSTS_NAMES
    assert len(errs) == 1 and "more than %d names" % R.MAX_HOSTS_NAMES in errs[0]
    entries, errs = R.parse_hosts(text, "big", None, 5000)
    assert len(entries) == R.MAX_HOSTS_LINES
    assert "more than %d lines" % R.MAX_HOSTS_LINES in errs[0]
    entries, errs = R.parse_hosts("junk\n" * 100, "bad")
    assert entries == [] and len(errs) == R.MAX_HOSTS_ERRORS + 1
    assert errs[-1] == "bad: %d more bad lines" % (100 - R.MAX_HOSTS_ERRORS)
    assert R.parse_hosts("\x00\xff \n::::: x\n1.2.3.4.5 y", "odd")[0] == []


# --- answers ----------------------------------------------------------------------------------
def local():
    f = driver("domain=lan", "expand-hosts", "hostname=box", "cname=www.lan,laptop.lan",
               "cname=ext.lan,example.org", "cname=c2.lan,www.lan,300",
               'txt-record=t.lan,"v=spf1 a, -all",second', "txt-record=empty.lan",
               "mx-host=lan,mail.lan,5", "mx-host=m2.lan",
               "srv-host=_ldap._tcp.lan,ldap.lan,389,1,2",
               "srv-host=_x._tcp", "ptr-record=1.2.0.192.in-addr.arpa,ptr.lan",
               "ptr-record=_http._tcp.lan,web._http._tcp.lan", "host-record=h.lan,192.0.2.20",
               "host-record=h.lan,192.0.2.21", hosts=HOSTS)
    return f


def test_answers_as_dnsmasq_gives_them():
    f = local()
    m = ask(f, "laptop.")
    assert m.aa and m.rcode == RC.NOERROR and texts(m) == ["laptop. 0 IN A 192.0.2.10"]
    assert texts(ask(f, "laptop.lan.", T.AAAA)) == ["laptop.lan. 0 IN AAAA 2001:db8::5"]
    assert texts(ask(f, "laptop-alias.lan.")) == ["laptop-alias.lan. 0 IN A 192.0.2.10"]
    assert texts(ask(f, "www.lan.")) == ["www.lan. 0 IN CNAME laptop.lan.",
                                         "laptop.lan. 0 IN A 192.0.2.10"]
    assert texts(ask(f, "www.lan.", T.MX)) == ["www.lan. 0 IN CNAME laptop.lan."]
    assert texts(ask(f, "c2.lan.")) == ["c2.lan. 300 IN CNAME www.lan.",
                                        "www.lan. 0 IN CNAME laptop.lan.",
                                        "laptop.lan. 0 IN A 192.0.2.10"]
    assert texts(ask(f, "ext.lan.")) == ["ext.lan. 0 IN CNAME example.org."]  # not followed
    assert texts(ask(f, "www.lan.", T.CNAME)) == ["www.lan. 0 IN CNAME laptop.lan."]
    assert texts(ask(f, "t.lan.", T.TXT)) == ['t.lan. 0 IN TXT "v=spf1 a, -all" "second"']
    assert texts(ask(f, "empty.lan.", T.TXT)) == ['empty.lan. 0 IN TXT ""']
    assert texts(ask(f, "lan.", T.MX)) == ["lan. 0 IN MX 5 mail.lan."]
    assert texts(ask(f, "m2.lan.", T.MX)) == ["m2.lan. 0 IN MX 1 box."]
    assert texts(ask(f, "_ldap._tcp.lan.", T.SRV)) == [
        "_ldap._tcp.lan. 0 IN SRV 1 2 389 ldap.lan."]
    assert texts(ask(f, "_x._tcp.lan.", T.SRV)) == ["_x._tcp.lan. 0 IN SRV 0 0 1 ."]
    assert texts(ask(f, "1.2.0.192.in-addr.arpa.", T.PTR)) == [
        "1.2.0.192.in-addr.arpa. 0 IN PTR ptr.lan."]
    assert texts(ask(f, "10.2.0.192.in-addr.arpa.", T.PTR)) == [
        "10.2.0.192.in-addr.arpa. 0 IN PTR laptop.lan."]  # expand-hosts: the long name first
    assert texts(ask(f, "_http._tcp.lan.", T.PTR)) == [
        "_http._tcp.lan. 0 IN PTR web._http._tcp.lan."]
    assert texts(ask(f, "h.lan.")) == ["h.lan. 0 IN A 192.0.2.20", "h.lan. 0 IN A 192.0.2.21"]
    assert texts(ask(f, "www.lan.", T.ANY)) == ["www.lan. 0 IN CNAME laptop.lan.",
                                                "laptop.lan. 0 IN A 192.0.2.10",
                                                "laptop.lan. 0 IN AAAA 2001:db8::5"]
    assert f.actions == []  # nothing was forwarded


def test_local_names_answer_every_type_never_forwarded():
    f = local()
    for name, qtype in (("t.lan.", T.A), ("lan.", T.A), ("_ldap._tcp.lan.", T.TXT),
                        ("1.2.0.192.in-addr.arpa.", T.A)):
        m = ask(f, name, qtype)
        assert m.rcode == RC.NOERROR and m.answer == [] and m.aa, name
    assert f.actions == []
    assert ask(f, "nx.lan.") is None  # an unknown name is forwarded
    assert [a[0] for a in f.actions] == ["send"]


def test_local_records_refused_to_foreign_clients():
    f = local()
    assert ask(f, "t.lan.", T.TXT, FOREIGN).rcode == RC.REFUSED


def test_cname_chain_is_bounded():
    lc = [Name.from_text("a%d.lan." % i).lc for i in range(21)]
    loc = Local(cnames=[(lc[i], lc[i + 1], 0) for i in range(20)])
    rc, out = loc.lookup(Name.from_text("a0.lan.").lc, T.A)
    assert rc == RC.NOERROR and len(out) == 8  # MAX_CHAIN aliases, then the answer stops


def test_records_helper_and_empty_ptr():
    recs = records(ptr=[(Name.from_text("x.lan.").lc, None)])
    loc = Local(records=recs)
    assert not loc.empty
    assert loc.lookup(Name.from_text("x.lan.").lc, T.PTR) == (RC.NOERROR, [])


# --- CH TXT statistics ------------------------------------------------------------------------
def test_chaos_statistics_names():
    f = driver()
    assert ask(f, "www.example.org.") is None  # a miss: forwarded
    for name, want in (("cachesize.bind.", str(f.cache.size)), ("evictions.bind.", "0"),
                       ("misses.bind.", "1"), ("hits.bind.", "0"), ("auth.bind.", "0"),
                       ("servers.bind.", "192.0.2.1#53 1 0")):
        m = ask(f, name, T.TXT, qclass=T.CLASS_CH)
        assert m.rcode == RC.NOERROR and m.aa, name
        assert [s.decode() for s in m.answer[0].rdata.strings] == [want], name
        assert m.answer[0].rclass == T.CLASS_CH and m.answer[0].ttl == 0
    f.tick(F.ATTEMPT_MS)  # the ask times out: counted as failed
    m = ask(f, "SERVERS.bind.", T.TXT, qclass=T.CLASS_CH)
    assert m.answer[0].rdata.strings == (b"192.0.2.1#53 2 1",)
    m = ask(f, "hits.bind.", T.A, qclass=T.CLASS_CH)
    assert m.rcode == RC.NOERROR and m.answer == []


def test_chaos_insertions_from_the_cache_counter():
    f = driver()
    m = ask(f, "insertions.bind.", T.TXT, qclass=T.CLASS_CH)
    assert m.answer[0].rdata.strings == (b"0",)
    f.cache.put(b"k", b"\x00" * 12, (), 60, 0)
    m = ask(f, "insertions.bind.", T.TXT, qclass=T.CLASS_CH)
    assert m.answer[0].rdata.strings == (b"1",)


def test_chaos_statistics_refused_outside_the_allowed_networks():
    f = driver()
    for name in ("cachesize.bind.", "servers.bind.", "hits.bind."):
        m = ask(f, name, T.TXT, FOREIGN, T.CLASS_CH)
        assert m.rcode == RC.REFUSED and m.answer == [] and not m.ra


def test_chaos_other_bind_names_unchanged():
    f = driver()
    assert ask(f, "foo.bind.", T.TXT, qclass=T.CLASS_CH).rcode == RC.REFUSED
    assert ask(f, "bind.", T.TXT, qclass=T.CLASS_CH).rcode == RC.REFUSED


def test_servers_bind_lists_every_upstream():
    f = driver("server=192.0.2.2#5300")
    m = ask(f, "servers.bind.", T.TXT, qclass=T.CLASS_CH)
    assert m.answer[0].rdata.strings == (b"192.0.2.1#53 0 0", b"192.0.2.2#5300 0 0")


def test_records_outside_resolver_mode_are_named_as_ignored():
    cfg = config.parse(["mode=auth", "cname=a.lan,b.lan", "expand-hosts", "addn-hosts=h"], True)
    got = problems(cfg)
    assert len(got) == 3 and all("ignored in mode=auth" in g for g in got), got
