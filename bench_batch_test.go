package geomloss_test

import (
	"testing"

	"github.com/libgeomloss/libgeomloss"
)

// BenchmarkBatchSmall is the shape of a loss inside a training loop: 32
// pairs of 500-point clouds (D = 3, float32), Sinkhorn p=2 blur=.05
// debiased, value + gradient w.r.t. x, backend auto (bench/batch.py runs the
// same case through Python against PyTorch).
//
//	go test -run '^$' -bench BatchSmall -benchtime 10x .
func BenchmarkBatchSmall(b *testing.B) {
	const B, n, d = 32, 500, 3
	x, y := randClouds(9, B, n, n, d)
	par := geomloss.DefaultParams()
	pr := geomloss.Problem[float32]{B: B, N: n, M: n, D: d, X: x, Y: y}
	for b.Loop() {
		if _, err := geomloss.Evaluate(par, pr, geomloss.Request[float32]{GradX: true}); err != nil {
			b.Fatal(err)
		}
	}
}
