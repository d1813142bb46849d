package core

import (
	"math"
	"math/rand/v2"
	"testing"
)

// twoPass hides a Pair's fused updates (DualPair, SelfPair): the solver
// then runs its two SoftMin passes.
type twoPass[T Float] struct{ p Pair[T] }

func (w twoPass[T]) SoftMin(eps T, h, out, grad []T) error { return w.p.SoftMin(eps, h, out, grad) }
func (w twoPass[T]) KernelSum(k Kernel, s T, wt, out, grad []T) error {
	return w.p.KernelSum(k, s, wt, out, grad)
}
func (w twoPass[T]) Close() error { return w.p.Close() }

// countingPair counts the fused calls that delivered (to check that the
// loop takes the fast path) and those that declined.
type countingPair[T Float] struct {
	*rowPair[T]
	done, declined *int
}

func (c countingPair[T]) SoftMinBoth(eps T, hx, hy, outX, outY []T) (bool, bool, error) {
	okX, okY, err := c.rowPair.SoftMinBoth(eps, hx, hy, outX, outY)
	c.tally(okX)
	c.tally(okY)
	return okX, okY, err
}

func (c countingPair[T]) SoftMinSelf(eps T, h, out []T) (bool, error) {
	ok, err := c.rowPair.SoftMinSelf(eps, h, out)
	c.tally(ok)
	return ok, err
}

func (c countingPair[T]) tally(ok bool) {
	if ok {
		*c.done++
	} else {
		*c.declined++
	}
}

// TestFusedLoopMatchesTwoPass runs the ε-scaling loop (cross and self
// problems) with the fused updates and with the two SoftMin passes, on
// problems where the fast path holds and where some of its sums fall out
// of range (zero weights: a row of −∞; a tiny blur), and checks that the
// duals agree to 1e-12·(1 + |dual|) (float64) and that the fast path was
// taken on most iterations where it should be.
func TestFusedLoopMatchesTwoPass(t *testing.T) {
	for _, tc := range []struct {
		name       string
		n, m       int
		blur       float64
		zero       bool
		wantFusedF float64 // lower bound of the fraction of fused directions delivered
	}{
		{"plain", 60, 80, 0.05, false, 0.9},
		{"zero-weights", 60, 80, 0.05, true, 0.45}, // f and faa by SoftMin, g and gbb fused
		{"tiny-blur", 40, 50, 1e-3, false, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(5, 6))
			cloud := func(n int) Cloud[float64] { return unitCloud(r, n, 3) }
			weights := func(n int, zero bool) []float64 {
				w := make([]float64, n)
				s := 0.0
				for i := range w {
					w[i] = 0.5 + r.Float64()
					if zero && i%7 == 3 {
						w[i] = 0
					}
					s += w[i]
				}
				for i := range w {
					w[i] /= s
				}
				return w
			}
			x, y := cloud(tc.n), cloud(tc.m)
			la, lb := logWeights(weights(tc.n, tc.zero)), logWeights(weights(tc.m, false)) // zero weights in x only
			sched := Schedule{Eps: EpsSchedule(2, math.Sqrt(3), tc.blur, 0.7)}
			need := Needs{Cross: true, Self: true}
			run := func(fused bool) Duals[float64] {
				var done, declined int
				g, err := newSingleScale(x, y, la, lb, need, func(u, v Cloud[float64]) (Pair[float64], error) {
					p, _ := Portable[float64](Resources{Threads: 2}).Pair(u, v, CostHalfSquared)
					if !fused {
						return twoPass[float64]{p}, nil
					}
					return countingPair[float64]{p.(*rowPair[float64]), &done, &declined}, nil
				})
				if err != nil {
					t.Fatal(err)
				}
				defer g.Close()
				d, _, err := solve[float64](g, sched, math.Inf(1), need, nil)
				if err != nil {
					t.Fatal(err)
				}
				if fused {
					frac := float64(done) / float64(done+declined)
					t.Logf("fused directions delivered: %d of %d", done, done+declined)
					if frac < tc.wantFusedF {
						t.Errorf("fused directions delivered: %d of %d, want ≥ %.0f%%", done, done+declined, 100*tc.wantFusedF)
					}
				}
				return d
			}
			a, b := run(true), run(false)
			for _, p := range [][2][]float64{{a.F, b.F}, {a.G, b.G}, {a.FAA, b.FAA}, {a.GBB, b.GBB}} {
				for i := range p[0] {
					if d := math.Abs(p[0][i] - p[1][i]); !(d <= 1e-12*(1+math.Abs(p[1][i]))) {
						t.Fatalf("dual %d: fused %.17g, two-pass %.17g", i, p[0][i], p[1][i])
					}
				}
			}
		})
	}
}

