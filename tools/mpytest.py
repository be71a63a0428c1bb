"""Run tests/unit under MicroPython: every test_* function of every test_*.py module.

Usage: micropython tools/mpytest.py [--source] [MODULE ...]
  --source   put firmware/ before the frozen modules (test the tree, not the frozen copy)
Prints one line per failure and a closing `N passed, N failed`; exits 1 on any failure.
"""
import gc
import os
import sys


def _root():
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    return here + "/.."


def main(argv):
    root = _root()
    source = "--source" in argv
    names = [a for a in argv if not a.startswith("--")]
    sys.path.append(root)
    if source:
        sys.path.insert(0, root + "/firmware")
    else:
        sys.path.append(root + "/firmware")
    if not names:
        names = sorted(
            f[:-3] for f in os.listdir(root + "/tests/unit") if f.startswith("test_") and f.endswith(".py")
        )
    passed = failed = 0
    for name in names:
        try:
            mod = __import__("tests.unit." + name, None, None, ["x"])
        except Exception as e:
            failed += 1
            print("FAIL", name, "(import)", type(e).__name__, e)
            continue
        for attr in sorted(dir(mod)):
            if not attr.startswith("test_"):
                continue
            fn = getattr(mod, attr)
            try:
                fn()
                passed += 1
            except Exception as e:
                failed += 1
                print("FAIL", name + "." + attr, type(e).__name__, e)
                if "-v" in argv:
                    sys.print_exception(e)
        # the module's code and globals go before the next one: one interpreter runs every
        # module, and what they leave behind fragments the heap the next ones' caches need
        mod = fn = None
        sys.modules.pop("tests.unit." + name, None)
        gc.collect()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


sys.exit(main(sys.argv[1:]))
