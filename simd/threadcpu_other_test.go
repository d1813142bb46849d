//go:build !linux

package simd

import "time"

// threadCPU is not available here: laps are timed by the wall clock.
func threadCPU() time.Duration { return 0 }
