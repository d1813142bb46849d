package geomloss

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/simd"
)

func randPts(r *rand.Rand, n int, s float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.Float64() * s
	}
	return v
}

// must(t)(SolveSample(...)) fails t on an error and closes the result at the end.
func must(t *testing.T) func(*OTResult[float64], error) *OTResult[float64] {
	return func(res *OTResult[float64], err error) *OTResult[float64] {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Close() })
		return res
	}
}

func maxDiff(a, b []float64) float64 {
	e := 0.0
	for i := range a {
		e = math.Max(e, math.Abs(a[i]-b[i]))
	}
	return e
}

// TestOTDirac: a Dirac against a weighted cloud has one coupling, π_1j =
// b_j, whatever ε; its linear cost is Σ_j b_j |x − y_j|² and so is the
// entropic value (KL(π | a⊗b) = 0).
func TestOTDirac(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	y := randPts(r, 7*2, 1)
	b := []float64{.1, .2, .05, .15, .2, .2, .1}
	x := []float64{.3, .6}
	for _, reg := range []float64{1e-3, .1, 10} {
		res := must(t)(SolveSample(x, y, 2, nil, b, OTParams{Reg: reg, Tol: 1e-13}))
		plan, err := res.Plan.Dense(0)
		if err != nil {
			t.Fatal(err)
		}
		want := 0.0
		for j := range b {
			dx, dy := x[0]-y[2*j], x[1]-y[2*j+1]
			want += b[j] * (dx*dx + dy*dy)
		}
		if e := maxDiff(plan, b); !(e < 1e-13) {
			t.Errorf("reg %g: plan %v, want b = %v", reg, plan, b)
		}
		if !(math.Abs(res.ValueLinear-want) < 1e-13 && math.Abs(res.Value-want) < 1e-12) {
			t.Errorf("reg %g: value %.15g, linear %.15g, want %.15g", reg, res.Value, res.ValueLinear, want)
		}
		ab, _ := res.Plan.BarycentricAB()
		var bar [2]float64
		for j := range b {
			bar[0] += b[j] * y[2*j]
			bar[1] += b[j] * y[2*j+1]
		}
		if e := maxDiff(ab, bar[:]); !(e < 1e-13) {
			t.Errorf("reg %g: a→b of the Dirac = %v, want the barycentre of y %v", reg, ab, bar)
		}
	}
}

// TestOTPermutation: y a permutation of well-separated points x (shifted
// by a small translation); as ε → 0 the plan tends to the permutation
// matrix /N, and the barycentric map a→b sends x_i to its image.
func TestOTPermutation(t *testing.T) {
	const n = 8
	r := rand.New(rand.NewPCG(3, 4))
	perm := r.Perm(n)
	x := make([]float64, 2*n)
	for i := 0; i < n; i++ { // a 4×2 grid of step 0.3
		x[2*i], x[2*i+1] = 0.3*float64(i%4), 0.3*float64(i/4)
	}
	y := make([]float64, 2*n)
	for i := 0; i < n; i++ { // y_{perm[i]} = x_i + (0.02, −0.01)
		y[2*perm[i]], y[2*perm[i]+1] = x[2*i]+.02, x[2*i+1]-.01
	}
	for _, reg := range []float64{1e-3, 1e-4} {
		res := must(t)(SolveSample(x, y, 2, nil, nil, OTParams{Reg: reg, Tol: 1e-12}))
		plan, _ := res.Plan.Dense(0)
		worst := 0.0
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				want := 0.0
				if j == perm[i] {
					want = 1.0 / n
				}
				worst = math.Max(worst, math.Abs(plan[i*n+j]-want))
			}
		}
		// The nearest competing coupling costs ≥ 0.05 more per point: e^{−0.05/ε}.
		if bound := math.Exp(-.05/reg) + 1e-12; !(worst < bound) {
			t.Errorf("reg %g: plan is %.3g from the permutation, want < %.3g", reg, worst, bound)
		}
		ab, _ := res.Plan.BarycentricAB()
		for i := 0; i < n; i++ {
			if d := math.Hypot(ab[2*i]-y[2*perm[i]], ab[2*i+1]-y[2*perm[i]+1]); !(d < 1e-6) {
				t.Errorf("reg %g: a→b(x_%d) is %.3g from y_%d", reg, i, d, perm[i])
			}
		}
	}
}

