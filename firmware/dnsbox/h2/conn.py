"""HTTP/2 (RFC 9113), the server side of one connection. Pure: bytes in, requests and bytes out;
the serving loop (dnsbox.net.doh2) does the I/O.

  h = Conn()                      queues our SETTINGS (the server preface, 3.4)
  n = h.receive(buf)              frames at the start of buf (the client preface first);
      n: bytes used (a partial frame is left for later); requests that are now whole are
      appended to h.requests (Stream objects: sid, method, path, ctype, accept, body, status)
  h.respond(sid, status, headers, body)  HEADERS (+ DATA as flow control allows, 5.2)
  h.take()                        the bytes to send (frames queued since the last call)
  h.closed                        True once GOAWAY went out (an error or our end): the caller
                                  sends what take() gives and closes the connection
  h.idle()                        True when the peer sent GOAWAY and no stream is left
Errors (5.4): a connection error queues GOAWAY with its code and sets closed (error says why);
a stream error resets that stream only (RST_STREAM). Nothing raises out of receive().
"""
from dnsbox.compat import const
from dnsbox.h2 import hpack

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"  # the client's connection preface (3.4)
MAX_STREAMS = const(16)  # streams at once (SETTINGS_MAX_CONCURRENT_STREAMS, 6.5.2)
MAX_FRAME = const(16384)  # frame payload we accept (SETTINGS_MAX_FRAME_SIZE default, 4.2)
MAX_BLOCK = const(16384)  # bytes of one header block, HEADERS + CONTINUATION (compressed)
WINDOW = const(65535)  # our initial windows, connection and stream (6.9.2): one DNS message
MAX_WINDOW = 0x7FFFFFFF  # the largest flow-control window (6.9.1)
MAX_HELD = const(131072)  # bytes of answers held back by the peer's flow control, all streams
MAX_PEER_FRAME = 16777215  # the largest SETTINGS_MAX_FRAME_SIZE (6.5.2)

# Frame types (6) and flags
DATA = const(0)
HEADERS = const(1)
PRIORITY = const(2)
RST_STREAM = const(3)
SETTINGS = const(4)
PUSH_PROMISE = const(5)
PING = const(6)
GOAWAY = const(7)
WINDOW_UPDATE = const(8)
CONTINUATION = const(9)
END_STREAM = const(0x1)
ACK = const(0x1)
END_HEADERS = const(0x4)
PADDED = const(0x8)
PRIORITY_FLAG = const(0x20)
# Error codes (7)
NO_ERROR = const(0)
PROTOCOL_ERROR = const(1)
INTERNAL_ERROR = const(2)
FLOW_CONTROL_ERROR = const(3)
STREAM_CLOSED = const(5)
FRAME_SIZE_ERROR = const(6)
REFUSED_STREAM = const(7)
COMPRESSION_ERROR = const(9)
ENHANCE_YOUR_CALM = const(11)
# Settings (6.5.2)
_S_TABLE = const(1)
_S_PUSH = const(2)
_S_STREAMS = const(3)
_S_WINDOW = const(4)
_S_FRAME = const(5)
_S_LIST = const(6)

_OPEN = const(0)  # the request is arriving
_WAIT = const(1)  # half-closed (remote): the request is whole, the answer is due
_SENDING = const(2)  # HEADERS sent, DATA left

# Header fields a request must not carry (8.2.2)
_CONNECTION_FIELDS = (b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding",
                      b"upgrade")
_PSEUDO = (b":method", b":scheme", b":path", b":authority")


class _Error(Exception):
    def __init__(self, code, text):
        self.code = code
        self.text = text


class Stream:
    """One request: its fields, body, and the answer being sent."""

    def __init__(self, sid, send_window):
        self.sid = sid
        self.state = _OPEN
        self.method = self.path = self.ctype = self.accept = b""
        self.length = -1  # content-length, -1: not given
        self.body = b""
        self.got = 0  # DATA bytes received, padding included (the stream's window)
        self.status = 0  # non-zero: answer with this HTTP error (431: headers cut)
        self.send = send_window  # the peer's window for this stream
        self.pending = b""  # DATA not yet sent


