"""Zone sources -> blob, as a library (tools/crunch.py is its command line; tests use it too).

compile_text(text, origin, file) and compile_files(paths) return (blob bytes, zones, warnings);
a zone error raises ZoneError ("file:line: reason"). A master file is bytes (text given as a str
stands for its UTF-8 bytes): see dnsbox.zone.lexer.source_text.
"""

from dnsbox.wire.errors import TextError
from dnsbox.wire.name import Name
from dnsbox.zone import blob as _blob
from dnsbox.zone import check, parser
from dnsbox.zone.errors import ZoneError

ZONE_SUFFIX = ".zone"  # zones/<origin>.zone: the file name gives the origin


def load_text(text, origin, file="<zone>"):
    """A checked Zone from master-file text; returns (zone, warnings)."""
    if isinstance(origin, str):
        try:
            origin = Name.from_text(origin if origin.endswith(".") else origin + ".")
        except (TextError, ValueError) as e:
            raise ZoneError(file, 0, "bad zone origin %r: %s" % (origin, e))
    records, warnings = parser.parse_text(text, origin, file)
    z = check.build(origin, records, file)
    return z, warnings + z.warnings


def origin_of(path):
    base = path.rsplit("/", 1)[-1]
    if not base.endswith(ZONE_SUFFIX):
        raise ZoneError(path, 0, "zone file names end in %s (the name gives the origin)" % (
            ZONE_SUFFIX))
    return base[: -len(ZONE_SUFFIX)] + "."


def load_file(path, origin=None):
    origin = origin or origin_of(path)
    return load_text(parser.read_source(path, path, 0), origin, path)


def compile_zones(zones):
    names = [z.origin for z in zones]
    for i, n in enumerate(names):
        if n in names[:i]:
            raise ZoneError(zones[i].file, 1, "zone %s given twice" % n.to_text())
    return _blob.build(zones)


def compile_text(text, origin, file="<zone>"):
    z, w = load_text(text, origin, file)
    return compile_zones([z]), [z], w


def compile_files(paths):
    zones = []
    warnings = []
    for p in paths:
        z, w = load_file(p)
        zones.append(z)
        warnings += w
    return compile_zones(zones), zones, warnings
