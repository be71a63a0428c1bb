"""EDNS(0): OPT fields, each option's wire form, extended rcodes."""

from dnsbox.wire import edns as E
from dnsbox.wire import message as M
from dnsbox.wire import name as N
from dnsbox.wire import rcode as RC
from dnsbox.wire import types as T
from dnsbox.wire.errors import WireError
from dnsbox.wire.rr import Question
from tests.unit.helpers import raises, unhex


def opt_query(opt_rdata_hex, ttl_hex="00008000", payload_hex="04d0"):
    # id 1, no flags, QD=1 (root A IN), AR=1: OPT with the given TTL field and rdata
    rd = unhex(opt_rdata_hex)
    return (
        unhex(
            "0001 0000 0001 0000 0000 0001  00 0001 0001  00 0029 %s %s %04x"
            % (payload_hex, ttl_hex, len(rd))
        )
        + rd
    )


def test_opt_fields():
    # TTL field 01 02 8000: ext_rcode 1, version 2, DO; class = payload 4096
    m = M.decode(opt_query("", "01028000", "1000"))
    e = m.edns
    assert (e.payload, e.version, e.do, e.ext_rcode, e.options) == (4096, 2, True, 1, [])
    assert m.rcode == 16  # header rcode 0 + ext 1 << 4
    assert e.ttl() == 0x01028000


def test_each_option_decoded_and_reencoded():
    rd = unhex(
        """
        000a 0018 0102030405060708 1112131415161718191a1b1c1d1e1f20  # COOKIE client+16B server
        0003 0000                      # NSID request (empty)
        000f 0005 0012 616263          # EDE info 18 (prohibited), text "abc"
        000c 0003 000000               # PADDING 3 bytes
        0008 0007 0001 18 00 c00002    # ECS IPv4 /24 scope 0, 192.0.2
        000b 0002 0064                 # TCP-KEEPALIVE 10.0 s (100 x 100 ms)
        fde9 0002 abcd                 # unknown option 65001
        """
    )
    m = M.decode(opt_query(rd.hex()))
    o = m.edns.options
    assert isinstance(o[0], E.Cookie) and o[0].client == unhex("0102030405060708")
    assert len(o[0].server) == 16
    assert isinstance(o[1], E.NSIDOption) and o[1].data == b""
    assert isinstance(o[2], E.ExtendedError) and (o[2].info_code, o[2].text) == (18, "abc")
    assert isinstance(o[3], E.Padding) and o[3].length == 3
    ecs = o[4]
    assert isinstance(ecs, E.ClientSubnet)
    assert (ecs.family, ecs.source, ecs.scope, ecs.address) == (1, 24, 0, unhex("c00002"))
    assert isinstance(o[5], E.TCPKeepalive) and o[5].timeout == 100
    assert type(o[6]) is E.Option and (o[6].code, o[6].data) == (65001, unhex("abcd"))
    assert m.edns.option(E.EDE) is o[2] and m.edns.option(E.CHAIN) is None
    assert M.encode(m) == opt_query(rd.hex())


def test_options_built_by_hand():
    m = M.Message(7)
    m.question.append(Question(N.ROOT, T.NS))
    m.edns = E.Edns(
        1232, do=True, options=[E.Cookie(b"12345678"), E.TCPKeepalive(), (65000, b"x")]
    )
    w = M.encode(m)
    # OPT: root, type 41, payload 1232, DO, rdlength 21 = (4 + 8) + (4 + 0) + (4 + 1)
    assert w.endswith(
        unhex("00 0029 04d0 00008000 0015  000a 0008 3132333435363738  000b 0000  fde8 0001 78")
    )
    got = M.decode(w).edns
    assert got == m.edns.__class__(
        1232, do=True, options=[E.Cookie(b"12345678"), E.TCPKeepalive(), E.Option(65000, b"x")]
    )


def test_bad_options_rejected():
    for rd, word in (
        ("000a 0005 0102030405", "COOKIE"),  # client cookie must be 8
        ("000a 000c 0102030405060708 01020304", "COOKIE"),  # server cookie 4 (8..32)
        ("000f 0001 00", "EDE"),
        ("000f 0003 0000 ff", "UTF-8"),
        ("0008 0003 0001 18", "CLIENT-SUBNET"),
        ("0008 0005 0001 10 00 c0", "CLIENT-SUBNET"),  # /16 needs 2 address bytes
        ("0008 0005 0001 04 00 ff", "CLIENT-SUBNET"),  # bits past /4 set
        ("0008 0004 0003 00 00", "CLIENT-SUBNET"),  # family 3
        ("000b 0001 00", "KEEPALIVE"),
    ):
        e = raises(WireError, M.decode, opt_query(rd))
        assert word in e.reason, (rd, e.reason)


def test_option_constructors_validate():
    raises(ValueError, E.Cookie, b"short")
    raises(ValueError, E.ClientSubnet, 1, 33, 0, b"\x00" * 5)
    raises(ValueError, E.TCPKeepalive, 70000)
    raises(ValueError, E.Edns, 70000)


def test_extended_rcodes():
    for rc in (RC.BADVERS, RC.BADCOOKIE, 4095):
        m = M.Message(1)
        m.qr = True
        m.rcode = rc
        m.edns = E.Edns()
        d = M.decode(M.encode(m))
        assert d.rcode == rc and d.edns.ext_rcode == rc >> 4
    assert RC.to_text(RC.BADCOOKIE) == "BADCOOKIE" and RC.to_text(16) == "BADVERS"
    assert RC.to_text(16, tsig=True) == "BADSIG" and RC.from_text("BADSIG") == 16
    assert RC.from_text("badtrunc") == 22 and RC.to_text(3000) == "3000"
    raises(ValueError, RC.from_text, "NOPE")


def test_opcodes():
    from dnsbox.wire import opcode as OP

    assert OP.to_text(OP.NOTIFY) == "NOTIFY" and OP.from_text("update") == OP.UPDATE
    assert OP.to_text(9) == "9" and OP.from_text("15") == 15
    raises(ValueError, OP.from_text, "16")
    m = M.Message(1)
    m.opcode = OP.NOTIFY
    m.aa = True
    w = M.encode(m)
    assert w[2:4] == unhex("2400")  # opcode 4 << 11 | AA
    assert M.decode(w).opcode == OP.NOTIFY
