"""The dig-like client's pure parts: argument parsing, the query it sends, dig's presentation."""
from dnsbox.client import dig
from dnsbox.wire import edns as E
from dnsbox.wire import message as M
from dnsbox.wire import rd_std
from dnsbox.wire import types as T
from dnsbox.wire.name import Name
from dnsbox.wire.rr import RR, Question
from tests.unit.helpers import raises


def test_dig_style_arguments():
    a = dig.parse_args(["www.example.com", "AAAA", "@10.0.2.2", "-p", "5300", "+tcp", "+norec"])
    assert (a.name, a.qtype, a.server, a.port, a.tcp, a.rd) == ("www.example.com", T.AAAA,
                                                                "10.0.2.2", 5300, True, False)
    a = dig.parse_args(["@127.0.0.1", "-t", "mx", "example.com"])
    assert (a.name, a.qtype_text, a.port, a.edns) == ("example.com", "MX", 53, True)


def test_boot_variable_style_arguments():
    a = dig.parse_args(["domain=example.com", "server=10.0.2.2", "type=TXT", "port=53"])
    assert (a.name, a.qtype, a.server, a.port) == ("example.com", T.TXT, "10.0.2.2", 53)


def test_bad_arguments():
    for argv in (["example.com"], ["@10.0.2.2"], ["x", "@10.0.2"], ["x", "@1.2.3.4", "-p", "0"],
                 ["x", "NOSUCHTYPE", "@1.2.3.4"], ["x", "@1.2.3.4", "+bogus"],
                 ["x", "@1.2.3.4", "-p"], ["colour=red", "x", "@1.2.3.4"]):
        raises(ValueError, dig.parse_args, argv)


def test_query_bytes():
    a = dig.parse_args(["Example.COM", "@1.2.3.4"])
    m = M.decode(dig.make_query(a, 0xBEEF))
    assert m.id == 0xBEEF and m.rd and m.edns.payload == 1232
    assert m.question[0].name.wire == b"\x07Example\x03COM\x00" and m.question[0].qtype == T.A


def test_bad_name_is_reported_not_raised():
    out = []
    rc = dig.run(["bad..name", "@127.0.0.1"], out.append)
    assert rc == dig.EXIT_USAGE and "is not a legal name" in "".join(out)
    out = []
    assert dig.run(["x"], out.append) == dig.EXIT_USAGE and "no server" in "".join(out)


def test_presentation_like_dig():
    m = M.Message(4660, 0x8580)  # qr aa rd ra
    n = Name.from_text("www.example.com.")
    m.question.append(Question(n, T.A))
    m.answer.append(RR(n, T.A, 1, 300, rd_std.A(b"\xc0\x00\x02\x50")))
    m.edns = E.Edns(1232, options=[E.ExtendedError(22, "why")])
    lines = dig.format_answer(m, 60, 3, "10.0.2.2", 53, "UDP", "Wed Nov 25 07:00:00 UTC 2026")
    text = "\n".join(lines)
    assert ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4660" in lines
    assert ";; flags: qr aa rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1" in lines
    assert "; EDNS: version: 0, flags:; udp: 1232" in lines
    assert "; EDE: 22 (No Reachable Authority): (why)" in lines
    assert ";www.example.com.\t\tIN\tA" in lines
    assert "www.example.com.\t300\tIN\tA\t192.0.2.80" in lines
    assert ";; Query time: 3 msec" in lines
    assert ";; SERVER: 10.0.2.2#53(10.0.2.2) (UDP)" in lines
    assert ";; MSG SIZE  rcvd: 60" in lines
    assert text.index("QUESTION SECTION") < text.index("ANSWER SECTION") < text.index("Query time")
    m.ra = False
    assert ";; WARNING: recursion requested but not available" in dig.format_answer(
        m, 60, 3, "10.0.2.2", 53, "UDP", "")
