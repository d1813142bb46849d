package grid

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// densePot is the final step written densely on the pixel centres u·h:
// λ·(−ε) log Σ_j w_j exp((dual_j − C_ij)/ε), C_ij = Σ_k c(|u_k − v_k| h_k)
// (c(t) = t²/2 for p = 2, t for p = 1). It shares nothing with the separable
// passes.
func densePot(shape []int, h []float64, p int, eps, lam float64, w, dual []float64) []float64 {
	n := len(w)
	coords := func(i int) []int {
		c := make([]int, len(shape))
		for k := len(shape) - 1; k >= 0; k-- {
			c[k] = i % shape[k]
			i /= shape[k]
		}
		return c
	}
	out := make([]float64, n)
	for i := range out {
		ci := coords(i)
		m, terms := math.Inf(-1), make([]float64, n)
		for j := range terms {
			cj := coords(j)
			c := 0.0
			for k := range ci {
				d := math.Abs(float64(ci[k]-cj[k])) * h[k]
				if p == 2 {
					c += d * d / 2
				} else {
					c += d
				}
			}
			terms[j] = math.Inf(-1)
			if w[j] > 0 {
				terms[j] = math.Log(w[j]) + (dual[j]-c)/eps
			}
			m = max(m, terms[j])
		}
		s := 0.0
		for _, t := range terms {
			s += math.Exp(t - m)
		}
		out[i] = -lam * eps * (m + math.Log(s))
	}
	return out
}

// TestPotentialVJP checks the gradients of Σ cF·F + Σ cG·G w.r.t. a and b
// (cot_value = 0) on small 1D and 2D grids, balanced and unbalanced,
// debiased and raw, p = 1 and 2, single scale. The oracle holds the loop's
// duals fixed (the convention of potgrad.go) and differentiates the dense
// final step (densePot) by central differences (h = 1e-6 on each pixel's
// density); it first checks that densePot reproduces the returned potentials
// (1e-9), then the VJP elementwise to 1e-6 relative to the largest entry.
func TestPotentialVJP(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 13))
	for _, shape := range [][]int{{7}, {5, 4}} {
		for _, p := range []int{1, 2} {
			for _, debias := range []bool{true, false} {
				for _, reach := range []float64{0, 0.5} {
					a, b := blobs(41, 1, shape, false), blobs(42, 1, shape, false)
					n := len(a)
					par := DefaultParams()
					par.P, par.Debias, par.Reach, par.SingleScale, par.Blur = p, debias, reach, true, 0.3
					cf, cg := make([]float64, n), make([]float64, n)
					for i := range cf {
						cf[i], cg[i] = r.NormFloat64(), r.NormFloat64()
					}
					pr := Problem[float64]{B: 1, Shape: shape, A: a, Bw: b}
					res, err := Evaluate(Config[float64]{}, par, pr, Request[float64]{GradA: true, GradB: true, Potentials: true, CotValue: []float64{0}, CotF: cf, CotG: cg})
					if err != nil {
						t.Fatal(err)
					}
					st := res.steps[0]
					h := make([]float64, len(shape))
					for k, s := range shape {
						h[k] = 1 / float64(s)
					}
					outs := func(a, b []float64) (F, G []float64) {
						F = densePot(shape, h, p, st.eps, st.lam, b, st.g)
						G = densePot(shape, h, p, st.eps, st.lam, a, st.f)
						if debias {
							Faa := densePot(shape, h, p, st.eps, st.lam, a, st.faa)
							Gbb := densePot(shape, h, p, st.eps, st.lam, b, st.gbb)
							for i := range F {
								F[i] -= Faa[i]
								G[i] -= Gbb[i]
							}
						}
						return
					}
					F0, G0 := outs(a, b)
					for i := range F0 {
						if math.Abs(F0[i]-res.F[i]) > 1e-9 || math.Abs(G0[i]-res.G[i]) > 1e-9 {
							t.Fatalf("shape %v p=%d debias=%v reach=%g: dense F, G [%d] = %g, %g, returned %g, %g", shape, p, debias, reach, i, F0[i], G0[i], res.F[i], res.G[i])
						}
					}
					S := func(a, b []float64) float64 {
						F, G := outs(a, b)
						s := 0.0
						for i := range F {
							s += cf[i]*F[i] + cg[i]*G[i]
						}
						return s
					}
					for side, grad := range [][]float64{res.GradA, res.GradB} {
						scale := 0.0
						for _, g := range grad {
							scale = max(scale, math.Abs(g))
						}
						for j := 0; j < n; j++ {
							const d = 1e-6
							ap, am := append([]float64(nil), a...), append([]float64(nil), a...)
							bp, bm := append([]float64(nil), b...), append([]float64(nil), b...)
							if side == 0 {
								ap[j] += d
								am[j] -= d
							} else {
								bp[j] += d
								bm[j] -= d
							}
							fd := (S(ap, bp) - S(am, bm)) / (2 * d)
							if math.Abs(fd-grad[j]) > 1e-6*scale {
								t.Errorf("shape %v p=%d debias=%v reach=%g side %d pixel %d: VJP %.12g, finite difference %.12g", shape, p, debias, reach, side, j, grad[j], fd)
							}
						}
					}
					// Linearity in the cotangents: with cot_value = 1 the
					// value's gradient is added.
					res1, err := Evaluate(Config[float64]{}, par, pr, Request[float64]{GradA: true, CotF: cf, CotG: cg})
					if err != nil {
						t.Fatal(err)
					}
					res2, err := Evaluate(Config[float64]{}, par, pr, Request[float64]{GradA: true})
					if err != nil {
						t.Fatal(err)
					}
					for i := range res1.GradA {
						if d := res1.GradA[i] - res2.GradA[i] - res.GradA[i]; math.Abs(d) > 1e-12*(1+math.Abs(res2.GradA[i])) {
							t.Fatalf("shape %v: grad_a[%d] with both cotangents %g != value part %g + potentials part %g", shape, i, res1.GradA[i], res2.GradA[i], res.GradA[i])
						}
					}
				}
			}
		}
	}
}

// TestPotentialVJPRefused checks the coded errors: a cotangent of the wrong
// length and a non-finite one (the reference's defaults on a 16×16 grid;
// TestPotentialVJPJump checks the gradients there).
func TestPotentialVJPRefused(t *testing.T) {
	shape := []int{16, 16}
	a, b := blobs(1, 1, shape, false), blobs(2, 1, shape, false)
	pr := Problem[float64]{B: 1, Shape: shape, A: a, Bw: b}
	cases := []struct {
		req  Request[float64]
		code core.Code
	}{
		{Request[float64]{GradA: true, CotF: make([]float64, 255)}, core.ErrShape},
		{Request[float64]{GradA: true, CotG: append(make([]float64, 255), math.NaN())}, core.ErrValue},
	}
	for i, c := range cases {
		_, err := Evaluate(Config[float64]{}, DefaultParams(), pr, c.req)
		var e *core.Error
		if !errors.As(err, &e) || e.Code != c.code {
			t.Errorf("case %d: got %v, want code %v", i, err, c.code)
		}
	}
}
