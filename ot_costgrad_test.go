package geomloss

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// TestPlanCostGradients: Plan.CostGradients (Σ_j π_ij ∇₁C(x_i, y_j) and
// its transpose) is the gradient of the converged OT value w.r.t. the
// points (envelope theorem): centred finite differences of Value along
// every coordinate of x and y agree to 1e-6 relative, for sqeuclidean,
// euclidean and the power cost (q = 1.5, 3), balanced and unbalanced. For
// sqeuclidean it also equals the barycentric form 2·π1_i·(x_i − (a→b)_i)
// to rounding. A cost matrix's plan is refused (ErrUnsupported).
func TestPlanCostGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	n, m, d := 7, 6, 2
	x, y := randPts(r, n*d, 1), randPts(r, m*d, 1)
	a, b := randPts(r, n, 1), randPts(r, m, 1)
	for i := range a {
		a[i] = (a[i] + .5) / float64(n)
	}
	for j := range b {
		b[j] = (b[j] + .5) / float64(m)
	}
	ma, mb := 0.0, 0.0
	for _, w := range a {
		ma += w
	}
	for _, w := range b {
		mb += w
	}
	for j := range b {
		b[j] *= ma / mb // equal masses for the balanced runs
	}
	for _, c := range []struct {
		name string
		par  OTParams
	}{
		{"sqeuclidean", OTParams{Reg: .05}},
		{"sqeuclidean/unbalanced", OTParams{Reg: .05, Unbalanced: .3}},
		{"euclidean", OTParams{Cost: Euclidean, Reg: .05}},
		{"power q=1.5", OTParams{Cost: core.OTPower, Q: 1.5, Reg: .05}},
		{"power q=3/unbalanced", OTParams{Cost: core.OTPower, Q: 3, Reg: .02, Unbalanced: .5}},
	} {
		par := c.par
		par.Tol, par.MaxIter = 1e-14, 100000
		value := func(x, y []float64) float64 {
			res := must(t)(SolveSample(x, y, d, a, b, par))
			return res.Value
		}
		res := must(t)(SolveSample(x, y, d, a, b, par))
		gx, gy, err := res.Plan.CostGradients()
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for _, side := range []struct {
			pts, g []float64
		}{{x, gx}, {y, gy}} {
			for k := range side.pts {
				const h = 1e-5
				old := side.pts[k]
				side.pts[k] = old + h
				vp := value(x, y)
				side.pts[k] = old - h
				vm := value(x, y)
				side.pts[k] = old
				fd := (vp - vm) / (2 * h)
				if e := math.Abs(fd-side.g[k]) / (1e-3 + math.Abs(fd)); e > worst {
					worst = e
				}
			}
		}
		t.Logf("%s: worst relative difference to finite differences %.2e", c.name, worst)
		if !(worst < 1e-6) {
			t.Errorf("%s: the cost gradients are %.2e off the finite differences of the value", c.name, worst)
		}
		if c.name == "sqeuclidean" {
			ab, _ := res.Plan.BarycentricAB()
			e := 0.0
			for i := 0; i < n; i++ {
				for k := 0; k < d; k++ {
					e = math.Max(e, math.Abs(gx[i*d+k]-2*res.MarginalA[i]*(x[i*d+k]-ab[i*d+k])))
				}
			}
			if !(e < 1e-13) {
				t.Errorf("sqeuclidean: CostGradients differs from 2·π1·(x − a→b) by %.2e", e)
			}
		}
	}
	cm := make([]float64, n*m)
	for i := range cm {
		cm[i] = r.Float64()
	}
	res := must(t)(Solve(cm, n, m, nil, nil, OTParams{Reg: .1}))
	var ce *core.Error
	if _, _, err := res.Plan.CostGradients(); !errors.As(err, &ce) || ce.Code != core.ErrUnsupported {
		t.Errorf("a cost matrix's plan: %v, want ErrUnsupported", err)
	}
}

