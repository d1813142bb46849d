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

// powCost is |x − y|^q/q for row-major points u, v of dimension d.
func powCost(u, v []float64, q float64) float64 {
	s := 0.0
	for k := range u {
		s += (u[k] - v[k]) * (u[k] - v[k])
	}
	return math.Pow(s, q/2) / q
}

// powerEngines are the engines the power cost is checked on: the portable
// one and every SIMD path of this machine (which route it to the portable
// Pairs, saying so).
func powerEngines[T core.Float](t *testing.T) map[string]core.Engine[T] {
	engs := map[string]core.Engine[T]{"portable": core.Portable[T](core.Resources{})}
	for _, name := range simd.Paths() {
		e, err := simd.ForPath[T](name, core.Resources{})
		if err != nil {
			t.Fatal(err)
		}
		engs["simd-"+name] = e
	}
	return engs
}

// TestOTPowerDirac: a Dirac x against a weighted cloud has one coupling,
// π_1j = b_j, whatever ε, so value = value_linear = Σ_j b_j |x − y_j|^q/q,
// on every engine and backend, for q below, between and above 1 and 2.
func TestOTPowerDirac(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	y := randPts(r, 9*3, 1)
	b := []float64{.1, .2, .05, .15, .2, .1, .05, .1, .05}
	x := []float64{.3, .6, .2}
	for name, eng := range powerEngines[float64](t) {
		for _, backend := range []core.Backend{core.Online, core.Tensorized} {
			for _, q := range []float64{1.25, 1.5, 3, 4.5} {
				want := 0.0
				for j := range b {
					want += b[j] * powCost(x, y[3*j:3*j+3], q)
				}
				for _, reg := range []float64{1e-3, .1, 5} {
					res, err := core.SolveOT(core.Config[float64]{Engine: eng}, core.OTParams{Cost: core.OTPower, Q: q, Reg: reg, Tol: 1e-13, Backend: backend},
						core.OTProblem[float64]{N: 1, M: 9, D: 3, X: x, Y: y, B: b})
					if err != nil {
						t.Fatal(err)
					}
					plan, _ := res.Plan.Dense(0)
					if d := maxDiff(plan, b); d > 1e-12 {
						t.Errorf("%s %v q=%g reg=%g: plan differs from b by %.3g", name, backend, q, reg, d)
					}
					for _, v := range []struct {
						what string
						got  float64
					}{{"value", res.Value}, {"value_linear", res.ValueLinear}} {
						if math.Abs(v.got-want) > 1e-12*math.Max(1, want) {
							t.Errorf("%s %v q=%g reg=%g: %s %.16g, want %.16g", name, backend, q, reg, v.what, v.got, want)
						}
					}
					if res.Engine != "portable" || (eng.Name() != "portable") != strings.Contains(res.Note, "|x−y|^q/q") {
						t.Errorf("%s: engine %q note %q: want portable, with a note iff the engine is not", name, res.Engine, res.Note)
					}
					res.Close()
				}
			}
		}
	}
}

// TestOTPowerSortedMatch: in 1D, for a convex cost |x − y|^q/q, the optimal
// plan between N equal-mass points matches them in sorted order; with
// points 1 apart, each y within 0.4 of its match (any other matching costs
// ≥ 0.3 more) and ε = 10⁻³, the entropic plan is that permutation up to
// e^{−300}, so value_linear = Σ |x₍ᵢ₎ − y₍ᵢ₎|^q/q / N to 1e-9 and a_to_b
// is the matched point. The solve starts at ε (diameter 10⁻³: a schedule
// of one temperature): the default ε-scaling passes the weakly coupled
// regime ε ≈ 10⁻² at one iteration per ε and, for q = 3, leaves 1/6 of the
// mass on the wrong neighbours, which iterations at ε = 10⁻³ (couplings
// e^{−70}) cannot move — a limit of the schedule, not of the cost: from a
// cold start at ε the loop converges in 3 iterations.
func TestOTPowerSortedMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n := 12
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i] = float64(i) + .1*r.Float64()
		y[i] = float64(i) + .2 + .2*r.Float64()
	}
	r.Shuffle(n, func(i, j int) { x[i], x[j] = x[j], x[i] })
	r.Shuffle(n, func(i, j int) { y[i], y[j] = y[j], y[i] })
	xs, ys := slices.Clone(x), slices.Clone(y)
	slices.Sort(xs)
	slices.Sort(ys)
	for name, eng := range powerEngines[float64](t) {
		for _, q := range []float64{1.5, 2.5, 3} {
			want := 0.0
			for i := range xs {
				want += math.Pow(math.Abs(xs[i]-ys[i]), q) / q / float64(n)
			}
			res, err := core.SolveOT(core.Config[float64]{Engine: eng}, core.OTParams{Cost: core.OTPower, Q: q, Reg: 1e-3, Tol: 1e-12, Diameter: 1e-3},
				core.OTProblem[float64]{N: n, M: n, D: 1, X: x, Y: y})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(res.ValueLinear-want) > 1e-9 {
				t.Errorf("%s q=%g: value_linear %.12g, want the sorted matching's %.12g", name, q, res.ValueLinear, want)
			}
			ab, _ := res.Plan.BarycentricAB()
			for i := range x {
				k, _ := slices.BinarySearch(xs, x[i])
				if math.Abs(ab[i]-ys[k]) > 1e-9 {
					t.Errorf("%s q=%g: a_to_b[%d] = %.12g, want its sorted match %.12g", name, q, i, ab[i], ys[k])
					break
				}
			}
			res.Close()
		}
	}
}

