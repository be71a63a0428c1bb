"""Names: text and wire forms, comparison, canonical order, compression rules."""

from dnsbox.wire import name as N
from dnsbox.wire.errors import ShortError, TextError, WireError
from tests.unit.helpers import raises, unhex


def nm(t):
    return N.from_text(t)


def test_from_text_wire_and_case_preserved():
    n = nm("www.Example.COM.")
    assert n.wire == b"\x03www\x07Example\x03COM\x00"
    assert n.to_text() == "www.Example.COM."
    assert n.lower().wire == b"\x03www\x07example\x03com\x00"


def test_root_and_relative_names():
    assert nm(".") is N.ROOT and N.ROOT.to_text() == "."
    origin = nm("example.org.")
    assert N.from_text("www", origin).to_text() == "www.example.org."
    assert N.from_text("@", origin) == origin
    assert N.from_text("a.b", None).to_text() == "a.b."  # no origin: taken as absolute
    raises(TextError, N.from_text, "@")


def test_escapes_in_text():
    n = nm("a\\.b.c\\065\\000.")
    assert n.labels() == (b"a.b", b"cA\x00")
    assert n.to_text() == "a\\.b.cA\\000."
    assert nm('q\\"\\(\\)\\;\\@\\$x.').to_text() == 'q\\"\\(\\)\\;\\@\\$x.'
    assert nm("sp\\032ace.").wire == b"\x06sp ace\x00"
    assert nm("sp\\032ace.").to_text() == "sp\\032ace."


def test_text_errors():
    for bad in ("", "a..b.", ".a.", "a\\", "a\\25", "a\\256.", "\u00e9t\u00e9.", "x" * 64 + "."):
        raises(TextError, N.from_text, bad)
    # 4 labels of 63 = 256 octets with the length bytes and root: one over
    long = ".".join(["a" * 63] * 4) + "."
    raises(TextError, N.from_text, long)
    ok = ".".join(["a" * 63] * 3 + ["a" * 61]) + "."  # 255 octets exactly
    assert len(nm(ok).wire) == 255


def test_equality_and_hash_ignore_case():
    a, b = nm("WWW.example.com."), nm("www.EXAMPLE.com.")
    assert a == b and hash(a) == hash(b) and not (a != b)
    assert a.wire != b.wire
    assert nm("a.") != nm("b.")
    assert {a: 1}[b] == 1
    assert a != "www.example.com."


def test_structure():
    n = nm("a.b.example.")
    assert n.labels() == (b"a", b"b", b"example")
    assert n.label_count() == 3 and N.ROOT.label_count() == 0
    assert n.parent() == nm("b.example.")
    assert nm("example.").parent() is not None and nm("example.").parent().is_root()
    raises(ValueError, N.ROOT.parent)
    assert nm("*.x.").is_wild() and not nm("x.").is_wild()
    assert nm("x.").child(b"*").to_text() == "*.x."


def test_is_subdomain():
    ex = nm("Example.com.")
    assert nm("www.example.COM.").is_subdomain(ex)
    assert ex.is_subdomain(ex)
    assert ex.is_subdomain(N.ROOT)
    assert not nm("wwwexample.com.").is_subdomain(ex)
    assert not nm("com.").is_subdomain(ex)
    # a label that contains the bytes of a suffix is not a boundary: label "a\001b" vs "b."
    tricky = N.Name(b"\x03a\x01b\x00")
    assert not tricky.is_subdomain(nm("b."))


def test_canonical_order_rfc4034_6_1():
    # the example list of RFC 4034 section 6.1, in order
    order = [
        "example.",
        "a.example.",
        "yljkjljk.a.example.",
        "Z.a.example.",
        "zABC.a.EXAMPLE.",
        "z.example.",
        "\\001.z.example.",
        "*.z.example.",
        "\\200.z.example.",
    ]
    names = [nm(t) for t in order]
    shuffled = names[::-1]
    assert [n.to_text() for n in sorted(shuffled)] == [n.to_text() for n in names]
    for i in range(len(names) - 1):
        assert names[i] < names[i + 1]
        assert names[i].canonical_key() < names[i + 1].canonical_key()


def test_canonical_order_zero_octets_and_prefixes():
    a = N.from_labels([b"a"])
    a0 = N.from_labels([b"a\x00"])
    xa = N.from_labels([b"x", b"a"])
    assert a < a0 and a < xa and xa < a0  # ("a") < ("a","x") < ("a\0")


