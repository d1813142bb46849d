#!/usr/bin/env bash
# Builds the C ABI shared library (make lib):
#   dist/lib/libgeomloss.so.X.Y.Z   SONAME libgeomloss.so.X
#   dist/lib/libgeomloss.so.X -> libgeomloss.so.X.Y.Z, libgeomloss.so -> libgeomloss.so.X
#   dist/include/geomloss.h         the hand-written header (never cgo's generated one)
#   dist/lib/pkgconfig/geomloss.pc  relocatable (prefix from ${pcfiledir})
# Only geomloss_* symbols are exported (capi/geomloss.map); checked below.
#
# Environment (for tests): GEOMLOSS_DIST=dir builds into dir instead of dist;
# GEOMLOSS_GOTAGS=tags adds Go build tags (build/test-c.sh uses "valgrind" for
# a memcheck build with Go's valgrind annotations); GEOMLOSS_DEBUG=1 keeps
# symbols and DWARF (symbols: the symbol table only).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

VERSION="$(sed -n 's/^#define GEOMLOSS_VERSION_STRING "\(.*\)"$/\1/p' include/geomloss.h)"
MAJOR="${VERSION%%.*}"
[ -n "$VERSION" ] || { echo "lib.sh: no GEOMLOSS_VERSION_STRING in include/geomloss.h" >&2; exit 1; }

LIB="libgeomloss.so.$VERSION"
DIST="${GEOMLOSS_DIST:-dist}"
mkdir -p "$DIST/lib/pkgconfig" "$DIST/include"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# -s -w: no symbol table / DWARF (panics still have Go tracebacks).
# GEOMLOSS_DEBUG=1 keeps both (gdb); GEOMLOSS_DEBUG=symbols keeps the symbol
# table only (function names in valgrind stacks; valgrind 3.19 cannot read the
# DWARF 5 the toolchain emits).
case "${GEOMLOSS_DEBUG:-0}" in
  1) strip="" ;;
  symbols) strip="-w" ;;
  *) strip="-s -w" ;;
esac
go build -trimpath -buildmode=c-shared -tags "${GEOMLOSS_GOTAGS:-}" \
  -ldflags "$strip -extldflags '-Wl,-soname,libgeomloss.so.$MAJOR -Wl,--version-script=$ROOT/capi/geomloss.map -Wl,-z,relro,-z,now'" \
  -o "$tmp/$LIB" ./capi

# Only geomloss_* may be dynamic exports.
bad="$(nm -D --defined-only "$tmp/$LIB" | awk '{print $NF}' | grep -v '^geomloss_' || true)"
if [ -n "$bad" ]; then
  echo "lib.sh: symbols outside the geomloss_ namespace are exported:" >&2
  echo "$bad" >&2
  exit 1
fi

install -m 0755 "$tmp/$LIB" "$DIST/lib/$LIB"
ln -sf "$LIB" "$DIST/lib/libgeomloss.so.$MAJOR"
ln -sf "libgeomloss.so.$MAJOR" "$DIST/lib/libgeomloss.so"
install -m 0644 include/geomloss.h "$DIST/include/geomloss.h"

write_pc() { # write_pc PREFIX-EXPRESSION FILE
  cat >"$2" <<PC
prefix=$1
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: geomloss
Description: Sinkhorn divergences, Hausdorff divergences and kernel MMDs between point clouds (GeomLoss in Go)
URL: https://github.com/libgeomloss/libgeomloss
Version: $VERSION
Libs: -L\${libdir} -lgeomloss
Cflags: -I\${includedir}
PC
}
write_pc '${pcfiledir}/../..' "$DIST/lib/pkgconfig/geomloss.pc"
echo "built $DIST/lib/$LIB (SONAME libgeomloss.so.$MAJOR), $DIST/include/geomloss.h, $DIST/lib/pkgconfig/geomloss.pc"
