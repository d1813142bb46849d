package grid

import (
	"fmt"
	"testing"
)

// BenchmarkEvaluate: float32 value + gradient w.r.t. a (reference defaults:
// blur = pixel, scaling 0.5, debiased) on 2D and 3D grids, portable engine,
// all cores.
func BenchmarkEvaluate(b *testing.B) {
	for _, shape := range [][]int{{64, 64}, {128, 128}, {256, 256}, {32, 32, 32}, {64, 64, 64}} {
		b.Run(fmt.Sprint(shape), func(b *testing.B) {
			x, y := convert[float32](blobs(1, 1, shape, false)), convert[float32](blobs(2, 1, shape, false))
			pr := Problem[float32]{B: 1, Shape: shape, A: x, Bw: y}
			for b.Loop() {
				if _, err := Evaluate(Config[float32]{}, DefaultParams(), pr, Request[float32]{GradA: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSoftMin: one grid soft-min (3 passes) on 64³ at ε = pixel², the
// finest levels' typical temperature, truncated and dense, one thread.
func BenchmarkSoftMin(b *testing.B) {
	shape := []int{64, 64, 64}
	lv := pyramidLevels(shape, []float64{1. / 64, 1. / 64, 1. / 64}, true)[0]
	a := convert[float32](blobs(1, 1, shape, false))
	ell, pot, out := logDens(a), make([]float32, len(a)), make([]float32, len(a))
	for _, delta := range []float64{1e-8, 0} {
		b.Run(fmt.Sprintf("delta=%g", delta), func(b *testing.B) {
			s := softMinner[float32]{eng: Portable[float32](), p: 2, delta: delta, threads: 1}
			for b.Loop() {
				if err := s.softMin(lv, 1./4096, 1, ell, pot, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(3*len(a)), "ns/pixel-pass")
		})
	}
}
