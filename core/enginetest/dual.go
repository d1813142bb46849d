package enginetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// RunDual checks the fused Sinkhorn updates (core.DualPair, core.SelfPair)
// of the Pairs mk builds, if they offer them, against the two SoftMins they
// replace: for near-feasible duals (a few Sinkhorn iterations computed with
// SoftMin itself) the fast path must deliver both directions (ok), each
// within
//
//	|out − SoftMin's| ≤ f·u·ε·(1 + max|hx| + max|hy| + max C/ε)
//
// (u the rounding unit of T: the exponent E = hx + hy − C/ε is known to
// u·(|hx| + |hy| + C/ε) in T, like SoftMin's h − C/ε), identical bit for bit
// with 1, 2 and 3 threads; on ragged sizes (1, 7, 8, 9, 31, 33, 2049
// columns), D = 1, 2, 3, 5, p = 1, 2 (an engine must deliver for D ≤ 3,
// the vector kernels' shapes; it may decline other D). Far from feasibility (zero duals at a
// tiny ε, huge duals, −∞ log-weights, a huge ε) it must either decline a
// direction or deliver it within the same bound — never a wrong value.
func RunDual[T core.Float](t *testing.T, mk PairFunc[T], f float64) {
	p, err := mk(core.Cloud[T]{Pts: make([]T, 3), N: 1, D: 3}, core.Cloud[T]{Pts: make([]T, 3), N: 1, D: 3}, core.CostHalfSquared, 1)
	if err != nil {
		t.Fatalf("building the Pair: %v", err)
	}
	_, dual := p.(core.DualPair[T])
	_, self := p.(core.SelfPair[T])
	p.Close()
	if !dual && !self {
		t.Skip("the Pair offers no fused updates")
	}
	cn := map[core.Cost]string{core.CostHalfSquared: "p2", core.CostEuclidean: "p1"}
	for _, cost := range []core.Cost{core.CostHalfSquared, core.CostEuclidean} {
		for _, d := range []int{1, 2, 3, 5} {
			for k, m := range []int{1, 7, 8, 9, 31, 33, 2049} {
				n := []int{5, 33, 70, 9, 64, 1, 40}[k]
				c := dualCase{N: n, M: m, D: d, Cost: cost, Eps: .05, Seed: uint64(100*d + k), Iters: 4, MustOK: d <= 3}
				t.Run(fmt.Sprintf("%s/D%d/N%dM%d", cn[cost], d, n, m), func(t *testing.T) { runDual(t, mk, c, f, dual, self) })
			}
		}
		for _, c := range []dualCase{
			{Name: "first-iteration", N: 50, M: 70, D: 3, Eps: .02, Iters: 0},
			{Name: "zero-duals-tiny-eps", N: 50, M: 70, D: 3, Eps: 1e-4, Iters: -1},
			{Name: "huge-duals", N: 50, M: 70, D: 3, Eps: .05, Iters: 4, Shift: 300},
			{Name: "negative-duals", N: 50, M: 70, D: 3, Eps: .05, Iters: 4, Shift: -300},
			{Name: "huge-eps", N: 50, M: 70, D: 3, Eps: 1e5, Iters: 2},
			{Name: "tiny-eps", N: 50, M: 70, D: 3, Eps: 1e-4, Iters: 4},
			{Name: "neg-inf-weights", N: 50, M: 70, D: 3, Eps: .05, Iters: 4, Zero: true},
			{Name: "many-tiles", N: 40, M: 4500, D: 3, Eps: .01, Iters: 3, MustOK: true},
			// Chunks of more than 128 rows (DualChunks: ⌈8300/64⌉ → 144):
			// engines that stage column terms in blocks of rows flush more
			// than once per tile.
			{Name: "tall", N: 8300, M: 40, D: 3, Eps: .05, Iters: 0, MustOK: true},
		} {
			c.Cost, c.Seed = cost, uint64(len(c.Name))
			t.Run(cn[cost]+"/"+c.Name, func(t *testing.T) { runDual(t, mk, c, f, dual, self) })
		}
	}
}

