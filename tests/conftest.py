import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for p in (ROOT, os.path.join(ROOT, "firmware"), os.path.join(ROOT, "tools")):
    if p not in sys.path:
        sys.path.insert(0, p)

# Generated-data tests: `./build.sh test` (what CI runs) uses a fixed seed, so a run on a clean
# clone is repeatable; a plain `python3 -m pytest` explores new examples each time.
try:
    from hypothesis import settings as _settings

    _settings.register_profile("repeatable", derandomize=True, database=None)
    if os.environ.get("DNSBOX_TEST_PROFILE") == "repeatable":
        _settings.load_profile("repeatable")
except ImportError:
    pass
