"""Rdata entry points: decode(rtype, buf, off, rdlen) and from_text(rtype, text, origin).

Record types come from one explicit table (no dynamic imports); any other type is Generic
(RFC 3597). Classes live in the family modules rd_std, rd_sec, rd_svcb, rd_meta.
"""

from dnsbox.wire import rd_meta, rd_sec, rd_std, rd_svcb
from dnsbox.wire import text as _text
from dnsbox.wire.errors import ShortError, TextError, WireError
from dnsbox.wire.rdbase import Generic, Rdata, generic_from_tokens  # noqa: F401 (re-export)

CLASSES = {}
for _c in (
    rd_std.A,
    rd_std.NS,
    rd_std.CNAME,
    rd_std.SOA,
    rd_std.PTR,
    rd_std.MX,
    rd_std.TXT,
    rd_std.AAAA,
    rd_std.SRV,
    rd_std.NAPTR,
    rd_std.DNAME,
    rd_std.CAA,
    rd_std.SSHFP,
    rd_std.TLSA,
    rd_sec.DS,
    rd_sec.CDS,
    rd_sec.DNSKEY,
    rd_sec.CDNSKEY,
    rd_sec.RRSIG,
    rd_sec.NSEC,
    rd_sec.NSEC3,
    rd_sec.NSEC3PARAM,
    rd_svcb.SVCB,
    rd_svcb.HTTPS,
    rd_meta.OPT,
    rd_meta.TSIG,
):
    CLASSES[_c.rtype] = _c


def decode(rtype, buf, off, rdlen):
    """Rdata of type rtype at buf[off:off+rdlen]; it must use exactly rdlen bytes.
    Raises WireError (ShortError if buf ends first) and nothing else."""
    rdlen += off  # now the end of the rdata (one local less: see message.py)
    if rdlen > len(buf):
        raise ShortError(off, "rdata runs past the end of data")
    cls = CLASSES.get(rtype)
    if cls is None:
        return Generic(rtype, buf[off:rdlen])
    if cls.checked:  # its constructor may refuse decoded values with ValueError
        return _decode_checked(cls, rtype, buf, off, rdlen)
    return cls.decode(rtype, buf, off, rdlen)


def _decode_checked(cls, rtype, buf, off, end):
    try:
        return cls.decode(rtype, buf, off, end)
    except ValueError:
        pass
    _bad(cls, rtype, buf, off, end)


def _bad(cls, rtype, buf, off, end):
    # decode again to get the reason: "except ... as e" in decode() would make every call
    # slower on MicroPython (bigger frame, allocated on the heap)
    try:
        cls.decode(rtype, buf, off, end)
    except ValueError as e:
        raise WireError(off, "bad %s rdata: %s" % (rtype, e.args[0] if e.args else e))
    raise WireError(off, "bad %s rdata" % rtype)


def from_text(rtype, text, origin=None):
    """Rdata from its presentation form on one line (quotes and escapes intact).
    '\\# len hex' (RFC 3597 5) is accepted for every type. Raises TextError."""
    tk = _text.Tokens(text)
    if tk.toks and tk.toks[0] == ("\\#", False):
        tk.i = 1
        g = generic_from_tokens(rtype, tk)
        cls = CLASSES.get(rtype)
        if cls is None:
            return g
        try:
            return decode(rtype, g.data, 0, len(g.data))
        except WireError as e:
            raise TextError("generic rdata is not a valid %d rdata: %s" % (rtype, e.reason))
    cls = CLASSES.get(rtype)
    if cls is None:
        raise TextError("type %d has no known presentation form: use \\# <len> <hex>" % rtype)
    try:
        rd = cls.from_tokens(tk, origin)
    except ValueError as e:
        if isinstance(e, TextError):
            raise
        raise TextError(e.args[0] if e.args else "bad rdata")
    tk.end()
    return rd
