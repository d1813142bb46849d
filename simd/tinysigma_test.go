package simd

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// Issue 11, bug 7: with blur ≤ 1e-20 the gaussian/laplacian kernels'
// exponent scale −log₂e/(2σ²) (1/σ² for laplacian) overflows float32 (and,
// below σ ≈ 1e-154, float64), and the AVX2 kernels returned 0 where the
// portable engine gives the self terms (½(1/N + 1/M) for the MMD). Every
// path now matches the portable engine there. (float64 σ = 1e-150 is a
// sanity check of the unchanged path; below 1e-154 the portable engine's own
// float64 scale overflows too, and the evaluation fails with ErrValue.)
func TestTinySigmaKernelSums(t *testing.T) {
	tinySigma[float32](t, []float32{1e-20, 1e-25, 1e-38})
	tinySigma[float64](t, []float64{1e-150})
}

func tinySigma[T core.Float](t *testing.T, sigmas []T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, d = 37, 3
	pts := make([]T, n*d)
	for i := range pts {
		pts[i] = T(rng.Float64())
	}
	w := make([]T, n)
	for i := range w {
		w[i] = T(0.5 + rng.Float64())
	}
	x := core.Cloud[T]{Pts: pts, N: n, D: d}
	ref, err := core.Portable[T](core.Resources{}).Pair(x, x, core.CostHalfSquared)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Paths() {
		eng, err := ForPath[T](name, core.Resources{})
		if err != nil {
			t.Fatal(err)
		}
		dense := eng.(core.DenseEngine[T])
		for _, mk := range []func() (core.Pair[T], error){
			func() (core.Pair[T], error) { return eng.Pair(x, x, core.CostHalfSquared) },
			func() (core.Pair[T], error) { return dense.DensePair(x, x, core.CostHalfSquared) },
		} {
			p, err := mk()
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []core.Kernel{core.KernelGaussian, core.KernelLaplacian} {
				for _, s := range sigmas {
					want, got := make([]T, n), make([]T, n)
					wg, gg := make([]T, n*d), make([]T, n*d)
					if err := ref.KernelSum(k, s, w, want, wg); err != nil {
						t.Fatal(err)
					}
					if err := p.KernelSum(k, s, w, got, gg); err != nil {
						t.Fatal(err)
					}
					for i := range want {
						// the self term dominates: w_i·k(0) (k(0) = 1, or e^{−1e-4} with the laplacian's clamp)
						if math.Abs(float64(got[i]-want[i])) > 1e-6*math.Abs(float64(want[i])) || !(float64(want[i]) > 0.5*float64(w[i])) {
							t.Fatalf("%s %T kernel %d σ=%g: out[%d] = %g, portable %g (w %g)", name, s, k, float64(s), i, float64(got[i]), float64(want[i]), float64(w[i]))
						}
					}
				}
			}
			p.Close()
		}
	}
}
