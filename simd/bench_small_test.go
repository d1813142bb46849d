package simd

import (
	"fmt"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// BenchmarkSoftMinSmall times SoftMin on one n × n pair (D = 3, p = 2, one
// thread), online and dense: the reductions of a small batch item (n = 500
// in BenchmarkBatchSmall), where every call's set-up and every row's
// bookkeeping weigh against few pairs, and where the dense matrix stays in
// cache (see preferDense). Compare with BenchmarkSoftMin (4096 × 8192).
func BenchmarkSoftMinSmall(b *testing.B) {
	for _, name := range Paths() {
		if name == "portable" {
			continue
		}
		for _, n := range []int{500, 1000, 2000} {
			for _, mode := range []string{"online", "dense"} {
				for _, g := range []bool{false, true} {
					b.Run(fmt.Sprintf("%s/n=%d/%s/f32/D3/p2/grad=%v", name, n, mode, g), func(b *testing.B) {
						x, y, h := benchClouds[float32](n, n, 3)
						mk := onlinePair(engineOf[float32](name))
						if mode == "dense" {
							mk = densePair(engineOf[float32](name))
						}
						p := mk(x, y, core.CostHalfSquared, 1)
						out := make([]float32, n)
						var gr []float32
						if g {
							gr = make([]float32, n*3)
						}
						pt := startPairs(b)
						for b.Loop() {
							pt.lap(func() { p.SoftMin(benchEps[float32](), h, out, gr) })
						}
						pt.report(b, float64(n*n), 1)
					})
				}
			}
		}
	}
}
