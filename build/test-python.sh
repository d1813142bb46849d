#!/usr/bin/env bash
# Runs the Python binding's tests (bindings/python/tests, pytest) against
# dist/lib/libgeomloss.so: golden cases, API, gradcheck, gradient flow and an
# installed-package check in a throw-away venv. Extra arguments go to pytest.
# Needs the Debian packages of build/deps.sh (python3-numpy, -torch, -pytest,
# -pip, -setuptools, -venv); always uses /usr/bin/python3.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

PY=/usr/bin/python3
if ! "$PY" -c "import numpy, torch, pytest, setuptools, venv" 2>/dev/null; then
  echo "test-python: missing Python packages; run 'make deps' (bash build/deps.sh)" >&2
  exit 1
fi

# Build the library if it is missing or older than its sources.
lib=dist/lib/libgeomloss.so
if [ ! -e "$lib" ] || [ -n "$(find core capi simd gpu include geomloss.go go.mod -newer "$lib" \
      \( -name '*.go' -o -name '*.c' -o -name '*.h' -o -name '*.s' -o -name go.mod -o -name '*.map' \) \
      -print -quit 2>/dev/null)" ]; then
  bash build/lib.sh
fi

# Known issue guard: if the library cannot be dlopen'ed into a plain Python
# process (e.g. "cannot allocate memory in static TLS block"), run the suite
# with more static TLS so the rest is still tested; the test
# test_library_loads_in_a_plain_process still fails and reports it.
if ! "$PY" -c "import ctypes; ctypes.CDLL('$ROOT/$lib')" 2>/tmp/geomloss-dlopen.$$; then
  echo "test-python: WARNING: $(tail -1 /tmp/geomloss-dlopen.$$)" >&2
  echo "test-python: running the suite with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=65536" >&2
  export GLIBC_TUNABLES=glibc.rtld.optional_static_tls=65536
fi
rm -f /tmp/geomloss-dlopen.$$

export PYTHONDONTWRITEBYTECODE=1
set +e
"$PY" -m pytest -q -p no:cacheprovider -o cache_dir=/dev/null bindings/python/tests "$@"
rc=$?
set -e
case $rc in
  0) echo "test-python: ok" ;;
  5) echo "test-python: FAILED: pytest collected no tests" >&2 ;;
  *) echo "test-python: FAILED (pytest exit status $rc)" >&2 ;;
esac
exit $rc
