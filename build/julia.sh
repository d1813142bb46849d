#!/usr/bin/env bash
# Runs julia with this machine's known breakages worked around; every Julia
# command in README.md and docs/ goes through it:
#
#   bash build/julia.sh --project=bindings/julia/GeomLoss [julia args...]
#
# Debian's julia 1.5.3 (bullseye, what `make deps` installs) crashes
# (SIGSEGV in _ULx86_64_dwarf_search_unwind_table) whenever an exception is
# caught in compiled code when it runs against bookworm's libunwind 1.6. A
# probe (one tiny julia run catching an exception) decides whether the fix is
# needed; if so, bullseye's libunwind8 1.3.2 is fetched once with
# `apt-get download` into dist/julia-compat/lib (the system's libunwind is left
# alone) and put first on LD_LIBRARY_PATH for this julia only. A julia that
# catches exceptions (any current release, 1.10+) runs untouched.
#
# The probe's verdict is remembered in dist/julia-compat/probe (keyed by the
# julia binary, its version and the libunwind package version) so that later
# runs start julia once, not twice. GEOMLOSS_JULIA names another julia binary.
# Arguments are passed to julia unchanged, and its exit status is returned.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

JULIA="${GEOMLOSS_JULIA:-$(command -v julia || true)}"
[ -n "$JULIA" ] && [ -x "$JULIA" ] || { echo "build/julia.sh: julia not found (run: make deps)" >&2; exit 127; }

compat="$ROOT/dist/julia-compat/lib"
key="$(readlink -f "$JULIA") $("$JULIA" --version 2>/dev/null) libunwind8=$(dpkg-query -W -f='${Version}' libunwind8 2>/dev/null || echo none)"
memo="$ROOT/dist/julia-compat/probe"

catches() { # catches [LD_LIBRARY_PATH]: can this julia catch an exception?
  # (In a subshell whose stderr is discarded: bash's own "Segmentation fault"
  # report of the crashing probe is noise.)
  ( LD_LIBRARY_PATH="${1:-${LD_LIBRARY_PATH:-}}" "$JULIA" --startup-file=no --history-file=no \
      -e 'f() = try; error("probe"); catch; 0; end; exit(f())'; st=$?; exit $st ) >/dev/null 2>&1
}

verdict=""
[ -f "$memo" ] && [ "$(sed -n 1p "$memo")" = "$key" ] && verdict="$(sed -n 2p "$memo")"
if [ -z "$verdict" ]; then
  if catches; then verdict=plain; else verdict=compat; fi
fi

if [ "$verdict" = compat ]; then
  if ! ls "$compat"/libunwind.so.8* >/dev/null 2>&1; then
    echo "build/julia.sh: julia crashes when catching exceptions (libunwind $(dpkg-query -W -f='${Version}' libunwind8 2>/dev/null || echo '?'));" \
         "fetching bullseye's libunwind8 into dist/julia-compat/lib (once)" >&2
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    log="$(cd "$tmp" && apt-get download -qq libunwind8/bullseye 2>&1)" ||
      { echo "$log" >&2; echo "build/julia.sh: apt-get download libunwind8/bullseye failed (is the bullseye source of build/deps.sh configured? run: make deps)" >&2; exit 1; }
    dpkg-deb -x "$tmp"/libunwind8_*.deb "$tmp/root"
    mkdir -p "$compat"
    find "$tmp/root" -name 'libunwind*.so*' -exec cp -a {} "$compat/" \;
    rm -rf "$tmp"
    trap - EXIT
  fi
  path="$compat${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  if [ ! -f "$memo" ] || [ "$(sed -n 1p "$memo")" != "$key" ]; then
    catches "$path" || { echo "build/julia.sh: julia still cannot catch exceptions with $compat/libunwind.so.8" >&2; exit 1; }
  fi
  export LD_LIBRARY_PATH="$path"
fi
mkdir -p "$(dirname "$memo")"
printf '%s\n%s\n' "$key" "$verdict" >"$memo.$$" && mv -f "$memo.$$" "$memo"
exec "$JULIA" "$@"
