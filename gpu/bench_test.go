package gpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/simd"
)

// Benchmarks of the reductions on the device, in G pairs (i, j) per second,
// with the SIMD CPU engine as the peer of the same run (build/test-gpu.sh).
// Not tests: nothing is timed in go test.

func benchProblem[T core.Float](n, m, d int) (x, y core.Cloud[T], h []T) {
	r := rand.New(rand.NewPCG(1, 2))
	mk := func(k int) core.Cloud[T] {
		p := make([]T, k*d)
		for i := range p {
			p[i] = T(r.Float64())
		}
		return core.Cloud[T]{Pts: p, N: k, D: d}
	}
	x, y = mk(n), mk(m)
	h = make([]T, m)
	for j := range h {
		h[j] = T(-11.5 + r.Float64())
	}
	return x, y, h
}

func benchSoftMin[T core.Float](b *testing.B, e core.Engine[T], n, m, d int, grad bool) {
	x, y, h := benchProblem[T](n, m, d)
	p, err := e.Pair(x, y, core.CostHalfSquared)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	out := make([]T, n)
	var g []T
	if grad {
		g = make([]T, n*d)
	}
	if err := p.SoftMin(.01, h, out, g); err != nil { // uploads, JIT warm-up
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.SoftMin(.01, h, out, g); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(m)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gpairs/s")
}

// BenchmarkSoftMin: the online soft-min on the device, f32 and f64, D = 3,
// 100 000 × 200 000 points (the seed example's size), with and without the
// gradient.
func BenchmarkSoftMin(b *testing.B) {
	dev := realDevice(b)
	for _, grad := range []bool{false, true} {
		b.Run(fmt.Sprintf("f32/D3/grad=%v", grad), func(b *testing.B) {
			benchSoftMin[float32](b, New[float32](dev, core.Resources{}), 100000, 200000, 3, grad)
		})
		b.Run(fmt.Sprintf("f64/D3/grad=%v", grad), func(b *testing.B) {
			benchSoftMin[float64](b, New[float64](dev, core.Resources{}), 100000, 200000, 3, grad)
		})
	}
}

// BenchmarkSoftMinCPU: the same reduction on the SIMD CPU engine (all
// cores), on 20 000 × 40 000 points (its rate does not depend on the size).
func BenchmarkSoftMinCPU(b *testing.B) {
	b.Run("f32/D3/grad=false", func(b *testing.B) {
		benchSoftMin[float32](b, simd.For[float32](core.Resources{}), 20000, 40000, 3, false)
	})
	b.Run("f64/D3/grad=false", func(b *testing.B) {
		benchSoftMin[float64](b, simd.For[float64](core.Resources{}), 20000, 40000, 3, false)
	})
}
