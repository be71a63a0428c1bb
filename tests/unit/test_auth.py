"""Authoritative answers from a compiled blob, through Server.handle (the net loop's entry)."""

from tests.unit.authhelp import TCP, UDP, E, M, T, ask, query, server, texts


def test_a_answer_basics():
    r = ask("www.example.com.", T.A)
    assert r.id == 0x1234 and r.qr and r.aa and r.rd and not r.tc and r.rcode == 0
    assert texts(r.answer) == [
        "www.example.com. 300 in a 192.0.2.80",
        "www.example.com. 300 in a 192.0.2.81",
    ]
    assert r.authority == [] and r.additional == []
    assert r.edns is None


def test_rd_clear_copied():
    r = ask("www.example.com.", T.A, rd=False)
    assert not r.rd and r.aa and len(r.answer) == 2


def test_case_of_question_preserved():
    r = ask("WwW.ExAmPlE.CoM.", T.AAAA)
    assert r.question[0].name.wire == b"\x03WwW\x07ExAmPlE\x03CoM\x00"
    assert r.answer[0].name.wire == b"\x03WwW\x07ExAmPlE\x03CoM\x00"
    assert texts(r.answer) == ["www.example.com. 3600 in aaaa 2001:db8::80"]


def test_apex_types():
    assert texts(ask("example.com.", T.SOA).answer) == [
        "example.com. 3600 in soa ns1.example.com. hostmaster.example.com. "
        "2026112501 7200 1800 1209600 300"
    ]
    r = ask("example.com.", T.NS)
    assert texts(r.answer) == ["example.com. 3600 in ns ns1.example.com.",
                               "example.com. 3600 in ns ns2.example.com."]
    assert texts(r.additional) == [
        "ns1.example.com. 3600 in a 192.0.2.53",
        "ns1.example.com. 3600 in aaaa 2001:db8::53",
        "ns2.example.com. 3600 in a 192.0.2.54",
    ]
    r = ask("example.com.", T.MX)
    assert texts(r.answer) == ["example.com. 3600 in mx 10 mail.example.com."]
    assert texts(r.additional) == ["mail.example.com. 3600 in a 192.0.2.25"]
    assert texts(ask("example.com.", T.TXT).answer) == ['example.com. 3600 in txt "v=spf1 -all"']


def test_srv_additional():
    r = ask("_sip._udp.example.com.", T.SRV)
    assert texts(r.answer) == ["_sip._udp.example.com. 3600 in srv 0 5 5060 sip.example.com."]
    assert texts(r.additional) == ["sip.example.com. 3600 in a 192.0.2.60"]


def test_cname_chased():
    r = ask("ftp.example.com.", T.A)
    assert r.aa and r.rcode == 0
    assert texts(r.answer) == [
        "ftp.example.com. 3600 in cname www.example.com.",
        "www.example.com. 300 in a 192.0.2.80",
        "www.example.com. 300 in a 192.0.2.81",
    ]
    r = ask("chain1.example.com.", T.AAAA)
    assert [x.rtype for x in r.answer] == [T.CNAME, T.CNAME, T.AAAA]
    r = ask("ftp.example.com.", T.CNAME)
    assert texts(r.answer) == ["ftp.example.com. 3600 in cname www.example.com."]


def test_cname_rare_type_general_path():
    r = ask("ftp.example.com.", T.CAA)  # not precomputed: general path
    assert texts(r.answer) == ["ftp.example.com. 3600 in cname www.example.com."]
    assert [x.rtype for x in r.authority] == [T.SOA]


def test_cname_loop_and_out_of_zone():
    r = ask("loop1.example.com.", T.A)
    assert r.rcode == 0 and 2 <= len(r.answer) <= 9
    r = ask("out.example.com.", T.A)
    assert texts(r.answer) == ["out.example.com. 3600 in cname www.example.net."]
    assert r.authority == []
    r = ask("dangling.example.com.", T.A)  # RFC 6604: rcode of the last name in the chain
    assert r.rcode == 3 and len(r.answer) == 1 and r.authority[0].rtype == T.SOA


