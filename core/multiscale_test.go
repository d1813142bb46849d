package core

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func normalProblem(rng *rand.Rand, N, M, D int, weights bool) Problem[float64] {
	pr := Problem[float64]{B: 1, N: N, M: M, D: D, X: make([]float64, N*D), Y: make([]float64, M*D)}
	for i := range pr.X {
		pr.X[i] = rng.NormFloat64()
	}
	for i := range pr.Y {
		pr.Y[i] = 0.8*rng.NormFloat64() + 0.3
	}
	if weights {
		pr.A, pr.Bw = randWeights(rng, 1, N), randWeights(rng, 1, M)
	}
	return pr
}

// compareResults checks every output of got against want to a norm-wise
// relative tolerance.
func compareResults(t *testing.T, what string, got, want *Result[float64], tol float64) {
	t.Helper()
	for _, o := range []struct {
		name string
		g, w []float64
	}{{"value", got.Value, want.Value}, {"F", got.F, want.F}, {"G", got.G, want.G},
		{"grad x", got.GradX, want.GradX}, {"grad y", got.GradY, want.GradY},
		{"grad a", got.GradA, want.GradA}, {"grad b", got.GradB, want.GradB}} {
		if o.w == nil {
			continue
		}
		if e := relErr(o.g, o.w, 1e-12); !(e <= tol) {
			t.Errorf("%s: %s relative error %.3g > %.3g", what, o.name, e, tol)
		}
	}
}

var allOutputs = Request[float64]{GradX: true, GradY: true, GradA: true, GradB: true, Potentials: true}

// TestMultiscaleUntruncatedIsOnline: with truncate=None and a single fine
// level (clouds too small for coarse levels), the multiscale backend is the
// online one to 1e-12 — value, potentials (in input order) and the four
// gradients, for p = 1, 2, debiased and raw, balanced and unbalanced.
func TestMultiscaleUntruncatedIsOnline(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range []int{1, 2} {
		for _, reach := range []float64{0, 0.5} {
			for _, debias := range []bool{true, false} {
				pr := normalProblem(rng, 90, 130, 3, true)
				par := DefaultParams()
				par.P, par.Reach, par.Debias, par.Truncate = p, reach, debias, math.Inf(1)
				par.Backend = Online
				on := mustEval(t, par, pr, allOutputs)
				par.Backend = Multiscale
				ms := mustEval(t, par, pr, allOutputs)
				if ms.Backend != Multiscale || !strings.Contains(ms.Note, "1 levels") || !strings.Contains(ms.Note, "no truncation") {
					t.Errorf("backend %s, note %q: want one untruncated multiscale level", ms.Backend, ms.Note)
				}
				compareResults(t, fmt.Sprintf("p=%d reach=%g debias=%v", p, reach, debias), ms, on, 1e-12)
			}
		}
	}
}

// TestMultiscaleAccuracy: with the default truncation, the multiscale
// results are within 1e-3 (value, potentials) and 1e-2 (gradients) of the
// online ones, and the note reports the truncation bound (p = 2), with the
// truncation forced at every ε.
func TestMultiscaleAccuracy(t *testing.T) {
	defer func(v bool) { msAlwaysTruncate = v }(msAlwaysTruncate)
	msAlwaysTruncate = true // at this size the patterns keep too much to be used by default
	rng := rand.New(rand.NewPCG(5, 6))
	for _, v := range []struct {
		p      int
		reach  float64
		debias bool
	}{{2, 0, true}, {1, 0, true}, {2, 1, true}, {2, 0, false}} {
		pr := normalProblem(rng, 1100, 1300, 2, false)
		par := DefaultParams()
		par.P, par.Reach, par.Debias = v.p, v.reach, v.debias
		par.Backend = Online
		req := Request[float64]{GradX: true, GradY: true, Potentials: true}
		on := mustEval(t, par, pr, req)
		par.Backend = Multiscale
		ms := mustEval(t, par, pr, req)
		what := fmt.Sprintf("p=%d reach=%g debias=%v", v.p, v.reach, v.debias)
		if v.p == 2 && !strings.Contains(ms.Note, "estimated truncation error") {
			t.Errorf("%s: note %q: want a truncation estimate", what, ms.Note)
		}
		for _, o := range []struct {
			name string
			g, w []float64
			tol  float64
		}{{"value", ms.Value, on.Value, 1e-3}, {"F", ms.F, on.F, 1e-3}, {"G", ms.G, on.G, 1e-3},
			{"grad x", ms.GradX, on.GradX, 1e-2}, {"grad y", ms.GradY, on.GradY, 1e-2}} {
			if e := relErr(o.g, o.w, 1e-12); !(e <= o.tol) {
				t.Errorf("%s: %s relative error %.3g > %.3g (%s)", what, o.name, e, o.tol, ms.Note)
			}
		}
	}
}

