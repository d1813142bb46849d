package core

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestFiniteDifferences checks every gradient of every loss and variant
// against central differences of the value along random directions:
// ⟨∇L, δ⟩ ≈ (L(θ+hδ) − L(θ−hδ))/2h, the error measured against ‖∇L‖·‖δ‖.
// Sinkhorn gradients are exact at convergence only, so those problems anneal
// slowly (scaling 0.99) to a blur where the loop converges fast; kernel norms
// are exact. With reach 0.3 the reference's unbalanced gradients would be off
// by (ρ+ε/2)/(ρ+ε) ≈ 0.63, far outside the tolerance.
func TestFiniteDifferences(t *testing.T) {
	type variant struct {
		loss   Loss
		p      int
		reach  float64
		debias bool
		tol    float64
	}
	var variants []variant
	for _, p := range []int{1, 2} {
		for _, reach := range []float64{0, 0.3} {
			for _, debias := range []bool{true, false} {
				variants = append(variants, variant{Sinkhorn, p, reach, debias, 1e-3})
			}
		}
	}
	for _, l := range []Loss{Energy, Gaussian, Laplacian} {
		variants = append(variants, variant{l, 2, 0, true, 1e-6})
	}
	for vi, v := range variants {
		name := fmt.Sprintf("%s/p%d/reach%g/debias%v", v.loss, v.p, v.reach, v.debias)
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(vi), 7))
			pr := randProblem(rng, 2, 6, 8, 2, 0.3, true)
			par := DefaultParams()
			par.Loss, par.P, par.Reach, par.Debias = v.loss, v.p, v.reach, v.debias
			par.Blur, par.Scaling, par.Backend = 0.5, 0.99, Online
			par.Diameter = 2
			if v.loss == Sinkhorn && v.reach == 0 {
				// Balanced: the value is only defined on equal masses, so weight
				// perturbations are zero-sum per batch item.
				checkFD(t, par, pr, v.tol, true)
			} else {
				checkFD(t, par, pr, v.tol, false)
			}
		})
	}
}

// checkFD compares each of the four gradients with central differences.
func checkFD(t *testing.T, par Params, pr Problem[float64], tol float64, zeroSumWeights bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 13))
	cot := []float64{1.3, -0.6}[:pr.B]
	res := mustEval(t, par, pr, Request[float64]{GradX: true, GradY: true, GradA: true, GradB: true, CotValue: cot})
	loss := func(q Problem[float64]) float64 {
		r := mustEval(t, par, q, Request[float64]{})
		s := 0.0
		for b, v := range r.Value {
			s += cot[b] * v
		}
		return s
	}
	inputs := []struct {
		name string
		vec  *[]float64
		grad []float64
		n    int
	}{
		{"x", &pr.X, res.GradX, 0}, {"y", &pr.Y, res.GradY, 0},
		{"a", &pr.A, res.GradA, pr.N}, {"b", &pr.Bw, res.GradB, pr.M},
	}
	const h = 1e-5
	for _, in := range inputs {
		orig := *in.vec
		delta := make([]float64, len(orig))
		for i := range delta {
			delta[i] = rng.Float64()*2 - 1
		}
		if in.n > 0 && zeroSumWeights {
			for b := 0; b < len(delta)/in.n; b++ {
				item := delta[b*in.n : (b+1)*in.n]
				mean := 0.0
				for _, d := range item {
					mean += d
				}
				mean /= float64(in.n)
				for i := range item {
					item[i] -= mean
				}
			}
		}
		if in.n > 0 { // keep weights positive
			for i := range delta {
				delta[i] *= 0.1
			}
		}
		shifted := func(s float64) float64 {
			v := slices.Clone(orig)
			for i := range v {
				v[i] += s * delta[i]
			}
			*in.vec = v
			defer func() { *in.vec = orig }()
			return loss(pr)
		}
		fd := (shifted(h) - shifted(-h)) / (2 * h)
		an, gn, dn := 0.0, 0.0, 0.0
		for i := range delta {
			an += in.grad[i] * delta[i]
			gn += in.grad[i] * in.grad[i]
			dn += delta[i] * delta[i]
		}
		if err := math.Abs(fd-an) / math.Sqrt(gn*dn); err > tol || math.IsNaN(err) {
			t.Errorf("∂/∂%s: analytic %.9g vs finite difference %.9g (rel. err %.2g > %.2g)", in.name, an, fd, err, tol)
		}
	}
}
