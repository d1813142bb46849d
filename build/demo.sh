#!/usr/bin/env bash
# The main job: real losses between generated 3D clouds, with timings.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
go run ./cmd/demo "$@"
