#!/usr/bin/env bash
# Installs the built C library (make install PREFIX=/usr/local; `make` builds
# it first): PREFIX/lib/libgeomloss.so.X.Y.Z with its symlinks,
# PREFIX/include/geomloss.h and PREFIX/lib/pkgconfig/geomloss.pc (absolute
# prefix). DESTDIR is honoured for staged installs.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PREFIX="${PREFIX:-/usr/local}"
DESTDIR="${DESTDIR:-}"
[ -f dist/include/geomloss.h ] || bash build/lib.sh
VERSION="$(sed -n 's/^#define GEOMLOSS_VERSION_STRING "\(.*\)"$/\1/p' dist/include/geomloss.h)"
MAJOR="${VERSION%%.*}"
LIB="libgeomloss.so.$VERSION"
[ -f "dist/lib/$LIB" ] || bash build/lib.sh

libdir="$DESTDIR$PREFIX/lib"
incdir="$DESTDIR$PREFIX/include"
mkdir -p "$libdir/pkgconfig" "$incdir"
install -m 0755 "dist/lib/$LIB" "$libdir/$LIB"
ln -sf "$LIB" "$libdir/libgeomloss.so.$MAJOR"
ln -sf "libgeomloss.so.$MAJOR" "$libdir/libgeomloss.so"
install -m 0644 dist/include/geomloss.h "$incdir/geomloss.h"
sed "s|^prefix=.*|prefix=$PREFIX|" dist/lib/pkgconfig/geomloss.pc >"$libdir/pkgconfig/geomloss.pc"
chmod 0644 "$libdir/pkgconfig/geomloss.pc"
echo "installed $LIB, geomloss.h and geomloss.pc under $DESTDIR$PREFIX"
if [ -z "$DESTDIR" ] && [ "$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then
  ldconfig 2>/dev/null || true
fi
