package grid

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFiniteDifferences compares the weight gradients with central finite
// differences of the value along random directions δ (zero-mass directions in
// the balanced case, where φ is defined up to a constant; any direction when
// unbalanced). The gradient is the envelope-theorem one (§7.0, §7.5), exact
// at convergence only, so the problems are run to convergence: single scale,
// diameter = blur·(1 + 6e-6) and scaling 1 − 1e-8, i.e. ≈ 600 iterations at
// ε = blur^p (blur 0.15). The unbalanced gradients use κ' = ρ + ε, the true
// ones (the reference's κ = ρ + ε/2 would be off by (ρ+ε/2)/(ρ+ε)).
// Tolerance 1e-5 relative to |⟨∇, δ⟩|; p = 1 and p = 2, debiased and raw.
func TestFiniteDifferences(t *testing.T) {
	shape := []int{8, 7}
	a0, b0 := blobs(31, 1, shape, false), blobs(32, 1, shape, false)
	r := rand.New(rand.NewPCG(9, 9))
	for _, p := range []int{1, 2} {
		for _, debias := range []bool{true, false} {
			for _, reach := range []float64{0, 0.4} {
				par := DefaultParams()
				par.P, par.Debias, par.Reach, par.SingleScale = p, debias, reach, true
				par.Blur, par.Diameter, par.Scaling = 0.15, 0.15*(1+6e-6), 1-1e-8
				eval := func(a, b []float64) float64 {
					res, err := Evaluate(Config[float64]{}, par, Problem[float64]{B: 1, Shape: shape, A: a, Bw: b}, Request[float64]{})
					if err != nil {
						t.Fatal(err)
					}
					return res.Value[0]
				}
				res, err := Evaluate(Config[float64]{}, par, Problem[float64]{B: 1, Shape: shape, A: a0, Bw: b0}, Request[float64]{GradA: true, GradB: true})
				if err != nil {
					t.Fatal(err)
				}
				for trial := 0; trial < 1; trial++ {
					for side := 0; side < 2; side++ {
						dir := make([]float64, len(a0))
						mean := 0.0
						for i := range dir {
							dir[i] = r.NormFloat64() * a0[i]
							mean += dir[i]
						}
						if reach == 0 {
							for i := range dir {
								dir[i] -= mean * a0[i]
							}
						}
						grad := res.GradA
						if side == 1 {
							grad = res.GradB
						}
						want := 0.0
						for i := range dir {
							want += grad[i] * dir[i]
						}
						const h = 1e-4
						plus, minus := make([]float64, len(a0)), make([]float64, len(a0))
						base := a0
						if side == 1 {
							base = b0
						}
						for i := range dir {
							plus[i], minus[i] = base[i]+h*dir[i], base[i]-h*dir[i]
						}
						var fd float64
						if side == 0 {
							fd = (eval(plus, b0) - eval(minus, b0)) / (2 * h)
						} else {
							fd = (eval(a0, plus) - eval(a0, minus)) / (2 * h)
						}
						e := math.Abs(fd-want) / math.Abs(want)
						t.Logf("p=%d debias=%v reach=%g side %d: ⟨∇,δ⟩ = %.8g, FD = %.8g, rel %.2g", p, debias, reach, side, want, fd, e)
						if e > 1e-5 {
							t.Errorf("p=%d debias=%v reach=%g side %d: gradient %.8g vs finite difference %.8g (rel %.3g)", p, debias, reach, side, want, fd, e)
						}
					}
				}
			}
		}
	}
}