// TestPlanCostGradientsMultiscale: a multiscale plan reducing over its kept
// block pairs gives the cost gradients of that plan: equal, to 1e-12 of
// their scale, to Σ_j π_ij ∇₁C from the same plan made dense (zeros
// outside the kept blocks), balanced and unbalanced; within 2e-5 of the
// online plan's (every pair, the same schedule: the dropped mass); and,
// converged (tol), to centred finite differences of the multiscale value
// on a coordinate of x and one of y. (The euclidean cost's multiscale plans
// keep every block at the ε this size allows: TestPlanCostGradients covers
// its rows.)
func TestPlanCostGradientsMultiscale(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	n, m, d := 1000, 1300, 2
	x, y := randPts(r, n*d, 1), randPts(r, m*d, 1)
	for _, c := range []struct {
		name string
		par  OTParams
	}{
		{"balanced", OTParams{Reg: 0.003}},
		{"unbalanced", OTParams{Reg: 0.003, Unbalanced: 0.5}},
		{"balanced/tol", OTParams{Reg: 0.003, Tol: 1e-7, MaxIter: 5000}},
	} {
		par := c.par
		par.Backend = core.Multiscale
		res := must(t)(SolveSample(x, y, d, nil, nil, par))
		if !strings.Contains(res.Plan.Note, "kept block pairs") {
			t.Fatalf("%s: plan note %q: want a block-sparse plan", c.name, res.Plan.Note)
		}
		gx, gy, err := res.Plan.CostGradients()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		plan, err := res.Plan.Dense(0)
		if err != nil {
			t.Fatal(err)
		}
		wx, wy := make([]float64, n*d), make([]float64, m*d)
		for i := 0; i < n; i++ {
			for j := 0; j < m; j++ {
				e := plan[i*m+j]
				if e == 0 {
					continue
				}
				const gam = 2.0 // ∇₁|x−y|² = 2(x − y)
				for k := 0; k < d; k++ {
					wx[i*d+k] += e * gam * (x[i*d+k] - y[j*d+k])
					wy[j*d+k] += e * gam * (y[j*d+k] - x[i*d+k])
				}
			}
		}
		worst, scale := 0.0, 0.0
		for _, g := range [][2][]float64{{gx, wx}, {gy, wy}} {
			for q := range g[0] {
				worst, scale = math.Max(worst, math.Abs(g[0][q]-g[1][q])), math.Max(scale, math.Abs(g[1][q]))
			}
		}
		if !(worst <= 1e-12*scale) {
			t.Errorf("%s: sparse cost gradients vs the dense sparse plan's: %.2e (scale %.2e)", c.name, worst, scale)
		}
		if c.par.Tol != 0 {
			multiscaleFD(t, x, y, d, par, gx, gy, scale)
			continue
		}
		par.Backend = core.Online
		on := must(t)(SolveSample(x, y, d, nil, nil, par))
		ox, oy, err := on.Plan.CostGradients()
		if err != nil {
			t.Fatal(err)
		}
		drift := 0.0
		for _, g := range [][2][]float64{{gx, ox}, {gy, oy}} {
			for q := range g[0] {
				drift = math.Max(drift, math.Abs(g[0][q]-g[1][q]))
			}
		}
		t.Logf("%s: %s; vs online: %.2e relative", c.name, res.Plan.Note, drift/scale)
		if !(drift <= 2e-5*scale) {
			t.Errorf("%s: sparse vs online cost gradients differ by %.2e relative", c.name, drift/scale)
		}
	}
}

// multiscaleFD checks the cost gradients gx, gy of the converged multiscale
// solve par against centred finite differences of its value.
func multiscaleFD(t *testing.T, x, y []float64, d int, par OTParams, gx, gy []float64, scale float64) {
	fdWorst := 0.0
	for _, side := range []struct {
		pts, g []float64
		k      int
	}{{x, gx, 777}, {y, gy, 1999}} {
		const h = 1e-6
		k, old := side.k, side.pts[side.k]
		side.pts[k] = old + h
		vp := must(t)(SolveSample(x, y, d, nil, nil, par)).Value
		side.pts[k] = old - h
		vm := must(t)(SolveSample(x, y, d, nil, nil, par)).Value
		side.pts[k] = old
		fd := (vp - vm) / (2 * h)
		fdWorst = math.Max(fdWorst, math.Abs(fd-side.g[k])/scale)
	}
	t.Logf("finite differences: %.2e of the gradients' scale", fdWorst)
	if !(fdWorst <= 1e-5) {
		t.Errorf("the sparse cost gradients are %.2e (of their scale) off the finite differences", fdWorst)
	}
}