def _frame(ftype, flags, sid, payload):
    n = len(payload)
    return bytes((n >> 16, (n >> 8) & 255, n & 255, ftype, flags,
                  (sid >> 24) & 127, (sid >> 16) & 255, (sid >> 8) & 255, sid & 255)) + payload


def _u32(b, off):
    return (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]


def _b32(v):
    return bytes(((v >> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255))


class Conn:
    def __init__(self):
        self.dec = hpack.Decoder()
        self.streams = {}  # sid -> Stream, open or owed an answer
        self.requests = []  # whole requests not yet taken by the caller
        self.out = []  # frames to send
        self.preface = False  # the client preface was read
        self.settings = False  # the client's first SETTINGS was read (3.4)
        self.last_sid = 0  # the highest stream the client opened
        self.cont = None  # [sid, end_stream, block] while CONTINUATION frames are due (6.10)
        self.recv_window = WINDOW  # connection window we granted, left
        self.release = 0  # DATA bytes consumed, to grant again (WINDOW_UPDATE)
        self.send_window = WINDOW  # the peer's connection window
        self.peer_initial = WINDOW  # the peer's SETTINGS_INITIAL_WINDOW_SIZE
        self.peer_frame = MAX_FRAME  # the peer's SETTINGS_MAX_FRAME_SIZE
        self.held = 0  # bytes in the streams' pending DATA
        self.closed = False
        self.peer_gone = False  # the client sent GOAWAY
        self.error = None  # why the connection was closed (text)
        self.out.append(_frame(SETTINGS, 0, 0, b"".join((
            b"\x00\x03" + _b32(MAX_STREAMS),
            b"\x00\x06" + _b32(hpack.MAX_LIST),
            b"\x00\x02" + _b32(0)))))

    def take(self):
        if not self.out:
            return b""
        b = b"".join(self.out)
        self.out = []
        return b

    def idle(self):
        return self.peer_gone and not self.streams

    def goaway(self, code, text=""):
        """Close: GOAWAY (6.8) with the last stream we saw; no more frames are read or sent."""
        if self.closed:
            return
        self.closed = True
        self.error = text or None
        self.out.append(_frame(GOAWAY, 0, 0, _b32(self.last_sid) + _b32(code) + text.encode()))
        self.streams = {}
        self.requests = []

    def receive(self, buf):
        if self.closed:
            return len(buf)
        off = 0
        try:
            if not self.preface:
                n = len(PREFACE) if len(buf) >= len(PREFACE) else len(buf)
                if buf[:n] != PREFACE[:n]:
                    raise _Error(PROTOCOL_ERROR, "no HTTP/2 client preface")
                if n < len(PREFACE):
                    return 0
                self.preface = True
                off = n
            end = len(buf)
            while end - off >= 9 and not self.closed:
                length = (buf[off] << 16) | (buf[off + 1] << 8) | buf[off + 2]
                if length > MAX_FRAME:
                    raise _Error(FRAME_SIZE_ERROR, "frame of %d bytes" % length)
                if end - off - 9 < length:
                    break
                sid = _u32(buf, off + 5) & MAX_WINDOW
                self._frame(buf[off + 3], buf[off + 4], sid, buf[off + 9 : off + 9 + length])
                off += 9 + length
        except _Error as e:
            self.goaway(e.code, e.text)
            return len(buf)
        except hpack.HPACKError as e:
            self.goaway(COMPRESSION_ERROR, "hpack: %s" % e)
            return len(buf)
        if self.release and not self.closed:
            self.out.append(_frame(WINDOW_UPDATE, 0, 0, _b32(self.release)))
            self.recv_window += self.release
            self.release = 0
        return off

    # --- frames in -------------------------------------------------------------------------
    def _frame(self, ftype, flags, sid, p):
        if self.cont is not None and (ftype != CONTINUATION or sid != self.cont[0]):
            raise _Error(PROTOCOL_ERROR, "frame type %d inside a header block" % ftype)
        if not self.settings:
            if ftype != SETTINGS or flags & ACK:
                raise _Error(PROTOCOL_ERROR, "the first frame is not SETTINGS")
            self.settings = True
        if ftype == DATA:
            self._data(flags, sid, p)
        elif ftype == HEADERS:
            self._headers(flags, sid, p)
        elif ftype == CONTINUATION:
            self._continuation(flags, sid, p)
        elif ftype == SETTINGS:
            self._settings(flags, sid, p)
        elif ftype == WINDOW_UPDATE:
            self._window_update(sid, p)
        elif ftype == PING:
            if len(p) != 8:
                raise _Error(FRAME_SIZE_ERROR, "PING of %d bytes" % len(p))
            if sid:
                raise _Error(PROTOCOL_ERROR, "PING on a stream")
            if not flags & ACK:
                self.out.append(_frame(PING, ACK, 0, p))
        elif ftype == RST_STREAM:
            if len(p) != 4:
                raise _Error(FRAME_SIZE_ERROR, "RST_STREAM of %d bytes" % len(p))
            self._idle_check(sid, "RST_STREAM")
            self._forget(sid)
        elif ftype == PRIORITY:
            if sid == 0:
                raise _Error(PROTOCOL_ERROR, "PRIORITY on stream 0")
            if len(p) != 5:
                self._reset(sid, FRAME_SIZE_ERROR)
        elif ftype == GOAWAY:
            if sid:
                raise _Error(PROTOCOL_ERROR, "GOAWAY on a stream")
            if len(p) < 8:
                raise _Error(FRAME_SIZE_ERROR, "GOAWAY of %d bytes" % len(p))
            self.peer_gone = True
        elif ftype == PUSH_PROMISE:
            raise _Error(PROTOCOL_ERROR, "PUSH_PROMISE from a client")
        # other types are ignored (5.5)

    def _idle_check(self, sid, what):
        if sid == 0:
            raise _Error(PROTOCOL_ERROR, "%s on stream 0" % what)
        if sid > self.last_sid:
            raise _Error(PROTOCOL_ERROR, "%s on idle stream %d" % (what, sid))

    def _unpad(self, flags, p):
        if not flags & PADDED:
            return p
        if not p or p[0] >= len(p):
            raise _Error(PROTOCOL_ERROR, "padding longer than the frame")
        return p[1 : len(p) - p[0]]

    def _data(self, flags, sid, p):
        if sid == 0:
            raise _Error(PROTOCOL_ERROR, "DATA on stream 0")
        n = len(p)
        self.recv_window -= n
        if self.recv_window < 0:
            raise _Error(FLOW_CONTROL_ERROR, "DATA past the connection window")
        body = self._unpad(flags, p)
        st = self.streams.get(sid)
        if st is None or st.state != _OPEN:
            self.release += n
            self._idle_check(sid, "DATA")
            self._reset(sid, STREAM_CLOSED)
            return
        st.got += n
        if st.got > WINDOW:
            self._reset(sid, FLOW_CONTROL_ERROR)  # its bytes are granted again (_forget)
            return
        st.body += body
        if flags & END_STREAM:
            self._whole(st)

    def _headers(self, flags, sid, p):
        if sid == 0:
            raise _Error(PROTOCOL_ERROR, "HEADERS on stream 0")
        p = self._unpad(flags, p)
        if flags & PRIORITY_FLAG:
            if len(p) < 5:
                raise _Error(FRAME_SIZE_ERROR, "HEADERS too short for its priority")
            p = p[5:]
        if flags & END_HEADERS:
            self._block(sid, flags & END_STREAM, p)
        else:
            self.cont = [sid, flags & END_STREAM, p]

    def _continuation(self, flags, sid, p):
        if self.cont is None:
            raise _Error(PROTOCOL_ERROR, "CONTINUATION without HEADERS")
        block = self.cont[2] + p
        if len(block) > MAX_BLOCK:
            raise _Error(ENHANCE_YOUR_CALM, "header block over %d bytes" % MAX_BLOCK)
        self.cont[2] = block
        if flags & END_HEADERS:
            end_stream = self.cont[1]
            self.cont = None
            self._block(sid, end_stream, block)

    def _block(self, sid, end_stream, block):
        fields, cut = self.dec.decode(block)  # always: the table must follow the peer's
        st = self.streams.get(sid)
        if st is not None:  # trailers (8.1): they end the request
            if st.state != _OPEN:
                self._reset(sid, STREAM_CLOSED)
            elif not end_stream:
                self._reset(sid, PROTOCOL_ERROR)
            else:
                self._whole(st)
            return
        if sid & 1 == 0 or sid <= self.last_sid:
            raise _Error(PROTOCOL_ERROR, "HEADERS opening stream %d" % sid)
        self.last_sid = sid
        if self.peer_gone:
            return
        if len(self.streams) >= MAX_STREAMS:
            self._reset(sid, REFUSED_STREAM)
            return
        st = Stream(sid, self.peer_initial)
        if not _request(st, fields):
            self._reset(sid, PROTOCOL_ERROR)  # malformed (8.1.1)
            return
        if cut:
            st.status = 431
        self.streams[sid] = st
        if end_stream:
            self._whole(st)

    def _whole(self, st):
        """The request on st is complete: hand it over; its DATA bytes are granted again."""
        if st.length >= 0 and st.length != len(st.body):
            self._reset(st.sid, PROTOCOL_ERROR)  # content-length disagrees (8.1.1)
            return
        st.state = _WAIT
        self.release += st.got
        self.requests.append(st)

    def _settings(self, flags, sid, p):
        if sid:
            raise _Error(PROTOCOL_ERROR, "SETTINGS on a stream")
        if flags & ACK:
            if p:
                raise _Error(FRAME_SIZE_ERROR, "SETTINGS ACK with a payload")
            return
        if len(p) % 6:
            raise _Error(FRAME_SIZE_ERROR, "SETTINGS of %d bytes" % len(p))
        for i in range(0, len(p), 6):
            k = (p[i] << 8) | p[i + 1]
            v = _u32(p, i + 2)
            if k == _S_PUSH and v > 1:
                raise _Error(PROTOCOL_ERROR, "ENABLE_PUSH %d" % v)
            if k == _S_WINDOW:
                if v > MAX_WINDOW:
                    raise _Error(FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE %d" % v)
                delta = v - self.peer_initial
                self.peer_initial = v
                for st in self.streams.values():
                    st.send += delta
                    if st.send > MAX_WINDOW:
                        raise _Error(FLOW_CONTROL_ERROR, "a stream window passed 2^31-1")
            elif k == _S_FRAME:
                if v < MAX_FRAME or v > MAX_PEER_FRAME:
                    raise _Error(PROTOCOL_ERROR, "MAX_FRAME_SIZE %d" % v)
                self.peer_frame = v
            # HEADER_TABLE_SIZE: we keep no encoder table; MAX_CONCURRENT_STREAMS: we push none
        self.out.append(_frame(SETTINGS, ACK, 0, b""))
        self._pump()

    def _window_update(self, sid, p):
        if len(p) != 4:
            raise _Error(FRAME_SIZE_ERROR, "WINDOW_UPDATE of %d bytes" % len(p))
        inc = _u32(p, 0) & MAX_WINDOW
        if sid == 0:
            if inc == 0:
                raise _Error(PROTOCOL_ERROR, "WINDOW_UPDATE of 0")
            self.send_window += inc
            if self.send_window > MAX_WINDOW:
                raise _Error(FLOW_CONTROL_ERROR, "connection window passed 2^31-1")
        else:
            self._idle_check(sid, "WINDOW_UPDATE")
            st = self.streams.get(sid)
            if st is None:
                return  # closed: ignored (6.9)
            if inc == 0:
                self._reset(sid, PROTOCOL_ERROR)
                return
            st.send += inc
            if st.send > MAX_WINDOW:
                self._reset(sid, FLOW_CONTROL_ERROR)
                return
        self._pump()

    def _reset(self, sid, code):
        self._forget(sid)
        self.out.append(_frame(RST_STREAM, 0, sid, _b32(code)))

    def _forget(self, sid):
        st = self.streams.pop(sid, None)
        if st is not None:
            self.held -= len(st.pending)
            if st.state == _OPEN:
                self.release += st.got

    # --- answers out -----------------------------------------------------------------------
    def respond(self, sid, status, headers, body):
        """Answer stream sid: status (int), headers [(name, value)] (lowercase names, bytes),
        body (bytes). False when the stream is gone (reset, or the connection closed)."""
        st = self.streams.get(sid)
        if self.closed or st is None or st.state != _WAIT:
            return False
        if body and self.held + len(body) > MAX_HELD:
            self._reset(sid, ENHANCE_YOUR_CALM)  # the peer opens no window: it gets no more
            return False
        fields = [(b":status", b"%d" % status)] + headers
        fields.append((b"content-length", b"%d" % len(body)))
        block = hpack.encode(fields)  # small: one frame (peer_frame is at least MAX_FRAME)
        if not body:
            self.out.append(_frame(HEADERS, END_HEADERS | END_STREAM, sid, block))
            del self.streams[sid]
            return True
        self.out.append(_frame(HEADERS, END_HEADERS, sid, block))
        st.state = _SENDING
        st.pending = body
        if not self.held and len(body) <= min(st.send, self.send_window, self.peer_frame):
            # the usual answer: nothing else held back and it fits the windows: one DATA
            # frame now (what _pump would send, without walking the streams)
            st.send -= len(body)
            self.send_window -= len(body)
            st.pending = b""
            self.out.append(_frame(DATA, END_STREAM, sid, body))
            del self.streams[sid]
            return True
        self.held += len(body)
        self._pump()
        return True

    def _pump(self):
        """Send pending DATA as the windows allow, streams in the order they opened."""
        if not self.held:
            return
        for sid in sorted(self.streams):
            if self.send_window <= 0:
                return
            st = self.streams[sid]
            while st.pending and st.send > 0 and self.send_window > 0:
                n = min(len(st.pending), st.send, self.send_window, self.peer_frame)
                chunk = st.pending[:n]
                st.pending = st.pending[n:]
                st.send -= n
                self.send_window -= n
                self.held -= n
                last = not st.pending
                self.out.append(_frame(DATA, END_STREAM if last else 0, sid, chunk))
                if last:
                    del self.streams[sid]


def _request(st, fields):
    """Fill st from the request's fields; False when malformed (8.1.1, 8.2, 8.3.1)."""
    regular = False
    seen = []
    for name, value in fields:
        if name[:1] == b":":
            if regular or name not in _PSEUDO or name in seen:
                return False
            seen.append(name)
            if name == b":method":
                st.method = value
            elif name == b":path":
                st.path = value
            continue
        regular = True
        if name != name.lower() or name in _CONNECTION_FIELDS:
            return False
        if name == b"te" and value != b"trailers":
            return False
        if name == b"content-type":
            st.ctype = value
        elif name == b"accept":
            st.accept = value
        elif name == b"content-length":
            if not value.isdigit() or len(value) > 9:
                return False
            st.length = int(value)
    return b":method" in seen and b":scheme" in seen and b":path" in seen and st.path != b""
