"""Test set-up: import the package from this checkout and the shared golden expectations.

By default the tests import ``geomloss`` from bindings/python (the library is
then found in the checkout's dist/lib, or through $GEOMLOSS_LIBRARY). With
GEOMLOSS_TEST_INSTALLED=1 they use whatever ``import geomloss`` finds (an
installed copy).
"""

import importlib.util
import os
import sys
from pathlib import Path

PKG_ROOT = Path(__file__).resolve().parent.parent          # bindings/python
REPO = PKG_ROOT.parent.parent                               # the checkout

if os.environ.get("GEOMLOSS_TEST_INSTALLED") != "1":
    sys.path.insert(0, str(PKG_ROOT))


def load_expected():
    """tests/golden/expected.py of the checkout, imported by path."""
    name = "geomloss_golden_expected"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "tests" / "golden" / "expected.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
