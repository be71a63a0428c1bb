"""The in-memory zone and DNS UPDATE (RFC 2136, dnsbox.auth.dynzone): the five prerequisite
forms, the four update forms, the zone's rules (SOA kept, last apex NS kept, CNAME alone), the
record limit, all-or-nothing, and answers to queries."""
import struct

from dnsbox.auth import dynzone as D
from dnsbox.wire import message as M
from dnsbox.wire import rcode as RC
from dnsbox.wire import types as T
from dnsbox.wire.name import Name

ZONE = "dyn.test."
ANY, NONE, IN = 255, 254, 1


def rec(name, rtype, rclass=IN, ttl=0, rdata=b""):
    return Name.from_text(name).wire + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def a(ip):
    return bytes(int(x) for x in ip.split("."))


def upd(prereq=(), updates=(), zone=ZONE, ztype=T.SOA, qid=0x4444, extra=b"", arcount=0):
    h = struct.pack(">HHHHHH", qid, 5 << 11, 1, len(prereq), len(updates), arcount)
    return h + Name.from_text(zone).wire + struct.pack(">HH", ztype, IN) + b"".join(prereq) + \
        b"".join(updates) + extra


def rcode(resp):
    m = M.decode(resp)
    assert m.qr and m.opcode == 5
    return m.rcode


def ask(z, name, qtype):
    r = M.make_response(M.decode(M.encode_query(Name.from_text(name), qtype, T.CLASS_IN, 1, False,
                                                None)))
    z.answer(r, Name.from_text(name), qtype)
    return r


def texts(rrs):
    return sorted(r.to_text() for r in rrs)


def zone():
    return D.DynZone(ZONE, a("192.0.2.53"))


def test_starts_with_soa_ns_and_glue():
    z = zone()
    assert z.soa().rdata.serial == 1 and z.count == 3
    assert texts(ask(z, ZONE, T.NS).answer) == ["dyn.test. 300 IN NS ns.dyn.test."]
    assert texts(ask(z, "ns.dyn.test.", T.A).answer) == ["ns.dyn.test. 300 IN A 192.0.2.53"]
    r = ask(z, "nothere.dyn.test.", T.A)
    assert r.rcode == RC.NXDOMAIN and r.aa and r.authority[0].rtype == T.SOA
    assert r.authority[0].ttl == D.NEG_TTL


def test_add_delete_forms_and_serial():
    z = zone()
    r = z.update(upd(updates=[rec("pc.dyn.test.", T.A, IN, 300, a("192.0.2.10")),
                              rec("pc.dyn.test.", T.A, IN, 300, a("192.0.2.11")),
                              rec("pc.dyn.test.", T.TXT, IN, 60, b"\x02hi")]))
    assert rcode(r) == RC.NOERROR and M.decode(r).id == 0x4444
    assert M.decode(r).question[0].name == Name.from_text(ZONE)
    assert z.soa().rdata.serial == 2 and z.count == 6
    assert texts(ask(z, "PC.dyn.test.", T.A).answer) == ["PC.dyn.test. 300 IN A 192.0.2.10",
                                                         "PC.dyn.test. 300 IN A 192.0.2.11"]
    # delete one RR (class NONE), then the RRset (class ANY, type), then the name (ANY ANY)
    assert rcode(z.update(upd(updates=[rec("pc.dyn.test.", T.A, NONE, 0, a("192.0.2.10"))]))) == 0
    assert texts(ask(z, "pc.dyn.test.", T.A).answer) == ["pc.dyn.test. 300 IN A 192.0.2.11"]
    assert rcode(z.update(upd(updates=[rec("pc.dyn.test.", T.A, ANY)]))) == 0
    assert ask(z, "pc.dyn.test.", T.A).answer == []
    assert ask(z, "pc.dyn.test.", T.TXT).answer != []
    assert rcode(z.update(upd(updates=[rec("pc.dyn.test.", ANY, ANY)]))) == 0
    assert ask(z, "pc.dyn.test.", T.TXT).rcode == RC.NXDOMAIN
    assert z.count == 3 and z.soa().rdata.serial == 5
    # nothing changed: the serial stays
    assert rcode(z.update(upd(updates=[rec("gone.dyn.test.", T.A, ANY)]))) == 0
    assert z.soa().rdata.serial == 5


