#!/usr/bin/env bash
# Installs the CUDA toolkit (nvcc, ptxas) and the driver library stub from
# Debian's non-free component, for `make ptx`, build/check-ptx.sh and the
# libcuda1 loader tests. Not run by CI (the toolkit is large); the PTX is
# committed, so nothing else needs it.
# The archive URI is copied from /etc/apt/sources.list.d/debian.sources at
# run time, never hard-coded (as build/deps.sh does for bullseye).
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

pkgs=(nvidia-cuda-toolkit libcuda1)
need=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ "${#need[@]}" -eq 0 ]; then echo "deps-cuda: ok"; exit 0; fi

list=/etc/apt/sources.list.d/geomloss-nonfree.sources
if [ ! -f "$list" ]; then
  src=/etc/apt/sources.list.d/debian.sources
  uri=$(awk '/^URIs:/{print $2; exit}' "$src")
  suite=$(awk '/^Suites:/{print $2; exit}' "$src")
  [ -n "$uri" ] && [ -n "$suite" ] || { echo "deps-cuda: no archive URI in $src" >&2; exit 1; }
  $SUDO tee "$list" >/dev/null <<SRC
Types: deb
URIs: $uri
Suites: $suite
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
echo "deps-cuda: ok"
