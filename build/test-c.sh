#!/usr/bin/env bash
# The C ABI's test suite (called by build/test.sh, i.e. make test). Builds the
# library (build/lib.sh), then:
#   1. exports: the dynamic symbols are exactly the functions of geomloss.h
#   2. tests/c/test_geomloss.c (strict C99) + test_cxx.cpp (strict C++11),
#      plain; tests/c/test_dlopen.c; examples/c via pkg-config, from dist/ and
#      from a `make install PREFIX=tmp`
#   3. the same tests under AddressSanitizer + UBSan (leak detection on)
#   4. panics: a build with test hooks makes exports panic on purpose
#   5. valgrind memcheck: errors on a -tags valgrind build (no suppressions),
#      leaks on the release build (tests/c/valgrind-go.supp; see there)
# (The Go fuzz targets of capi/internal/abi run from build/test.sh, through
# build/fuzz.sh.)
# Environment: GEOMLOSS_SKIP_VALGRIND=1, GEOMLOSS_SKIP_ASAN=1.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

step() { echo "-- test-c: $*"; }
t0=$SECONDS
bash build/lib.sh

OUT="$ROOT/dist/test-c"
rm -rf "$OUT"
mkdir -p "$OUT"
LIBDIR="$ROOT/dist/lib"
CC="${CC:-gcc}"
CXX="${CXX:-g++}"
CSTRICT=(-std=c99 -pedantic -Wall -Wextra -Werror)
CXXSTRICT=(-std=c++11 -pedantic -Wall -Wextra -Werror)
INC=(-I"$ROOT/dist/include")

step "exported symbols = functions of geomloss.h"
nm -D --defined-only "$LIBDIR/libgeomloss.so" | awk '{print $NF}' | sort >"$OUT/exported.txt"
sed -n 's/^GEOMLOSS_API[^(]*[ *]\(geomloss_[a-z0-9_]*\)(.*/\1/p' include/geomloss.h | sort >"$OUT/declared.txt"
if ! diff -u "$OUT/declared.txt" "$OUT/exported.txt"; then
  echo "test-c: the library's exports differ from the header's functions (- header, + library)" >&2
  exit 1
fi
echo "   $(wc -l <"$OUT/exported.txt") functions, all geomloss_*"
readelf -d "$LIBDIR/libgeomloss.so" | grep -q 'SONAME.*\[libgeomloss\.so\.0\]' || { echo "test-c: SONAME is not libgeomloss.so.0" >&2; exit 1; }

step "the private C sources are warning-free"
"$CC" -std=c11 -pedantic -Wall -Wextra -Werror -fsyntax-only -Icapi -Iinclude capi/state.c

step "a public function that disagrees with geomloss.h, or with its Go export, fails the build"
# forward.c defines the public functions against the header and forwards to
# the private Go exports (cgo's _cgo_export.h): it compiles as is, and not
# with a parameter type changed in the header, or in a Go export.
(cd capi && go tool cgo -objdir "$OUT/_cgo" -- -I../include -I. $(grep -l '^import "C"' $(ls *.go | grep -v _test.go)))
fwd() { "$CC" -std=gnu11 -Wall -Werror -fsyntax-only "$@" -Icapi -I"$OUT/_cgo" capi/forward.c; }
fwd -Iinclude
mkdir -p "$OUT/_badh"
sed 's/int64_t M, int64_t D, const geomloss_buffers \*bufs);/int64_t M, int32_t D, const geomloss_buffers *bufs);/' \
  include/geomloss.h >"$OUT/_badh/geomloss.h"
cmp -s include/geomloss.h "$OUT/_badh/geomloss.h" && { echo "test-c: the header mutation did not apply" >&2; exit 1; }
if fwd -I"$OUT/_badh" 2>"$OUT/_badh/err.txt" || ! grep -q "conflicting types for .geomloss_eval" "$OUT/_badh/err.txt"; then
  echo "test-c: a header prototype changed (geomloss_eval's D to int32_t) still builds" >&2; exit 1
fi
sed -i 's/extern int glcgo_buffers_set(geomloss_buffers\* bufs, int key, void\* ptr, int64_t count);/extern int glcgo_buffers_set(geomloss_buffers* bufs, int key, void* ptr, int count);/' "$OUT/_cgo/_cgo_export.h"
grep -q "void\* ptr, int count);" "$OUT/_cgo/_cgo_export.h" || { echo "test-c: the export mutation did not apply" >&2; exit 1; }
if fwd -Iinclude 2>"$OUT/_badh/err2.txt"; then
  echo "test-c: a Go export changed (glcgo_buffers_set's count to int) still builds" >&2; exit 1
fi
echo "   forward.c: compiles; a changed header prototype or Go export does not"

build() { # build NAME EXTRA-FLAGS...: test program against the library
  local name="$1"; shift
  "$CC" "${CSTRICT[@]}" -O1 -g "$@" "${INC[@]}" -c tests/c/test_geomloss.c -o "$OUT/$name-c.o"
  "$CXX" "${CXXSTRICT[@]}" -O1 -g "$@" "${INC[@]}" -c tests/c/test_cxx.cpp -o "$OUT/$name-cxx.o"
  "$CXX" "$@" "$OUT/$name-c.o" "$OUT/$name-cxx.o" -L"$LIBDIR" -lgeomloss -Wl,-rpath,"$LIBDIR" -lpthread -lm -o "$OUT/$name"
}