// declining is a Pair whose fused passes always decline (and count their calls).
type declining[T Float] struct {
	Pair[T]
	calls *int
}

func (d declining[T]) SoftMinBoth(eps T, hx, hy, outX, outY []T) (bool, bool, error) {
	*d.calls++
	return false, false, nil
}

func (d declining[T]) SoftMinSelf(eps T, h, out []T) (bool, error) {
	*d.calls++
	return false, nil
}

// TestFusedLoopStopsTrying checks that the loop stops asking Pairs whose
// fused passes keep declining (fusedMisses consecutive calls per pass and
// scale), and that the results are then the two-pass loop's bit for bit.
func TestFusedLoopStopsTrying(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	cloud := func(n int) Cloud[float64] { return unitCloud(r, n, 2) }
	x, y := cloud(30), cloud(40)
	la, lb := make([]float64, 30), make([]float64, 40)
	for i := range la {
		la[i] = math.Log(1. / 30)
	}
	for j := range lb {
		lb[j] = math.Log(1. / 40)
	}
	sched := Schedule{Eps: EpsSchedule(2, math.Sqrt(2), 0.01, 0.5)}
	need := Needs{Cross: true, Self: true}
	run := func(wrap bool) (Duals[float64], int) {
		calls := 0
		g, err := newSingleScale(x, y, la, lb, need, func(u, v Cloud[float64]) (Pair[float64], error) {
			p, _ := Portable[float64](Resources{Threads: 1}).Pair(u, v, CostHalfSquared)
			if wrap {
				return declining[float64]{twoPass[float64]{p}, &calls}, nil
			}
			return twoPass[float64]{p}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		d, _, err := solve[float64](g, sched, math.Inf(1), need, nil)
		if err != nil {
			t.Fatal(err)
		}
		return d, calls
	}
	a, calls := run(true)
	b, _ := run(false)
	if want := 3 * fusedMisses; calls != want || len(sched.Eps) <= fusedMisses {
		t.Fatalf("%d fused calls over %d iterations, want %d (3 passes × %d)", calls, len(sched.Eps), want, fusedMisses)
	}
	for _, p := range [][2][]float64{{a.F, b.F}, {a.G, b.G}, {a.FAA, b.FAA}, {a.GBB, b.GBB}} {
		for i := range p[0] {
			if p[0][i] != p[1][i] {
				t.Fatalf("dual %d: %.17g with declined fused passes, %.17g two-pass", i, p[0][i], p[1][i])
			}
		}
	}
}

// The loop's initialisation and the final extrapolation step take the fused
// passes too, where no gradient is asked of them: a solve of k temperatures
// makes k + 1 cross passes (init and k iterations); finalStep fuses the
// cross problem only without gradients, and each self problem without its
// own — and gives what the two SoftMins give (gradients included, which
// come from SoftMin whenever asked).
func TestInitAndFinalStepFused(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	cloud := func(n int) Cloud[float64] { return unitCloud(r, n, 3) }
	n, m := 50, 70
	x, y := cloud(n), cloud(m)
	la, lb := make([]float64, n), make([]float64, m)
	for i := range la {
		la[i] = -math.Log(float64(n))
	}
	for j := range lb {
		lb[j] = -math.Log(float64(m))
	}
	need := Needs{Cross: true, Self: true}
	sched := Schedule{Eps: EpsSchedule(2, math.Sqrt(3), 0.05, 0.7)}
	var done, declined, crossCalls int
	build := func(fused bool) Geometry[float64] {
		g, err := newSingleScale(x, y, la, lb, need, func(u, v Cloud[float64]) (Pair[float64], error) {
			p, _ := Portable[float64](Resources{Threads: 2}).Pair(u, v, CostHalfSquared)
			if !fused {
				return twoPass[float64]{p}, nil
			}
			return crossCounter[float64]{countingPair[float64]{p.(*rowPair[float64]), &done, &declined}, &crossCalls}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	gf, g2 := build(true), build(false)
	defer gf.Close()
	defer g2.Close()
	d, scf, err := solve[float64](gf, sched, math.Inf(1), need, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(sched.Eps) + 1; crossCalls != want {
		t.Fatalf("solve made %d cross passes for %d temperatures, want %d (init fused)", crossCalls, len(sched.Eps), want)
	}
	sc2, err := g2.Scale(0)
	if err != nil {
		t.Fatal(err)
	}
	eps := sched.Eps[len(sched.Eps)-1]
	type outs struct{ F, G, Faa, Gbb, px, qy, ax, ry []float64 }
	final := func(sc *Scale[float64], gx, gy bool) outs {
		o := outs{F: make([]float64, n), G: make([]float64, m), Faa: make([]float64, n), Gbb: make([]float64, m)}
		if gx {
			o.px, o.ax = make([]float64, 3*n), make([]float64, 3*n)
		}
		if gy {
			o.qy, o.ry = make([]float64, 3*m), make([]float64, 3*m)
		}
		if err := finalStep(sc, d, eps, 1, la, lb, o.F, o.G, o.Faa, o.Gbb, o.px, o.qy, o.ax, o.ry); err != nil {
			t.Fatal(err)
		}
		return o
	}
	for _, c := range []struct {
		gx, gy    bool
		wantFused int // directions delivered by fused passes
	}{{false, false, 4}, {true, false, 1}, {false, true, 1}, {true, true, 0}} {
		done, declined = 0, 0
		got, want := final(scf, c.gx, c.gy), final(sc2, c.gx, c.gy)
		if done != c.wantFused || declined != 0 {
			t.Errorf("gradients x %v, y %v: %d directions fused (%d declined), want %d", c.gx, c.gy, done, declined, c.wantFused)
		}
		for k, p := range [][2][]float64{{got.F, want.F}, {got.G, want.G}, {got.Faa, want.Faa}, {got.Gbb, want.Gbb},
			{got.px, want.px}, {got.qy, want.qy}, {got.ax, want.ax}, {got.ry, want.ry}} {
			for i := range p[1] {
				if d := math.Abs(p[0][i] - p[1][i]); !(d <= 1e-12*(1+math.Abs(p[1][i]))) {
					t.Fatalf("gradients x %v, y %v: output %d [%d]: fused %.17g, two-pass %.17g", c.gx, c.gy, k, i, p[0][i], p[1][i])
				}
			}
		}
	}
}

// crossCounter counts SoftMinBoth calls.
type crossCounter[T Float] struct {
	countingPair[T]
	calls *int
}

func (c crossCounter[T]) SoftMinBoth(eps T, hx, hy, outX, outY []T) (bool, bool, error) {
	*c.calls++
	return c.countingPair.SoftMinBoth(eps, hx, hy, outX, outY)
}

// unitCloud returns n points drawn uniformly in the unit cube of dimension d.
func unitCloud(r *rand.Rand, n, d int) Cloud[float64] {
	p := make([]float64, d*n)
	for i := range p {
		p[i] = r.Float64()
	}
	return Cloud[float64]{Pts: p, N: n, D: d}
}
