"""Pinned wire vectors (tests/vectors/wire/*.txt), made with dnspython as the oracle.

`python3 -m tests.host.test_wire_vectors write` (re)writes the type-*.txt and msg-*.txt files:
one response per record type plus message edge cases, hex annotated record by record, with
the records' presentation text as dnspython prints it. tests/unit/test_wire_vectors.py
checks them on both interpreters; the test here checks the files still match dnspython.
"""

import os
import struct
import sys

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIR = os.path.join(ROOT, "tests", "vectors", "wire")

# Example rdata per type, mostly from the defining RFCs.
EXAMPLES = [
    ("A", ["192.0.2.1", "192.0.2.2"]),
    ("NS", ["ns1.example.com.", "ns2.Example.NET."]),
    ("CNAME", ["target.example.com."]),
    ("SOA", ["ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300"]),
    ("PTR", ["host.example.com."]),
    ("MX", ["10 mail.example.com.", "20 mx2.example.org."]),
    ("TXT", ['"v=spf1 -all"', '"a" "b c" "\\"q\\"" "\\255\\000"']),
    ("AAAA", ["2001:db8::1", "::ffff:192.0.2.1"]),
    ("SRV", ["0 5 5060 sip.example.com."]),
    ("NAPTR", ['100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .']),
    ("DNAME", ["example.net."]),
    ("DS", ["60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"]),  # RFC 4034 5.4
    ("SSHFP", ["2 1 123456789abcdef67890123456789abcdef67890"]),  # RFC 4255 3.3
    (
        "RRSIG",  # RFC 4034 3.3
        [
            "A 5 3 86400 20030322173103 20030220173103 2642 example.com. oJB1W6WNGv+ldvQ3WDG0MQkg"
            "5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3t"
            "GNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o="
        ],
    ),
    ("NSEC", ["host.example.com. A MX RRSIG NSEC TYPE1234"]),  # RFC 4034 4.3
    (
        "DNSKEY",  # RFC 4034 2.3
        [
            "256 3 5 AQPSKmynfzW4kyBv015MUG2DeIQ3Cbl+BBZH4b/0PY1kxkmvHjcZc8nokfzj31GajIQKY+5CptLr"
            "3buXA10hWqTkF7H6RfoRqXQeogmMHfpftf6zMv1LyBUgia7za6ZEzOJBOztyvhjL742iU/TpPSEDhm2SNKL"
            "ijfUppn1UaNvv4w=="
        ],
    ),
    (
        "NSEC3",
        ["1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG"],
    ),
    ("NSEC3PARAM", ["1 0 12 aabbccdd", "1 0 0 -"]),
    ("TLSA", ["3 1 1 " + "0d6fce3368d2dc9a1c6f3b6ef35a0b8b3ef0c3e1ed79d86cf5a44fd51f0a1a0a"]),
    ("CDS", ["0 0 0 00"]),  # RFC 8078 4: delete
    ("CDNSKEY", ["0 3 0 AA=="]),
    ("SVCB", ['1 . alpn="h2,h3" port="8443" ipv4hint="192.0.2.1" ech="AAYAAQIDBAU="']),
    ("HTTPS", ["0 svc.example.net.", '1 . alpn="h3" no-default-alpn ipv6hint="2001:db8::1"']),
    ("CAA", ['0 issue "letsencrypt.org"', '128 iodef "mailto:security@example.com"']),
    ("TYPE65534", ["\\# 3 abcdef"]),
]


def _skip_name(w, off):
    while True:
        c = w[off]
        if c == 0:
            return off + 1
        if c >= 0xC0:
            return off + 2
        off += c + 1


def annotate(w, texts):
    """Hex of message w, one line per field group, with comments."""
    lines = []
    h = struct.unpack_from("!HHHHHH", w, 0)
    lines.append("%s  # id %d flags %04x QD %d AN %d NS %d AR %d" % (w[:12].hex(), *h))
    off = 12
    for _ in range(h[2]):
        e = _skip_name(w, off) + 4
        lines.append("%s  # question" % w[off:e].hex())
        off = e
    i = 0
    for sec, n in (("answer", h[3]), ("authority", h[4]), ("additional", h[5])):
        for _ in range(n):
            ne = _skip_name(w, off)
            t, c, ttl, rdlen = struct.unpack_from("!HHIH", w, ne)
            lines.append(
                "%s %s  # %s: owner, type %d class %d ttl %d rdlength %d"
                % (w[off:ne].hex(), w[ne : ne + 10].hex(), sec, t, c, ttl, rdlen)
            )
            rd = w[ne + 10 : ne + 10 + rdlen]
            note = texts[i] if i < len(texts) else "rdata"
            for k in range(0, max(len(rd), 1), 32):
                lines.append("    %s  # %s" % (rd[k : k + 32].hex(), note if k == 0 else "..."))
            i += 1
            off = ne + 10 + rdlen
    if off < len(w):
        lines.append("%s  # (cut here)" % w[off:].hex())
    return "\n".join(lines) + "\n"


