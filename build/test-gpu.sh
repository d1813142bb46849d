#!/usr/bin/env bash
# The GPU suite, on a machine with an NVIDIA GPU and its driver (< 5 min):
# the real driver loader, core's conformance tables (dense and block-sparse,
# float32 and float64, chunked too) and the golden tests on the device, then
# a short benchmark: soft-min G pairs/s on the device and on the CPU engine
# of the same run, and the seed example (100 000 vs 200 000 points).
#
#   bash build/test-gpu.sh          build the test binaries (needs Go) and run them
#   bash build/test-gpu.sh build    only build them, into dist/gpu-test/
#   bash build/test-gpu.sh run      run the binaries of dist/gpu-test/ (no Go needed:
#                                   for a borrowed machine, carry dist/gpu-test with the tree)
#
# Golden data: $GEOMLOSS_GOLDEN, else shared/testdata/golden_public.json beside or
# inside the repository, else the copy `build` puts in dist/gpu-test/. On a device
# machine reached through the run tool: build here, carry dist/gpu-test, run
# `bash build/test-gpu.sh run`. Every device test fails (never skips) here:
# GEOMLOSS_REQUIRE_GPU=1.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
mode="${1:-all}"
bin="$ROOT/dist/gpu-test"

if [ "$mode" = all ] || [ "$mode" = build ]; then
  mkdir -p "$bin"
  go test -c -o "$bin/gpu.test" ./gpu
  go test -c -o "$bin/cuda.test" ./gpu/cuda
  # The golden data travels with the binaries (dist/ is ignored: never committed).
  g="${GEOMLOSS_GOLDEN:-$ROOT/../shared/testdata/golden_public.json}"
  [ -f "$g" ] && cp "$g" "$bin/golden_public.json"
  echo "test-gpu: built $bin/{gpu,cuda}.test$([ -f "$bin/golden_public.json" ] && echo ' (with the golden data)')"
  [ "$mode" = build ] && exit 0
fi
[ -x "$bin/gpu.test" ] || { echo "test-gpu: no $bin/gpu.test (run: bash build/test-gpu.sh build)" >&2; exit 1; }

if [ -z "${GEOMLOSS_GOLDEN:-}" ]; then
  for g in "$ROOT/../shared/testdata/golden_public.json" "$ROOT/shared/testdata/golden_public.json" "$bin/golden_public.json"; do
    [ -f "$g" ] && export GEOMLOSS_GOLDEN="$g" && break
  done
fi
[ -n "${GEOMLOSS_GOLDEN:-}" ] || { echo "test-gpu: no golden data (set GEOMLOSS_GOLDEN)" >&2; exit 1; }
export GEOMLOSS_REQUIRE_GPU=1

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used --format=csv || true
uptime
start=$(date +%s)
(cd gpu/cuda && timeout 60 "$bin/cuda.test" -test.run 'TestRealDriverLoads' -test.v) | grep -E '^(---|ok|FAIL|PASS)|load_test'
(cd gpu && timeout 240 "$bin/gpu.test" -test.run '^(TestDeviceConformance|TestDeviceChunked|TestDeviceGolden|TestDeviceAxisConformance|TestRegistryFallback)$' -test.v) > "$bin/tests.log" 2>&1 || {
  grep -E -- '--- FAIL|_test.go:[0-9]+:' "$bin/tests.log" | head -60; echo "test-gpu: device tests FAILED (full log: $bin/tests.log)" >&2; exit 1; }
grep -E '^(---|    ---) |device:|worst|GPU present' "$bin/tests.log" | grep -v -- '--- PASS: .*/.*/' || true
echo "test-gpu: device tests passed in $(( $(date +%s) - start )) s"
(cd gpu && timeout 150 "$bin/gpu.test" -test.run XX -test.bench 'SoftMin' -test.benchtime 5x) | tee "$bin/bench.log" | grep -E 'Benchmark'
(cd gpu && timeout 120 "$bin/gpu.test" -test.run XX -test.bench 'SeedExample' -test.benchtime 1x -test.v) | grep -E 'Benchmark|value'
awk '/BenchmarkSoftMin\/f32\/D3\/grad=false/{g=$(NF-1)} /BenchmarkSoftMinCPU\/f32\/D3\/grad=false/{c=$(NF-1)}
     END{if (g && c) printf "test-gpu: soft-min f32 D=3: %.1f G pairs/s on the device, %.2f on the CPU engine: %.0fx\n", g, c, g/c}' "$bin/bench.log"
uptime
echo "test-gpu: ok in $(( $(date +%s) - start )) s"
