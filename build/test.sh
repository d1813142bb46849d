#!/usr/bin/env bash
# Runs every test suite of the project: Go (core, engines, C ABI fuzz seeds),
# the Go fuzz targets (30 s each, build/fuzz.sh),
# then the C, Python and Julia suites against the freshly built library.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
# The suites need Debian packages (NumPy, PyTorch, pytest, valgrind, Julia...):
# install whatever is missing (a no-op when everything is there).
bash build/deps.sh
go vet ./...
go test -count=1 ./...
# Every fuzz target for GEOMLOSS_FUZZTIME each (default 30s; 0 skips).
bash build/fuzz.sh "${GEOMLOSS_FUZZTIME:-30s}"
for suite in build/test-c.sh build/test-python.sh build/test-julia.sh; do
  if [ -f "$suite" ]; then
    echo "== $suite"
    bash "$suite"
  fi
done
