#!/usr/bin/env bash
# Julia suite (issue 5): GeomLoss.jl (bindings/julia/GeomLoss) against the
# shared library, on the public golden cases and closed forms.
#
#   bash build/test-julia.sh            (also run by `make test`)
#
# Builds dist/lib/libgeomloss.so first when it is missing or older than its
# sources (GEOMLOSS_LIBRARY,
# when set, names another library to test instead). GEOMLOSS_GOLDEN overrides
# the golden file (default ../shared/testdata/golden_public.json).
#
# Runs the test file directly rather than `Pkg.test()`: Julia 1.5's Pkg.test
# wants a package registry even for standard-library-only packages, and none
# is reachable here. The test dependencies (Test, LinearAlgebra, Random) are
# standard libraries, so the result is the same.
#
# Two environment workarounds, each applied only when a probe shows it is
# needed, and reported on stderr:
#  1. (in build/julia.sh, the launcher users run too) Debian's julia 1.5.3 (from bullseye) with bookworm's libunwind 1.6
#     crashes (SIGSEGV in _ULx86_64_dwarf_search_unwind_table) whenever an
#     exception is caught in compiled code. The fix is bullseye's libunwind8
#     1.3.2, which this script fetches with `apt-get download` into
#     dist/julia-compat/lib (the system's libunwind is left alone) and puts on
#     LD_LIBRARY_PATH for julia only.
#  2. If dlopen of the library fails for lack of static TLS space, the run
#     raises glibc's optional static TLS reserve (GLIBC_TUNABLES) and says so:
#     that is a library bug (its thread-local storage should be small), not
#     something users should have to set, so the test "loads in a plain
#     process" (runtests.jl) still fails and reports it.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

command -v julia >/dev/null 2>&1 || [ -n "${GEOMLOSS_JULIA:-}" ] || { echo "test-julia.sh: julia not found (run: make deps)" >&2; exit 1; }

# Build the library if it is missing or older than its sources.
if [ -z "${GEOMLOSS_LIBRARY:-}" ]; then
  if [ ! -e dist/lib/libgeomloss.so ] || [ -n "$(find core capi simd gpu include geomloss.go go.mod -newer dist/lib/libgeomloss.so \
        \( -name '*.go' -o -name '*.c' -o -name '*.h' -o -name '*.s' -o -name go.mod -o -name '*.map' \) \
        -print -quit 2>/dev/null)" ]; then
    bash build/lib.sh
  fi
fi
lib="${GEOMLOSS_LIBRARY:-$ROOT/dist/lib/libgeomloss.so}"
[ -e "$lib" ] || { echo "test-julia.sh: no library at $lib" >&2; exit 1; }

# build/julia.sh applies the libunwind fix (1.) when a probe shows it is needed.
jl() { bash "$ROOT/build/julia.sh" --startup-file=no --history-file=no "$@"; }
jl -e 'exit(0)' || { echo "test-julia.sh: julia does not start through build/julia.sh" >&2; exit 1; }

# 2. Can julia dlopen the library?
dlprobe='function probe(path, o, e)
  h = ccall(o, Ptr{Cvoid}, (Cstring, Cint), path, 1)
  h != C_NULL && return 0
  m = ccall(e, Ptr{UInt8}, ())
  println(stderr, m == C_NULL ? "dlopen failed" : unsafe_string(m))
  return 1
end
exit(probe(ARGS[1], cglobal(:dlopen), cglobal(:dlerror)))'
if ! err="$(jl -e "$dlprobe" "$lib" 2>&1)"; then
  if grep -q "static TLS" <<<"$err"; then
    export GLIBC_TUNABLES="glibc.rtld.optional_static_tls=65536${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}"
    echo "test-julia.sh: WARNING: dlopen($lib) fails: $err" >&2
    echo "test-julia.sh: WARNING: the library's thread-local storage exceeds glibc's dlopen reserve;" \
         "testing with GLIBC_TUNABLES=$GLIBC_TUNABLES (fix the library: Python and Julia users hit this)" >&2
    jl -e "$dlprobe" "$lib" >/dev/null
  else
    echo "test-julia.sh: cannot load $lib: $err" >&2
    exit 1
  fi
fi

export GEOMLOSS_LIBRARY="$lib"
# More than one julia thread, for the concurrency tests.
export JULIA_NUM_THREADS="${JULIA_NUM_THREADS:-4}"
echo "test-julia.sh: $(jl --version), library $lib"
timeout 1800 bash build/julia.sh --startup-file=no --history-file=no --check-bounds=yes \
  --project=bindings/julia/GeomLoss bindings/julia/GeomLoss/test/runtests.jl

# The snippets users copy: README's and docs/julia.md's ```julia blocks run
# verbatim, the way the README says to start julia (build/julia.sh), from
# outside the checkout's directory.
snip="$(mktemp -d)"
trap 'rm -rf "$snip"' EXIT
for doc in README.md docs/julia.md; do
  awk '/^```julia$/{on=1; next} /^```$/{on=0} on' "$doc" >"$snip/snippet.jl"
  [ -s "$snip/snippet.jl" ] || { echo "test-julia.sh: no julia snippet in $doc" >&2; exit 1; }
  echo 'println("snippet ok")' >>"$snip/snippet.jl"
  out="$(cd "$snip" && bash "$ROOT/build/julia.sh" --project="$ROOT/bindings/julia/GeomLoss" snippet.jl 2>&1)" ||
    { echo "$out" >&2; echo "test-julia.sh: $doc's julia snippet failed through build/julia.sh" >&2; exit 1; }
  grep -q '^snippet ok$' <<<"$out" || { echo "$out" >&2; echo "test-julia.sh: $doc's julia snippet did not finish" >&2; exit 1; }
  echo "test-julia.sh: $doc's julia snippet runs verbatim through build/julia.sh"
done
