package geomloss

import (
	"fmt"
	"math"
	"testing"
)

// Unbalanced entropic OT between two 1D Gaussian measures, in closed form
// (Janati, Muzellec, Peyré, Cuturi, NeurIPS 2020, "Entropic optimal
// transport between unbalanced Gaussian measures has a closed form",
// Theorem 3 with d = 1). The problem is
//
//	UOT(α, β) = min_π ∫|x−y|² dπ + 2σ²·KL(π | α⊗β) + γ·KL(π₁ | α) + γ·KL(π₂ | β)
//
// for α = m_a·N(a, A), β = m_b·N(b, B) (A, B variances) and the generalised
// KL(p | q) = ∫ log(dp/dq) dp − m(p) + m(q). It is exactly the problem our
// solver's Value solves with the cost sqeuclidean (|x−y|², no ½), ε = reg =
// 2σ² and ρ = unbalanced = γ: with π₁ = a·e^{−f/ρ}, π₂ = b·e^{−g/ρ} at
// the optimum, the dual value of core.DualSide (raw, unbalanced) is
// ρ(m_a + m_b) + ε·m_a·m_b − (2ρ + ε)·m(π), which is the paper's Eq. (37)
// γ(m_a + m_b) + 2σ² m_a m_b − 2(σ² + γ)·m(π). In blur/reach terms
// (ε = 2·blur², ρ = 2·reach² for sqeuclidean) σ = blur and γ = 2·reach².
//
// With τ = γ/(2σ² + γ), λ = σ² + γ/2, X = A + B + λ,
// Ã = (γ/2)·A/(A + λ), B̃ = (γ/2)·B/(B + λ), C = sqrt(ÃB̃/τ + σ⁴/4) − σ²/2:
//
//	m(π) = σ^{σ²/(γ+σ²)} · (m_a m_b C·sqrt((ÃB̃)^τ/(AB)))^{1/(τ+1)}
//	       / sqrt(C − 2ÃB̃/γ) · exp(−(a−b)²/(2(τ+1)X))
//
// and π/m(π) is the Gaussian of mean (a + A(b−a)/X, b + B(a−b)/X) and
// covariance [[(1 + C/λ)(A − A²/X), ·], [·, (1 + C/λ)(B − B²/X)]]: the
// marginals π₁, π₂ have mass m(π) and those means and variances.
type uotGaussian struct {
	Value, Mass              float64
	MeanA, MeanB, VarA, VarB float64 // of the plan's marginals π₁ (on x) and π₂ (on y)
}

func uotGaussian1D(ma, a, A, mb, b, B, sigma, gamma float64) uotGaussian {
	s2 := sigma * sigma
	tau, lam := gamma/(2*s2+gamma), s2+gamma/2
	X := A + B + lam
	At, Bt := gamma/2*A/(A+lam), gamma/2*B/(B+lam)
	C := math.Sqrt(At*Bt/tau+s2*s2/4) - s2/2
	mpi := math.Pow(sigma, s2/(gamma+s2)) *
		math.Pow(ma*mb*C*math.Sqrt(math.Pow(At*Bt, tau)/(A*B)), 1/(tau+1)) /
		math.Sqrt(C-2*At*Bt/gamma) *
		math.Exp(-(a-b)*(a-b)/(2*(tau+1)*X))
	return uotGaussian{
		Value: gamma*(ma+mb) + 2*s2*ma*mb - 2*(s2+gamma)*mpi,
		Mass:  mpi,
		MeanA: a + A*(b-a)/X, MeanB: b + B*(a-b)/X,
		VarA: (1 + C/lam) * (A - A*A/X), VarB: (1 + C/lam) * (B - B*B/X),
	}
}

