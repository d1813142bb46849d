package simd

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// Benchmarks of the reductions, in pairs (i, j) per second and per cycle
// (see clock_test.go); run by build/bench.sh (make bench). Not tests:
// nothing here is timed in go test.

func benchClouds[T core.Float](n, m, d int) (x, y core.Cloud[T], h []T) {
	r := rand.New(rand.NewPCG(1, 2))
	mk := func(n int) core.Cloud[T] {
		p := make([]T, n*d)
		for i := range p {
			p[i] = T(r.Float64())
		}
		return core.Cloud[T]{Pts: p, N: n, D: d}
	}
	x, y = mk(n), mk(m)
	h = make([]T, m)
	for j := range h {
		h[j] = T(-9.2 + r.Float64())
	}
	return x, y, h
}

func threadCounts() []int {
	if runtime.GOMAXPROCS(0) == 1 {
		return []int{1}
	}
	return []int{1, runtime.GOMAXPROCS(0)}
}

// engineOf builds the engine of path name with the given thread count.
func engineOf[T core.Float](name string) func(threads int) core.Engine[T] {
	return func(threads int) core.Engine[T] {
		e, err := ForPath[T](name, core.Resources{Threads: threads})
		if err != nil {
			panic(err)
		}
		return e
	}
}

// onlinePair and densePair build the Pairs of an engine family.
func onlinePair[T core.Float](eng func(int) core.Engine[T]) func(x, y core.Cloud[T], cost core.Cost, threads int) core.Pair[T] {
	return func(x, y core.Cloud[T], cost core.Cost, threads int) core.Pair[T] {
		p, _ := eng(threads).Pair(x, y, cost)
		return p
	}
}

func densePair[T core.Float](eng func(int) core.Engine[T]) func(x, y core.Cloud[T], cost core.Cost, threads int) core.Pair[T] {
	return func(x, y core.Cloud[T], cost core.Cost, threads int) core.Pair[T] {
		p, _ := eng(threads).(core.DenseEngine[T]).DensePair(x, y, cost)
		return p
	}
}

func benchSoftMin[T core.Float](b *testing.B, eng func(int) core.Engine[T], d int, cost core.Cost, grad bool, threads int) {
	benchSoftMinPair(b, onlinePair(eng), d, cost, grad, threads)
}

// benchSoftMinPair times SoftMin on the Pair that mk builds (an online Pair or
// a dense one, whose N×M matrix is filled before the timer starts).
func benchSoftMinPair[T core.Float](b *testing.B, mk func(x, y core.Cloud[T], cost core.Cost, threads int) core.Pair[T],
	d int, cost core.Cost, grad bool, threads int) {
	const n, m = 4096, 8192
	x, y, h := benchClouds[T](n, m, d)
	p := mk(x, y, cost, threads)
	out := make([]T, n)
	var g []T
	if grad {
		g = make([]T, n*d)
	}
	pt := startPairs(b)
	for b.Loop() {
		if threads == 1 {
			pt.lap(func() { p.SoftMin(benchEps[T](), h, out, g) })
		} else {
			p.SoftMin(benchEps[T](), h, out, g)
		}
	}
	pt.report(b, float64(n)*float64(m), threads)
}

func benchKernel[T core.Float](b *testing.B, eng func(int) core.Engine[T], k core.Kernel, grad bool, threads int) {
	const n, m, d = 4096, 8192, 3
	x, y, w := benchClouds[T](n, m, d)
	p, _ := eng(threads).Pair(x, y, core.CostHalfSquared)
	out := make([]T, n)
	var g []T
	if grad {
		g = make([]T, n*d)
	}
	pt := startPairs(b)
	for b.Loop() {
		p.KernelSum(k, T(.1), w, out, g)
	}
	pt.report(b, float64(n)*float64(m), threads)
}

func forEachPath(b *testing.B, f func(b *testing.B, name string)) {
	for _, name := range Paths() {
		if name == "portable" {
			continue // orders of magnitude slower; see BenchmarkPortable
		}
		b.Run(name, func(b *testing.B) { f(b, name) })
	}
}

func BenchmarkSoftMin(b *testing.B) {
	forEachPath(b, func(b *testing.B, name string) {
		e32, e64 := engineOf[float32](name), engineOf[float64](name)
		for _, th := range threadCounts() {
			for _, d := range []int{3, 1, 8} {
				for _, c := range []core.Cost{core.CostHalfSquared, core.CostEuclidean} {
					for _, g := range []bool{false, true} {
						if d != 3 && (c != core.CostHalfSquared || g) {
							continue
						}
						tag := fmt.Sprintf("D%d/p%d/grad=%v/threads=%d", d, c, g, th)
						b.Run("f32/"+tag, func(b *testing.B) { benchSoftMin(b, e32, d, c, g, th) })
						if d == 3 && !g {
							b.Run("f64/"+tag, func(b *testing.B) { benchSoftMin(b, e64, d, c, g, th) })
						}
					}
				}
			}
		}
	})
}

// BenchmarkDense times the tensorized backend's Pair: the fill of the N×M
// matrix of squared distances (pairs/s of the fill) and the soft-min reading
// it (4096×8192 float32: a 128 MiB matrix, streamed from memory).
func BenchmarkDense(b *testing.B) {
	forEachPath(b, func(b *testing.B, name string) {
		e32 := engineOf[float32](name)
		for _, th := range threadCounts() {
			b.Run(fmt.Sprintf("f32/fill/D3/threads=%d", th), func(b *testing.B) {
				const n, m = 4096, 8192
				x, y, _ := benchClouds[float32](n, m, 3)
				pt := startPairs(b)
				for b.Loop() {
					e32(th).(core.DenseEngine[float32]).DensePair(x, y, core.CostHalfSquared)
				}
				pt.report(b, float64(n)*float64(m), th)
			})
			for _, g := range []bool{false, true} {
				b.Run(fmt.Sprintf("f32/D3/p2/grad=%v/threads=%d", g, th), func(b *testing.B) {
					benchSoftMinPair(b, densePair(e32), 3, core.CostHalfSquared, g, th)
				})
			}
		}
	})
}

func BenchmarkKernelSum(b *testing.B) {
	forEachPath(b, func(b *testing.B, name string) {
		e32 := engineOf[float32](name)
		for _, k := range []core.Kernel{core.KernelGaussian, core.KernelLaplacian, core.KernelEnergy} {
			for _, g := range []bool{false, true} {
				b.Run(fmt.Sprintf("f32/K%d/grad=%v/threads=1", k, g), func(b *testing.B) { benchKernel(b, e32, k, g, 1) })
			}
		}
	})
}

func BenchmarkPortable(b *testing.B) {
	b.Run("f32/D3/p2/threads=1", func(b *testing.B) {
		benchSoftMin(b, engineOf[float32]("portable"), 3, core.CostHalfSquared, false, 1)
	})
}

// benchEps is the temperature of the soft-min benchmarks: blur = .05, p = 2
// (the end-to-end case's final ε = .0025), or GEOMLOSS_BENCH_EPS.
func benchEps[T core.Float]() T {
	if v, err := strconv.ParseFloat(os.Getenv("GEOMLOSS_BENCH_EPS"), 64); err == nil {
		return T(v)
	}
	return T(.0025)
}
