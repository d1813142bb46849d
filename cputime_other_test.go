//go:build !unix

package geomloss_test

import "time"

// cpuTime is not available here (the benchmarks then report no CPU time).
func cpuTime() time.Duration { return 0 }
