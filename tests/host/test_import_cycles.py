"""No import cycles in firmware/dnsbox: the modules form layers (wire and config.nets at the
bottom, the cores above them, net/ and main at the top). Every `import` counts, also those
inside functions (a lazy import that closes a circle is still a circle)."""
import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PKG = os.path.join(ROOT, "firmware", "dnsbox")


def modules():
    out = {}
    for dirpath, _dirs, files in os.walk(PKG):
        for f in files:
            if not f.endswith(".py"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), os.path.dirname(PKG))[:-3]
            name = rel.replace(os.sep, ".")
            if name.endswith(".__init__"):
                name = name[: -len(".__init__")]
            out[name] = os.path.join(dirpath, f)
    return out


def imports(path, mods):
    """The dnsbox modules a file imports (a package's __init__ counts for `from pkg import x`
    only when x is not a module of it)."""
    tree = ast.parse(open(path).read())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in mods:
                    out.add(a.name)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module not in mods:
                continue
            subs = [node.module + "." + a.name for a in node.names]
            mods_named = [s for s in subs if s in mods]
            out.update(mods_named)
            if len(mods_named) < len(subs):
                out.add(node.module)
    return out


def graph():
    mods = modules()
    g = {}
    for name, path in mods.items():
        deps = imports(path, mods)
        # importing a.b.c runs the packages a and a.b first
        for d in list(deps):
            parts = d.split(".")
            for i in range(1, len(parts)):
                deps.add(".".join(parts[:i]))
        deps.discard(name)
        g[name] = sorted(d for d in deps if not name.startswith(d + "."))
    return g


def cycles(g):
    """Every strongly connected set of more than one module (Tarjan's algorithm)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in g:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    g = graph()
    assert "dnsbox.resolver.driver" in g and "dnsbox.config.nets" in g
    found = cycles(g)
    assert not found, "import cycles: %s" % found


def test_the_checker_sees_a_cycle():
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]


def test_config_imports_no_resolver_module():
    g = graph()
    bad = [(m, d) for m in g if m.startswith("dnsbox.config") for d in g[m]
           if not (d.startswith("dnsbox.config") or d.startswith("dnsbox.wire")
                   or d in ("dnsbox", "dnsbox.compat"))]
    assert not bad, bad