def test_nxdomain_with_soa_negative_ttl():
    r = ask("nope.example.com.", T.A)
    assert r.rcode == 3 and r.aa and r.answer == []
    assert texts(r.authority) == [
        "example.com. 300 in soa ns1.example.com. hostmaster.example.com. "
        "2026112501 7200 1800 1209600 300"
    ]
    # deeper names: the precomputed block's pointers are moved; the result must decode the same
    r2 = ask("a.b.c.d.nope.example.com.", T.MX)
    assert r2.rcode == 3 and texts(r2.authority) == texts(r.authority)


def test_nodata_and_empty_non_terminal():
    for name in ("www.example.com.", "ent.example.com.", "ns1.example.com."):
        r = ask(name, T.MX)
        assert r.rcode == 0 and r.aa and r.answer == [], name
        assert [x.rtype for x in r.authority] == [T.SOA] and r.authority[0].ttl == 300
    r = ask("deep.ent.example.com.", T.A)
    assert texts(r.answer) == ["deep.ent.example.com. 3600 in a 192.0.2.77"]


def test_referral():
    for name in ("sub.example.com.", "x.y.sub.example.com.", "ns.sub.example.com."):
        r = ask(name, T.A)
        assert r.rcode == 0 and not r.aa and r.answer == [], name
        assert texts(r.authority) == ["sub.example.com. 3600 in ns ns.example.net.",
                                      "sub.example.com. 3600 in ns ns.sub.example.com."]
        assert texts(r.additional) == ["ns.sub.example.com. 3600 in a 192.0.2.200"]


def test_ds_at_cut_is_parent_nodata():
    r = ask("sub.example.com.", T.DS)
    assert r.aa and r.rcode == 0 and r.answer == [] and r.authority[0].rtype == T.SOA


def test_wildcard():
    r = ask("a.b.wild.example.com.", T.TXT)
    assert r.aa and texts(r.answer) == ['a.b.wild.example.com. 3600 in txt "wild"']
    r = ask("x.wild.example.com.", T.MX)  # wildcard node exists, no MX: NODATA
    assert r.rcode == 0 and r.answer == [] and r.authority[0].rtype == T.SOA
    r = ask("wild.example.com.", T.A)  # the wildcard's parent is an empty non-terminal
    assert r.rcode == 0 and r.answer == []


def test_dname():
    r = ask("www.dn.example.com.", T.A)
    assert r.rcode == 0 and r.aa
    assert texts(r.answer) == [
        "dn.example.com. 3600 in dname example.net.",
        "www.dn.example.com. 3600 in cname www.example.net.",
    ]


def test_refused_outside_zones():
    r = ask("www.example.org.", T.A)
    assert r.rcode == 5 and not r.aa and r.answer == []
    assert r.question[0].name.to_text() == "www.example.org."


def test_any_is_minimal():
    r = ask("www.example.com.", T.ANY)
    assert r.rcode == 0 and len(set(x.rtype for x in r.answer)) == 1


def test_edns_plain_and_do():
    r = ask("www.example.com.", T.A, edns=E.Edns(4096))
    assert r.edns is not None and r.edns.payload == 1232 and not r.edns.do and r.edns.version == 0
    assert len(r.answer) == 2
    r = ask("nope.example.com.", T.A, edns=E.Edns(1232, do=True))
    assert r.edns.do and r.rcode == 3
    r = ask("x.sub.example.com.", T.A, edns=E.Edns(1232))
    assert r.edns is not None and not r.aa and len(r.authority) == 2


def test_badvers():
    r = ask("www.example.com.", T.A, edns=E.Edns(1232, version=1))
    assert r.rcode == 16 and r.edns is not None and r.answer == []


def test_truncation_udp_and_tcp():
    r = ask("big.example.com.", T.TXT)  # 3 x 200+ bytes > 512
    assert r.tc and r.answer == []
    r = ask("big.example.com.", T.TXT, edns=E.Edns(1232))
    assert not r.tc and len(r.answer) == 3
    r = ask("big.example.com.", T.TXT, proto=TCP)
    assert not r.tc and len(r.answer) == 3


