"""HPACK (RFC 7541) with the examples of its Appendix C, and the HTTP/2 server connection
(dnsbox.h2.conn, RFC 9113): requests over several streams, flow control, the control frames,
and malformed input closing the connection with GOAWAY (never an exception)."""
from dnsbox.h2 import conn as h2
from dnsbox.h2 import hpack, huffman
from tests.unit.helpers import raises, unhex

# RFC 7541 C.3 (no Huffman) and C.4 (Huffman): three requests on one connection; the table's
# size after each.
C3 = ("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", "8286 84be 5808 6e6f 2d63 6163 6865",
      "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65")
C4 = ("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", "8286 84be 5886 a8eb 1064 9cbf",
      "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")
REQS = (
    [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/"),
     (b":authority", b"www.example.com")],
    [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/"),
     (b":authority", b"www.example.com"), (b"cache-control", b"no-cache")],
    [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/index.html"),
     (b":authority", b"www.example.com"), (b"custom-key", b"custom-value")],
)
SIZES = (57, 110, 164)
# C.6: responses with Huffman and a 256-byte table (evictions).
C6 = ("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6"
      " 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
      "4883 640e ffc1 c0bf",
      "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab"
      " 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f"
      " 9587 3160 65c0 03ed 4ee5 b106 3d50 07")
LOC = (b"location", b"https://www.example.com")
RESPS = (
    [(b":status", b"302"), (b"cache-control", b"private"),
     (b"date", b"Mon, 21 Oct 2013 20:13:21 GMT"), LOC],
    [(b":status", b"307"), (b"cache-control", b"private"),
     (b"date", b"Mon, 21 Oct 2013 20:13:21 GMT"), LOC],
    [(b":status", b"200"), (b"cache-control", b"private"),
     (b"date", b"Mon, 21 Oct 2013 20:13:22 GMT"), LOC, (b"content-encoding", b"gzip"),
     (b"set-cookie", b"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")],
)


def test_hpack_rfc7541_requests():
    for vecs in (C3, C4):
        d = hpack.Decoder()
        for i in range(3):
            assert d.decode(unhex(vecs[i])) == (REQS[i], False)
            assert d.size == SIZES[i]


def test_hpack_rfc7541_responses_evict():
    d = hpack.Decoder(limit=256)
    for i, size in enumerate((222, 222, 215)):
        assert d.decode(unhex(C6[i])) == (RESPS[i], False)
        assert d.size == size
    assert d.table[0] == RESPS[2][5] and len(d.table) == 3  # newest first, 302's line gone


def test_hpack_integers_rfc7541_c1():
    assert hpack.encode_int(10, 5, 0) == b"\x0a"  # C.1.1
    assert hpack.encode_int(1337, 5, 0) == b"\x1f\x9a\x0a"  # C.1.2
    assert hpack.encode_int(42, 8, 0) == b"\x2a"  # C.1.3
    assert hpack.decode_int(b"\x1f\x9a\x0a", 0, 5) == (1337, 3)
    raises(hpack.HPACKError, hpack.decode_int, b"\x1f\x9a", 0, 5)  # cut short
    raises(hpack.HPACKError, hpack.decode_int, b"\x1f" + b"\xff" * 6 + b"\x01", 0, 5)  # huge


def test_hpack_encode_decodes_back():
    fields = [(b":status", b"200"), (b"content-type", b"application/dns-message"),
              (b"cache-control", b"max-age=300"), (b"x-other", b"v" * 200)]
    assert hpack.Decoder().decode(hpack.encode(fields)) == (fields, False)
    assert hpack.encode([(b":status", b"200")]) == b"\x88"  # static index 8


def test_huffman_errors():
    assert huffman.decode(unhex("f1e3 c2e5 f23a 6ba0 ab90 f4ff")) == b"www.example.com"
    raises(ValueError, huffman.decode, b"\xff\xff\xff\xff")  # EOS (30 ones) in the string
    raises(ValueError, huffman.decode, b"\x00")  # padding of zeros ('0' is 00000, then 000)
    raises(ValueError, huffman.decode, unhex("f1e3 c2e5 f23a 6ba0 ab90 f4ff ff"))  # 8+ bits pad


def test_hpack_errors():
    for bad in ("80", "c0", "bf", "0f", "00 05 61", "00 85 ffff ffff ff", "3fe21f"):
        raises(hpack.HPACKError, hpack.Decoder().decode, unhex(bad))
    d = hpack.Decoder()
    assert d.decode(unhex("3f e1 1f"))[0] == []  # size update to 4096 (the limit): allowed
    raises(hpack.HPACKError, hpack.Decoder().decode, unhex("82 20"))  # update after a field


def test_hpack_list_size_cut_keeps_table():
    # a 4000-byte value in the table, then referenced three times: the third passes MAX_LIST (8192)
    block = b"\x40\x01x" + hpack.encode_int(4000, 7, 0) + b"v" * 4000 + b"\xbe\xbe\xbe"
    d = hpack.Decoder()
    fields, cut = d.decode(block)
    assert cut and len(fields) == 2 and d.size == 32 + 1 + 4000


