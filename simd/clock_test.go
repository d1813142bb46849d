package simd

import (
	"runtime"
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

// pairsTimer measures one benchmark's process CPU time, for pairs/cycle,
// and (see lap) its fastest single operation.
type pairsTimer struct {
	cpu0 time.Duration
	best time.Duration // fastest lap; 0 if lap was never called
}

func startPairs(b *testing.B) *pairsTimer {
	clockOnce.Do(func() { clock0 = clockHz() })
	b.ResetTimer()
	return &pairsTimer{cpu0: cpuTime()}
}

// lap runs one operation of the benchmark loop on the calling goroutine's
// OS thread (locked for the lap) and keeps the fastest, timed by that
// thread's CPU clock where there is one (time the scheduler gave to other
// processes does not count), else by the wall clock.
func (p *pairsTimer) lap(op func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t, c := time.Now(), threadCPU()
	op()
	d := time.Since(t)
	if c != 0 {
		d = threadCPU() - c
	}
	if d > 0 && (p.best == 0 || d < p.best) {
		p.best = d
	}
}

// report adds the benchmark's pairs/s (wall clock) and pairs/cycle: pairs
// per cycle of CPU time this process used during the loop (all threads
// together, so a multi-threaded run reports pairs per core-cycle; time other
// processes took from the cores does not count), with the clock measured in
// the same run, before and after the loop (the larger of the two; printed as
// GHz). Without a process CPU clock (cpuTime() = 0) it uses the wall time
// times the thread count. With laps (one-thread benchmarks), it also reports
// best-pairs/cycle: the pairs of one operation over its fastest lap's
// thread CPU time in cycles — on a loaded shared machine (other processes, a busy SMT
// sibling on the host) the figure least disturbed by other work, and the
// one comparable between the engine (BenchmarkSoftMin) and the bare tile
// kernels (BenchmarkTile).
func (p *pairsTimer) report(b *testing.B, pairsPerOp float64, threads int) {
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
	if p.best > 0 {
		b.ReportMetric(pairsPerOp/(p.best.Seconds()*hz), "best-pairs/cycle")
	}
}