def test_bad_queries():
    s = server()
    assert s.handle(b"", UDP) is None
    assert s.handle(b"\x12\x34\x81", UDP) is None
    q = query("www.example.com.", T.A)
    assert s.handle(q[:2] + bytes((q[2] | 0x80,)) + q[3:], UDP) is None  # a response: drop
    r = M.decode(s.handle(q[:-2], UDP))  # question cut short
    assert r.rcode == 1 and r.id == 0x1234
    r = M.decode(s.handle(q + b"\x00", UDP))  # trailing garbage: FORMERR, question echoed
    assert r.rcode == 1 and r.question[0].name.to_text() == "www.example.com."
    notify = q[:2] + bytes(((4 << 3) | (q[2] & 7),)) + q[3:]
    r = M.decode(s.handle(notify, UDP))
    assert r.rcode == 4 and r.opcode == 4
    r = ask("example.com.", T.AXFR, proto=TCP)
    assert r.rcode == 5
    r = ask("www.example.com.", T.A, qclass=T.CLASS_CH)
    assert r.rcode == 5


def test_chaos_id_server_and_nsid():
    s = server(nsid="box-1")
    r = ask("id.server.", T.TXT, qclass=T.CLASS_CH, srv=s)
    assert r.rcode == 0 and texts(r.answer) == ['id.server. 0 ch txt "box-1"']
    r = ask("www.example.com.", T.A, srv=s, edns=E.Edns(1232, options=[E.NSIDOption()]))
    assert r.edns.option(E.NSID).data == b"box-1" and len(r.answer) == 2


def test_fast_paths_equal_general_path():
    """Every precomputed answer equals what the general path computes (bytes)."""
    s = server()
    db = s.db
    from dnsbox.zonedb import K_ANSWER, K_SYNTH

    n = 0
    for e in db.entries():
        if db.kind(e) not in (K_ANSWER, K_SYNTH):
            continue
        q = b"\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + db.key(e)
        assert s.handle(q, UDP) == s.general.handle(q, UDP), db.key(e)
        n += 1
    assert n > 20
    for name in ("nope.example.com.", "a.b.nope.example.com.", "x.sub.example.com.",
                 "www.example.com.", "ent.example.com.", "Deep.Ent.example.com."):
        for t in (T.A, T.MX, T.HINFO if hasattr(T, "HINFO") else 13):
            q = query(name, t)
            assert s.handle(q, UDP) == s.general.handle(q, UDP), (name, t)
            q = query(name, t, edns=E.Edns(1232))
            assert s.handle(q, UDP) == s.general.handle(q, UDP), (name, t)


def test_two_zones_parent_and_child():
    from dnsbox.zone.compile import compile_zones, load_text
    from dnsbox.zonedb import open_blob
    from dnsbox.auth.server import Server

    p, _w = load_text("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n"
                      "child NS ns.child\nns.child A 192.0.2.2\nwww CNAME www.child\n",
                      "par.test.")
    c, _w = load_text("$TTL 30\n@ SOA ns hm 1 2 3 4 6\n@ NS ns\nns A 192.0.2.2\n"
                      "www A 192.0.2.3\n", "child.par.test.")
    db = open_blob(compile_zones([p, c]))
    assert db.zone_names() == ["par.test.", "child.par.test."] and db.record_count() == 10
    s = Server(db)
    r = ask("www.child.par.test.", T.A, srv=s)  # the child answers, not a referral
    assert r.aa and texts(r.answer) == ["www.child.par.test. 30 in a 192.0.2.3"]
    r = ask("www.par.test.", T.A, srv=s)  # a CNAME chased across our zones
    assert [x.rtype for x in r.answer] == [T.CNAME, T.A]
    r = ask("nx.child.par.test.", T.A, srv=s)
    assert r.rcode == 3 and r.authority[0].name.to_text() == "child.par.test."
    r = ask("nx.par.test.", T.A, srv=s)
    assert r.rcode == 3 and r.authority[0].name.to_text() == "par.test."


def test_general_path_failure_is_servfail_not_a_crash():
    from dnsbox.auth.server import Server

    s = Server(server().db)

    def broken(q, proto):
        raise KeyError("simulated bug")

    s.general.handle = broken
    r = M.decode(s.handle(query("x.wild.example.com.", T.A), UDP))  # wildcard: general path
    assert r.rcode == 2 and r.qr and r.id == 0x1234 and r.rd
    assert M.decode(s.handle(query("www.example.com.", T.A), UDP)).rcode == 0  # fast path


