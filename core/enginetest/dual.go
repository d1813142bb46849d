package enginetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// fusedCaps builds a 1-point Pair with mk and reports which fused updates
// it offers (core.DualPair, core.SelfPair); it skips the test if neither,
// naming the Pair by what ("the <what> offers no fused updates").
func fusedCaps[T core.Float](t *testing.T, what string, mk func() (core.Pair[T], error)) (dual, self bool) {
	t.Helper()
	p, err := mk()
	if err != nil {
		t.Fatalf("building the %s: %v", what, err)
	}
	_, dual = p.(core.DualPair[T])
	_, self = p.(core.SelfPair[T])
	p.Close()
	if !dual && !self {
		t.Skip("the " + what + " offers no fused updates")
	}
	return dual, self
}

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
	dual, self := fusedCaps(t, "Pair", func() (core.Pair[T], error) {
		return mk(core.Cloud[T]{Pts: make([]T, 3), N: 1, D: 3}, core.Cloud[T]{Pts: make([]T, 3), N: 1, D: 3}, core.CostHalfSquared, 1)
	})
	online := func(x, y core.Cloud[T], cost core.Cost, _ *core.Ranges, threads int) (core.Pair[T], error) {
		return mk(x, y, cost, threads)
	}
	cn := map[core.Cost]string{core.CostHalfSquared: "p2", core.CostEuclidean: "p1"}
	for _, cost := range []core.Cost{core.CostHalfSquared, core.CostEuclidean} {
		for _, d := range []int{1, 2, 3, 5} {
			for k, m := range []int{1, 7, 8, 9, 31, 33, 2049} {
				n := []int{5, 33, 70, 9, 64, 1, 40}[k]
				c := dualCase{N: n, M: m, D: d, Cost: cost, Eps: .05, Seed: uint64(100*d + k), Iters: 4, MustOK: d <= 3}
				t.Run(fmt.Sprintf("%s/D%d/N%dM%d", cn[cost], d, n, m), func(t *testing.T) { runDual(t, online, c, f, dual, self) })
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
			t.Run(cn[cost]+"/"+c.Name, func(t *testing.T) { runDual(t, online, c, f, dual, self) })
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
	// Block-sparse cases (RunBlockDual): cluster sizes of x and y (the
	// cross pattern keeps each cluster pair with probability Keep, the self
	// pattern of x is that of x against itself made symmetric).
	Sizes func(r *rand.Rand, n int) []int
	Keep  float64
}

func runDual[T core.Float](t *testing.T, mk BlockPairFunc[T], c dualCase, f float64, dual, self bool) {
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
	var rxy, ryx, rxx *core.Ranges // nil: online Pairs
	if c.Sizes != nil {
		rxy, rxx = dualPatterns(r, c)
		ryx = rxy.Transpose()
	}
	pair := func(u, v core.Cloud[T], pat *core.Ranges, th int) core.Pair[T] {
		t.Helper()
		p, err := mk(u, v, c.Cost, pat, th)
		if err != nil {
			t.Fatalf("building the Pair: %v", err)
		}
		return p
	}
	xy, yx, xx := pair(x, y, rxy, 1), pair(y, x, ryx, 1), pair(x, x, rxx, 1)
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
	// Block-sparse rows or columns with no kept pair have the dual +∞;
	// they are set to 0 (no kept pair: they change no other sum).
	finite := func(vs ...[]T) {
		for _, v := range vs {
			for i, e := range v {
				if math.IsInf(float64(e), 1) {
					v[i] = 0
				}
			}
		}
	}
	// The duals: Iters simultaneous (averaged) iterations after the
	// initialisation, as the solver makes them.
	fd, gd, faa := make([]T, c.N), make([]T, c.M), make([]T, c.N)
	if c.Iters >= 0 {
		fd, gd, faa = sm(xy, lb, c.N), sm(yx, la, c.M), sm(xx, la, c.N)
		finite(fd, gd, faa)
		for range c.Iters {
			ft, gt, fa := sm(xy, logDual(lb, gd), c.N), sm(yx, logDual(la, fd), c.M), sm(xx, logDual(la, faa), c.N)
			avg(fd, ft)
			avg(gd, gt)
			avg(faa, fa)
			finite(fd, gd, faa)
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
		worst, empty := 0.0, 0
		for i := range want {
			if math.IsInf(float64(want[i]), 1) { // no kept pair
				if !math.IsInf(float64(got[i]), 1) {
					t.Fatalf("%s[%d] = %g, SoftMin gives +Inf (no kept pair)", what, i, got[i])
				}
				empty++
				continue
			}
			d := math.Abs(float64(got[i]) - float64(want[i]))
			if !(d <= tol) {
				t.Fatalf("%s[%d] = %g, SoftMin gives %g (|Δ| = %.3g > %.3g)", what, i, got[i], want[i], d, tol)
			}
			worst = max(worst, d)
		}
		if testing.Verbose() {
			t.Logf("%s: max |Δ| = %.3g = %.3g·u·ε·(1 + 2 max|h| + max C/ε); %d of %d with no kept pair", what, worst, worst/tol*f, empty, len(want))
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
			p := pair(x, y, rxy, th)
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
			p := pair(x, x, rxx, th)
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
		p := pair(x, cp, rxx, 2)
		out := make([]T, c.N)
		ok, err := p.(core.SelfPair[T]).SoftMinSelf(eps, hs, out)
		p.Close()
		check(t, err)
		if ok != ko || (ok && !same(out, os)) {
			t.Fatalf("SoftMinSelf on a Pair between x and a copy: ok=%v, differs from the self Pair's", ok)
		}
		if dual && ok {
			// The cross pass with x = y and hx = hy is the symmetric pass.
			q := pair(x, cp, rxx, 3)
			ox, oy := make([]T, c.N), make([]T, c.N)
			okX, okY, err := q.(core.DualPair[T]).SoftMinBoth(eps, hs, hs, ox, oy)
			q.Close()
			check(t, err)
			if !okX || !okY || !same(ox, os) || !same(oy, os) {
				t.Fatalf("SoftMinBoth with x = y, hx = hy: not the self pass bit for bit (okX=%v okY=%v)", okX, okY)
			}
		}
		if rxx != nil && !symmetric(rxy) && c.N == c.M {
			// A pattern that is not symmetric: no self pass.
			p := pair(x, x, rxy, 1)
			ok, err := p.(core.SelfPair[T]).SoftMinSelf(eps, hs, out)
			p.Close()
			if err != nil || ok {
				t.Fatalf("SoftMinSelf with a pattern that is not symmetric: ok=%v err=%v, want false", ok, err)
			}
		}
		cp.Pts[0] += 1
		p = pair(x, cp, rxx, 1)
		defer p.Close()
		if ok, err := p.(core.SelfPair[T]).SoftMinSelf(eps, hs, out); err != nil || ok {
			t.Fatalf("SoftMinSelf on a Pair between different clouds: ok=%v err=%v, want false", ok, err)
		}
	}
}

// RunBlockDual is RunDual for block-sparse Pairs (core.BlockSparseEngine):
// if the Pairs mk builds offer fused updates, their SoftMinBoth over a
// pattern r must match the Pair's own SoftMin (pattern r) and the
// transposed Pair's (r.Transpose()), and SoftMinSelf over a symmetric
// pattern the self Pair's SoftMin, within RunDual's bound, identical bit
// for bit with 1, 2 and 3 threads; rows and columns with no kept pair get
// +∞ (as SoftMin) or the direction is declined. The patterns are random:
// empty and single-point clusters, none or all pairs kept, clusters of
// more kept columns than a tile, runs of more than 128 rows of one cluster
// in a chunk; D = 1, 2, 3, 5, p = 1, 2, and the far-from-feasible cases of
// RunDual. A self pass on a pattern that is not symmetric must decline.
func RunBlockDual[T core.Float](t *testing.T, mk BlockPairFunc[T], f float64) {
	one := core.Cloud[T]{Pts: make([]T, 3), N: 1, D: 3}
	r1 := &core.Ranges{RowStart: []int{0, 1}, ColStart: []int{0, 1}, Offsets: []int{0, 1}, Cols: []int32{0}}
	dual, self := fusedCaps(t, "block-sparse Pair", func() (core.Pair[T], error) { return mk(one, one, core.CostHalfSquared, r1, 1) })
	cn := map[core.Cost]string{core.CostHalfSquared: "p2", core.CostEuclidean: "p1"}
	ones := func(_ *rand.Rand, n int) []int { return slices.Repeat([]int{1}, n) }
	for _, cost := range []core.Cost{core.CostHalfSquared, core.CostEuclidean} {
		var cs []dualCase
		for _, d := range []int{1, 2, 3, 5} {
			cs = append(cs, dualCase{Name: fmt.Sprintf("D%d", d), N: 70, M: 90, D: d, Eps: .05, Iters: 4, MustOK: d <= 3,
				Sizes: randomSizes(6), Keep: .5})
		}
		cs = append(cs,
			dualCase{Name: "square", N: 60, M: 60, D: 2, Eps: .05, Iters: 4, MustOK: true, Sizes: randomSizes(5), Keep: .4},
			dualCase{Name: "singletons", N: 30, M: 40, D: 3, Eps: .05, Iters: 4, MustOK: true, Sizes: ones, Keep: .3},
			dualCase{Name: "keep-none", N: 30, M: 40, D: 3, Eps: .05, Iters: 2, MustOK: true, Sizes: randomSizes(5), Keep: 0},
			// Some rows and some columns keep no pair (+∞ in both directions).
			dualCase{Name: "empty-rows-cols", N: 60, M: 70, D: 2, Eps: .05, Iters: 3, MustOK: true, Sizes: randomSizes(4), Keep: .07},
			dualCase{Name: "keep-all", N: 50, M: 70, D: 3, Eps: .05, Iters: 4, MustOK: true, Sizes: randomSizes(5), Keep: 1},
			dualCase{Name: "many-tiles", N: 40, M: 4500, D: 3, Eps: .01, Iters: 3, MustOK: true, Sizes: randomSizes(300), Keep: .7},
			// ⌈9000/64⌉ rows a chunk, clusters of hundreds: runs of more
			// than 128 rows (float32 column terms staged more than once).
			dualCase{Name: "tall", N: 9000, M: 40, D: 2, Eps: .05, Iters: 1, MustOK: true, Sizes: randomSizes(400), Keep: .6},
			dualCase{Name: "first-iteration", N: 50, M: 70, D: 3, Eps: .02, Iters: 0, Sizes: randomSizes(5), Keep: .5},
			dualCase{Name: "zero-duals-tiny-eps", N: 50, M: 70, D: 3, Eps: 1e-4, Iters: -1, Sizes: randomSizes(5), Keep: .5},
			dualCase{Name: "huge-duals", N: 50, M: 70, D: 3, Eps: .05, Iters: 4, Shift: 300, Sizes: randomSizes(5), Keep: .5},
			dualCase{Name: "negative-duals", N: 50, M: 70, D: 3, Eps: .05, Iters: 4, Shift: -300, Sizes: randomSizes(5), Keep: .5},
			dualCase{Name: "neg-inf-weights", N: 50, M: 70, D: 3, Eps: .05, Iters: 4, Zero: true, Sizes: randomSizes(5), Keep: .5},
		)
		for k, c := range cs {
			c.Cost, c.Seed = cost, uint64(500+k)
			t.Run(cn[cost]+"/"+c.Name, func(t *testing.T) { runDual(t, mk, c, f, dual, self) })
		}
	}
}

// dualPatterns returns a random cross pattern between c.N and c.M points
// and a random symmetric self pattern of the c.N points (see dualCase).
func dualPatterns(r *rand.Rand, c dualCase) (xy, xx *core.Ranges) {
	rs, cs := bounds(c.Sizes(r, c.N)), bounds(c.Sizes(r, c.M))
	random := func(rs, cs []int) [][]bool {
		keep := make([][]bool, len(rs)-1)
		for k := range keep {
			keep[k] = make([]bool, len(cs)-1)
			for l := range keep[k] {
				keep[k][l] = r.Float64() < c.Keep
			}
		}
		return keep
	}
	pattern := func(rs, cs []int, keep [][]bool) *core.Ranges {
		p := &core.Ranges{RowStart: rs, ColStart: cs, Offsets: []int{0}}
		for k := range keep {
			for l, ok := range keep[k] {
				if ok {
					p.Cols = append(p.Cols, int32(l))
				}
			}
			p.Offsets = append(p.Offsets, len(p.Cols))
		}
		return p
	}
	s := random(rs, rs)
	for k := range s {
		for l := range k {
			s[k][l] = s[k][l] || s[l][k]
			s[l][k] = s[k][l]
		}
	}
	return pattern(rs, cs, random(rs, cs)), pattern(rs, rs, s)
}

// symmetric reports whether pattern r is its own transpose.
func symmetric(r *core.Ranges) bool {
	t := r.Transpose()
	return slices.Equal(r.RowStart, r.ColStart) && slices.Equal(t.Offsets, r.Offsets) && slices.Equal(t.Cols, r.Cols)
}
