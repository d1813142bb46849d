package core

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Regression tests of issue 11's core bugs (hostile inputs), each of which
// failed before its fix.

func wantErr(t *testing.T, err error, code Code, substr string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want an *Error with code %d mentioning %q", err, code, substr)
	}
	if e.Code != code || !strings.Contains(e.Msg, substr) {
		t.Fatalf("got error (code %d) %q, want code %d mentioning %q", e.Code, e.Msg, code, substr)
	}
}

// issueClouds is the issue's example: x 30 points in [0,1]³, y 25 in [0.3,1.3]³.
func issueClouds() Problem[float64] {
	return randProblem(rand.New(rand.NewPCG(1, 2)), 1, 30, 25, 3, 0.3, false)
}

// Bug 1: scaling close to 1 made the schedule allocate ~226 GB (fatal
// out-of-memory abort), 1−2⁻⁵³ panicked in makeslice. Now refused, fast,
// before anything is allocated.
func TestScalingCloseToOneRefused(t *testing.T) {
	pr := Problem[float64]{B: 1, N: 5, M: 5, D: 1, X: []float64{0, 1, 2, 3, 4}, Y: []float64{0.5, 1, 1.5, 2, 9}}
	for _, s := range []float64{0.9999999999, math.Nextafter(1, 0), 0.99999} {
		par := DefaultParams()
		par.Scaling = s
		t0 := time.Now()
		_, err := Evaluate(Config[float64]{}, par, pr, Request[float64]{GradX: true})
		wantErr(t, err, ErrInvalidOption, "scaling")
		if d := time.Since(t0); d > 5*time.Second {
			t.Errorf("scaling %v: refused after %v", s, d)
		}
	}
	// The bound is on the schedule's length: just below it is accepted.
	par := DefaultParams()
	diam := EstimateDiameter(pr.X, pr.Y, 1)
	steps := func(s float64) float64 { return math.Log(par.Blur/diam) / math.Log(s) }
	lo := math.Exp(math.Log(par.Blur/diam) / (MaxEpsSteps - 3))
	hi := math.Exp(math.Log(par.Blur/diam) / (MaxEpsSteps - 1))
	par.Scaling = lo
	eps, err := epsSchedule(par, pr)
	if err != nil || len(eps) > MaxEpsSteps {
		t.Fatalf("scaling %v (%.1f steps): %v, %d temperatures", lo, steps(lo), err, len(eps))
	}
	par.Scaling = hi
	_, err = epsSchedule(par, pr)
	wantErr(t, err, ErrInvalidOption, "at most 100000")
}

// Bug 2: κ(e^{−F_aa/ρ} − e^{−F/ρ}) cancelled: reach 1e7 was 2 % off, 3e7
// 24 %, 1e8 … 1e154 exactly 0. The value, and the gradients, now tend to
// the balanced ones as ρ → ∞.
func TestLargeReachTendsToBalanced(t *testing.T) {
	pr := issueClouds()
	for _, c := range []struct {
		p       int
		debias  bool
		reaches []float64
	}{
		{2, true, []float64{1e7, 3e7, 1e8, 1e20, 1e154}},
		{1, true, []float64{1e15, 1e17, 1e100, 1e300}},
		{2, false, []float64{1e7, 1e8, 1e20, 1e154}},
		{1, false, []float64{1e15, 1e17, 1e300}},
	} {
		par := DefaultParams()
		par.Blur, par.P, par.Debias = 0.1, c.p, c.debias
		req := Request[float64]{GradX: true, GradA: true, GradB: true}
		bal := mustEval(t, par, pr, req)
		for _, r := range c.reaches {
			par.Reach = r
			res := mustEval(t, par, pr, req)
			if e := math.Abs(res.Value[0]-bal.Value[0]) / math.Abs(bal.Value[0]); !(e < 1e-9) {
				t.Errorf("p=%d debias=%v reach=%g: value %.12g, balanced %.12g (rel. error %.2g)", c.p, c.debias, r, res.Value[0], bal.Value[0], e)
			}
			for _, g := range []struct {
				name      string
				got, want []float64
			}{{"grad_x", res.GradX, bal.GradX}, {"grad_a", res.GradA, bal.GradA}, {"grad_b", res.GradB, bal.GradB}} {
				if e := relErr(g.got, g.want, 1e-12); !(e < 1e-8) {
					t.Errorf("p=%d debias=%v reach=%g: %s rel. error %.2g from balanced", c.p, c.debias, r, g.name, e)
				}
			}
		}
	}
}