# --- HTTP/2 connections ---------------------------------------------------------------------
def frame(ftype, flags, sid, payload=b""):
    n = len(payload)
    return bytes((n >> 16, (n >> 8) & 255, n & 255, ftype, flags, sid >> 24, (sid >> 16) & 255,
                  (sid >> 8) & 255, sid & 255)) + payload


def frames(data):
    """[(type, flags, sid, payload)] of a byte string of frames."""
    out = []
    off = 0
    while off < len(data):
        n = (data[off] << 16) | (data[off + 1] << 8) | data[off + 2]
        sid = ((data[off + 5] & 127) << 24) | (data[off + 6] << 16) | (data[off + 7] << 8)
        out.append((data[off + 3], data[off + 4], sid | data[off + 8],
                    data[off + 9 : off + 9 + n]))
        off += 9 + n
    return out


def get(path=b"/dns-query?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB", extra=()):
    return hpack.encode([(b":method", b"GET"), (b":scheme", b"https"), (b":path", path),
                         (b":authority", b"dnsbox")] + list(extra))


def opened():
    c = h2.Conn()
    assert c.receive(h2.PREFACE + frame(h2.SETTINGS, 0, 0)) == 24 + 9
    out = frames(c.take())
    assert out[0][0] == h2.SETTINGS and out[-1][:2] == (h2.SETTINGS, h2.ACK)
    return c


def test_preface_in_pieces_and_settings():
    c = h2.Conn()
    assert c.receive(h2.PREFACE[:10]) == 0 and not c.closed
    assert c.receive(h2.PREFACE + frame(h2.SETTINGS, 0, 0)[:5]) == 24  # partial frame stays
    first = frames(c.take())[0]
    assert first[0] == h2.SETTINGS and b"\x00\x03\x00\x00\x00\x10" in first[3]  # 16 streams


def test_streams_answered_in_any_order():
    c = opened()
    data = b"".join(frame(h2.HEADERS, h2.END_HEADERS | h2.END_STREAM, sid, get())
                    for sid in (1, 3, 5))
    assert c.receive(data) == len(data)
    assert [r.sid for r in c.requests] == [1, 3, 5]
    assert c.requests[0].method == b"GET" and c.requests[0].path.startswith(b"/dns-query?")
    c.requests = []
    assert c.respond(5, 200, [(b"content-type", b"x")], b"five")
    assert c.respond(1, 404, [], b"")
    out = frames(c.take())
    assert [(f[0], f[2]) for f in out] == [(h2.HEADERS, 5), (h2.DATA, 5), (h2.HEADERS, 1)]
    assert out[1][1] == h2.END_STREAM and out[1][3] == b"five"
    fields = hpack.Decoder().decode(out[0][3])[0]
    assert fields == [(b":status", b"200"), (b"content-type", b"x"), (b"content-length", b"4")]
    assert not c.respond(1, 200, [], b"again")  # closed: answered once
    assert list(c.streams) == [3]


def test_post_with_continuation_and_padding():
    c = opened()
    block = hpack.encode([(b":method", b"POST"), (b":scheme", b"https"),
                          (b":path", b"/dns-query"), (b"content-type", b"application/dns-message"),
                          (b"content-length", b"5")])
    padded = bytes((3,)) + block[:4] + b"\0\0\0"
    data = (frame(h2.HEADERS, h2.PADDED, 1, padded) + frame(h2.CONTINUATION, h2.END_HEADERS, 1,
                                                             block[4:])
            + frame(h2.DATA, 0, 1, b"ab") + frame(h2.DATA, h2.END_STREAM | h2.PADDED, 1,
                                                  b"\x02cde\0\0"))
    assert c.receive(data) == len(data)
    r = c.requests[0]
    assert (r.method, r.ctype, r.body) == (b"POST", b"application/dns-message", b"abcde")
    # the DATA bytes (2 + 6, padding counted) are granted again on the connection
    assert frames(c.take()) == [(h2.WINDOW_UPDATE, 0, 0, b"\x00\x00\x00\x08")]


def test_flow_control_holds_data_until_window_update():
    c = opened()
    c.receive(frame(h2.SETTINGS, 0, 0, b"\x00\x04\x00\x00\x00\x03"))  # stream windows: 3
    c.receive(frame(h2.HEADERS, h2.END_HEADERS | h2.END_STREAM, 1, get()))
    c.take()
    c.respond(1, 200, [], b"abcdefg")
    out = frames(c.take())
    assert out[-1][0] == h2.DATA and out[-1][3] == b"abc" and out[-1][1] == 0
    c.receive(frame(h2.WINDOW_UPDATE, 0, 1, b"\x00\x00\x00\x10"))
    out = frames(c.take())
    assert out == [(h2.DATA, h2.END_STREAM, 1, b"defg")] and not c.streams


