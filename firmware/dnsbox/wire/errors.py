"""The codec's error types: WireError for wire input, TextError for presentation format."""


class WireError(Exception):
    """Malformed wire data at byte `offset` (from the start of the buffer decoded)."""

    def __init__(self, offset, reason):
        super().__init__(offset, reason)  # MicroPython: not Exception.__init__(self, ..)
        self.offset = offset
        self.reason = reason

    def __str__(self):
        return "offset %d: %s" % (self.offset, self.reason)


class ShortError(WireError):
    """The data ends before the item being read does (a truncated message, for instance).

    A WireError like any other; message.decode(buf, partial=True) stops quietly on it."""


class TextError(ValueError):
    """Bad presentation-format input; the message says what is wrong."""