// TestOTGaussians compares the entropic OT value between two 1D Gaussians
// N(m₁, s₁²), N(m₂, s₂²), discretised on fine grids (weights ∝ density),
// with the closed form of Janati et al. (2020, Thm 1; cost |x−y|², ε·KL,
// σ² = ε/2):
//
//	OT = (m₁−m₂)² + s₁² + s₂² − D + σ²(1 − ln 2σ²) + σ² ln(D + σ²),
//	D = sqrt(4 s₁² s₂² + σ⁴).
func TestOTGaussians(t *testing.T) {
	grid := func(m, s float64, n int) (x, w []float64) {
		x, w = make([]float64, n), make([]float64, n)
		tot := 0.0
		for i := range x {
			x[i] = m - 8*s + 16*s*float64(i)/float64(n-1)
			w[i] = math.Exp(-(x[i] - m) * (x[i] - m) / (2 * s * s))
			tot += w[i]
		}
		for i := range w {
			w[i] /= tot
		}
		return x, w
	}
	for _, c := range []struct{ m1, s1, m2, s2, eps float64 }{{0, .3, .4, .5, .1}, {-.2, .5, .3, .2, .05}, {0, .4, 0, .4, .2}} {
		x, a := grid(c.m1, c.s1, 500)
		y, b := grid(c.m2, c.s2, 600)
		res := must(t)(SolveSample(x, y, 1, a, b, OTParams{Reg: c.eps, Tol: 1e-12}))
		sg := c.eps / 2
		D := math.Sqrt(4*c.s1*c.s1*c.s2*c.s2 + sg*sg)
		want := (c.m1-c.m2)*(c.m1-c.m2) + c.s1*c.s1 + c.s2*c.s2 - D + sg*(1-math.Log(2*sg)) + sg*math.Log(D+sg)
		t.Logf("%+v: value %.12f, closed form %.12f (|diff| %.2e), %d iterations", c, res.Value, want, math.Abs(res.Value-want), res.Iterations)
		if !(math.Abs(res.Value-want) < 1e-8) {
			t.Errorf("%+v: value %.12f, want %.12f", c, res.Value, want)
		}
	}
}

// TestOTSymmetryAndLinearity: OT(b, a) is OT(a, b) transposed (potentials
// exchanged), and scaling the cost and ε by s scales the value and
// potentials by s and keeps the plan (matrix, and sqeuclidean = 2 ×
// halfsqeuclidean on points).
func TestOTSymmetryAndLinearity(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n, m := 9, 13
	x, y := randPts(r, n*3, 1), randPts(r, m*3, 1)
	a, b := randPts(r, n, 1), randPts(r, m, 1)
	norm := func(w []float64) {
		s := 0.0
		for _, v := range w {
			s += v + .1
		}
		for i := range w {
			w[i] = (w[i] + .1) / s
		}
	}
	norm(a)
	norm(b)
	for _, unb := range []float64{0, .7} {
		par := OTParams{Reg: .05, Unbalanced: unb, Tol: 1e-13}
		ab := must(t)(SolveSample(x, y, 3, a, b, par))
		ba := must(t)(SolveSample(y, x, 3, b, a, par))
		p1, _ := ab.Plan.Dense(0)
		p2, _ := ba.Plan.Dense(0)
		tr := make([]float64, n*m)
		for i := 0; i < n; i++ {
			for j := 0; j < m; j++ {
				tr[i*m+j] = p2[j*n+i]
			}
		}
		if e := maxDiff(p1, tr); !(e < 1e-12) {
			t.Errorf("unbalanced %g: OT(a,b) − OT(b,a)ᵀ = %.3g", unb, e)
		}
		if e := math.Max(maxDiff(ab.PotentialA, ba.PotentialB), maxDiff(ab.PotentialB, ba.PotentialA)); !(e < 1e-10) || math.Abs(ab.Value-ba.Value) > 1e-12 {
			t.Errorf("unbalanced %g: potentials differ by %.3g, values %g vs %g", unb, e, ab.Value, ba.Value)
		}
		// sqeuclidean (|x−y|², ε) = 2 × halfsqeuclidean (|x−y|²/2, ε/2).
		hpar := par
		hpar.Cost, hpar.Reg, hpar.Unbalanced = HalfSqEuclidean, par.Reg/2, par.Unbalanced/2
		h := must(t)(SolveSample(x, y, 3, a, b, hpar))
		ph, _ := h.Plan.Dense(0)
		if e := maxDiff(p1, ph); !(e < 1e-12) || math.Abs(ab.Value-2*h.Value) > 1e-12 || math.Abs(ab.ValueLinear-2*h.ValueLinear) > 1e-12 {
			t.Errorf("unbalanced %g: sqeuclidean vs 2×halfsqeuclidean: plans differ by %.3g, values %g vs 2×%g", unb, e, ab.Value, h.Value)
		}
		// An explicit matrix C and s·C with s·ε (and s·ρ).
		c := make([]float64, n*m)
		for i := 0; i < n; i++ {
			for j := 0; j < m; j++ {
				for k := 0; k < 3; k++ {
					d := x[i*3+k] - y[j*3+k]
					c[i*m+j] += d * d
				}
			}
		}
		mres := must(t)(Solve(c, n, m, a, b, par))
		pm, _ := mres.Plan.Dense(0)
		if e := maxDiff(p1, pm); !(e < 1e-12) || math.Abs(ab.Value-mres.Value) > 1e-12 {
			t.Errorf("unbalanced %g: points vs their cost matrix: plans differ by %.3g, values %g vs %g", unb, e, ab.Value, mres.Value)
		}
		const s = 3.5
		sc := make([]float64, len(c))
		for i := range c {
			sc[i] = s * c[i]
		}
		spar := par
		spar.Reg, spar.Unbalanced = s*par.Reg, s*par.Unbalanced
		sres := must(t)(Solve(sc, n, m, a, b, spar))
		ps, _ := sres.Plan.Dense(0)
		if e := maxDiff(pm, ps); !(e < 1e-12) || math.Abs(s*mres.Value-sres.Value) > 1e-11 || math.Abs(s*mres.ValueLinear-sres.ValueLinear) > 1e-11 {
			t.Errorf("unbalanced %g: OT_{sC} vs s·OT_C: plans differ by %.3g, values %g vs %g", unb, e, sres.Value, s*mres.Value)
		}
	}
}

