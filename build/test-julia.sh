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
#  1. Debian's julia 1.5.3 (from bullseye) with bookworm's libunwind 1.6
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

command -v julia >/dev/null 2>&1 || { echo "test-julia.sh: julia not found (run: make deps)" >&2; exit 1; }

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

jl() { julia --startup-file=no --history-file=no "$@"; }

# 1. Can julia catch an exception?
probe='f() = try; error("probe"); catch; 0; end; exit(f())'
if ! jl -e "$probe" >/dev/null 2>&1; then
  compat="$ROOT/dist/julia-compat/lib"
  if ! ls "$compat"/libunwind.so.8* >/dev/null 2>&1; then
    echo "test-julia.sh: julia crashes when catching exceptions (libunwind $(dpkg-query -W -f='${Version}' libunwind8 2>/dev/null || echo '?'));" \
         "fetching bullseye's libunwind8 into dist/julia-compat/lib" >&2
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && apt-get download -qq libunwind8/bullseye) ||
      { echo "test-julia.sh: apt-get download libunwind8/bullseye failed (is the bullseye source of build/deps.sh configured?)" >&2; exit 1; }
    dpkg-deb -x "$tmp"/libunwind8_*.deb "$tmp/root"
    mkdir -p "$compat"
    find "$tmp/root" -name 'libunwind*.so*' -exec cp -a {} "$compat/" \;
  fi
  export LD_LIBRARY_PATH="$compat${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "test-julia.sh: using $compat/libunwind.so.8 for julia (LD_LIBRARY_PATH)" >&2
  jl -e "$probe" >/dev/null 2>&1 || { echo "test-julia.sh: julia still cannot catch exceptions" >&2; exit 1; }
fi

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
echo "test-julia.sh: $(julia --version), library $lib"
timeout 600 julia --startup-file=no --history-file=no --check-bounds=yes \
  --project=bindings/julia/GeomLoss bindings/julia/GeomLoss/test/runtests.jl
