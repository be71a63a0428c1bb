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


_golden = {}


def golden_server(sub=""):
    """The auth server on a committed golden blob: tests/zones/golden/<sub>example.com.blob
    (sub "" or "signed/"), opened once."""
    if sub not in _golden:
        from dnsbox.auth.server import Server
        from dnsbox.zonedb import open_blob

        here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
        with open(here + "/../zones/golden/" + sub + "example.com.blob", "rb") as f:
            _golden[sub] = Server(open_blob(f.read()))
    return _golden[sub]
