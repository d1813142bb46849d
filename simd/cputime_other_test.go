//go:build !unix

package simd

import "time"

// cpuTime is not available here: pairs/cycle falls back to wall time.
func cpuTime() time.Duration { return 0 }
