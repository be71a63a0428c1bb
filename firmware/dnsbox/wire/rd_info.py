"""Record types made of names, strings and numbers: the RFC 1035 mail types (MB, MG, MR, MINFO),
HINFO, RP, AFSDB, X25, ISDN, RT, NSAP-PTR, PX, KX, the ILNP types (NID, L32, L64, LP), URI,
CSYNC, ZONEMD, DSYNC, and the TXT-like SPF, NINFO, AVC, RESINFO, WALLET.

Names in these rdata are never compressed on output (RFC 3597 4: only RFC 1035's types may
be, and dnspython compresses none of these); the ones RFC 4034 6.2 lists are lower-cased in
canonical form (`lower`).
"""

from dnsbox.wire import rd_std
from dnsbox.wire import types
from dnsbox.wire.rdfields import Fields

# --- names -----------------------------------------------------------------------------------


class MB(Fields):
    rtype = types.MB
    layout = "N"
    attrs = ("target",)
    lower = True


class MG(MB):
    rtype = types.MG


class MR(MB):
    rtype = types.MR


class NSAP_PTR(MB):
    rtype = types.NSAP_PTR
    lower = False  # not in RFC 4034 6.2's list (dnspython agrees)


class MINFO(Fields):
    rtype = types.MINFO
    layout = "NN"
    attrs = ("rmailbx", "emailbx")
    lower = True


class RP(Fields):
    rtype = types.RP
    layout = "NN"
    attrs = ("mbox", "txt")
    lower = True


class AFSDB(Fields):
    rtype = types.AFSDB
    layout = "HN"
    attrs = ("preference", "exchange")  # subtype and hostname (RFC 1183 1)
    lower = True


class RT(AFSDB):
    rtype = types.RT


class KX(AFSDB):
    rtype = types.KX


class LP(AFSDB):
    rtype = types.LP
    lower = False  # not in RFC 4034 6.2's list


class PX(Fields):
    rtype = types.PX
    layout = "HNN"
    attrs = ("preference", "map822", "mapx400")
    lower = True


class DSYNC(Fields):
    """Generalized notifications: the type to notify about, scheme (1 NOTIFY), port, target."""

    rtype = types.DSYNC
    layout = "TBHN"
    attrs = ("rrtype", "scheme", "port", "target")
    words = {"scheme": {"NOTIFY": 1}}
    shown = ("scheme",)


# --- strings ---------------------------------------------------------------------------------


class HINFO(Fields):
    rtype = types.HINFO
    layout = "SS"
    attrs = ("cpu", "os")


class X25(Fields):
    rtype = types.X25
    layout = "S"
    attrs = ("address",)


class ISDN(Fields):
    rtype = types.ISDN
    layout = "So"
    attrs = ("address", "subaddress")  # subaddress None when absent (RFC 1183 3.2)


class URI(Fields):
    rtype = types.URI
    layout = "HHu"
    attrs = ("priority", "weight", "target")

    def check(self):
        return "URI target is empty (RFC 7553 4)" if not self.target else None


class SPF(rd_std.TXT):
    rtype = types.SPF


class NINFO(rd_std.TXT):
    rtype = types.NINFO


class AVC(rd_std.TXT):
    rtype = types.AVC


class RESINFO(rd_std.TXT):
    rtype = types.RESINFO


class WALLET(rd_std.TXT):
    rtype = types.WALLET


# --- numbers ---------------------------------------------------------------------------------


class NID(Fields):
    rtype = types.NID
    layout = "HL"
    attrs = ("preference", "nodeid")


class L64(Fields):
    rtype = types.L64
    layout = "HL"
    attrs = ("preference", "locator64")


class L32(Fields):
    rtype = types.L32
    layout = "HA"
    attrs = ("preference", "locator32")


class CSYNC(Fields):
    rtype = types.CSYNC
    layout = "IHm"
    attrs = ("serial", "flags", "types")


ZONEMD_DIGEST_MIN = 12  # octets: shorter digests are refused (RFC 8976 2.2)
_ZONEMD_LENGTHS = {1: 48, 2: 64}  # SHA-384, SHA-512 (RFC 8976 2.2)


class ZONEMD(Fields):
    rtype = types.ZONEMD
    layout = "IBBx"
    attrs = ("serial", "scheme", "hash_algorithm", "digest")

    def check(self):
        if self.scheme == 0 or self.hash_algorithm == 0:
            return "ZONEMD scheme and hash algorithm 0 are reserved (RFC 8976)"
        ln = _ZONEMD_LENGTHS.get(self.hash_algorithm, len(self.digest))
        if len(self.digest) < ZONEMD_DIGEST_MIN or len(self.digest) != ln:
            return "ZONEMD digest of %d octets for hash algorithm %d" % (
                len(self.digest),
                self.hash_algorithm,
            )
        return None
