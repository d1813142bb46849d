#!/usr/bin/env bash
# make ptx: compiles gpu/kernels/*.cu to PTX for compute_70 (nvcc 11.8 from
# build/deps-cuda.sh) and records the hashes of their sources in
# gpu/kernels/ptx.sum, which TestPTXUpToDate checks without nvcc.
set -euo pipefail
source "$(dirname "$0")/env.sh"
command -v nvcc >/dev/null || { echo "ptx: nvcc not found (bash build/deps-cuda.sh installs it)" >&2; exit 1; }
cd "$ROOT/gpu/kernels"
ver=$(nvcc --version | awk -F', ' '/release/{print $2}')
: > ptx.sum.new
for cu in *.cu; do
  ptx="${cu%.cu}.ptx"
  nvcc -ptx -arch=compute_70 -O3 -std=c++14 -o "$ptx" "$cu"
  # The sources of a PTX: its .cu and every header of the directory.
  src=$(cat "$cu" $(ls *.cuh | sort) | sha256sum | cut -d' ' -f1)
  out=$(sha256sum "$ptx" | cut -d' ' -f1)
  echo "$cu $src $ptx $out nvcc-$ver" >> ptx.sum.new
done
mv ptx.sum.new ptx.sum
echo "ptx: $(ls *.ptx | tr '\n' ' ')(nvcc $ver)"