// TestOTPowerTranslation: for a convex cost h(x − y) the translation
// y = x + t is an optimal map (Jensen: Σ h(x_i − y_σ(i))/N ≥ h(−t)), so
// between a 2D grid of spacing 1 and its translate by |t| = 0.25 the
// entropic plan at ε = 10⁻³ is the translation up to e^{−100} (any other
// matching costs ≥ 0.1 more): value_linear = |t|^q/q.
func TestOTPowerTranslation(t *testing.T) {
	var x, y []float64
	tr := []float64{.21, -.13}
	for i := 0; i < 4; i++ {
		for j := 0; j < 5; j++ {
			x = append(x, float64(i), float64(j))
			y = append(y, float64(i)+tr[0], float64(j)+tr[1])
		}
	}
	n := len(x) / 2
	for name, eng := range powerEngines[float64](t) {
		for _, q := range []float64{1.5, 3} {
			want := math.Pow(math.Hypot(tr[0], tr[1]), q) / q
			res, err := core.SolveOT(core.Config[float64]{Engine: eng}, core.OTParams{Cost: core.OTPower, Q: q, Reg: 1e-3, Tol: 1e-12},
				core.OTProblem[float64]{N: n, M: n, D: 2, X: x, Y: y})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(res.ValueLinear-want) > 1e-9 {
				t.Errorf("%s q=%g: value_linear %.12g, want |t|^q/q = %.12g", name, q, res.ValueLinear, want)
			}
			ab, _ := res.Plan.BarycentricAB()
			if d := maxDiff(ab, y); d > 1e-9 {
				t.Errorf("%s q=%g: a_to_b differs from the translate by %.3g", name, q, d)
			}
			res.Close()
		}
	}
}

// TestOTPowerGradient: the OT value's gradient w.r.t. x (envelope theorem,
// balanced, not debiased) is Σ_j π_ij s_ij^{q/2−1} (x_i − y_j); it matches
// central finite differences of the converged value, float64, on the
// online and tensorized backends.
func TestOTPowerGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	n, m, d := 5, 6, 2
	x, y := randPts(r, n*d, 1), randPts(r, m*d, 1)
	for _, backend := range []core.Backend{core.Online, core.Tensorized} {
		for _, q := range []float64{1.5, 3} {
			par := core.OTParams{Cost: core.OTPower, Q: q, Reg: .1, Tol: 1e-14, MaxIter: 100000, Backend: backend}
			solve := func(x []float64) *core.OTResult[float64] {
				res, err := core.SolveOT(core.Config[float64]{}, par, core.OTProblem[float64]{N: n, M: m, D: d, X: x, Y: y})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			res := solve(x)
			plan, _ := res.Plan.Dense(0)
			res.Close()
			const h = 1e-5
			for i := 0; i < n; i++ {
				for k := 0; k < d; k++ {
					g := 0.0
					for j := 0; j < m; j++ {
						dx, dy := x[i*d]-y[j*d], x[i*d+1]-y[j*d+1]
						s := dx*dx + dy*dy
						g += plan[i*m+j] * math.Pow(s, q/2-1) * (x[i*d+k] - y[j*d+k])
					}
					xp, xm := slices.Clone(x), slices.Clone(x)
					xp[i*d+k] += h
					xm[i*d+k] -= h
					rp, rm := solve(xp), solve(xm)
					fd := (rp.Value - rm.Value) / (2 * h)
					rp.Close()
					rm.Close()
					if math.Abs(fd-g) > 1e-7 {
						t.Errorf("%v q=%g: d value/d x[%d][%d] = %.10g by finite differences, %.10g from the plan", backend, q, i, k, fd, g)
					}
				}
			}
		}
	}
}

