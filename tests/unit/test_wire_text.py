"""Presentation-format character strings (dnsbox.wire.text): unescape, escape, their bounds."""

from dnsbox.wire import text as X
from dnsbox.wire.errors import TextError
from tests.unit.helpers import raises


def test_unescape_ddd_and_x():
    assert X.unescape("plain") == b"plain"
    assert X.unescape('a\\065\\"b\\\\') == b'aA"b\\'
    assert X.unescape("\\000\\255\\;") == b"\x00\xff;"
    assert X.unescape("x\\.y") == b"x.y"


def test_unescape_keeps_utf8_bytes():
    assert X.unescape("caf\u00e9") == b"caf\xc3\xa9"
    assert X.unescape("\\233caf\u00e9") == b"\xe9caf\xc3\xa9"
    assert X.unescape("\\\u00b2") == "\u00b2".encode()  # \X of a non-ASCII digit: X itself


def test_unescape_errors():
    for bad in ("x\\", "\\25", "\\256", "\\2a5", "\\25x", "\\999", "a\\1"):
        e = raises(TextError, X.unescape, bad)
        assert "escape" in str(e) or "backslash" in str(e), bad


def test_string_from_text_bounds_octets():
    assert len(X.string_from_text("x" * 255)) == 255
    assert len(X.string_from_text("\\255" * 255)) == 255
    raises(TextError, X.string_from_text, "x" * 256)
    raises(TextError, X.string_from_text, "\u00e9" * 128)  # 256 octets in UTF-8


def test_escape_prints_other_bytes_as_ddd():
    assert X.escape(b"hello world") == "hello world"
    assert X.escape(b"caf\xe9") == "caf\\233"
    assert X.escape(b"caf\xc3\xa9") == "caf\\195\\169"
    assert X.escape(b'x\x00"\\\x7f') == 'x\\000\\"\\\\\\127'
    assert X.quote(b"a b") == '"a b"'


def test_every_byte_round_trips():
    for i in range(256):
        b = bytes([i, 0x41, i])
        assert X.unescape(X.escape(b)) == b, i


def test_tokenize_quoted_bytes():
    toks = X.tokenize('"caf\\233" x\\ y "a\\"b"')
    assert [t[0] for t in toks] == ["caf\\233", "x\\ y", 'a\\"b']
    assert [X.unescape(t[0]) for t in toks] == [b"caf\xe9", b"x y", b'a"b']
