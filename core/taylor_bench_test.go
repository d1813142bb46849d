package core

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkTaylorSoftMin: one Taylor soft-min, 20 000 × 40 000 points in 3D
// (float32), at the degree of ρ = 1.5; reports monomial terms per second
// (the cost model's unit, see taylorCostRatio).
func BenchmarkTaylorSoftMin(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	n, m, d := 20000, 40000, 3
	x, y := make([]float32, n*d), make([]float32, m*d)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for i := range y {
		y[i] = float32(r.NormFloat64())
	}
	cx, cy := Cloud[float32]{x, n, d}, Cloud[float32]{y, m, d}
	_, rx := cloudBall(cx)
	_, ry := cloudBall(cy)
	eps := rx * ry / 1.5
	tp, ok := newTaylorPair(cx, cy, eps, Resources{Threads: 1})
	if !ok {
		b.Fatal("refused")
	}
	h, out := make([]float32, m), make([]float32, n)
	b.ResetTimer()
	for range b.N {
		if err := tp.SoftMin(float32(eps), h, out, nil); err != nil {
			b.Fatal(err)
		}
	}
	terms := float64(n+m) * float64(tp.mono.count(tp.mono.k))
	b.ReportMetric(terms*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gterms/s")
	b.ReportMetric(float64(tp.mono.k), "degree")
}