// TestOTPowerSpecialExponents: q = 2 is halfsqeuclidean and q = 1
// euclidean, bit for bit (they run on the engines' own paths); ε from blur
// is blur^q and the schedule starts at the cost at the diameter.
func TestOTPowerSpecialExponents(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	x, y := randPts(r, 20*2, 1), randPts(r, 25*2, 1)
	for _, c := range []struct {
		q    float64
		cost core.OTCost
	}{{2, core.OTHalfSqEuclidean}, {1, core.OTEuclidean}} {
		a := must(t)(SolveSample(x, y, 2, nil, nil, OTParams{Cost: core.OTPower, Q: c.q, Blur: .1}))
		b := must(t)(SolveSample(x, y, 2, nil, nil, OTParams{Cost: c.cost, Blur: .1}))
		if a.Value != b.Value || !slices.Equal(a.PotentialA, b.PotentialA) || a.Engine != b.Engine {
			t.Errorf("q=%g: value %.17g engine %s, want %v's %.17g engine %s bit for bit", c.q, a.Value, a.Engine, c.cost, b.Value, b.Engine)
		}
	}
	res := must(t)(SolveSample(x, y, 2, nil, nil, OTParams{Cost: core.OTPower, Q: 3, Blur: .2, Reach: .5}))
	if res.Eps != math.Pow(.2, 3) || res.Rho != math.Pow(.5, 3) {
		t.Errorf("q=3: ε %g ρ %g, want blur^3 = %g and reach^3 = %g", res.Eps, res.Rho, math.Pow(.2, 3), math.Pow(.5, 3))
	}
}

// TestOTPowerFloat32: float32 agrees with float64 on the power cost
// (value to 1e-5 relative), online and tensorized.
func TestOTPowerFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	n, m, d := 30, 40, 3
	x, y := randPts(r, n*d, 1), randPts(r, m*d, 1)
	x32, y32 := make([]float32, len(x)), make([]float32, len(y))
	for i := range x {
		x32[i] = float32(x[i])
	}
	for i := range y {
		y32[i] = float32(y[i])
	}
	for _, backend := range []core.Backend{core.Online, core.Tensorized} {
		par := OTParams{Cost: core.OTPower, Q: 1.5, Blur: .1, Backend: backend}
		r64 := must(t)(SolveSample(x, y, d, nil, nil, par))
		r32, err := SolveSample(x32, y32, d, nil, nil, par)
		if err != nil {
			t.Fatal(err)
		}
		if e := math.Abs(r32.Value-r64.Value) / math.Abs(r64.Value); !(e < 1e-5) {
			t.Errorf("%v: float32 value %.8g vs float64 %.8g (rel %.2g)", backend, r32.Value, r64.Value, e)
		}
		r32.Close()
	}
}

// TestOTPowerErrors: q must be ≥ 1 and finite for the power cost, unset
// for the others, and the power cost needs points.
func TestOTPowerErrors(t *testing.T) {
	x := []float64{0, 1}
	for _, par := range []OTParams{
		{Cost: core.OTPower, Reg: .1}, {Cost: core.OTPower, Q: .5, Reg: .1}, {Cost: core.OTPower, Q: math.Inf(1), Reg: .1},
		{Cost: core.OTPower, Q: math.NaN(), Reg: .1}, {Cost: core.OTSqEuclidean, Q: 3, Reg: .1},
	} {
		_, err := SolveSample(x, x, 1, nil, nil, par)
		var e *core.Error
		if !errors.As(err, &e) || e.Code != core.ErrInvalidOption || !strings.Contains(e.Msg, "q") {
			t.Errorf("q=%g cost %d: err %v, want an invalid-option error naming q", par.Q, par.Cost, err)
		}
	}
	if _, err := Solve([]float64{0, 1, 1, 0}, 2, 2, nil, nil, OTParams{Cost: core.OTPower, Q: 3, Reg: .1}); err == nil {
		t.Error("power cost with a cost matrix: no error")
	}
}
