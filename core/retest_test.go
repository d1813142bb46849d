package core

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestPatternValidAtSmallerEps checks the claim behind retestRatio on
// converged duals: a cross pattern tested at ε₁ bounds what it drops at
// every ε₂ < ε₁ — each dropped pair of every row has (f̂_i + g_j − C_ij)/ε₂
// below the threshold, f̂ the row's soft-min over its kept pairs at ε₂ —
// when the weights sum to 1; the bound can fail at a larger ε (where the
// kernel is wider), which the check must see.
func TestPatternValidAtSmallerEps(t *testing.T) {
	defer func(v bool) { msAlwaysTruncate = v }(msAlwaysTruncate)
	msAlwaysTruncate = true
	g, xs, ys := truncFixture(t, 400, 2)
	eps1 := 0.01
	par := DefaultParams()
	par.Backend, par.Blur, par.Diameter = Online, math.Sqrt(eps1), g.cfg.diameter
	pr := Problem[float64]{B: 1, N: g.x.N, M: g.y.N, D: 3, X: g.x.Pts, Y: g.y.Pts, A: g.a, Bw: g.b}
	res, err := Evaluate(Config[float64]{Engine: Portable[float64](Resources{})}, par, pr, Request[float64]{Potentials: true})
	if err != nil {
		t.Fatal(err)
	}
	d := g.sorted(Duals[float64]{F: res.F, G: res.G})
	lv := &msLevel[float64]{fine: true, x: xs, y: ys}
	if err := g.masks(lv, d, eps1); err != nil {
		t.Fatal(err)
	}
	r := lv.crossRanges(false)
	if r == nil {
		t.Fatal("no pattern at ε₁")
	}
	if f := float64(len(r.Cols)) / float64(r.RowClusters()*r.ColClusters()); f > 0.8 {
		t.Fatalf("the pattern keeps %.2f of the blocks: too dense to test anything", f)
	}
	thr := g.threshold()
	// worst returns the largest log-density of a dropped pair at eps.
	worst := func(eps float64) float64 {
		w := math.Inf(-1)
		kept := make([]bool, ys.pts.N)
		for k := 0; k < r.RowClusters(); k++ {
			clear(kept)
			for _, l := range r.Kept(k) {
				for j := r.ColStart[l]; j < r.ColStart[l+1]; j++ {
					kept[j] = true
				}
			}
			for i := r.RowStart[k]; i < r.RowStart[k+1]; i++ {
				z := make([]float64, ys.pts.N)
				m := math.Inf(-1)
				for j := range z {
					var c float64
					for q := 0; q < 3; q++ {
						v := xs.pts.Pts[3*i+q] - ys.pts.Pts[3*j+q]
						c += v * v / 2
					}
					z[j] = d.G[j] - c
					if kept[j] {
						m = max(m, z[j])
					}
				}
				var s float64
				for j := range z {
					if kept[j] {
						s += ys.w[j] * math.Exp((z[j]-m)/eps)
					}
				}
				fh := -m - eps*math.Log(s)
				for j := range z {
					if !kept[j] {
						w = max(w, (fh+z[j])/eps)
					}
				}
			}
		}
		return w
	}
	for _, e2 := range []float64{eps1, 0.74 * eps1, eps1 / 4} {
		if w := worst(e2); !(w < thr) {
			t.Errorf("ε₂ = %.3g·ε₁: a dropped pair has log-density %.3g ≥ threshold %.3g", e2/eps1, w, thr)
		}
	}
	if w := worst(4 * eps1); w < thr {
		t.Errorf("ε₂ = 4ε₁: every dropped pair still below the threshold (%.3g < %.3g): the check cannot see a wider kernel", w, thr)
	}
}

// TestRetestSchedule: with normalised weights the last, short step of the
// schedule keeps the fine pattern (no jump before it); with a total mass
// above 1 it is tested again.
func TestRetestSchedule(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pr := normalProblem(rng, 600, 700, 3, true)
	eps := EpsSchedule(2, 8, 0.05, 0.5)
	last := len(eps) - 1
	if r := eps[last] / eps[last-1]; !(r > msRetestRatio) {
		t.Fatalf("fixture: the last step divides ε by %.3g, not a short step", 1/r)
	}
	jumps := func(scale float64) []int {
		a, b := append([]float64(nil), pr.A...), append([]float64(nil), pr.Bw...)
		for i := range a {
			a[i] *= scale
		}
		for j := range b {
			b[j] *= scale
		}
		x, y := Cloud[float64]{Pts: pr.X, N: pr.N, D: 3}, Cloud[float64]{Pts: pr.Y, N: pr.M, D: 3}
		cfg := multiscaleConfig(DefaultParams(), 3, 8, nil, nil)
		g, err := newMultiscale(Portable[float64](Resources{}), Resources{}, x, y, a, b, logWeights(a), logWeights(b), Needs{Cross: true}, CostHalfSquared, *cfg)
		if err != nil {
			t.Fatal(err)
		}
		return g.Schedule(eps).Jumps
	}
	one, three := jumps(1), jumps(3)
	if len(one) == 0 || len(three) == 0 {
		t.Fatalf("no jumps at all (mass 1: %v, mass 3: %v)", one, three)
	}
	if slices.Contains(one, last-1) {
		t.Errorf("mass 1: jumps %v include the step into the last ε (iteration %d)", one, last)
	}
	if !slices.Contains(three, last-1) {
		t.Errorf("mass 3: jumps %v lack the step into the last ε (iteration %d)", three, last)
	}
}

// TestPatternMemoryCap: a pattern keeping more block pairs than
// msMaxPatternBlocks is not built, even where the truncation is forced at
// every ε — that level's reductions are online, so with a cap below every
// pattern the multiscale results equal online's to rounding — while with
// the default cap the same problem truncates.
func TestPatternMemoryCap(t *testing.T) {
	defer func(v bool) { msAlwaysTruncate = v }(msAlwaysTruncate)
	msAlwaysTruncate = true // at this size the patterns keep too much to be used by default
	rng := rand.New(rand.NewPCG(7, 8))
	pr := normalProblem(rng, 600, 800, 3, true)
	par := DefaultParams()
	par.Backend = Multiscale
	ms := mustEval(t, par, pr, allOutputs)
	if !strings.Contains(ms.Note, "estimated truncation error") || strings.Contains(ms.Note, "kept 100% of blocks") {
		t.Fatalf("default cap: note %q, want a truncated fine level", ms.Note)
	}
	defer func(v float64) { msMaxPatternBlocks = v }(msMaxPatternBlocks)
	msMaxPatternBlocks = 1 // below any pattern: every row keeps at least one block
	capped := mustEval(t, par, pr, allOutputs)
	if !strings.Contains(capped.Note, "kept 100% of blocks") {
		t.Errorf("cap 1: note %q, want every level online", capped.Note)
	}
	par.Backend = Online
	on := mustEval(t, par, pr, allOutputs)
	compareResults(t, "cap 1", capped, on, 1e-12)
}
