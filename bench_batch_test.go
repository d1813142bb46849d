package geomloss_test

import (
	"testing"

	"github.com/libgeomloss/libgeomloss"
)

// BenchmarkBatchSmall is the shape of a loss inside a training loop: 32
// pairs of 500-point clouds (D = 3, float32), Sinkhorn p=2 blur=.05
// debiased, value + gradient w.r.t. x, backend auto (bench/batch.py runs the
// same case through Python against PyTorch); the sub-benchmarks force the
// online and tensorized backends for comparison. cpu-ms/op is the process
// CPU time per evaluation (all threads together).
//
//	go test -run '^$' -bench BatchSmall -benchtime 10x .
func BenchmarkBatchSmall(b *testing.B) {
	const B, n, d = 32, 500, 3
	x, y := randClouds(9, B, n, n, d)
	for _, be := range []geomloss.Backend{geomloss.Auto, geomloss.Online, geomloss.Tensorized} {
		b.Run(be.String(), func(b *testing.B) {
			par := geomloss.DefaultParams()
			par.Backend = be
			pr := geomloss.Problem[float32]{B: B, N: n, M: n, D: d, X: x, Y: y}
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := geomloss.Evaluate(par, pr, geomloss.Request[float32]{GradX: true}); err != nil {
					b.Fatal(err)
				}
			}
			// CPU time of the process per evaluation (all threads): on a
			// shared machine, less disturbed by other work than the wall time.
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/op")
			}
		})
	}
}