// dualCase is one problem of RunDual: the duals after Iters Sinkhorn
// iterations at Eps from the log-weights (Iters = 0: the initialisation
// only; −1: zero duals), shifted by Shift·ε, some weights zero (Zero).
type dualCase struct {
	Name    string
	N, M, D int
	Cost    core.Cost
	Eps     float64
	Seed    uint64
	Iters   int
	Shift   float64
	Zero    bool
	MustOK  bool // the fast path must deliver both directions
}

func runDual[T core.Float](t *testing.T, mk PairFunc[T], c dualCase, f float64, dual, self bool) {
	r := rand.New(rand.NewPCG(c.Seed, 0x2545f4914f6cdd1d))
	cloud := func(n int) core.Cloud[T] {
		p := make([]T, n*c.D)
		for i := range p {
			p[i] = T(r.Float64())
		}
		return core.Cloud[T]{Pts: p, N: n, D: c.D}
	}
	logw := func(n int) []T {
		w := make([]float64, n)
		sum := 0.0
		for i := range w {
			w[i] = 0.5 + r.Float64()
			if c.Zero && n > 1 && i%5 == 1 {
				w[i] = 0
			}
			sum += w[i]
		}
		l := make([]T, n)
		for i := range l {
			l[i] = T(math.Log(w[i] / sum))
		}
		return l
	}
	x, y := cloud(c.N), cloud(c.M)
	la, lb := logw(c.N), logw(c.M)
	eps := T(c.Eps)
	pair := func(u, v core.Cloud[T], th int) core.Pair[T] { return mustPair(t, mk, u, v, c.Cost, th) }
	xy, yx, xx := pair(x, y, 1), pair(y, x, 1), pair(x, x, 1)
	defer xy.Close()
	defer yx.Close()
	defer xx.Close()
	sm := func(p core.Pair[T], h []T, n int) []T {
		out := make([]T, n)
		check(t, p.SoftMin(eps, h, out, nil))
		return out
	}
	logDual := func(l, pot []T) []T {
		h := make([]T, len(l))
		for j := range h {
			h[j] = l[j] + T(float64(pot[j])/c.Eps)
		}
		return h
	}
	avg := func(u, v []T) {
		for i := range u {
			u[i] = (u[i] + v[i]) / 2
		}
	}
	// The duals: Iters simultaneous (averaged) iterations after the
	// initialisation, as the solver makes them.
	fd, gd, faa := make([]T, c.N), make([]T, c.M), make([]T, c.N)
	if c.Iters >= 0 {
		fd, gd, faa = sm(xy, lb, c.N), sm(yx, la, c.M), sm(xx, la, c.N)
		for range c.Iters {
			ft, gt, fa := sm(xy, logDual(lb, gd), c.N), sm(yx, logDual(la, fd), c.M), sm(xx, logDual(la, faa), c.N)
			avg(fd, ft)
			avg(gd, gt)
			avg(faa, fa)
		}
	}
	for _, v := range [][]T{fd, gd, faa} {
		for i := range v {
			v[i] += T(c.Shift * c.Eps)
		}
	}
	hx, hy, hs := logDual(la, fd), logDual(lb, gd), logDual(la, faa)
	refX, refY, refS := sm(xy, hy, c.N), sm(yx, hx, c.M), sm(xx, hs, c.N)
	maxC := 0.0
	for i := 0; i < c.N; i++ {
		for j := 0; j < c.M; j++ {
			s := sq(x.Point(i), y.Point(j))
			if c.Cost == core.CostEuclidean {
				s = math.Sqrt(s)
			} else {
				s /= 2
			}
			maxC = max(maxC, s)
		}
	}
	maxAbs := func(vs ...[]T) (m float64) {
		for _, v := range vs {
			for _, e := range v {
				if a := math.Abs(float64(e)); !math.IsInf(a, 1) {
					m = max(m, a)
				}
			}
		}
		return m
	}
	u := unit[T]() * f
	tol := u * float64(eps) * (1 + 2*maxAbs(hx, hy, hs) + maxC/float64(eps))
	cmp := func(what string, got, want []T) {
		t.Helper()
		worst := 0.0
		for i := range want {
			d := math.Abs(float64(got[i]) - float64(want[i]))
			if !(d <= tol) {
				t.Fatalf("%s[%d] = %g, SoftMin gives %g (|Δ| = %.3g > %.3g)", what, i, got[i], want[i], d, tol)
			}
			worst = max(worst, d)
		}
		if testing.Verbose() {
			t.Logf("%s: max |Δ| = %.3g = %.3g·u·ε·(1 + 2 max|h| + max C/ε)", what, worst, worst/tol*f)
		}
	}
	same := func(a, b []T) bool {
		for i := range a {
			if math.Float64bits(float64(a[i])) != math.Float64bits(float64(b[i])) {
				return false
			}
		}
		return true
	}
	if dual {
		var ox, oy []T
		var kx, ky bool
		for _, th := range []int{1, 2, 3} {
			p := pair(x, y, th)
			outX, outY := make([]T, c.N), make([]T, c.M)
			okX, okY, err := p.(core.DualPair[T]).SoftMinBoth(eps, hx, hy, outX, outY)
			p.Close()
			check(t, err)
			if c.MustOK && !(okX && okY) {
				t.Fatalf("threads=%d: near-feasible duals: the fused pass declined (okX=%v okY=%v)", th, okX, okY)
			}
			if th == 1 {
				if testing.Verbose() && !(okX && okY) {
					t.Logf("declined: okX=%v okY=%v", okX, okY)
				}
				ox, oy, kx, ky = outX, outY, okX, okY
				if okX {
					cmp("outX", outX, refX)
				}
				if okY {
					cmp("outY", outY, refY)
				}
				continue
			}
			if okX != kx || okY != ky || (okX && !same(outX, ox)) || (okY && !same(outY, oy)) {
				t.Fatalf("threads=%d: SoftMinBoth differs from threads=1", th)
			}
		}
	}
	if self {
		var os []T
		var ko bool
		for _, th := range []int{1, 2, 3} {
			p := pair(x, x, th)
			out := make([]T, c.N)
			ok, err := p.(core.SelfPair[T]).SoftMinSelf(eps, hs, out)
			p.Close()
			check(t, err)
			if c.MustOK && !ok {
				t.Fatalf("threads=%d: near-feasible self duals: the fused pass declined", th)
			}
			if th == 1 {
				if testing.Verbose() && !ok {
					t.Logf("self declined")
				}
				os, ko = out, ok
				if ok {
					cmp("self", out, refS)
				}
				continue
			}
			if ok != ko || (ok && !same(out, os)) {
				t.Fatalf("threads=%d: SoftMinSelf differs from threads=1", th)
			}
		}
		// A Pair between x and a copy of it is a self Pair by value (the
		// same result bit for bit); one between x and a moved copy is none.
		cp := core.Cloud[T]{Pts: append([]T(nil), x.Pts...), N: x.N, D: x.D}
		p := pair(x, cp, 2)
		out := make([]T, c.N)
		ok, err := p.(core.SelfPair[T]).SoftMinSelf(eps, hs, out)
		p.Close()
		check(t, err)
		if ok != ko || (ok && !same(out, os)) {
			t.Fatalf("SoftMinSelf on a Pair between x and a copy: ok=%v, differs from the self Pair's", ok)
		}
		if dual && ok {
			// The cross pass with x = y and hx = hy is the symmetric pass.
			q := pair(x, cp, 3)
			ox, oy := make([]T, c.N), make([]T, c.N)
			okX, okY, err := q.(core.DualPair[T]).SoftMinBoth(eps, hs, hs, ox, oy)
			q.Close()
			check(t, err)
			if !okX || !okY || !same(ox, os) || !same(oy, os) {
				t.Fatalf("SoftMinBoth with x = y, hx = hy: not the self pass bit for bit (okX=%v okY=%v)", okX, okY)
			}
		}
		cp.Pts[0] += 1
		p = pair(x, cp, 1)
		defer p.Close()
		if ok, err := p.(core.SelfPair[T]).SoftMinSelf(eps, hs, out); err != nil || ok {
			t.Fatalf("SoftMinSelf on a Pair between different clouds: ok=%v err=%v, want false", ok, err)
		}
	}
}
