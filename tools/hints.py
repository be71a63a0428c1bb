#!/usr/bin/env python3
"""Root hints -> a frozen module (build time, CPython).

Usage: python3 tools/hints.py [/usr/share/dns/root.hints] -o build/gen/roothints.py

Reads the root hints file of Debian's dns-root-data package (master-file lines
`.  NS  X.ROOT-SERVERS.NET.` and `X.ROOT-SERVERS.NET.  A / AAAA  address`) and writes a module
with HINTS = ((ns name, IPv4 text), ...) in NS order and HINTS6 likewise (kept for later: the
firmware's upstream sockets are IPv4 only), plus SOURCE (the file's "last update" line).
From root.ds beside it (the same package): DS, the root's trust anchors for DNSSEC validation
as DS rdata texts ("20326 8 2 E06D..."), and BUILT, the newest of the two files' times (seconds
since 1970): the firmware never believes a clock earlier than that.
Exit 1 with file:line: reason on anything unexpected, or if no root server has an IPv4 address.
"""
import os
import sys

DEFAULT = "/usr/share/dns/root.hints"


def parse(text, path="<hints>"):
    ns = []
    v4 = {}
    v6 = {}
    source = ""
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split(";", 1)[0].strip()
        if not line:
            if "last update" in raw:
                source = raw.strip("; \t")
            continue
        f = line.split()
        if len(f) == 4:  # owner TTL type data (the file's form)
            owner, _ttl, rtype, data = f
        elif len(f) == 5 and f[2].upper() == "IN":
            owner, _ttl, _c, rtype, data = f
        else:
            raise ValueError("%s:%d: cannot read %r" % (path, lineno, raw))
        owner = owner.lower()
        rtype = rtype.upper()
        if rtype == "NS":
            if owner != ".":
                raise ValueError("%s:%d: NS for %s, not the root" % (path, lineno, owner))
            ns.append(data.lower())
        elif rtype == "A":
            p = data.split(".")
            if len(p) != 4 or not all(x.isdigit() and int(x) < 256 for x in p):
                raise ValueError("%s:%d: bad IPv4 address %r" % (path, lineno, data))
            v4.setdefault(owner, []).append(data)
        elif rtype == "AAAA":
            v6.setdefault(owner, []).append(data.lower())
        else:
            raise ValueError("%s:%d: unexpected type %s" % (path, lineno, rtype))
    hints = [(n, ip) for n in ns for ip in v4.get(n, [])]
    hints6 = [(n, ip) for n in ns for ip in v6.get(n, [])]
    if not hints:
        raise ValueError("%s: no root server with an IPv4 address" % path)
    return hints, hints6, source


def parse_ds(text, path="<root.ds>"):
    """The root's DS rdata texts from root.ds lines `. IN DS TAG ALG TYPE HEX`."""
    out = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        f = line.split()
        if len(f) < 7 or f[0] != "." or f[1].upper() != "IN" or f[2].upper() != "DS":
            raise ValueError("%s:%d: not a root DS record: %r" % (path, lineno, raw))
        if not (f[3].isdigit() and f[4].isdigit() and f[5].isdigit()):
            raise ValueError("%s:%d: bad DS fields: %r" % (path, lineno, raw))
        out.append("%s %s %s %s" % (f[3], f[4], f[5], "".join(f[6:]).upper()))
    if not out:
        raise ValueError("%s: no DS record" % path)
    return out


def render(hints, hints6, source, ds=(), built=0):
    out = ['"""Root hints compiled from dns-root-data (%s) by tools/hints.py."""' % source, ""]
    out.append("HINTS = (")
    out += ["    (%r, %r)," % h for h in hints]
    out.append(")")
    out.append("HINTS6 = (")
    out += ["    (%r, %r)," % h for h in hints6]
    out.append(")")
    out.append("SOURCE = %r" % source)
    out.append("DS = (")
    out += ["    %r," % d for d in ds]
    out.append(")")
    out.append("BUILT = %d" % built)
    return "\n".join(out) + "\n"


def main(argv):
    args = [a for a in argv if a != "-o"]
    out = None
    if "-o" in argv:
        i = argv.index("-o")
        if i + 1 >= len(argv):
            print("usage: tools/hints.py [ROOT.HINTS] -o OUT.py", file=sys.stderr)
            return 2
        out = argv[i + 1]
        args.remove(out)
    path = args[0] if args else DEFAULT
    ds_path = os.path.join(os.path.dirname(path), "root.ds")
    try:
        with open(path) as f:
            hints, hints6, source = parse(f.read(), path)
        with open(ds_path) as f:
            ds = parse_ds(f.read(), ds_path)
        built = int(max(os.path.getmtime(path), os.path.getmtime(ds_path)))
    except (OSError, ValueError) as e:
        print("hints: %s" % e, file=sys.stderr)
        return 1
    text = render(hints, hints6, source, ds, built)
    if out is None:
        sys.stdout.write(text)
    else:
        with open(out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
