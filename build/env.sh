# Sourced by every build script: one place for the toolchain settings.
# GOEXPERIMENT=simd enables Go 1.26's simd/archsimd (the AVX2/AVX-512 engine);
# the project still builds without it (portable engine only).
export GOEXPERIMENT="${GOEXPERIMENT:-simd}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export PATH="$PATH:/usr/local/go/bin"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