def test_prerequisites():
    z = zone()
    z.update(upd(updates=[rec("pc.dyn.test.", T.A, IN, 300, a("192.0.2.10"))]))
    cases = [
        (rec("pc.dyn.test.", ANY, ANY), 0),  # name in use
        (rec("no.dyn.test.", ANY, ANY), RC.NXDOMAIN),
        (rec("pc.dyn.test.", T.A, ANY), 0),  # RRset exists
        (rec("pc.dyn.test.", T.TXT, ANY), RC.NXRRSET),
        (rec("no.dyn.test.", ANY, NONE), 0),  # name not in use
        (rec("pc.dyn.test.", ANY, NONE), RC.YXDOMAIN),
        (rec("pc.dyn.test.", T.TXT, NONE), 0),  # RRset does not exist
        (rec("pc.dyn.test.", T.A, NONE), RC.YXRRSET),
        (rec("pc.dyn.test.", T.A, IN, 0, a("192.0.2.10")), 0),  # value-dependent
        (rec("pc.dyn.test.", T.A, IN, 0, a("192.0.2.99")), RC.NXRRSET),
        (rec("pc.dyn.test.", T.A, ANY, 5), RC.FORMERR),  # TTL must be 0
        (rec("pc.other.test.", T.A, ANY), RC.NOTZONE),
    ]
    for p, want in cases:
        assert rcode(z.update(upd(prereq=[p]))) == want, (p, want)
    # a failed prerequisite: the update does not happen
    r = z.update(upd(prereq=[rec("pc.dyn.test.", T.TXT, ANY)],
                     updates=[rec("new.dyn.test.", T.A, IN, 60, a("192.0.2.1"))]))
    assert rcode(r) == RC.NXRRSET and ask(z, "new.dyn.test.", T.A).rcode == RC.NXDOMAIN


def test_zone_rules():
    z = zone()
    # SOA and the last apex NS stay; the serial is ours
    z.update(upd(updates=[rec(ZONE, T.SOA, ANY), rec(ZONE, T.NS, ANY), rec(ZONE, ANY, ANY)]))
    assert ask(z, ZONE, T.SOA).answer and ask(z, ZONE, T.NS).answer
    ns = Name.from_text("ns.dyn.test.").wire
    z.update(upd(updates=[rec(ZONE, T.NS, NONE, 0, ns)]))
    assert ask(z, ZONE, T.NS).answer
    # CNAME and other data do not mix (RFC 2136 3.4.2.2); a CNAME replaces the CNAME
    z.update(upd(updates=[rec("c.dyn.test.", T.A, IN, 60, a("192.0.2.1"))]))
    z.update(upd(updates=[rec("c.dyn.test.", T.CNAME, IN, 60, Name.from_text("x.test.").wire)]))
    assert ask(z, "c.dyn.test.", T.CNAME).answer == []
    z.update(upd(updates=[rec("w.dyn.test.", T.CNAME, IN, 60, Name.from_text("x.test.").wire),
                          rec("w.dyn.test.", T.CNAME, IN, 60, Name.from_text("y.test.").wire),
                          rec("w.dyn.test.", T.A, IN, 60, a("192.0.2.1"))]))
    assert texts(ask(z, "w.dyn.test.", T.A).answer) == ["w.dyn.test. 60 IN CNAME y.test."]
    # an empty non-terminal is NODATA
    z.update(upd(updates=[rec("a.b.dyn.test.", T.A, IN, 60, a("192.0.2.2"))]))
    r = ask(z, "b.dyn.test.", T.A)
    assert r.rcode == 0 and r.answer == [] and r.authority


