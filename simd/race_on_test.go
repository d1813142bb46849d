//go:build race

package simd

// raceEnabled: the race detector's instrumented code is not the code whose
// instruction selection TestNoLegacySSE checks.
const raceEnabled = true