// The stable forms agree with the direct ones where those are accurate.
func TestExpDiffAgreesWithDirectForm(t *testing.T) {
	for _, c := range [][3]float64{{0.3, 1.2, 0.5}, {1.2, 0.3, 0.5}, {-2, 3, 1}, {5, 5, 2}, {1e-3, 2e-3, 1e-2}} {
		a, b, rho := c[0], c[1], c[2]
		direct := math.Exp(-a/rho) - math.Exp(-b/rho)
		if got := expDiff(a, b, rho); math.Abs(got-direct) > 1e-15*math.Max(1, math.Abs(direct)) {
			t.Errorf("expDiff(%g, %g, %g) = %.17g, want %.17g", a, b, rho, got, direct)
		}
		if got, want := oneMinusExp(b, rho), rho*(1-math.Exp(-b/rho)); math.Abs(got-want) > 1e-14*math.Max(1, math.Abs(want)) {
			t.Errorf("oneMinusExp(%g, %g) = %.17g, want %.17g", b, rho, got, want)
		}
	}
	if got := expDiff(0.2, 0.7, 1e300) * 1e300; math.Abs(got-0.5) > 1e-15 {
		t.Errorf("ρ·expDiff(0.2, 0.7, ρ=1e300) = %g, want 0.5", got)
	}
}

// Bug 3: reach^p overflowing to +Inf took the balanced formulas but skipped
// the balanced mass check (masses 2 vs 1, reach 1e200 gave 3.80, OK).
func TestInfiniteRhoChecksMasses(t *testing.T) {
	pr := issueClouds()
	pr.A, pr.Bw = make([]float64, 30), make([]float64, 25)
	for i := range pr.A {
		pr.A[i] = 2.0 / 30
	}
	for j := range pr.Bw {
		pr.Bw[j] = 1.0 / 25
	}
	par := DefaultParams()
	par.Reach = 1e200 // ρ = reach² = +Inf
	_, err := Evaluate(Config[float64]{}, par, pr, Request[float64]{})
	wantErr(t, err, ErrValue, "total masses differ")
	par.P = 1 // ρ = 1e200 is finite: unbalanced, accepted
	res := mustEval(t, par, pr, Request[float64]{})
	if math.IsNaN(res.Value[0]) || math.IsInf(res.Value[0], 0) {
		t.Errorf("p=1 reach=1e200: value %g", res.Value[0])
	}
}

// Bug 4: total masses overflowing to +Inf passed the mass check (NaN > NaN
// is false); hausdorff with weights 1e308 returned 8.6e307.
func TestOverflowingMassRefused(t *testing.T) {
	pr := Problem[float64]{B: 1, N: 3, M: 3, D: 1, X: []float64{0, 1, 2}, Y: []float64{0.5, 1.5, 2.5},
		A: []float64{1e308, 1e308, 1e308}, Bw: []float64{1e308, 1e308, 1e308}}
	for _, l := range []Loss{Hausdorff, Sinkhorn, Energy, Gaussian} {
		par := DefaultParams()
		par.Loss = l
		_, err := Evaluate(Config[float64]{}, par, pr, Request[float64]{})
		wantErr(t, err, ErrValue, "total mass of batch item 0 overflows")
	}
}

