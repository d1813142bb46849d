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
