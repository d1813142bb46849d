package simd

import (
	"sync"
	"testing"
	"time"
)

// Benchmark clock: pairs per cycle need the core's clock, which on a shared
// virtual machine is neither the nominal frequency nor readable from a
// counter (no perf events). clockHz times a chain of dependent one-cycle
// integer operations (ADD and XOR alternately, each reading the previous
// result: one cycle of latency on every x86-64 core since the Pentium 4,
// and on arm64) and keeps the fastest of several runs, so preemption can
// only make a run slower, never faster.

// addXorChain runs 16·n dependent single-cycle operations.
//
//go:noinline
func addXorChain(n int, a, b, c uint64) uint64 {
	for i := 0; i < n; i++ {
		a += b
		a ^= c
		a += b
		a ^= c
		a += b
		a ^= c
		a += b
		a ^= c
		a += b
		a ^= c
		a += b
		a ^= c
		a += b
		a ^= c
		a += b
		a ^= c
	}
	return a
}

var chainSink uint64

// clockHz estimates the clock of the core running the calling goroutine, in
// cycles per second (best of 7 runs of ~4·10⁶ cycles each, ~10 ms in all).
func clockHz() float64 {
	const n = 1 << 18
	best := time.Duration(1 << 62)
	for k := 0; k < 7; k++ {
		t := time.Now()
		chainSink += addXorChain(n, uint64(k)|1, 0x9e3779b97f4a7c15, chainSink)
		best = min(best, time.Since(t))
	}
	return 16 * n / best.Seconds()
}

var (
	clockOnce sync.Once
	clock0    float64
)

// pairsTimer measures one benchmark's process CPU time, for pairs/cycle.
type pairsTimer struct{ cpu0 time.Duration }

func startPairs(b *testing.B) pairsTimer {
	clockOnce.Do(func() { clock0 = clockHz() })
	b.ResetTimer()
	return pairsTimer{cpuTime()}
}

// report adds the benchmark's pairs/s (wall clock) and pairs/cycle: pairs
// per cycle of CPU time this process used during the loop (all threads
// together, so a multi-threaded run reports pairs per core-cycle; time other
// processes took from the cores does not count), with the clock measured in
// the same run, before and after the loop (the larger of the two; printed as
// GHz). Without a process CPU clock (cpuTime() = 0) it uses the wall time
// times the thread count.
func (p pairsTimer) report(b *testing.B, pairsPerOp float64, threads int) {
	cpu := (cpuTime() - p.cpu0).Seconds()
	wall := b.Elapsed().Seconds()
	b.StopTimer()
	hz := max(clock0, clockHz())
	pairs := pairsPerOp * float64(b.N)
	b.ReportMetric(pairs/wall, "pairs/s")
	if cpu <= 0 {
		cpu = wall * float64(max(threads, 1))
	}
	b.ReportMetric(pairs/(cpu*hz), "pairs/cycle")
	b.ReportMetric(hz/1e9, "GHz")
}