// TestMultiscaleLabelsAndKD: explicit labels (unsorted, not compact; any D)
// and the k-d tree clustering of D > 3 give the online result.
func TestMultiscaleLabelsAndKD(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	pr := normalProblem(rng, 150, 170, 5, true)
	par := DefaultParams()
	par.Backend = Online
	on := mustEval(t, par, pr, allOutputs)
	par.Backend = Multiscale
	compareResults(t, "k-d tree (D=5)", mustEval(t, par, pr, allOutputs), on, 1e-4)
	lab := func(n int) []int64 {
		l := make([]int64, n)
		for i := range l {
			l[i] = int64(rng.IntN(7))*10 - 25
		}
		return l
	}
	pr.LabelsX, pr.LabelsY = lab(pr.N), lab(pr.M)
	par.Backend = Auto
	res := mustEval(t, par, pr, allOutputs)
	if res.Backend != Multiscale {
		t.Errorf("labels ran %s, want multiscale", res.Backend)
	}
	compareResults(t, "labels", res, on, 1e-4)
}

// TestMultiscaleLabelErrors: bad label arguments are coded errors naming them.
func TestMultiscaleLabelErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	pr := normalProblem(rng, 10, 12, 2, false)
	cases := []struct {
		name   string
		lx, ly []int64
		b      Backend
		want   string
	}{
		{"one side", make([]int64, 10), nil, Auto, "labels"},
		{"length", make([]int64, 9), make([]int64, 12), Auto, "l_x"},
		{"backend", make([]int64, 10), make([]int64, 12), Online, "backend"},
	}
	for _, c := range cases {
		q := pr
		q.LabelsX, q.LabelsY = c.lx, c.ly
		par := DefaultParams()
		par.Backend = c.b
		_, err := Evaluate(Config[float64]{}, par, q, Request[float64]{})
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(e.Msg, c.want) {
			t.Errorf("%s: got %v, want an error naming %q", c.name, err, c.want)
		}
	}
}

// TestMultiscaleClosedForms: translation costs |t|²/2 and identical clouds
// give 0 with zero gradients, on the multiscale backend (coarse levels
// included: 1200 points).
func TestMultiscaleClosedForms(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	shift := []float64{0.3, -0.2}
	want := (0.3*0.3 + 0.2*0.2) / 2
	pr := normalProblem(rng, 1200, 1200, 2, false)
	for i := range pr.Y {
		pr.Y[i] = pr.X[i] + shift[i%2]
	}
	par := DefaultParams()
	par.Backend = Multiscale
	res := mustEval(t, par, pr, Request[float64]{GradY: true})
	if got := res.Value[0]; math.Abs(got-want) > 1e-4*want {
		t.Errorf("S(x, x+t) = %.10g, want |t|²/2 = %.10g (%s)", got, want, res.Note)
	}
	var maxErr float64
	for j := 0; j < pr.M; j++ {
		for k, s := range shift {
			maxErr = max(maxErr, math.Abs(res.GradY[j*2+k]-s/float64(pr.M)))
		}
	}
	if maxErr > 1e-3/float64(pr.M) {
		t.Errorf("∂S/∂y differs from t/M by up to %.3g (t/M ≈ %.3g)", maxErr, 0.3/float64(pr.M))
	}
	copy(pr.Y, pr.X)
	res = mustEval(t, par, pr, Request[float64]{GradX: true})
	if math.Abs(res.Value[0]) > 1e-9 {
		t.Errorf("S(x, x) = %g, want 0", res.Value[0])
	}
	for i, g := range res.GradX {
		if math.Abs(g) > 1e-9 {
			t.Fatalf("∂S(x, x)/∂x[%d] = %g, want 0", i, g)
		}
	}
}

// TestMultiscaleFiniteDifferences: the multiscale gradients (batched, B = 2)
// agree with central differences of its value, every Sinkhorn variant.
func TestMultiscaleFiniteDifferences(t *testing.T) {
	for _, p := range []int{1, 2} {
		for _, reach := range []float64{0, 0.3} {
			for _, debias := range []bool{true, false} {
				t.Run(fmt.Sprintf("p%d/reach%g/debias%v", p, reach, debias), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(p), 17))
					pr := randProblem(rng, 2, 30, 40, 2, 0.3, true)
					par := DefaultParams()
					par.P, par.Reach, par.Debias = p, reach, debias
					par.Blur, par.Scaling, par.Backend, par.Diameter = 0.3, 0.98, Multiscale, 2
					checkFD(t, par, pr, 1e-3, reach == 0)
				})
			}
		}
	}
}

