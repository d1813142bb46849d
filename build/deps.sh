#!/usr/bin/env bash
# Installs the Debian packages the project's tests need (idempotent).
# Julia comes from the bullseye suite of the same archive the machine already uses:
# the URI is copied from /etc/apt/sources.list.d/debian.sources, never hard-coded.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

pkgs=(python3-numpy python3-torch python3-pot python3-pytest python3-matplotlib
      python3-pip python3-setuptools python3-venv python3-wheel python3-distributed
      valgrind pkg-config g++)
need=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
want_julia=0
command -v julia >/dev/null 2>&1 || want_julia=1

if [ "${#need[@]}" -gt 0 ] || [ "$want_julia" = 1 ]; then
  if [ "$want_julia" = 1 ]; then
    src=/etc/apt/sources.list.d/debian.sources
    uri=$(awk '/^URIs:/{print $2; exit}' "$src")
    if [ -n "$uri" ] && [ ! -f /etc/apt/sources.list.d/geomloss-bullseye.sources ]; then
      $SUDO tee /etc/apt/sources.list.d/geomloss-bullseye.sources >/dev/null <<SRC
Types: deb
URIs: $uri
Suites: bullseye
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
      # Only julia (and what it needs) may come from bullseye.
      $SUDO tee /etc/apt/preferences.d/geomloss-bullseye >/dev/null <<'PREF'
Package: *
Pin: release n=bullseye
Pin-Priority: 100
PREF
    fi
  fi
  $SUDO apt-get update -qq
  [ "${#need[@]}" -gt 0 ] && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
  if [ "$want_julia" = 1 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends -t bullseye julia
  fi
fi
echo "deps: ok"
