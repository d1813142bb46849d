#!/usr/bin/env bash
# Builds the Python wheel (make wheel): dist/libgeomloss-X.Y.Z-py3-none-<platform>.whl,
# the pure-Python package `geomloss` with dist/lib/libgeomloss.so inside
# (geomloss/_lib/), so that `pip install dist/libgeomloss-*.whl` needs no
# compiler, no flags and no checkout. The distribution is named libgeomloss
# (GeomLoss itself is `geomloss` on the package index); the import name stays
# `geomloss`, a drop-in for GeomLoss's SamplesLoss.
#
# Builds the library first when it is missing or older than its sources. The
# build is offline (Debian's python3-setuptools and python3-wheel, no build
# isolation) and happens in a copy of bindings/python, so the checkout gets no
# build/ or egg-info. GEOMLOSS_WHEEL_DIR=dir writes the wheel there instead.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PY=/usr/bin/python3
"$PY" -c "import setuptools, wheel" 2>/dev/null ||
  { echo "wheel.sh: needs python3-setuptools and python3-wheel (run: make deps)" >&2; exit 1; }

lib=dist/lib/libgeomloss.so
if [ ! -e "$lib" ] || [ -n "$(find core capi simd gpu include geomloss.go go.mod -newer "$lib" \
      \( -name '*.go' -o -name '*.c' -o -name '*.h' -o -name '*.s' -o -name go.mod -o -name '*.map' \) \
      -print -quit 2>/dev/null)" ]; then
  bash build/lib.sh
fi

out="${GEOMLOSS_WHEEL_DIR:-$ROOT/dist}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp -r bindings/python "$tmp/src"
rm -rf "$tmp/src/build" "$tmp/src"/*.egg-info "$tmp/src/tests"
find "$tmp/src" -name __pycache__ -prune -exec rm -rf {} +
GEOMLOSS_BUNDLE_LIBRARY="$ROOT/$lib" "$PY" -m pip wheel -q --no-build-isolation --no-deps --no-index \
  --disable-pip-version-check -w "$tmp/wheel" "$tmp/src"
whl="$(ls "$tmp"/wheel/*.whl)"
# The library must be inside.
"$PY" - "$whl" <<'PYCHECK'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
if "geomloss/_lib/libgeomloss.so" not in names:
    sys.exit("wheel.sh: %s lacks geomloss/_lib/libgeomloss.so: %s" % (sys.argv[1], names))
PYCHECK
rm -f "$out/$(basename "$whl")"
mv "$whl" "$out/"
echo "built $out/$(basename "$whl")"