// TestMultiscaleBatchAndKernels: a batch gives its items' single results;
// truncated gaussian and laplacian kernel norms match online to 1e-9.
func TestMultiscaleBatchAndKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	pr := randProblem(rng, 2, 60, 70, 3, 0.2, true)
	par := DefaultParams()
	par.Backend, par.Diameter = Multiscale, 2 // a batch estimates one diameter for all items (§2.1)
	all := mustEval(t, par, pr, Request[float64]{GradX: true})
	for b := 0; b < 2; b++ {
		one := Problem[float64]{B: 1, N: pr.N, M: pr.M, D: 3, X: pr.X[b*60*3 : (b+1)*60*3], Y: pr.Y[b*70*3 : (b+1)*70*3],
			A: pr.A[b*60 : (b+1)*60], Bw: pr.Bw[b*70 : (b+1)*70]}
		res := mustEval(t, par, one, Request[float64]{GradX: true})
		if res.Value[0] != all.Value[b] || relErr(res.GradX, all.GradX[b*180:(b+1)*180], 1e-12) != 0 {
			t.Errorf("batch item %d differs from its single evaluation", b)
		}
	}
	for _, l := range []Loss{Gaussian, Laplacian} {
		par := DefaultParams()
		par.Loss, par.Blur = l, 0.05
		par.Backend = Online
		on := mustEval(t, par, pr, allOutputs)
		par.Backend = Multiscale
		ms := mustEval(t, par, pr, allOutputs)
		if ms.Backend != Multiscale || !strings.Contains(ms.Note, "kernel truncated") {
			t.Errorf("%s: backend %s note %q", l, ms.Backend, ms.Note)
		}
		compareResults(t, l.String(), ms, on, 1e-9)
	}
}

// TestMultiscaleCancel: a progress callback returning true cancels a
// multiscale evaluation with ErrCancelled; the stages name the levels.
func TestMultiscaleCancel(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	pr := normalProblem(rng, 1100, 1100, 2, false)
	par := DefaultParams()
	par.Backend = Multiscale
	var stages []string
	_, err := Evaluate(Config[float64]{}, par, pr, Request[float64]{Progress: func(s string, it, tot int) bool {
		stages = append(stages, s)
		return it >= 3
	}})
	var e *Error
	if !errors.As(err, &e) || e.Code != ErrCancelled {
		t.Fatalf("got %v, want ErrCancelled", err)
	}
	named := false
	for _, s := range stages {
		named = named || strings.Contains(s, "multiscale level 1/") && strings.Contains(s, "eps=")
	}
	if !named {
		t.Errorf("stages %q: want the level and ε", stages)
	}
}

// TestMultiscaleCoarseLevels: the centroid levels (off by default) with the
// jump rule κ = 16 on a 3D Gaussian problem: value within 1e-3 of online
// (measured 1e-4; GeomLoss's rule, κ = 1, is 18 % off here, §4.10).
func TestMultiscaleCoarseLevels(t *testing.T) {
	defer func(k float64, tay bool) { msKappa, msTaylor = k, tay }(msKappa, msTaylor)
	msKappa, msTaylor = 16, false // the centroid levels, not the exact Taylor level
	rng := rand.New(rand.NewPCG(1, 2))
	pr := Problem[float64]{B: 1, N: 700, M: 1400, D: 3, X: make([]float64, 2100), Y: make([]float64, 4200)}
	for i := range pr.X {
		pr.X[i] = rng.NormFloat64()
	}
	for i := range pr.Y {
		pr.Y[i] = rng.NormFloat64()
	}
	par := DefaultParams()
	par.Backend = Online
	on := mustEval(t, par, pr, Request[float64]{})
	par.Backend = Multiscale
	ms := mustEval(t, par, pr, Request[float64]{})
	if !strings.Contains(ms.Note, "levels") || strings.Contains(ms.Note, " 1 levels") {
		t.Errorf("note %q: want several levels", ms.Note)
	}
	if e := math.Abs(ms.Value[0]-on.Value[0]) / on.Value[0]; !(e <= 1e-3) {
		t.Errorf("value %.8g vs online %.8g: relative error %.3g > 1e-3", ms.Value[0], on.Value[0], e)
	}
	msKappa = 1 // GeomLoss's rule: far off, which the test must be able to see
	if bad := mustEval(t, par, pr, Request[float64]{}); math.Abs(bad.Value[0]-on.Value[0])/on.Value[0] < 1e-2 {
		t.Errorf("κ = 1 gives %.8g vs online %.8g: expected a visible error", bad.Value[0], on.Value[0])
	}
}