def test_ping_rst_goaway():
    c = opened()
    c.receive(frame(h2.PING, 0, 0, b"12345678"))
    assert frames(c.take()) == [(h2.PING, h2.ACK, 0, b"12345678")]
    c.receive(frame(h2.HEADERS, h2.END_HEADERS | h2.END_STREAM, 1, get()))
    c.receive(frame(h2.RST_STREAM, 0, 1, b"\x00\x00\x00\x08"))
    assert not c.respond(1, 200, [], b"late")  # the client cancelled it
    c.receive(frame(h2.GOAWAY, 0, 0, b"\x00\x00\x00\x01\x00\x00\x00\x00"))
    assert c.idle() and not c.closed


def test_too_many_streams_refused():
    c = opened()
    data = b"".join(frame(h2.HEADERS, h2.END_HEADERS | h2.END_STREAM, 2 * i + 1, get())
                    for i in range(h2.MAX_STREAMS + 1))
    c.receive(data)
    assert len(c.requests) == h2.MAX_STREAMS
    out = frames(c.take())
    assert out[-1] == (h2.RST_STREAM, 0, 2 * h2.MAX_STREAMS + 1, b"\x00\x00\x00\x07")


def goaway_code(c):
    out = frames(c.take())
    assert c.closed and out[-1][0] == h2.GOAWAY, out
    p = out[-1][3]
    return (p[4] << 24) | (p[5] << 16) | (p[6] << 8) | p[7]


def test_malformed_frames_close_with_goaway():
    cases = (
        (frame(h2.DATA, 0, 0, b"x"), h2.PROTOCOL_ERROR),
        (frame(h2.HEADERS, h2.END_HEADERS, 2, get()), h2.PROTOCOL_ERROR),  # even stream id
        (frame(h2.HEADERS, h2.END_HEADERS, 1, b"\x80"), h2.COMPRESSION_ERROR),
        (frame(h2.PING, 0, 0, b"1234"), h2.FRAME_SIZE_ERROR),
        (frame(h2.SETTINGS, 0, 0, b"\x00\x04\x80\x00\x00\x00"), h2.FLOW_CONTROL_ERROR),
        (frame(h2.SETTINGS, 0, 0, b"\x00\x05\x00\x00\x10\x00"), h2.PROTOCOL_ERROR),
        (frame(h2.WINDOW_UPDATE, 0, 0, b"\x00\x00\x00\x00"), h2.PROTOCOL_ERROR),
        (frame(h2.WINDOW_UPDATE, 0, 0, b"\x7f\xff\xff\xff"), h2.FLOW_CONTROL_ERROR),
        (frame(h2.PUSH_PROMISE, h2.END_HEADERS, 1, b"\0\0\0\2"), h2.PROTOCOL_ERROR),
        (frame(h2.HEADERS, 0, 1, get()) + frame(h2.PING, 0, 0, b"12345678"), h2.PROTOCOL_ERROR),
        (frame(h2.CONTINUATION, h2.END_HEADERS, 1, get()), h2.PROTOCOL_ERROR),
        (frame(h2.RST_STREAM, 0, 9, b"\0\0\0\0"), h2.PROTOCOL_ERROR),  # idle stream
        (b"\x00\x40\x01" + b"\x00" * 6, h2.FRAME_SIZE_ERROR),  # 16385 bytes announced
    )
    for data, code in cases:
        c = opened()
        assert c.receive(data) == len(data)
        assert goaway_code(c) == code, data
        assert c.receive(frame(h2.PING, 0, 0, b"12345678")) and not c.take()  # closed: mute
    c = h2.Conn()
    c.receive(b"GET / HTTP/1.1\r\n\r\n")
    assert goaway_code(c) == h2.PROTOCOL_ERROR
    c = h2.Conn()
    c.receive(h2.PREFACE + frame(h2.PING, 0, 0, b"12345678"))  # SETTINGS must come first
    assert goaway_code(c) == h2.PROTOCOL_ERROR


def test_malformed_requests_reset_the_stream():
    for fields in ([(b":method", b"GET"), (b":path", b"/")],  # no :scheme
                   [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/"),
                    (b"Accept", b"x")],  # upper case name
                   [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/"),
                    (b"connection", b"close")],
                   [(b":method", b"GET"), (b"accept", b"x"), (b":scheme", b"https"),
                    (b":path", b"/")]):  # pseudo after regular
        c = opened()
        c.receive(frame(h2.HEADERS, h2.END_HEADERS | h2.END_STREAM, 1, hpack.encode(fields)))
        assert not c.requests and not c.closed
        assert frames(c.take()) == [(h2.RST_STREAM, 0, 1, b"\x00\x00\x00\x01")]


def test_random_bytes_never_raise():
    # a small deterministic fuzz (a linear congruential generator: the same bytes each run)
    x = 12345
    for _ in range(300):
        c = opened()
        n = 0
        data = bytearray()
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        for _ in range(x % 64):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            data.append((x >> 16) & 255)
        # a frame header that points at a real type, then the noise
        data = frame(x % 10, (x >> 8) & 255, (x >> 4) & 7, bytes(data))
        n = c.receive(data)
        assert 0 <= n <= len(data)
        c.take()
