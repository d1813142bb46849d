#!/usr/bin/env bash
# Validates the committed PTX with ptxas for sm_70, sm_80 and sm_90 (run
# whenever the kernels change; needs the toolkit of build/deps-cuda.sh).
# Prints each kernel's registers and spills for the record.
set -euo pipefail
source "$(dirname "$0")/env.sh"
command -v ptxas >/dev/null || { echo "check-ptx: ptxas not found (bash build/deps-cuda.sh installs it)" >&2; exit 1; }
cd "$ROOT/gpu/kernels"
for arch in sm_70 sm_80 sm_90; do
  for ptx in *.ptx; do
    log=$(ptxas -arch="$arch" -v -o /dev/null "$ptx" 2>&1) || { echo "$log" >&2; echo "check-ptx: $ptx fails for $arch" >&2; exit 1; }
    spills=$(echo "$log" | grep -c "[1-9][0-9]* bytes spill" || true)
    echo "check-ptx: $ptx $arch ok ($(echo "$log" | grep -c 'Compiling entry') kernels, $spills with spills)"
  done
done