// TestOTLazyEqualsDense: on every engine of this machine, float32 and
// float64, online, tensorized and multiscale, the plan products πV, πᵀU and
// the marginals equal the products of the dense plan (computed here in
// float64).
func TestOTLazyEqualsDense(t *testing.T) {
	for _, name := range simd.Paths() {
		t.Run(name, func(t *testing.T) {
			for _, backend := range []core.Backend{core.Online, core.Tensorized, core.Multiscale} {
				lazyVsDense[float64](t, name, backend, 1e-13)
				lazyVsDense[float32](t, name, backend, 1e-5)
			}
		})
	}
}

func lazyVsDense[T core.Float](t *testing.T, name string, backend core.Backend, tol float64) {
	eng, err := simd.ForPath[T](name, core.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	n, m, d, k := 23, 31, 3, 3
	cv := func(v []float64) []T {
		w := make([]T, len(v))
		for i := range v {
			w[i] = T(v[i])
		}
		return w
	}
	x, y := cv(randPts(r, n*d, 1)), cv(randPts(r, m*d, 1))
	v, u := cv(randPts(r, m*k, 2)), cv(randPts(r, n*k, 2))
	for _, cost := range []core.OTCost{core.OTSqEuclidean, core.OTEuclidean} {
		res, err := core.SolveOT(core.Config[T]{Engine: eng}, core.OTParams{Cost: cost, Reg: .05, Backend: backend}, core.OTProblem[T]{N: n, M: m, D: d, X: x, Y: y})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Close()
		plan, err := res.Plan.Dense(0)
		if err != nil {
			t.Fatal(err)
		}
		pv, _ := res.Plan.Times(v, k)
		ptu, _ := res.Plan.TransposeTimes(u, k)
		worst, scale := 0.0, 0.0
		for i := 0; i < n; i++ {
			var ra float64
			for j := 0; j < m; j++ {
				ra += float64(plan[i*m+j])
			}
			worst = math.Max(worst, math.Abs(float64(res.MarginalA[i])-ra))
			for q := 0; q < k; q++ {
				var s float64
				for j := 0; j < m; j++ {
					s += float64(plan[i*m+j]) * float64(v[j*k+q])
				}
				worst, scale = math.Max(worst, math.Abs(float64(pv[i*k+q])-s)), math.Max(scale, math.Abs(s))
			}
		}
		for j := 0; j < m; j++ {
			for q := 0; q < k; q++ {
				var s float64
				for i := 0; i < n; i++ {
					s += float64(plan[i*m+j]) * float64(u[i*k+q])
				}
				worst, scale = math.Max(worst, math.Abs(float64(ptu[j*k+q])-s)), math.Max(scale, math.Abs(s))
			}
		}
		if !(worst <= tol*scale) {
			t.Errorf("%s %v cost %d: lazy products differ from the dense plan's by %.3g (scale %.3g)", name, backend, cost, worst, scale)
		}
		if res.Backend != backend {
			t.Errorf("ran %v, want %v", res.Backend, backend)
		}
	}
}

// TestOTTolerance: with tol, the reported marginal error is below tol and
// equals ‖π1 − a‖₁ + ‖πᵀ1 − b‖₁ recomputed from the dense plan; a smaller
// tol takes more iterations; without tol the fixed schedule runs and the
// error is still reported. Unbalanced, the dual change is below tol.
func TestOTTolerance(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	n, m := 15, 12
	x, y := randPts(r, n*2, 1), randPts(r, m*2, 1)
	prev := 0
	for _, tol := range []float64{1e-4, 1e-8, 1e-12} {
		res := must(t)(SolveSample(x, y, 2, nil, nil, OTParams{Reg: .01, Tol: tol}))
		plan, _ := res.Plan.Dense(0)
		e := 0.0
		for i := 0; i < n; i++ {
			s := 0.0
			for j := 0; j < m; j++ {
				s += plan[i*m+j]
			}
			e += math.Abs(s - 1/float64(n))
		}
		for j := 0; j < m; j++ {
			s := 0.0
			for i := 0; i < n; i++ {
				s += plan[i*m+j]
			}
			e += math.Abs(s - 1/float64(m))
		}
		if !(res.MarginalError < tol) || math.Abs(res.MarginalError-e) > 1e-14 {
			t.Errorf("tol %g: reported error %.6g, recomputed %.6g", tol, res.MarginalError, e)
		}
		if res.Iterations <= prev {
			t.Errorf("tol %g: %d iterations, not more than %d for the larger tol", tol, res.Iterations, prev)
		}
		prev = res.Iterations
	}
	fixed := must(t)(SolveSample(x, y, 2, nil, nil, OTParams{Reg: .01}))
	if !(fixed.MarginalError > 1e-12) || fixed.Iterations >= prev {
		t.Errorf("fixed schedule: %d iterations, error %g", fixed.Iterations, fixed.MarginalError)
	}
	unb := must(t)(SolveSample(x, y, 2, nil, nil, OTParams{Reg: .01, Unbalanced: .3, Tol: 1e-10}))
	if !(unb.MarginalError < 1e-10) {
		t.Errorf("unbalanced: dual change %g ≥ tol", unb.MarginalError)
	}
	// MaxIter bounds the extra iterations.
	capped := must(t)(SolveSample(x, y, 2, nil, nil, OTParams{Reg: .01, Tol: 1e-300, MaxIter: 7}))
	if capped.Iterations != fixed.Iterations+7 {
		t.Errorf("max_iter 7: %d iterations, want %d + 7", capped.Iterations, fixed.Iterations)
	}
}

// TestSamplesLossTolerance: SamplesLoss with tol converges (value and
// gradient at tol 1e-12 agree with tol 1e-14 to 1e-10, where the fixed
// schedule is far off on this small problem), reports an error below tol,
// and its value (raw and debiased) equals the OT solver's at the same ε.
func TestSamplesLossTolerance(t *testing.T) {
	x := []float64{0, 0, 1, 0, 0, 1, .5, .5, .2, .8, .9, .9}
	y := []float64{.1, .2, .8, .1, .3, .9, .6, .4, .7, .7, .2, .5}
	run := func(tol float64, debias bool) *Result[float64] {
		par := DefaultParams()
		par.Blur, par.Debias, par.Tol, par.Backend = .3, debias, tol, Online
		res, err := Evaluate(par, Problem[float64]{B: 1, N: 6, M: 6, D: 2, X: x, Y: y}, Request[float64]{GradX: true})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, debias := range []bool{false, true} {
		fixed, tight, tighter := run(0, debias), run(1e-12, debias), run(1e-14, debias)
		if !math.IsNaN(fixed.MarginalError[0]) || !(tight.MarginalError[0] < 1e-12) || tight.Iterations[0] <= fixed.Iterations[0] {
			t.Errorf("debias %v: fixed error %g (%d it.), tol 1e-12 error %g (%d it.)", debias, fixed.MarginalError[0], fixed.Iterations[0], tight.MarginalError[0], tight.Iterations[0])
		}
		if e := maxDiff(tight.GradX, tighter.GradX); !(e < 1e-10) || math.Abs(tight.Value[0]-tighter.Value[0]) > 1e-12 {
			t.Errorf("debias %v: tol 1e-12 vs 1e-14: gradients differ by %.3g, values %g vs %g", debias, e, tight.Value[0], tighter.Value[0])
		}
		t.Logf("debias %v: fixed schedule vs converged: value %.3g, gradient %.3g off", debias, math.Abs(fixed.Value[0]-tighter.Value[0]), maxDiff(fixed.GradX, tighter.GradX))
		ot := must(t)(SolveSample(x, y, 2, nil, nil, OTParams{Cost: HalfSqEuclidean, Reg: .09, Tol: 1e-14, Debias: debias}))
		if math.Abs(ot.Value-tighter.Value[0]) > 1e-12 || (ot.PotentialAA != nil) != debias {
			t.Errorf("debias %v: SamplesLoss value %.15g, OT solver %.15g", debias, tighter.Value[0], ot.Value)
		}
	}
}

// TestOTErrors: bad arguments give coded errors naming them, the inputs
// are left untouched, and a dense plan over the cap is refused.
func TestOTErrors(t *testing.T) {
	x, y := []float64{0, 0, 1, 1}, []float64{.5, .5, 1, 0, 0, 1}
	x0, y0 := slices.Clone(x), slices.Clone(y)
	for _, c := range []struct {
		name string
		call func() error
		code core.Code
	}{
		{"no reg", func() error { _, err := SolveSample(x, y, 2, nil, nil, OTParams{}); return err }, core.ErrInvalidOption},
		{"negative reg", func() error { _, err := SolveSample(x, y, 2, nil, nil, OTParams{Reg: -1}); return err }, core.ErrInvalidOption},
		{"nan tol", func() error { _, err := SolveSample(x, y, 2, nil, nil, OTParams{Reg: 1, Tol: math.NaN()}); return err }, core.ErrInvalidOption},
		{"bad cost", func() error { _, err := SolveSample(x, y, 2, nil, nil, OTParams{Reg: 1, Cost: 9}); return err }, core.ErrInvalidOption},
		{"bad scaling", func() error { _, err := SolveSample(x, y, 2, nil, nil, OTParams{Reg: 1, Scaling: 1}); return err }, core.ErrInvalidOption},
		{"odd length", func() error { _, err := SolveSample(x[:3], y, 2, nil, nil, OTParams{Reg: 1}); return err }, core.ErrShape},
		{"weights length", func() error { _, err := SolveSample(x, y, 2, []float64{1}, nil, OTParams{Reg: 1}); return err }, core.ErrShape},
		{"negative weight", func() error {
			_, err := SolveSample(x, y, 2, []float64{2, -1}, nil, OTParams{Reg: 1})
			return err
		}, core.ErrValue},
		{"masses", func() error { _, err := SolveSample(x, y, 2, []float64{1, 1}, nil, OTParams{Reg: 1}); return err }, core.ErrValue},
		{"nan point", func() error {
			_, err := SolveSample([]float64{0, math.NaN()}, y, 2, nil, nil, OTParams{Reg: 1})
			return err
		}, core.ErrValue},
		{"matrix shape", func() error { _, err := Solve([]float64{1, 2, 3}, 2, 2, nil, nil, OTParams{Reg: 1}); return err }, core.ErrShape},
		{"matrix debias", func() error {
			_, err := Solve([]float64{1, 2, 3, 4}, 2, 2, nil, nil, OTParams{Reg: 1, Debias: true})
			return err
		}, core.ErrInvalidOption},
		{"matrix blur", func() error { _, err := Solve([]float64{1, 2, 3, 4}, 2, 2, nil, nil, OTParams{Blur: 1}); return err }, core.ErrInvalidOption},
		{"multiscale matrix", func() error {
			_, err := Solve([]float64{1, 2, 3, 4}, 2, 2, nil, nil, OTParams{Reg: 1, Backend: core.Multiscale})
			return err
		}, core.ErrInvalidOption},
	} {
		err := c.call()
		var ce *core.Error
		if !errors.As(err, &ce) || ce.Code != c.code {
			t.Errorf("%s: got %v, want an error with code %d", c.name, err, c.code)
		}
	}
	res := must(t)(SolveSample(x, y, 2, nil, nil, OTParams{Reg: .1}))
	if _, err := res.Plan.Dense(5); err == nil {
		t.Error("a 2×3 dense plan under a cap of 5 entries was not refused")
	}
	if _, err := res.Plan.Times([]float64{1, 2}, 1); err == nil {
		t.Error("a plan product with a wrong-sized v was not refused")
	}
	if !slices.Equal(x, x0) || !slices.Equal(y, y0) {
		t.Error("the solver modified its inputs")
	}
}

// TestOTProgress: the OT solver reports progress (stage "ot", the
// iteration count growing up to the total, schedule plus max_iter with
// tol) and a report returning true cancels it with ErrCancelled.
func TestOTProgress(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	x, y := randPts(r, 40*2, 1), randPts(r, 30*2, 1)
	var last, total int
	calls := 0
	res := must(t)(SolveSample(x, y, 2, nil, nil, OTParams{Reg: .01, Tol: 1e-10, MaxIter: 500, Progress: func(stage string, k, n int) bool {
		if stage != "ot" || k < last {
			t.Errorf("report %q %d/%d after %d", stage, k, n, last)
		}
		last, total = k, n
		calls++
		return false
	}}))
	fixed := must(t)(SolveSample(x, y, 2, nil, nil, OTParams{Reg: .01}))
	if calls < res.Iterations || last != res.Iterations || total != fixed.Iterations+500 {
		t.Errorf("%d reports, last %d of %d, for %d iterations", calls, last, total, res.Iterations)
	}
	_, err := SolveSample(x, y, 2, nil, nil, OTParams{Reg: .01, Tol: 1e-300, MaxIter: 100000, Progress: func(_ string, k, _ int) bool { return k > 20 }})
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Code != core.ErrCancelled {
		t.Errorf("cancelled solve: got %v, want ErrCancelled", err)
	}
}

// TestTolParams: SamplesLoss refuses a bad tol or max_iter, and tol with
// a loss that does not iterate to one.
func TestTolParams(t *testing.T) {
	for _, c := range []func(*Params){
		func(p *Params) { p.Tol = -1 },
		func(p *Params) { p.Tol = math.Inf(1) },
		func(p *Params) { p.MaxIter = -2 },
		func(p *Params) { p.Tol, p.Loss = 1e-6, Hausdorff },
		func(p *Params) { p.Tol, p.Loss = 1e-6, Energy },
	} {
		par := DefaultParams()
		c(&par)
		var ce *core.Error
		if err := par.Validate(); !errors.As(err, &ce) || ce.Code != core.ErrInvalidOption {
			t.Errorf("%+v: got %v, want ErrInvalidOption", par, err)
		}
	}
}

// TestOTMultiscale: the OT solver on the multiscale geometry (Taylor level,
// truncated fine iterations) gives the online solution: value, potentials'
// marginals and the barycentric map within 1e-6 (float64, converged to tol),
// balanced and unbalanced, and says which backend ran.
// solveOnlineAndMultiscale solves pr online and multiscale with par (its
// Backend ignored); the results are closed when t ends.
func solveOnlineAndMultiscale(t *testing.T, par core.OTParams, pr core.OTProblem[float64]) (on, ms *core.OTResult[float64]) {
	t.Helper()
	solve := func(b core.Backend) *core.OTResult[float64] {
		par.Backend = b
		res, err := core.SolveOT(core.Config[float64]{}, par, pr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Close() })
		return res
	}
	return solve(core.Online), solve(core.Multiscale)
}

func TestOTMultiscale(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	n, m, d := 1500, 2500, 2
	x, y := randPts(r, n*d, 1), randPts(r, m*d, 1)
	for _, unb := range []float64{0, 1} {
		par := core.OTParams{Cost: core.OTSqEuclidean, Reg: 0.01, Unbalanced: unb, Tol: 1e-10}
		on, ms := solveOnlineAndMultiscale(t, par, core.OTProblem[float64]{N: n, M: m, D: d, X: x, Y: y})
		if ms.Backend != core.Multiscale || !strings.Contains(ms.Note, "multiscale") {
			t.Errorf("unbalanced=%g: backend %v, note %q: want multiscale", unb, ms.Backend, ms.Note)
		}
		if e := math.Abs(ms.Value-on.Value) / math.Abs(on.Value); !(e <= 1e-6) {
			t.Errorf("unbalanced=%g: value %.12g vs online %.12g (relative %.2e)", unb, ms.Value, on.Value, e)
		}
		bm, _ := ms.Plan.BarycentricAB()
		bo, _ := on.Plan.BarycentricAB()
		var worst float64
		for i := range bo {
			worst = math.Max(worst, math.Abs(bm[i]-bo[i]))
		}
		if !(worst <= 1e-6) {
			t.Errorf("unbalanced=%g: barycentric map differs by %.2e", unb, worst)
		}
	}
	bad := core.OTParams{Cost: core.OTPower, Q: 1.5, Reg: 0.01, Backend: core.Multiscale}
	if _, err := core.SolveOT(core.Config[float64]{}, bad, core.OTProblem[float64]{N: n, M: m, D: d, X: x, Y: y}); err == nil || !strings.Contains(err.Error(), "backend") {
		t.Errorf("multiscale with the power cost: got %v, want an error naming backend", err)
	}
}

// latticePts returns n points in [0,1]^d near the sites of a lattice of c
// sites per side (jitter s): data whose voxel hierarchy has far fewer
// occupied cells than points, spread over the whole square.
func latticePts(r *rand.Rand, n, d, c int, s float64) []float64 {
	v := make([]float64, n*d)
	for i := range v {
		v[i] = (float64(r.IntN(c))+0.5)/float64(c) + s*r.NormFloat64()
	}
	return v
}

// TestOTMultiscaleCoarseLevels: with a tolerance, the multiscale solve runs
// its large and middle temperatures on cluster centroids (the note says how
// many iterations) and converges on the points at the final ε, so its
// value, potentials and plan are the online solve's at the same tolerance:
// the path to the final ε does not matter once converged. Balanced and
// unbalanced, on clouds gathered near lattice sites (few occupied voxels:
// the coarse levels exist at these sizes).
func TestOTMultiscaleCoarseLevels(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	n, m, d := 1000, 1200, 2
	x, y := latticePts(r, n, d, 20, 0.003), latticePts(r, m, d, 20, 0.003)
	for _, unb := range []float64{0, 1} {
		par := core.OTParams{Cost: core.OTSqEuclidean, Reg: 0.006, Unbalanced: unb, Tol: 1e-9, MaxIter: 20000}
		on, ms := solveOnlineAndMultiscale(t, par, core.OTProblem[float64]{N: n, M: m, D: d, X: x, Y: y})
		t.Logf("unbalanced=%g: %d iterations online, %d multiscale: %s", unb, on.Iterations, ms.Iterations, ms.Note)
		if !strings.Contains(ms.Note, "on cluster centroids") {
			t.Errorf("unbalanced=%g: note %q: want coarse-level iterations", unb, ms.Note)
		}
		if e := math.Abs(ms.Value-on.Value) / math.Abs(on.Value); !(e <= 1e-7) {
			t.Errorf("unbalanced=%g: value %.12g vs online %.12g (relative %.2e)", unb, ms.Value, on.Value, e)
		} else {
			t.Logf("unbalanced=%g: value relative difference %.2e", unb, e)
		}
		// Potentials up to the constant a balanced problem leaves free.
		shift := 0.0
		if unb == 0 {
			shift = ms.PotentialA[0] - on.PotentialA[0]
		}
		worst, scale := 0.0, 0.0
		for i := range on.PotentialA {
			worst = math.Max(worst, math.Abs(ms.PotentialA[i]-shift-on.PotentialA[i]))
			scale = math.Max(scale, math.Abs(on.PotentialA[i]))
		}
		for j := range on.PotentialB {
			worst = math.Max(worst, math.Abs(ms.PotentialB[j]+shift-on.PotentialB[j]))
		}
		if !(worst <= 1e-6*par.Reg) {
			t.Errorf("unbalanced=%g: potentials differ by %.2e (ε = %g, scale %.2e)", unb, worst, par.Reg, scale)
		}
		bm, _ := ms.Plan.BarycentricAB()
		bo, _ := on.Plan.BarycentricAB()
		worst = 0
		for i := range bo {
			worst = math.Max(worst, math.Abs(bm[i]-bo[i]))
		}
		if !(worst <= 1e-6) {
			t.Errorf("unbalanced=%g: barycentric map differs by %.2e", unb, worst)
		}
	}
}