// TestMultiscaleCoarseLevelsWithTol: with a tolerance the loss converges at
// the final ε, so the multiscale backend runs the schedule's large and middle
// temperatures on cluster centroids (κ = msKappaConverged: the note counts
// them) and still equals online with the same tolerance: values and
// gradients, debiased and raw, balanced and unbalanced. The clouds sit near
// the sites of a lattice, so that the coarse levels exist at this size, and
// ε keeps every block (the comparison is exact, not truncated).
func TestMultiscaleCoarseLevelsWithTol(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	n, m, d := 600, 700, 2
	pr := Problem[float64]{B: 1, N: n, M: m, D: d, X: make([]float64, n*d), Y: make([]float64, m*d)}
	for _, v := range [][]float64{pr.X, pr.Y} {
		for i := range v {
			v[i] = (float64(rng.IntN(15))+0.5)/15 + 0.003*rng.NormFloat64()
		}
	}
	for _, c := range []struct {
		reach  float64
		debias bool
	}{{0, true}, {0, false}, {0.5, true}} {
		par := DefaultParams()
		par.Blur, par.Reach, par.Debias, par.Tol = 0.1, c.reach, c.debias, 1e-10
		par.Backend = Online
		req := Request[float64]{GradX: true, GradB: true}
		on := mustEval(t, par, pr, req)
		par.Backend = Multiscale
		ms := mustEval(t, par, pr, req)
		if !strings.Contains(ms.Note, "on cluster centroids") {
			t.Fatalf("%+v: note %q: want coarse-level iterations", c, ms.Note)
		}
		if e := math.Abs(ms.Value[0]-on.Value[0]) / math.Abs(on.Value[0]); !(e <= 1e-9) {
			t.Errorf("%+v: value %.12g vs online %.12g (relative %.2e)", c, ms.Value[0], on.Value[0], e)
		}
		for _, g := range []struct {
			name   string
			ms, on []float64
		}{{"grad_x", ms.GradX, on.GradX}, {"grad_b", ms.GradB, on.GradB}} {
			worst, scale := 0.0, 0.0
			for i := range g.on {
				worst, scale = math.Max(worst, math.Abs(g.ms[i]-g.on[i])), math.Max(scale, math.Abs(g.on[i]))
			}
			if !(worst <= 1e-7*scale) {
				t.Errorf("%+v: %s differs by %.2e (scale %.2e)", c, g.name, worst, scale)
			}
		}
	}
}

// TestMultiscaleTaylorLevel: the large-ε iterations run on the Taylor level
// (named in the note and the progress stages; untruncated otherwise) and the
// result equals online within float64 rounding (the Taylor bound is 1e-14
// relative), values and gradients, balanced and unbalanced, debiased and
// raw, in 2D and 3D.
func TestMultiscaleTaylorLevel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, d := range []int{2, 3} {
		n, m := 1500, 2500
		if d == 3 {
			n, m = 2000, 3000 // the Taylor level pays from about there
		}
		pr := Problem[float64]{B: 1, N: n, M: m, D: d, X: make([]float64, n*d), Y: make([]float64, m*d)}
		for i := range pr.X {
			pr.X[i] = rng.NormFloat64()
		}
		for i := range pr.Y {
			pr.Y[i] = 0.8*rng.NormFloat64() + 0.5
		}
		for _, c := range []struct {
			reach  float64
			debias bool
		}{{0, true}, {0, false}, {1, true}} {
			par := DefaultParams()
			par.Reach, par.Debias = c.reach, c.debias
			par.Truncate = math.Inf(1) // the Taylor level alone (truncation has its own tests)
			req := Request[float64]{GradX: true, GradY: true}
			par.Backend = Online
			on := mustEval(t, par, pr, req)
			par.Backend = Multiscale
			var stages []string
			req.Progress = func(s string, it, tot int) bool { stages = append(stages, s); return false }
			ms := mustEval(t, par, pr, req)
			if !strings.Contains(ms.Note, "Taylor") {
				t.Fatalf("D=%d %+v: note %q does not name the Taylor level", d, c, ms.Note)
			}
			named := false
			for _, s := range stages {
				named = named || strings.Contains(s, "Taylor")
			}
			if !named {
				t.Errorf("D=%d %+v: no progress stage names the Taylor level", d, c)
			}
			if e := math.Abs(ms.Value[0]-on.Value[0]) / math.Abs(on.Value[0]); !(e <= 1e-11) {
				t.Errorf("D=%d %+v: value %.15g vs online %.15g (relative %.2e)", d, c, ms.Value[0], on.Value[0], e)
			}
			for name, pair := range map[string][2][]float64{"grad x": {ms.GradX, on.GradX}, "grad y": {ms.GradY, on.GradY}} {
				var num, den float64
				for i := range pair[0] {
					num += (pair[0][i] - pair[1][i]) * (pair[0][i] - pair[1][i])
					den += pair[1][i] * pair[1][i]
				}
				if e := math.Sqrt(num / den); !(e <= 1e-9) {
					t.Errorf("D=%d %+v: %s differs from online by %.2e (norm-wise)", d, c, name, e)
				}
			}
		}
	}
}
