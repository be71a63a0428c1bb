"""Rdata entry points: decode(rtype, buf, off, rdlen) and from_text(rtype, text, origin).

Record types come from one explicit table (no dynamic imports); any other type is Generic
(RFC 3597). Classes live in the family modules rd_std, rd_sec, rd_svcb, rd_meta, rd_info,
rd_loc and rd_key (the last three build on rdfields, rd_std and rd_sec).
"""

from dnsbox.wire import rd_meta, rd_sec, rd_std, rd_svcb

# after the four above: these import rd_std and rd_sec, which are then loaded already (one
# level of nested imports less on MicroPython's C stack)
from dnsbox.wire import rd_info, rd_key, rd_loc  # noqa: I001
from dnsbox.wire import text as _text
from dnsbox.wire.errors import ShortError, TextError, WireError
from dnsbox.wire.rdbase import Generic, Rdata, generic_from_tokens  # noqa: F401 (re-export)

CLASSES = {}
for _c in (
    rd_std.A,
    rd_std.NS,
    rd_std.CNAME,
    rd_std.SOA,
    rd_info.MB,
    rd_info.MG,
    rd_info.MR,
    rd_loc.WKS,
    rd_std.PTR,
    rd_info.HINFO,
    rd_info.MINFO,
    rd_std.MX,
    rd_std.TXT,
    rd_info.RP,
    rd_info.AFSDB,
    rd_info.X25,
    rd_info.ISDN,
    rd_info.RT,
    rd_loc.NSAP,
    rd_info.NSAP_PTR,
    rd_key.SIG,
    rd_key.KEY,
    rd_info.PX,
    rd_loc.GPOS,
    rd_std.AAAA,
    rd_loc.LOC,
    rd_std.SRV,
    rd_std.NAPTR,
    rd_info.KX,
    rd_key.CERT,
    rd_std.DNAME,
    rd_loc.APL,
    rd_sec.DS,
    rd_std.SSHFP,
    rd_key.IPSECKEY,
    rd_sec.RRSIG,
    rd_sec.NSEC,
    rd_sec.DNSKEY,
    rd_key.DHCID,
    rd_sec.NSEC3,
    rd_sec.NSEC3PARAM,
    rd_std.TLSA,
    rd_key.SMIMEA,
    rd_key.HIP,
    rd_info.NINFO,
    rd_sec.CDS,
    rd_sec.CDNSKEY,
    rd_key.OPENPGPKEY,
    rd_info.CSYNC,
    rd_info.ZONEMD,
    rd_svcb.SVCB,
    rd_svcb.HTTPS,
    rd_info.DSYNC,
    rd_key.HHIT,
    rd_key.BRID,
    rd_info.SPF,
    rd_info.NID,
    rd_info.L32,
    rd_info.L64,
    rd_info.LP,
    rd_loc.EUI48,
    rd_loc.EUI64,
    rd_meta.TKEY,
    rd_meta.OPT,
    rd_meta.TSIG,
    rd_info.URI,
    rd_std.CAA,
    rd_info.AVC,
    rd_key.AMTRELAY,
    rd_info.RESINFO,
    rd_info.WALLET,
    rd_key.DLV,
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
    if tk.toks and tk.toks[0][0] == "\\#" and not tk.toks[0][1]:
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
