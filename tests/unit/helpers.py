"""Helpers for tests that run under both CPython (pytest) and the MicroPython binary."""


def raises(exc_type, fn, *args, **kwargs):
    """Call fn and return the exception of exc_type it raised; fail if it raised none."""
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        return e
    raise AssertionError("expected %s from %r" % (exc_type.__name__, fn))


def unhex(text):
    """Bytes from hex text that may hold spaces, newlines and '#' comments to line end."""
    out = []
    for line in text.split("\n"):
        line = line.split("#", 1)[0]
        out.append("".join(line.split()))
    digits = "".join(out)
    if len(digits) % 2:
        raise ValueError("odd number of hex digits")
    return bytes(int(digits[i : i + 2], 16) for i in range(0, len(digits), 2))
