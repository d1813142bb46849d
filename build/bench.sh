#!/usr/bin/env bash
# Benchmarks (not tests): the reduction kernels in pairs/s (go test -bench),
# then the end-to-end case against PyTorch dense and POT (bench/run.py).
# Takes about 5 minutes on an idle 2-core machine (N = 1e5: one evaluation,
# libgeomloss only). BENCH_SIZES overrides the end-to-end sizes (default
# 1000,5000,10000,100000). The load average is printed before and after:
# numbers taken on a loaded machine are not comparable.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
echo "== load: $(uptime)"
echo "== kernels (simd path: $(go run ./bench/e2e -n 1 -reps 1 | sed 's/.*"engine":"\([a-z0-9]*\)".*/\1/'))"
go test -run '^$' -bench 'SoftMin/.*/f32/D3/p2/grad=false|SoftMin/.*/f32/D3/p2/grad=true|SoftMin/.*/f64/D3/p2|KernelSum/avx512|Dense/avx512' \
  -benchtime 5x ./simd/ | grep -E '^Benchmark|^ok'
echo "== end to end"
/usr/bin/python3 bench/run.py --sizes "${BENCH_SIZES:-1000,5000,10000,100000}"
echo "== load: $(uptime)"