def test_decode_plain_and_compressed():
    buf = unhex(
        """
        000000000000000000000000    # 12 bytes standing in for a header
        03 777777 07 6578616d706c65 03 636f6d 00   # offset 12: www.example.com.
        04 6d61696c c010                           # offset 29: mail + pointer to 16 (example.com.)
        c01d                                       # offset 36: pointer to 29 (mail.example.com.)
        """
    )
    n, off = N.decode_name(buf, 12)
    assert n.to_text() == "www.example.com." and off == 29
    n, off = N.decode_name(buf, 29)
    assert n.to_text() == "mail.example.com." and off == 36
    n, off = N.decode_name(buf, 36)
    assert n.to_text() == "mail.example.com." and off == 38


def test_decode_pointer_must_point_backwards():
    # offset 0: pointer to itself
    e = raises(WireError, N.decode_name, b"\xc0\x00", 0)
    assert e.offset == 0 and "backwards" in e.reason
    # offset 0: label "a", pointer to 5 (forward); offset 5: root
    e = raises(WireError, N.decode_name, unhex("01 61 c0 05 00 00"), 0)
    assert e.offset == 2
    # offset 2 points to 0 (ok), whose labels run on into a pointer back to 2: a loop
    buf = unhex("01 61 c0 02")  # 0: "a" then pointer to 2 -> pointer to itself
    raises(WireError, N.decode_name, buf, 0)


def test_decode_label_types_rejected():
    e = raises(WireError, N.decode_name, unhex("41 00"), 0)  # 0x40: extended label type
    assert "0x40" in e.reason and e.offset == 0
    e = raises(WireError, N.decode_name, unhex("01 61 80 00"), 0)  # 0x80: reserved
    assert "0x80" in e.reason and e.offset == 2


def test_decode_name_too_long():
    # 4 labels of 63 octets: 256 octets before the root label is even read
    buf = (b"\x3f" + b"a" * 63) * 4 + b"\x00"
    e = raises(WireError, N.decode_name, buf, 0)
    assert "255" in e.reason
    # 255 octets exactly is fine
    ok = (b"\x3f" + b"a" * 63) * 3 + b"\x3d" + b"a" * 61 + b"\x00"
    assert len(N.decode_name(ok, 0)[0].wire) == 255


def test_decode_name_too_long_through_pointers():
    # after a 12-byte header, a 250-octet name at 12, then at 263 a 10-octet label and a
    # pointer to 12: 261 octets
    first = (b"\x3f" + b"a" * 63) * 3 + b"\x39" + b"a" * 57 + b"\x00"
    assert len(first) == 251
    buf = bytes(12) + first + b"\x0a" + b"b" * 10 + b"\xc0\x0c"
    e = raises(WireError, N.decode_name, buf, 263)
    assert "255" in e.reason


def test_decode_pointer_into_header_rejected():
    # offset 12: label "a" then a pointer to offset 4 (inside the header: not a name)
    e = raises(WireError, N.decode_name, unhex("000000000000000000000000 01 61 c004"), 12)
    assert e.offset == 14 and "header" in e.reason


def test_decode_runs_past_end():
    raises(ShortError, N.decode_name, unhex("03 61 62"), 0)
    raises(ShortError, N.decode_name, unhex("01 61 c0"), 0)
    raises(ShortError, N.decode_name, b"", 0)


def test_randomise_case_flips_letters_only():
    from dnsbox.wire.name import randomise_case

    lc = b"\x03www\x0aex-ample_9\x04test\x00"
    ones = randomise_case(lc, lambda n: b"\xff" * n)  # every letter upper case
    assert ones == b"\x03WWW\x0aEX-AMPLE_9\x04TEST\x00"
    assert randomise_case(lc, lambda n: bytes(n)) == lc  # no bit: as it was
    seen = set()
    for i in range(1, 40):
        out = randomise_case(lc, lambda n: bytes([(i * 37 + j * 11) & 255 for j in range(n)]))
        assert out.lower() == lc and len(out) == len(lc)
        seen.add(out)
    assert len(seen) > 10
    hi = b"\x04caf\xe9\x00"  # a byte over 0x7f: the byte-by-byte way, which leaves it alone
    assert randomise_case(hi, lambda n: b"\xff" * n) == b"\x04CAF\xe9\x00"