// balancedGaussian1D is the balanced closed form (Theorem 1, d = 1) of
// m·OT between m·N(a, A) and m·N(b, B) (cost |x−y|², 2σ²·KL): the limit
// γ → ∞ of uotGaussian1D.
func balancedGaussian1D(a, A, b, B, sigma float64) float64 {
	s2 := sigma * sigma
	D := math.Sqrt(4*A*B + s2*s2)
	return (a-b)*(a-b) + A + B - D + s2*(1-math.Log(2*s2)) + s2*math.Log(D+s2)
}

// TestUOTGaussianOracle checks the closed form itself, independently of the
// solver: as γ → ∞ its value tends to the balanced Theorem 1 (the
// difference is O(1/γ)), its mass to 1 and its marginals to N(a, A),
// N(b, B).
func TestUOTGaussianOracle(t *testing.T) {
	a, A, b, B, sigma := .1, .09, .5, .04, .3
	want := balancedGaussian1D(a, A, b, B, sigma)
	for _, gamma := range []float64{1e4, 1e6} {
		u := uotGaussian1D(1, a, A, 1, b, B, sigma, gamma)
		tol := 30 / gamma
		t.Logf("γ %g: value %.10f (balanced %.10f), mass %.10f, marginals N(%.6f, %.6f), N(%.6f, %.6f)", gamma, u.Value, want, u.Mass, u.MeanA, u.VarA, u.MeanB, u.VarB)
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"value", u.Value, want}, {"mass", u.Mass, 1}, {"mean a", u.MeanA, a}, {"mean b", u.MeanB, b}, {"var a", u.VarA, A}, {"var b", u.VarB, B}} {
			if !(math.Abs(c.got-c.want) < tol) {
				t.Errorf("γ %g: %s %.10f, balanced limit %.10f", gamma, c.name, c.got, c.want)
			}
		}
	}
}

// gaussGrid samples m·N(mu, v) on n points of [lo, hi]: weights = density ×
// spacing (not renormalised, so the grid's mass is m up to the quadrature
// error).
func gaussGrid(n int, lo, hi, m, mu, v float64) (x, w []float64) {
	h := (hi - lo) / float64(n-1)
	x, w = make([]float64, n), make([]float64, n)
	for i := range x {
		x[i] = lo + h*float64(i)
		w[i] = m * h * math.Exp(-(x[i]-mu)*(x[i]-mu)/(2*v)) / math.Sqrt(2*math.Pi*v)
	}
	return x, w
}

// moments returns the mass, mean and variance of the measure Σ w_i δ_{x_i}.
func moments(x, w []float64) (m, mean, v float64) {
	for i := range x {
		m += w[i]
		mean += w[i] * x[i]
	}
	mean /= m
	for i := range x {
		v += w[i] * (x[i] - mean) * (x[i] - mean)
	}
	return m, mean, v / m
}

