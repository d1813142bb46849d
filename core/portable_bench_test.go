package core

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkPortableSoftMin measures the portable engine's online soft-min in
// pairs per second on one thread (N = M = 1000, D = 3, a Sinkhorn-like ε and
// log-weights; ε = .0025, the final ε of blur = .05), in float32 and float64,
// with and without the gradient.
//
//	go test -run '^$' -bench Portable -benchtime 20x ./core
func BenchmarkPortableSoftMin(b *testing.B) {
	b.Run("float32", func(b *testing.B) { benchSoftMin[float32](b) })
	b.Run("float64", func(b *testing.B) { benchSoftMin[float64](b) })
}

// BenchmarkPortableKernelSum measures the gaussian kernel sum likewise.
func BenchmarkPortableKernelSum(b *testing.B) {
	b.Run("float32", func(b *testing.B) { benchKernel[float32](b) })
	b.Run("float64", func(b *testing.B) { benchKernel[float64](b) })
}

const benchN, benchD = 1000, 3

func benchClouds[T Float]() (x, y Cloud[T], h []T) {
	r := rand.New(rand.NewPCG(1, 2))
	pts := func() []T {
		p := make([]T, benchN*benchD)
		for i := range p {
			p[i] = T(r.Float64())
		}
		return p
	}
	x = Cloud[T]{Pts: pts(), N: benchN, D: benchD}
	y = Cloud[T]{Pts: pts(), N: benchN, D: benchD}
	h = make([]T, benchN)
	for j := range h {
		h[j] = T(math.Log(1.0/benchN) + (r.Float64()-.5)*3)
	}
	return x, y, h
}

func benchSoftMin[T Float](b *testing.B) {
	x, y, h := benchClouds[T]()
	for _, cost := range []Cost{CostHalfSquared, CostEuclidean} {
		for _, g := range []bool{false, true} {
			b.Run(fmt.Sprintf("p=%d/grad=%v", cost, g), func(b *testing.B) {
				p, _ := Portable[T](Resources{Threads: 1}).Pair(x, y, cost)
				out := make([]T, benchN)
				var grad []T
				if g {
					grad = make([]T, benchN*benchD)
				}
				for b.Loop() {
					p.SoftMin(0.0025, h, out, grad)
				}
				b.ReportMetric(float64(b.N)*benchN*benchN/b.Elapsed().Seconds()/1e6, "Mpairs/s")
			})
		}
	}
}

func benchKernel[T Float](b *testing.B) {
	x, y, w := benchClouds[T]()
	for _, g := range []bool{false, true} {
		b.Run(fmt.Sprintf("gaussian/grad=%v", g), func(b *testing.B) {
			p, _ := Portable[T](Resources{Threads: 1}).Pair(x, y, CostHalfSquared)
			out := make([]T, benchN)
			var grad []T
			if g {
				grad = make([]T, benchN*benchD)
			}
			for b.Loop() {
				p.KernelSum(KernelGaussian, 0.1, w, out, grad)
			}
			b.ReportMetric(float64(b.N)*benchN*benchN/b.Elapsed().Seconds()/1e6, "Mpairs/s")
		})
	}
}

// TestExpFast checks expFast against math.Exp: relative error ≤ 1e-15 on
// [−707, 707], 0 below it, exact agreement above it and at the special values.
func TestExpFast(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	worst := 0.0
	check := func(x float64) {
		got, want := expFast(x), math.Exp(x)
		if x < -707 {
			if got != 0 || !(want < 0x1p-1019) {
				t.Fatalf("expFast(%g) = %g, want 0 (math.Exp: %g)", x, got, want)
			}
			return
		}
		if want == 0 || math.IsInf(want, 0) || math.IsNaN(want) {
			if math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("expFast(%g) = %g, want %g", x, got, want)
			}
			return
		}
		if e := math.Abs(got-want) / want; e > worst {
			worst = e
			if e > 1e-15 {
				t.Fatalf("expFast(%v) = %v, want %v (relative error %.3g)", x, got, want, e)
			}
		}
	}
	for range 2_000_000 {
		check((r.Float64() - .5) * 1414)
		check(-r.Float64() * 2)
		check(-r.ExpFloat64())
	}
	for _, x := range []float64{0, -0.0, 1, -1, 707, -707, 707.1, -707.1, -708, -709, -745.1, -745.2, -746, -1e300, 1e300, 709.7, 710, math.Inf(-1), math.Inf(1), math.NaN(), 1e-300, -1e-300, math.Ln2 / 128, -math.Ln2 / 128} {
		check(x)
		for i := range 64 {
			check(x + float64(i)*math.Ln2/64)
		}
	}
	t.Logf("worst relative error %.3g", worst)
}