def test_malformed_and_wrong_zone():
    z = zone()
    assert rcode(z.update(upd(zone="other.test."))) == RC.NOTAUTH
    assert rcode(z.update(upd(ztype=T.A))) == RC.NOTAUTH
    assert rcode(z.update(upd(updates=[rec("x.dyn.test.", T.A, IN, 60)]))) == RC.FORMERR
    assert rcode(z.update(upd(updates=[rec("x.dyn.test.", T.AXFR, ANY)]))) == RC.FORMERR
    assert rcode(z.update(upd(updates=[rec("x.dyn.test.", T.A, 3, 60, a("1.2.3.4"))]))) == \
        RC.FORMERR
    q = upd(updates=[rec("x.dyn.test.", T.A, IN, 60, a("192.0.2.1"))])
    assert rcode(z.update(q + b"\x00")) == RC.FORMERR  # trailing byte
    assert rcode(z.update(q[:-2])) == RC.FORMERR  # cut
    tsig = rec("key.", T.TSIG, ANY, 0, b"\x00" * 8)
    assert rcode(z.update(upd(extra=tsig, arcount=1))) == RC.FORMERR  # TSIG is not offered
    assert rcode(z.update(b"\x00\x01\x28")) == RC.FORMERR
    assert rcode(z.refuse(q)) == RC.REFUSED and z.count == 3


def test_record_limit_refuses_all_of_an_update():
    z = zone()
    n = 0
    while z.count + D.MAX_UPDATE_RRS <= D.MAX_RECORDS:
        adds = [rec("h%d.dyn.test." % (n + i), T.A, IN, 60, a("10.0.%d.%d" % (i // 250, i % 250)))
                for i in range(D.MAX_UPDATE_RRS)]
        n += D.MAX_UPDATE_RRS
        assert rcode(z.update(upd(updates=adds))) == 0
    before = (z.count, z.soa().rdata.serial)
    adds = [rec("more%d.dyn.test." % i, T.A, IN, 60, a("10.9.0.%d" % (i % 250)))
            for i in range(D.MAX_UPDATE_RRS)]
    assert rcode(z.update(upd(updates=adds))) == RC.REFUSED
    assert (z.count, z.soa().rdata.serial) == before and ask(z, "more0.dyn.test.", T.A).rcode == 3


def test_transfer_of_the_update_zone():
    from dnsbox.auth.server import Server
    from tests.unit.authhelp import server

    z = zone()
    z.update(upd(updates=[rec("pc.dyn.test.", T.A, IN, 60, a("192.0.2.10")),
                          rec("pc.dyn.test.", T.TXT, IN, 60, b"\x02hi")]))
    srv = Server(server().db, peers=[(0x7F000000, 0xFF000000)], dyn=z)
    q = M.encode_query(Name.from_text(ZONE), T.AXFR, T.CLASS_IN, 7, False, None)
    msgs = [M.decode(w) for w in srv.handle_tcp(q, 0x7F000001)]
    rrs = [r for m in msgs for r in m.answer]
    assert rrs[0].rtype == T.SOA and rrs[-1].rtype == T.SOA and rrs[0].rdata.serial == 2
    assert texts(rrs[1:-1]) == texts([r for r in z.records() if r.rtype != T.SOA])
    assert msgs[0].id == 7 and msgs[0].aa
    # an IXFR from the current serial: the SOA alone; from an older one: the zone
    m = M.decode(q)
    m.question[0].qtype = T.IXFR
    n = Name.from_text(ZONE)
    from dnsbox.wire.rr import RR
    from dnsbox.wire import rd_std

    m.authority = [RR(n, T.SOA, T.CLASS_IN, 0, rd_std.SOA(n, n, 2, 0, 0, 0, 0))]
    r = srv.handle_tcp(M.encode(m), 0x7F000001)
    assert [x.rtype for x in M.decode(r).answer] == [T.SOA]
    m.authority = [RR(n, T.SOA, T.CLASS_IN, 0, rd_std.SOA(n, n, 1, 0, 0, 0, 0))]
    assert len([x for w in srv.handle_tcp(M.encode(m), 0x7F000001)
                for x in M.decode(w).answer]) == len(rrs)
    # from elsewhere: refused, as for the compiled zones
    assert M.decode(srv.handle_tcp(q, 0x0A000001)).rcode == RC.REFUSED