// TestOTUnbalancedGaussians solves unbalanced OT between the grid
// discretisations of m_a·N(a, A) and m_b·N(b, B) (m_a ≠ m_b) with the
// sqeuclidean cost, reg = 2σ², unbalanced = γ (and once through blur = σ,
// reach = sqrt(γ/2)), and compares the value, the plan's marginal masses
// and the marginals' means and variances with uotGaussian1D.
//
// Discretisation error: every sum the solver does (the soft-mins, the
// marginals, the moments) is the trapezoidal rule, on a uniform grid, of a
// smooth integrand whose Gaussian factor has a width w no smaller than
// about min(σ, sqrt(A), sqrt(B)); by Poisson summation its error is
// O(exp(−2π²w²/h²)) for spacing h, plus the tails beyond the grid's ends
// (here beyond 10 standard deviations, ≈ e^{−50}). On the fine grid
// (601 points, h ≤ 0.008, w ≥ 0.2) both are far below 1e-15, so the
// comparison is at the solver's tolerance and rounding: 1e-11 on every
// quantity (measured: ≤ 2e-14). The coarse grid (21 points, h = one standard
// deviation of the Gaussians) shows the convergence: its worst error is above 1e-8 and
// at least 1000 times the fine grid's (measured 2e-8 to 2e-6).
func TestOTUnbalancedGaussians(t *testing.T) {
	type tc struct{ ma, a, A, mb, b, B, sigma, gamma float64 }
	cases := []tc{
		{1, 0, .09, 1.5, .6, .04, .3, 1},
		{.7, -.2, .16, 1.3, .3, .09, .25, .3},
		{2, .1, .05, .5, .2, .12, .4, 4},
	}
	solve := func(c tc, n int, par OTParams) (uotGaussian, error) {
		x, wa := gaussGrid(n, c.a-10*math.Sqrt(c.A), c.a+10*math.Sqrt(c.A), c.ma, c.a, c.A)
		y, wb := gaussGrid(n+17, c.b-10*math.Sqrt(c.B), c.b+10*math.Sqrt(c.B), c.mb, c.b, c.B)
		res, err := SolveSample(x, y, 1, wa, wb, par)
		if err != nil {
			return uotGaussian{}, err
		}
		defer res.Close()
		mA, muA, vA := moments(x, res.MarginalA)
		mB, muB, vB := moments(y, res.MarginalB)
		if math.Abs(mA-mB) > 1e-9*mA {
			return uotGaussian{}, fmt.Errorf("the plan's two marginal masses differ: %.12f vs %.12f", mA, mB)
		}
		return uotGaussian{Value: res.Value, Mass: mA, MeanA: muA, MeanB: muB, VarA: vA, VarB: vB}, nil
	}
	worst := func(g, w uotGaussian) (string, float64) {
		name, e := "", 0.0
		for _, q := range []struct {
			name      string
			got, want float64
		}{{"value", g.Value, w.Value}, {"mass", g.Mass, w.Mass}, {"mean a", g.MeanA, w.MeanA}, {"mean b", g.MeanB, w.MeanB}, {"var a", g.VarA, w.VarA}, {"var b", g.VarB, w.VarB}} {
			if d := math.Abs(q.got - q.want); d > e || math.IsNaN(d) {
				name, e = q.name, d
			}
		}
		return name, e
	}
	for _, c := range cases {
		want := uotGaussian1D(c.ma, c.a, c.A, c.mb, c.b, c.B, c.sigma, c.gamma)
		par := OTParams{Reg: 2 * c.sigma * c.sigma, Unbalanced: c.gamma, Tol: 1e-13, MaxIter: 100000}
		fine, err := solve(c, 601, par)
		if err != nil {
			t.Fatal(err)
		}
		nf, ef := worst(fine, want)
		t.Logf("%+v: closed form %+v", c, want)
		t.Logf("  fine grid:   %+v (worst %s, %.2e)", fine, nf, ef)
		if !(ef < 1e-11) {
			t.Errorf("%+v: fine grid: %s is %.3e off the closed form", c, nf, ef)
		}
		coarse, err := solve(c, 21, par)
		if err != nil {
			t.Fatal(err)
		}
		nc, ec := worst(coarse, want)
		t.Logf("  coarse grid: %+v (worst %s, %.2e)", coarse, nc, ec)
		if !(ec > 1e-8 && ec > 1000*ef) {
			t.Errorf("%+v: the coarse grid (error %.3e) is not visibly worse than the fine one (%.3e)", c, ec, ef)
		}
		// The same problem in blur/reach terms: σ = blur, γ = 2·reach².
		viaBlur, err := solve(c, 601, OTParams{Blur: c.sigma, Reach: math.Sqrt(c.gamma / 2), Tol: 1e-13, MaxIter: 100000})
		if err != nil {
			t.Fatal(err)
		}
		if nb, eb := worst(viaBlur, want); !(eb < 1e-11) {
			t.Errorf("%+v: blur = σ, reach = sqrt(γ/2): %s is %.3e off the closed form", c, nb, eb)
		}
	}
}