step "C/C++ tests"
build test_geomloss
"$OUT/test_geomloss"
"$CC" "${CSTRICT[@]}" "${INC[@]}" tests/c/test_dlopen.c -ldl -o "$OUT/test_dlopen"
"$OUT/test_dlopen" "$LIBDIR/libgeomloss.so"

step "example, built with pkg-config (dist/ and an install)"
PKG_CONFIG_PATH="$LIBDIR/pkgconfig" bash -c \
  "\"$CC\" ${CSTRICT[*]} examples/c/sinkhorn.c \$(pkg-config --cflags --libs geomloss) -lm -o \"$OUT/sinkhorn\""
LD_LIBRARY_PATH="$LIBDIR" "$OUT/sinkhorn"
# The build line the example documents in its own header comment, verbatim
# (only the output path changes): it must link as written (issue 11: -lm).
line="$(sed -n 's/^ \*   \(cc .*examples\/c\/sinkhorn\.c.*\)$/\1/p' examples/c/sinkhorn.c)"
[ -n "$line" ] || { echo "test-c: examples/c/sinkhorn.c documents no cc build line" >&2; exit 1; }
(cd "$ROOT" && PKG_CONFIG_PATH="$LIBDIR/pkgconfig" bash -c "${line% -o sinkhorn} -o \"$OUT/sinkhorn-doc\"") ||
  { echo "test-c: the example's documented build line fails: $line" >&2; exit 1; }
LD_LIBRARY_PATH="$LIBDIR" "$OUT/sinkhorn-doc" >/dev/null
PREFIX="$OUT/prefix" bash build/install.sh >/dev/null
for f in lib/libgeomloss.so lib/libgeomloss.so.0 include/geomloss.h lib/pkgconfig/geomloss.pc; do
  [ -e "$OUT/prefix/$f" ] || { echo "test-c: install lacks $f" >&2; exit 1; }
done
PKG_CONFIG_PATH="$OUT/prefix/lib/pkgconfig" bash -c \
  "\"$CC\" ${CSTRICT[*]} examples/c/sinkhorn.c \$(pkg-config --cflags --libs geomloss) -lm -o \"$OUT/sinkhorn-installed\""
LD_LIBRARY_PATH="$OUT/prefix/lib" "$OUT/sinkhorn-installed" >/dev/null

if [ "${GEOMLOSS_SKIP_ASAN:-0}" != 1 ]; then
  step "AddressSanitizer + UndefinedBehaviorSanitizer"
  build test_geomloss_asan -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  # No suppressions: the Go runtime allocates with mmap, which ASan does not
  # track; the library's own C allocations (options, per-thread state,
  # progress buffers) are checked for leaks by LeakSanitizer at exit.
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$OUT/test_geomloss_asan"
fi

step "panics come back as GEOMLOSS_ERR_INTERNAL (library built with -tags geomloss_testhooks)"
# The same build serves valgrind: -tags valgrind adds Go's memcheck
# annotations, which are no-ops outside valgrind.
GEOMLOSS_DIST="$OUT/hookdist" GEOMLOSS_GOTAGS="valgrind geomloss_testhooks" GEOMLOSS_DEBUG=symbols \
  bash build/lib.sh >/dev/null
GEOMLOSS_TEST_HOOKS=1 LD_LIBRARY_PATH="$OUT/hookdist/lib" "$OUT/test_geomloss"

if [ "${GEOMLOSS_SKIP_VALGRIND:-0}" != 1 ]; then
  if command -v valgrind >/dev/null; then
    step "valgrind memcheck: errors (Go runtime built with -tags valgrind, no suppressions)"
    # Asynchronous preemption (a signal pushing a frame onto a goroutine
    # stack) is invisible to memcheck; turning it off changes no result.
    # (20 evaluations per thread in the concurrency test: memcheck serialises
    # the threads, and the plain and sanitizer runs above do the full 200.)
    GODEBUG=asyncpreemptoff=1 GEOMLOSS_TEST_HOOKS=1 GEOMLOSS_TEST_THREAD_ITERS=20 LD_LIBRARY_PATH="$OUT/hookdist/lib" \
      valgrind -q --error-exitcode=99 --leak-check=no "$OUT/test_geomloss"
    step "valgrind memcheck: leaks (release build)"
    # This run checks leaks only: without Go's annotations memcheck loses track
    # of definedness across goroutine stack switches and reports undefined
    # values in results the run above proved defined (no definedness
    # tracking here: --undef-value-errors=no).
    # Addressability reports inside Go's heap are memcheck losing track of it
    # (the annotated run above checks errors): only a leak fails this run.
    GEOMLOSS_TEST_THREAD_ITERS=20 valgrind --leak-check=full --undef-value-errors=no \
      --show-leak-kinds=definite,indirect --suppressions=tests/c/valgrind-go.supp \
      --log-file="$OUT/leaks.txt" "$OUT/test_geomloss"
    if grep -E '(definitely|indirectly) lost: [1-9]' "$OUT/leaks.txt"; then
      cat "$OUT/leaks.txt" >&2; echo "test-c: leaks found" >&2; exit 1
    fi
  else
    echo "test-c: WARNING: valgrind not installed; memcheck runs skipped" >&2
  fi
fi

echo "-- test-c: all passed in $((SECONDS - t0))s"
