"""Build hooks: bundle libgeomloss.so inside the package (pure Python + ctypes, no compiled extension).

The library is taken from, in order:
  * $GEOMLOSS_BUNDLE_LIBRARY: a path to the library file, or "none" to build a
    package without it (it then needs $GEOMLOSS_LIBRARY at run time);
  * <repository>/dist/lib/libgeomloss.so, built by `make lib` (this file lives
    in <repository>/bindings/python).
It is copied (symlinks resolved) to geomloss/_lib/libgeomloss.so in the build.
The wheel is tagged py3-none-<platform>: it carries a native library but no
CPython extension, so it fits any Python 3 on that platform.
"""

import os
import shutil
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LIB_NAME = "libgeomloss.so"


def _library():
    env = os.environ.get("GEOMLOSS_BUNDLE_LIBRARY")
    if env:
        if env.lower() == "none":
            return None
        p = Path(env)
        if not p.is_file():
            raise SystemExit("GEOMLOSS_BUNDLE_LIBRARY=%s: no such file" % env)
        return p
    p = REPO / "dist" / "lib" / LIB_NAME
    if p.is_file():
        return p
    raise SystemExit(
        "%s not found: run `make lib` in %s first (or set GEOMLOSS_BUNDLE_LIBRARY to the "
        "library's path, or to 'none' to build without it)" % (p, REPO))


class BuildPyWithLibrary(build_py):
    def run(self):
        super().run()
        lib = _library()
        if lib is None:
            return
        dest = Path(self.build_lib) / "geomloss" / "_lib"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(lib.resolve(), dest / LIB_NAME)
        os.chmod(dest / LIB_NAME, 0o755)


class BinaryDistribution(Distribution):
    """A native library is inside: files go to platlib, at the wheel's root."""

    def has_ext_modules(self):
        return True


cmdclass = {"build_py": BuildPyWithLibrary}

try:
    from wheel.bdist_wheel import bdist_wheel

    class PlatformWheel(bdist_wheel):
        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = PlatformWheel
except ImportError:  # pragma: no cover - no wheel: pip falls back to a legacy install
    pass

setup(cmdclass=cmdclass, distclass=BinaryDistribution)