def _rr_texts(m):
    out = []
    for sec, tag in ((m.answer, "an"), (m.authority, "ns"), (m.additional, "ar")):
        for rs in sec:
            for rd in rs:
                out.append(
                    "%s: %s %d %s %s %s"
                    % (
                        tag,
                        rs.name.to_text(),
                        rs.ttl,
                        dns.rdataclass.to_text(rs.rdclass),
                        dns.rdatatype.to_text(rs.rdtype),
                        rd.to_text().rstrip(" "),
                    )
                )
    return out


def _response(qname, t, texts, id=0x1234):
    q = dns.message.make_query(qname, t, use_edns=False)
    q.id = id
    r = dns.message.make_response(q)
    r.flags |= dns.flags.AA
    rs = dns.rrset.from_text_list(qname, 3600, "IN", t, texts)
    r.answer.append(rs)
    return r


def vectors():
    """(file name, description, expect, dnspython message, wire bytes) for every vector."""
    out = []
    for t, texts in EXAMPLES:
        m = _response("www.example.com.", t, texts)
        w = m.to_wire(want_shuffle=False)
        out.append(("type-%s.txt" % t, "%s response" % t, "ok", m, w))
    # a referral with glue and compression everywhere allowed
    m = dns.message.make_response(dns.message.make_query("www.sub.example.com.", "A"))
    m.id = 7
    m.authority.append(
        dns.rrset.from_text_list(
            "sub.example.com.", 86400, "IN", "NS", ["ns1.sub.example.com.", "ns2.sub.example.com."]
        )
    )
    m.additional.append(
        dns.rrset.from_text_list("ns1.sub.example.com.", 86400, "IN", "A", ["192.0.2.53"])
    )
    m.additional.append(
        dns.rrset.from_text_list("ns2.sub.example.com.", 86400, "IN", "AAAA", ["2001:db8::53"])
    )
    out.append(
        ("msg-referral.txt", "referral with glue and EDNS", "ok", m, m.to_wire(want_shuffle=False))
    )
    # a query with cookie, ECS, padding, NSID and an unknown option
    q = dns.message.make_query(
        "Example.COM.",
        "SOA",
        use_edns=0,
        want_dnssec=True,
        payload=1232,
        options=[
            dns.edns.CookieOption(b"\x01\x02\x03\x04\x05\x06\x07\x08", b""),
            dns.edns.ECSOption("192.0.2.0", 24, 0),
            dns.edns.NSIDOption(b""),
            dns.edns.GenericOption(12, b"\x00" * 5),
            dns.edns.GenericOption(65001, b"\xab"),
        ],
    )
    q.id = 0xBEEF
    out.append(
        ("msg-query-options.txt", "query with EDNS options (case kept)", "ok", q, q.to_wire())
    )
    # an NXDOMAIN with BADCOOKIE extended rcode and EDE
    r = dns.message.make_response(dns.message.make_query("x.example.", "A", use_edns=0))
    r.id = 9
    r.set_rcode(dns.rcode.BADCOOKIE)
    r.use_edns(0, 0, 1232, options=[dns.edns.EDEOption(23, "cookie")])
    out.append(
        ("msg-badcookie.txt", "BADCOOKIE (extended rcode 23) with EDE 23", "ok", r, r.to_wire())
    )
    # a truncated UDP response: the buffer ends inside the third answer record
    big = _response("big.example.", "TXT", ['"%s"' % (c * 200) for c in "xyz"])
    big.flags |= dns.flags.TC
    w = big.to_wire(want_shuffle=False)
    cut = w[: len(w) - 50]
    out.append(
        ("msg-truncated.txt", "TC response cut inside the 3rd TXT record", "partial 2", big, cut)
    )
    return out


def render(fname, desc, expect, m, w):
    texts = _rr_texts(m)
    n_ok = len(texts) if expect == "ok" else int(expect.split()[1])
    head = [
        "# %s (made with dnspython %s by tests/host/test_wire_vectors.py)"
        % (desc, dns.version.version),
        "# expect: %s" % expect,
    ]
    head += ["# rr %s" % t for t in texts[:n_ok]]
    return "\n".join(head) + "\n" + annotate(w, [t.split(": ", 1)[1] for t in texts])


def write():
    os.makedirs(DIR, exist_ok=True)
    for v in vectors():
        with open(os.path.join(DIR, v[0]), "w") as f:
            f.write(render(*v))
        print("wrote", v[0])


def test_vectors_match_dnspython():
    """The committed files are what dnspython produces today (rerun `write` if this fails)."""
    for v in vectors():
        with open(os.path.join(DIR, v[0])) as f:
            assert f.read() == render(*v), v[0]


import dns.version  # noqa: E402

if __name__ == "__main__" and sys.argv[1:] == ["write"]:
    write()