// Bug 5: blur ≫ diameter lost all precision silently (float64 blur ≥ 1e8
// returned 0; float32 blur=1000 was 25 % too high, 1e4 negative). Ratios
// beyond MaxPrecisionLoss are refused; below it the value is accurate (it
// tends to ½|x̄ − ȳ|² for p = 2).
func TestBlurMuchLargerThanDiameter(t *testing.T) {
	pr := issueClouds()
	p32 := Problem[float32]{B: 1, N: 30, M: 25, D: 3, X: convert[float32](pr.X), Y: convert[float32](pr.Y)}
	var mx, my [3]float64
	for i := 0; i < 30*3; i++ {
		mx[i%3] += pr.X[i] / 30
	}
	for i := 0; i < 25*3; i++ {
		my[i%3] += pr.Y[i] / 25
	}
	limit := 0.0
	for k := range mx {
		limit += 0.5 * (mx[k] - my[k]) * (mx[k] - my[k])
	}
	par := DefaultParams()
	for _, blur := range []float64{1e8, 1e7, 1e6} {
		par.Blur = blur
		_, err := Evaluate(Config[float64]{}, par, pr, Request[float64]{})
		wantErr(t, err, ErrInvalidOption, "blur/diameter")
	}
	for _, blur := range []float64{30, 1000, 1e4} {
		par.Blur = blur
		_, err := Evaluate(Config[float32]{}, par, p32, Request[float32]{})
		wantErr(t, err, ErrInvalidOption, "blur/diameter")
	}
	for _, blur := range []float64{1e3, 1e4, 1e5, 5e5} {
		par.Blur = blur
		v := mustEval(t, par, pr, Request[float64]{}).Value[0]
		if e := math.Abs(v-limit) / limit; !(e < 1e-3) {
			t.Errorf("float64 blur=%g: %.9g, limit ½|x̄−ȳ|² = %.9g (rel. error %.2g)", blur, v, limit, e)
		}
	}
	diam := EstimateDiameter(pr.X, pr.Y, 3)
	for _, p := range []int{1, 2} {
		par := DefaultParams()
		par.P = p
		bound := math.Pow(MaxPrecisionLoss/0x1p-24, 1/float64(p)) * diam
		for _, blur := range []float64{0.5, 0.99 * bound} {
			par.Blur = blur
			v64 := mustEval(t, par, pr, Request[float64]{}).Value[0]
			v32 := float64(mustEval(t, par, p32, Request[float32]{}).Value[0])
			if e := math.Abs(v32-v64) / math.Abs(v64); !(e < 1e-3) {
				t.Errorf("p=%d float32 blur=%g (bound %g): %.7g, float64 %.9g (rel. error %.2g)", p, blur, bound, v32, v64, e)
			}
		}
		par.Blur = 1.01 * bound
		_, err := Evaluate(Config[float32]{}, par, p32, Request[float32]{})
		wantErr(t, err, ErrInvalidOption, "blur/diameter")
	}
	// Identical points (zero diameter): nothing to lose, still accepted (§8.4).
	same := Problem[float32]{B: 1, N: 2, M: 2, D: 1, X: []float32{1, 1}, Y: []float32{1, 1}}
	par.Blur = 1e6
	if v := mustEval(t, par, same, Request[float32]{}).Value[0]; v != 0 {
		t.Errorf("identical points, blur 1e6: %g, want 0", v)
	}
}

// Bug 6: float32 gaussian/laplacian with squared distances beyond FLT_MAX
// (coordinates ~4e19) returned wrong values with status OK.
func TestFloat32DistanceOverflowRefused(t *testing.T) {
	pr := randProblem(rand.New(rand.NewPCG(3, 4)), 1, 5, 4, 2, 0.3, false)
	for i := range pr.X {
		pr.X[i] *= 4e19
	}
	for i := range pr.Y {
		pr.Y[i] *= 4e19
	}
	p32 := Problem[float32]{B: 1, N: 5, M: 4, D: 2, X: convert[float32](pr.X), Y: convert[float32](pr.Y)}
	for _, l := range []Loss{Gaussian, Laplacian, Energy, Sinkhorn} {
		par := DefaultParams()
		par.Loss, par.Blur = l, 1e19
		_, err := Evaluate(Config[float32]{}, par, p32, Request[float32]{})
		wantErr(t, err, ErrValue, "overflow float32")
		if l == Gaussian || l == Laplacian { // float64 is fine
			if v := mustEval(t, par, pr, Request[float64]{}).Value[0]; !(v > 0) {
				t.Errorf("%v float64: %g", l, v)
			}
		}
	}
}