def test_ds_at_child_apex_comes_from_the_parent():
    from dnsbox.zone.compile import compile_zones, load_text
    from dnsbox.zonedb import open_blob
    from dnsbox.auth.server import Server

    p, _w = load_text("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n"
                      "a NS ns.a\nns.a A 192.0.2.2\na DS 1 8 2 " + "ab" * 32 + "\n"
                      "b NS ns.b\nns.b A 192.0.2.3\n", "par.test.")
    ca, _w = load_text("$TTL 30\n@ SOA ns hm 1 2 3 4 6\n@ NS ns\nns A 192.0.2.2\n", "a.par.test.")
    cb, _w = load_text("$TTL 30\n@ SOA ns hm 1 2 3 4 7\n@ NS ns\nns A 192.0.2.3\n", "b.par.test.")
    s = Server(open_blob(compile_zones([ca, p, cb])))
    r = ask("a.par.test.", T.DS, srv=s)
    assert r.aa and [x.rtype for x in r.answer] == [T.DS] and r.answer[0].ttl == 60
    r = ask("B.par.test.", T.DS, srv=s)  # no DS in the parent: the parent's NODATA
    assert r.aa and r.answer == [] and r.authority[0].name.to_text() == "par.test."
    r = ask("b.par.test.", T.SOA, srv=s)  # everything else from the child
    assert r.answer[0].name.to_text().lower() == "b.par.test." and r.answer[0].ttl == 30


def test_edns_options_ignored_on_the_fast_path_like_the_general_path():
    s = server()
    cookie = E.Option(10, b"12345678")
    for opts in ([cookie], [E.Option(10, b"1" * 24)], [E.Option(12, b"\x00" * 20)],
                 [E.Option(65001, b"x"), cookie], [E.Option(10, b"123")],
                 [E.Option(10, b"1" * 12)], [E.Option(8, b"\x00\x01\x18\x00\xc0\x00\x02")],
                 [E.NSIDOption()]):
        for name in ("www.example.com.", "Nope.example.com.", "x.sub.example.com."):
            for do in (False, True):
                q = query(name, T.A, edns=E.Edns(1232, do=do, options=opts))
                assert s.handle(q, UDP) == s.general.handle(q, UDP), (name, opts)
    r = ask("www.example.com.", T.A, edns=E.Edns(1232, options=[cookie]))
    assert r.rcode == 0 and len(r.answer) == 2 and r.edns.options == []
    r = ask("www.example.com.", T.A, edns=E.Edns(1232, options=[E.Option(10, b"123")]))
    assert r.rcode == 1  # malformed cookie: FORMERR (RFC 7873 5.2.2)


def test_chaos_auth_bind_to_allowed_clients_over_tcp():
    """dnsmasq's auth.bind (CH TXT): the queries answered, to stats_nets only; over UDP
    truncated (the client's address is checked over TCP: handle_tcp gives it)."""
    s = server(nsid="auth-bind")  # its own instance: the settings below stay with it
    assert ask("auth.bind.", T.TXT, qclass=T.CLASS_CH, srv=s).rcode == 5  # not offered
    s.general.stats_nets = [(0x7F000000, 0xFF000000)]
    s.general.answered = lambda: 42
    r = ask("auth.bind.", T.TXT, qclass=T.CLASS_CH, srv=s)
    assert r.rcode == 0 and r.tc and r.answer == []
    q = query("auth.bind.", T.TXT, qclass=T.CLASS_CH)
    r = M.decode(s.handle_tcp(q, 0x7F000001))
    assert r.rcode == 0 and r.aa and texts(r.answer) == ['auth.bind. 0 ch txt "42"']
    assert M.decode(s.handle_tcp(q, 0xC6336407)).rcode == 5  # outside: REFUSED
    r = M.decode(s.handle_tcp(query("auth.bind.", T.A, qclass=T.CLASS_CH), 0x7F000001))
    assert r.rcode == 0 and r.answer == []
    r = M.decode(s.handle_tcp(query("id.server.", T.TXT, qclass=T.CLASS_CH), 0xC6336407))
    assert texts(r.answer) == ['id.server. 0 ch txt "auth-bind"']  # public, as before
