#!/usr/bin/env bash
# Runs every Go fuzz target for a while each (make test: 30 s each; before
# closing a hostile-input issue: bash build/fuzz.sh 10m):
#   core                 FuzzEvaluate      small random problems, hostile parameters (portable engine)
#   capi/internal/abi    FuzzEval          the C ABI's validation layer and evaluation
#                        FuzzEvalHostile   raw option values, float32/float64, the SIMD engine
#                        FuzzOptions       option setters/getters
#                        FuzzCheckSizes    sizes
# Usage: bash build/fuzz.sh [TIME] (default 30s, Go's -fuzztime syntax; 0 skips).
# Prints, per target, the executions and the corpus size (new interesting
# inputs of this run + the seeds). A crash fails the run and leaves the
# input in <package>/testdata/fuzz/<target>/: fix the bug and keep the file
# as a seed. GEOMLOSS_FUZZ_PARALLEL sets -parallel (default: all cores).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
T="${1:-30s}"
[ "$T" = 0 ] || [ "$T" = 0s ] && { echo "fuzz: skipped (time 0)"; exit 0; }
par=()
[ -n "${GEOMLOSS_FUZZ_PARALLEL:-}" ] && par=(-parallel "$GEOMLOSS_FUZZ_PARALLEL")
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for t in ./core:FuzzEvaluate ./capi/internal/abi:FuzzEval ./capi/internal/abi:FuzzEvalHostile \
         ./capi/internal/abi:FuzzOptions ./capi/internal/abi:FuzzCheckSizes; do
  pkg="${t%%:*}" name="${t##*:}"
  echo "-- fuzz: $name ($pkg) for $T"
  corpus="$pkg/testdata/fuzz/$name"
  before="$(ls "$corpus" 2>/dev/null | sort || true)"
  if ! go test -run '^$' -fuzz "^$name\$" -fuzztime "$T" "${par[@]}" "$pkg" >"$log" 2>&1; then
    after="$(ls "$corpus" 2>/dev/null | sort || true)"
    # Go's fuzzer can end a clean run with "context deadline exceeded" when the
    # time is up while a worker is still busy: no crasher is written then. A
    # run that wrote a crasher, or failed any other way, fails.
    if [ "$before" = "$after" ] && grep -q '^    context deadline exceeded$' "$log" && ! grep -q -i 'panic\|failing input\|Failing input' "$log"; then
      echo "   $(grep '^fuzz: elapsed' "$log" | tail -1 | sed 's/^fuzz: //') (ended by Go's deadline while a worker was busy; no crasher)"
      continue
    fi
    cat "$log"
    echo "fuzz: $name FAILED (the crashing input is in $corpus/)" >&2
    exit 1
  fi
  last="$(grep '^fuzz: elapsed' "$log" | tail -1)"
  echo "   ${last#fuzz: }"
done
echo "fuzz: all targets passed ($T each)"
