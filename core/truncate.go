package core

import (
	"math"
	"slices"
	"sync/atomic"

	"github.com/libgeomloss/libgeomloss/core/cluster"
)

// blockTree is one cloud's blocks — the row or column clusters of the
// multiscale backend's block-sparse reductions, contiguous ranges of the
// sorted fine cloud — with their bounding boxes and masses, and coarser
// groupings of the blocks (the hierarchy's coarser levels) for the
// hierarchical truncation test.
type blockTree struct {
	d      int
	fine   []int       // K+1 block boundaries in the sorted fine cloud
	groups [][]int     // groups[g]: cell boundaries at grouping g in block indices; g = 0 is the blocks themselves
	parent [][]int     // parent[g][k]: the grouping-g cell of block k
	child  [][]int     // child[g][c]: first grouping-(g−1) cell of cell c (g ≥ 1), len = cells+1
	lo, hi [][]float64 // lo[g][c·d+k], hi[g][…]: bounding box of the fine points of cell c at grouping g
	mass   [][]float64 // mass[g][c]: total (clamped) weight of cell c at grouping g
}

// newBlockTree builds the blocks of hierarchy h — adaptive: the coarsest
// cells holding at most maxPts points (or level 0's cells) — and groupings
// at the coarser levels, up to the first with at most topCells cells. pts
// and w are in input order.
func newBlockTree[T Float](h *cluster.Hierarchy, maxPts int, maxSide float64, pts, w []T, d, topCells int) *blockTree {
	bt := &blockTree{d: d, fine: adaptiveBlocks(h, maxPts, maxSide)}
	K := len(bt.fine) - 1
	ident := make([]int, K+1)
	for k := range ident {
		ident[k] = k
	}
	bt.groups = [][]int{ident}
	for t := 1; t < h.Levels && len(bt.groups[len(bt.groups)-1]) > topCells+1; t++ {
		// Cells of level t, merged where a block spans several: the
		// boundaries of level t (h.Bounds(t): 0, the k with Split[k] > t, n)
		// that are also block boundaries, read off the blocks' own
		// boundaries (nested as t grows, since level t+1's boundaries are
		// level t's).
		gb := make([]int, 0)
		for k, f := range bt.fine[:K] {
			if f == 0 || int(h.Split[f]) > t {
				gb = append(gb, k)
			}
		}
		gb = append(gb, K)
		if len(gb) < len(bt.groups[len(bt.groups)-1]) {
			bt.groups = append(bt.groups, gb)
		}
	}
	G := len(bt.groups)
	bt.parent, bt.child = make([][]int, G), make([][]int, G)
	bt.lo, bt.hi, bt.mass = make([][]float64, G), make([][]float64, G), make([][]float64, G)
	for g, gb := range bt.groups {
		C := len(gb) - 1
		par := make([]int, K)
		for c := 0; c < C; c++ {
			for k := gb[c]; k < gb[c+1]; k++ {
				par[k] = c
			}
		}
		bt.parent[g] = par
		if g > 0 {
			prev := bt.groups[g-1]
			ch := make([]int, C+1)
			j := 0
			for c := 0; c <= C; c++ {
				for prev[j] < gb[c] {
					j++
				}
				ch[c] = j
			}
			bt.child[g] = ch
		}
		lo, hi, ms := make([]float64, C*d), make([]float64, C*d), make([]float64, C)
		for i := range lo {
			lo[i], hi[i] = math.Inf(1), math.Inf(-1)
		}
		bt.lo[g], bt.hi[g], bt.mass[g] = lo, hi, ms
	}
	// Block boxes and masses from the fine points, then aggregated.
	for k := 0; k < K; k++ {
		lo, hi := bt.lo[0][k*d:(k+1)*d], bt.hi[0][k*d:(k+1)*d]
		for _, i := range h.Perm[bt.fine[k]:bt.fine[k+1]] {
			for q := 0; q < d; q++ {
				v := float64(pts[i*d+q])
				lo[q], hi[q] = min(lo[q], v), max(hi[q], v)
			}
			bt.mass[0][k] += max(float64(w[i]), 1e-9)
		}
	}
	for g := 1; g < G; g++ {
		for k := 0; k < K; k++ {
			c := bt.parent[g][k]
			for q := 0; q < d; q++ {
				bt.lo[g][c*d+q] = min(bt.lo[g][c*d+q], bt.lo[0][k*d+q])
				bt.hi[g][c*d+q] = max(bt.hi[g][c*d+q], bt.hi[0][k*d+q])
			}
			bt.mass[g][c] += bt.mass[0][k]
		}
	}
	return bt
}

// adaptiveBlocks returns the boundaries of the coarsest cells of h (any
// level) holding at most maxPts points and, for voxels, no wider than
// maxSide unless they hold at most msMinBlock points, splitting a cell into
// its children down to level 0; consecutive sibling cells that qualify are
// merged while they hold at most maxPts points together (sparse regions
// would otherwise make blocks of a few points, which the reductions pad to
// the vector width and pay per block).
func adaptiveBlocks(h *cluster.Hierarchy, maxPts int, maxSide float64) []int {
	n := len(h.Perm)
	b := []int{0}
	leafOK := func(lo, hi, t int) bool {
		wide := h.Side > 0 && maxSide > 0 && h.Side*math.Exp2(float64(t)) > maxSide && hi-lo > msMinBlock
		return (hi-lo <= maxPts && !wide) || t == 0
	}
	var rec func(lo, hi, t int)
	rec = func(lo, hi, t int) {
		if leafOK(lo, hi, t) {
			b = append(b, hi)
			return
		}
		pending := lo // start of the merged run of qualifying children
		child := func(c0, c1 int) {
			if maxPts > 0 && leafOK(c0, c1, t-1) && c1-c0 <= maxPts {
				if c1-pending > maxPts && c0 > pending {
					b = append(b, c0)
					pending = c0
				}
				return
			}
			if c0 > pending {
				b = append(b, c0)
			}
			rec(c0, c1, t-1)
			pending = c1
		}
		c := lo
		for k := lo + 1; k < hi; k++ {
			if int(h.Split[k]) > t-1 {
				child(c, k)
				c = k
			}
		}
		child(c, hi)
		if hi > pending {
			b = append(b, hi)
		}
	}
	top := h.Levels - 1
	c := 0
	for k := 1; k < n; k++ {
		if int(h.Split[k]) > top {
			rec(c, k, top)
			c = k
		}
	}
	if n > 0 {
		rec(c, n, top)
	}
	return b
}

// zeros returns one zero per cell of every grouping.
func (bt *blockTree) zeros() [][]float64 {
	z := make([][]float64, len(bt.groups))
	for g := range z {
		z[g] = make([]float64, len(bt.groups[g])-1)
	}
	return z
}

// blocks returns the number of blocks.
func (bt *blockTree) blocks() int { return len(bt.fine) - 1 }

// aggregate returns per grouping and cell the maximum of v over the cell's
// blocks (v given per block).
func (bt *blockTree) aggregate(v []float64) [][]float64 {
	out := make([][]float64, len(bt.groups))
	out[0] = v
	for g := 1; g < len(bt.groups); g++ {
		a := make([]float64, len(bt.groups[g])-1)
		for c := range a {
			a[c] = math.Inf(-1)
		}
		for k, c := range bt.parent[g] {
			a[c] = max(a[c], v[k])
		}
		out[g] = a
	}
	return out
}

// truncation is the result of a truncation test: the kept column blocks of
// every row block (a Ranges' Offsets and Cols) and the bound on what it
// drops.
type truncation struct {
	offsets []int
	cols    []int32 // the kept column blocks of every row block (a Ranges shares them: see ranges)
	// maxDrop bounds, over the row blocks, the dropped part of a row's
	// soft-min sum relative to the whole (see truncate).
	maxDrop float64
	widened int // row blocks whose kept set was widened to meet the bound
}

// truncTest holds the arguments of a truncation test between row blocks rt
// (potential maxima fr per block) and column blocks ct (fc).
type truncTest struct {
	rt, ct   *blockTree
	fr, fc   [][]float64
	lr, lc   *linBound // affine bounds of the row and column potentials (p = 2; nil: maxima only)
	eps, thr float64   // ε and the threshold −truncate
	rho      float64   // ρ (+Inf balanced)
	cost     Cost
	maxDrop  float64 // the bound to meet per row block
	threads  int     // for the parallel descent (Resources.Threads)
	stop     *Stop   // cancellation: the test ends early (the caller checks the flag)
	distOnly bool    // kernel truncation: keep iff the boxes are within radius
	radius2  float64 // squared radius of the kernel truncation
}

// ub returns the upper bound of the log-density (f_i + g_j − C_ij)/ε over
// the cells a (grouping ga of the rows) and b (gb of the columns): the
// maximal potentials minus the cost at the smallest distance between their
// bounding boxes, or the affine bound where it is lower.
func (tt *truncTest) ub(ga, a, gb, b int) float64 {
	r := tt.cellRow(ga, a, gb)
	u, _ := r.box(b)
	if r.affine {
		u = min(u, r.affineUB(b))
	}
	return u / tt.eps
}

// cellRow is row cell a (grouping ga) against the column cells of grouping
// gb in ub: the slices of both sides taken once for the many column cells
// a row cell meets.
type cellRow struct {
	tt               *truncTest
	d                int
	alo, ahi         []float64 // a's box
	blo, bhi         []float64 // the column cells' boxes, [b·d+q]
	fa               float64   // a's potential maximum
	fb               []float64 // the column cells' maxima
	affine           bool      // both affine bounds (then the fields below)
	ca, sa, ula, uha []float64 // a's centroid, slope and offset box (see affineUB)
	ta               float64   // a's top
	cb, sb, vlb, vhb []float64 // the column cells', [b·d+q]
	tb               []float64
}

func (tt *truncTest) cellRow(ga, a, gb int) cellRow {
	d := tt.rt.d
	r := cellRow{tt: tt, d: d, alo: tt.rt.lo[ga][a*d : (a+1)*d], ahi: tt.rt.hi[ga][a*d : (a+1)*d],
		blo: tt.ct.lo[gb], bhi: tt.ct.hi[gb], affine: tt.lr != nil && tt.lc != nil}
	if !tt.distOnly {
		r.fa, r.fb = tt.fr[ga][a], tt.fc[gb]
	}
	if r.affine {
		lr, lc := tt.lr, tt.lc
		r.ca, r.sa = lr.cen[ga][a*d:(a+1)*d], lr.slope[ga][a*d:(a+1)*d]
		r.ula, r.uha, r.ta = lr.lo[ga][a*d:(a+1)*d], lr.hi[ga][a*d:(a+1)*d], lr.top[ga][a]
		r.cb, r.sb, r.vlb, r.vhb, r.tb = lc.cen[gb], lc.slope[gb], lc.lo[gb], lc.hi[gb], lc.top[gb]
	}
	return r
}

// box returns the maxima-and-boxes part u of ub against column cell b
// before its division by ε, and u/ε (kernel truncation: 0 within the
// radius, −∞ beyond).
func (r *cellRow) box(b int) (u, scaled float64) {
	d := r.d
	alo, ahi := r.alo, r.ahi
	blo, bhi := r.blo[b*d:(b+1)*d], r.bhi[b*d:(b+1)*d]
	var s float64
	for q := 0; q < d; q++ {
		gap := max(0, blo[q]-ahi[q], alo[q]-bhi[q])
		s += gap * gap
	}
	if r.tt.distOnly {
		if s <= r.tt.radius2 {
			return 0, 0
		}
		return math.Inf(-1), math.Inf(-1)
	}
	u = r.fa + r.fb[b] - PointCost(r.tt.cost, s)
	return u, u / r.tt.eps
}

// estimate returns the fraction of block pairs the test would keep, from
// every stride-th top row cell only (a cheap look-ahead: a pattern keeping
// most pairs is not worth building).
func (tt *truncTest) estimate(stride int) float64 {
	rt, ct := tt.rt, tt.ct
	gx := len(rt.groups) - 1
	drop := rt.zeros()
	tops := len(rt.groups[gx]) - 1
	samples := (tops + stride - 1) / stride
	kept := make([]int64, samples) // per sampled top cell: integer sums, the same whatever the order
	forTopCells(samples, tt.threads, nil, func(sc *descendScratch, q int) {
		tt.descend(q*stride, drop, sc, func(_ int, l []int32) { kept[q] += int64(len(l)) })
	})
	var keptPairs, allPairs int64
	for q := range kept {
		a := q * stride
		keptPairs += kept[q]
		allPairs += int64(rt.groups[gx][a+1]-rt.groups[gx][a]) * int64(ct.blocks())
	}
	if allPairs == 0 {
		return 1
	}
	return float64(keptPairs) / float64(allPairs)
}

// truncate keeps the block pairs (k, l) whose log-density bound
// ub_kl = (max_{i∈k} f_i + max_{j∈l} g_j − min_{i∈k, j∈l} C_ij)/ε exceeds
// −truncate (found hierarchically: a cell pair whose bound is below drops
// all its sub-blocks, since the bound only decreases under refinement). The
// part of row i's soft-min sum Σ_j b_j e^{(f_i+g_j−C_ij)/ε} (≈ e^{−f_i/ρ},
// 1 when balanced, once the potentials are near a fixed point) that the
// dropped pairs carry is at most E_k = Σ_{dropped cells l} m_l e^{ub_kl};
// a row block whose relative bound E_k·e^{max f/ρ} exceeds maxDrop, or that
// keeps nothing, is widened: its column blocks are taken by decreasing
// bound until the rest meets maxDrop (at least one is always kept).
func (tt *truncTest) run() truncation {
	tr, _ := tt.runLimited(-1)
	return tr
}

// runLimited is run that gives up once the pattern is known to keep more
// than limit block pairs (limit < 0: never), returning dense = true and no
// pattern. Each top row cell's rows are finished (kept lists, widening) on
// their own, since the drops of a top cell's sub-cells are its own; the
// pattern's size is the sum of the top cells' kept counts, all ≥ 0, so a
// partial sum above limit proves the whole is, and the whole is above
// limit exactly when the last partial sum is: dense is true iff the full
// test would keep more than limit pairs, whatever the thread count.
func (tt *truncTest) runLimited(limit float64) (tr truncation, dense bool) {
	rt, ct := tt.rt, tt.ct
	K, L := rt.blocks(), ct.blocks()
	top := rt.groups[len(rt.groups)-1]
	drop := rt.zeros()
	tops := len(top) - 1
	chunks := make([]truncChunk, tops)
	var kept atomic.Int64
	var over atomic.Bool
	forTopCells(tops, tt.threads, func() bool { return tt.stop.Stopped() || over.Load() }, func(sc *descendScratch, a int) {
		chunks[a] = tt.topRows(a, L, drop, sc)
		if n := kept.Add(int64(len(chunks[a].cols))); limit >= 0 && float64(n) > limit {
			over.Store(true)
		}
	})
	if over.Load() {
		return truncation{}, true
	}
	// Concatenate the top cells' rows (a cancelled test leaves some empty;
	// the caller checks the flag).
	tr.offsets, tr.cols = make([]int, K+1), make([]int32, 0, kept.Load())
	for a := range chunks {
		c := &chunks[a]
		for k := top[a]; k < top[a+1]; k++ {
			n := 0
			if c.count != nil {
				n = int(c.count[k-top[a]])
			}
			tr.offsets[k+1] = tr.offsets[k] + n
		}
		tr.cols = append(tr.cols, c.cols...)
		tr.maxDrop = max(tr.maxDrop, c.maxDrop)
		tr.widened += c.widened
		*c = truncChunk{}
	}
	return tr, false
}

// forTopCells calls body(sc, a) for a = 0 … n−1 on up to threads
// goroutines, each taking the next cell when it is done with one (the top
// cells' work is uneven) and reusing its own scratch sc; the calls stop
// being made once quit (nil: never) returns true. Each top cell's result is
// its own, so the results do not depend on which goroutine ran which.
func forTopCells(n, threads int, quit func() bool, body func(sc *descendScratch, a int)) {
	ForChunksScratch(n, threads, quit, func() *descendScratch { return new(descendScratch) }, func(a int, sc *descendScratch) { body(sc, a) })
}

// truncChunk is the part of a truncation for the row blocks of one top row
// cell: kept column blocks per row (count), concatenated (cols), and that
// part's maxDrop and widened count.
type truncChunk struct {
	count, cols []int32
	maxDrop     float64
	widened     int
}

// topRows runs the test for top row cell a: descend, each row block of a
// finished as soon as it is reached — its kept column blocks (ascending),
// widened where the drop bound exceeds maxDrop (see run).
func (tt *truncTest) topRows(a, L int, drop [][]float64, sc *descendScratch) truncChunk {
	rt := tt.rt
	top := rt.groups[len(rt.groups)-1]
	k0 := top[a]
	c := truncChunk{count: make([]int32, top[a+1]-k0)}
	tt.descend(a, drop, sc, func(k int, lst []int32) {
		var e float64
		for g := range drop {
			e += drop[g][rt.parent[g][k]]
		}
		rel := 1.0
		if !math.IsInf(tt.rho, 1) && !tt.distOnly {
			rel = math.Exp(tt.fr[0][k] / tt.rho)
		}
		if !tt.distOnly && (len(lst) == 0 || e*rel > tt.maxDrop) {
			var w []int
			w, e = tt.widen(k, L, tt.maxDrop/rel)
			lst = sc.widened[:0]
			for _, l := range w {
				lst = append(lst, int32(l))
			}
			sc.widened = lst
			c.widened++
		}
		if !tt.distOnly {
			c.maxDrop = max(c.maxDrop, e*rel)
		}
		sc.out = append(sc.out, lst...)
		c.count[k-k0] = int32(len(lst))
	})
	c.cols = slices.Clone(sc.out) // held until run concatenates: exact size
	sc.out = sc.out[:0]
	return c
}

// descendScratch holds descend's column lists, two per depth (the
// surviving cells and their children), reused across the top cells of one
// worker, a buffer for widened rows and one for a top cell's kept lists.
type descendScratch struct {
	surv, next [][]int32
	widened    []int32
	out        []int32 // the kept lists of the current top cell's rows
}

// descend tests top row cell a against every top column cell and refines
// the pairs whose bound exceeds the threshold down to the blocks, adding the
// dropped cells' mass bounds to drop (at a's sub-cells only), and calls row
// for every row block of a, ascending, with its kept column blocks
// (ascending; the slice is reused after the call). The refinement is
// depth first over the row cells — a row cell's pairs are refined one
// level (both groupings one finer, each at most down to the blocks), then
// each of its child cells in turn with the children of its surviving
// column cells — so it holds one column list per depth, not every pair of
// a level; every cell's drop receives the same terms in the same order as
// a level-by-level sweep would (the pairs of one row cell are the same,
// in the same order), and a row block's drops are complete when reached.
func (tt *truncTest) descend(a int, drop [][]float64, sc *descendScratch, row func(k int, kept []int32)) {
	rt, ct := tt.rt, tt.ct
	gx, gy := len(rt.groups)-1, len(ct.groups)-1
	depth := max(gx, gy) + 1
	for len(sc.surv) < depth {
		sc.surv, sc.next = append(sc.surv, nil), append(sc.next, nil)
	}
	cols := sc.next[0][:0]
	for b := 0; b < len(ct.groups[gy])-1; b++ {
		cols = append(cols, int32(b))
	}
	sc.next[0] = cols
	tt.refine(gx, a, gy, cols, 0, drop, sc, row)
}

// refine tests row cell a (grouping gx) against column cells cols
// (grouping gy) at recursion depth d, then refines (see descend).
func (tt *truncTest) refine(gx, a, gy int, cols []int32, d int, drop [][]float64, sc *descendScratch, row func(k int, kept []int32)) {
	rt, ct := tt.rt, tt.ct
	farDrop := math.Exp(tt.thr - 40)
	surv := sc.surv[d][:0]
	// u is ub(gx, a, gy, b), computed as two parts: the affine bound w can
	// only lower it (min(u₀, w)/ε ≤ u₀/ε: the division is monotone, and w is
	// never NaN from tame bounds, see linBound.tame), so a pair whose box
	// part u₀/ε is already below thr − 40 takes the far branch whatever w
	// is, and w is not computed.
	cr := tt.cellRow(gx, a, gy)
	skip := cr.affine && tt.lr.tame && tt.lc.tame
	for _, b32 := range cols {
		b := int(b32)
		u0, u := cr.box(b)
		if cr.affine && !(skip && u < tt.thr-40) {
			u = min(u0, cr.affineUB(b)) / tt.eps
		}
		if !(u > tt.thr) {
			// The dropped cell's share is at most m·e^u; far below the
			// threshold it is bounded by m·e^{thr−40} without an exp.
			if u < tt.thr-40 {
				drop[gx][a] += ct.mass[gy][b] * farDrop
			} else {
				drop[gx][a] += ct.mass[gy][b] * math.Exp(u)
			}
			continue
		}
		surv = append(surv, b32)
	}
	sc.surv[d] = surv
	if gx == 0 && gy == 0 {
		row(a, surv)
		return
	}
	next := surv
	if gy > 0 {
		next = sc.next[d+1][:0]
		for _, b := range surv {
			for c := ct.child[gy][b]; c < ct.child[gy][b+1]; c++ {
				next = append(next, int32(c))
			}
		}
		sc.next[d+1] = next
	}
	a0, a1 := a, a+1
	if gx > 0 {
		a0, a1 = rt.child[gx][a], rt.child[gx][a+1]
	}
	for c := a0; c < a1; c++ {
		tt.refine(max(gx-1, 0), c, max(gy-1, 0), next, d+1, drop, sc, row)
	}
}

// widen returns the column blocks of row block k taken by decreasing bound
// until the dropped rest Σ m_l e^{ub} is at most budget (at least one), and
// that rest.
func (tt *truncTest) widen(k, L int, budget float64) ([]int, float64) {
	type cand struct {
		l    int
		u, m float64
	}
	cs := make([]cand, L)
	for l := range cs {
		u := tt.ub(0, k, 0, l)
		cs[l] = cand{l, u, tt.ct.mass[0][l] * math.Exp(min(u, 700))}
	}
	slices.SortFunc(cs, func(a, b cand) int {
		if a.u != b.u {
			if a.u > b.u {
				return -1
			}
			return 1
		}
		return a.l - b.l
	})
	suf := make([]float64, L+1) // suf[n]: the mass bound of the candidates from n on
	for n := L - 1; n >= 0; n-- {
		suf[n] = suf[n+1] + cs[n].m
	}
	n := 1
	for n < L && suf[n] > budget {
		n++
	}
	keep := make([]int, n)
	for q := range keep {
		keep[q] = cs[q].l
	}
	rest := suf[n]
	slices.Sort(keep)
	return keep, rest
}

// linBound is an affine upper bound of a potential over the cells of a
// blockTree, at every grouping: for the points x_i of cell c (offsets
// u_i = x_i − cen_c, inside the box [lo_c, hi_c]),
//
//	f_i ≤ top_c + ⟨slope_c, u_i⟩,
//
// with slope_c the least-squares slope of f over the cell and top_c its
// mean plus the largest residual (so the bound is exact, not fitted).
type linBound struct {
	d                  int
	cen, slope, lo, hi [][]float64 // [g][c·d+q]
	top                [][]float64 // [g][c]
	// tame: every value above is at most 1e100 in magnitude (none NaN), so
	// that affineUB's products and sums (of at most a few thousand terms)
	// never overflow and its result is never NaN.
	tame bool
}

// newLinBound fits the bound of potential v (sorted fine order, the points
// of s) over the cells of bt, the cells of each grouping on up to threads
// goroutines (each cell's fit is its own: the same bits whatever threads).
func newLinBound[T Float](bt *blockTree, s *msSide[T], v []T, threads int) *linBound {
	d := bt.d
	lb := &linBound{d: d}
	G := len(bt.groups)
	lb.cen, lb.slope, lb.lo, lb.hi, lb.top = make([][]float64, G), make([][]float64, G), make([][]float64, G), make([][]float64, G), make([][]float64, G)
	for g, gb := range bt.groups {
		C := len(gb) - 1
		cen, slope, lo, hi, top := make([]float64, C*d), make([]float64, C*d), make([]float64, C*d), make([]float64, C*d), make([]float64, C)
		ParallelRows(C, threads, 64, func(c0, c1 int) {
			a := make([]float64, d*d)
			rhs, u := make([]float64, d), make([]float64, d)
			for c := c0; c < c1; c++ {
				fitCell(s.pts.Pts, v, d, bt.fine[gb[c]], bt.fine[gb[c+1]], a, rhs, u,
					cen[c*d:(c+1)*d], slope[c*d:(c+1)*d], lo[c*d:(c+1)*d], hi[c*d:(c+1)*d], &top[c])
			}
		})
		lb.cen[g], lb.slope[g], lb.lo[g], lb.hi[g], lb.top[g] = cen, slope, lo, hi, top
	}
	lb.tame = d <= 1000
	for _, vs := range [][][]float64{lb.cen, lb.slope, lb.lo, lb.hi, lb.top} {
		for _, v := range vs {
			for _, x := range v {
				lb.tame = lb.tame && math.Abs(x) <= 1e100
			}
		}
	}
	return lb
}

// fitCell fits one cell's bound (points [i0, i1)): its centroid cc, the
// least-squares slope sl of v about it, the offsets' box [l, h] and the top
// (mean plus the largest residual); a, rhs, u are scratch.
func fitCell[T Float](pts, v []T, d, i0, i1 int, a, rhs, u, cc, sl, l, h []float64, top *float64) {
	var fm float64
	for i := i0; i < i1; i++ {
		for q := 0; q < d; q++ {
			cc[q] += float64(pts[i*d+q])
		}
		fm += float64(v[i])
	}
	n := float64(i1 - i0)
	for q := range cc {
		cc[q] /= n
	}
	fm /= n
	clear(a)
	clear(rhs)
	for i := i0; i < i1; i++ {
		for q := 0; q < d; q++ {
			u[q] = float64(pts[i*d+q]) - cc[q]
		}
		df := float64(v[i]) - fm
		for q := 0; q < d; q++ {
			rhs[q] += u[q] * df
			for r := 0; r < d; r++ {
				a[q*d+r] += u[q] * u[r]
			}
		}
	}
	solveSPD(a, rhs, sl, d)
	for q := range l {
		l[q], h[q] = math.Inf(1), math.Inf(-1)
	}
	e := math.Inf(-1)
	for i := i0; i < i1; i++ {
		var lin float64
		for q := 0; q < d; q++ {
			w := float64(pts[i*d+q]) - cc[q]
			l[q], h[q] = min(l[q], w), max(h[q], w)
			lin += sl[q] * w
		}
		e = max(e, float64(v[i])-fm-lin)
	}
	*top = fm + e
}

// solveSPD solves a·x = b for the d×d positive semi-definite a (Cholesky with
// a relative ridge; x = 0 where a is singular, e.g. a single point), in place
// of nothing: a and b are scratch.
func solveSPD(a, b, x []float64, d int) {
	var tr float64
	for q := 0; q < d; q++ {
		tr += a[q*d+q]
	}
	clear(x)
	if !(tr > 0) {
		return
	}
	ridge := 1e-9 * tr
	for q := 0; q < d; q++ {
		a[q*d+q] += ridge
	}
	// Cholesky a = L·Lᵀ in the lower triangle.
	for q := 0; q < d; q++ {
		for r := 0; r <= q; r++ {
			s := a[q*d+r]
			for k := 0; k < r; k++ {
				s -= a[q*d+k] * a[r*d+k]
			}
			if q == r {
				if !(s > 0) {
					return
				}
				a[q*d+q] = math.Sqrt(s)
			} else {
				a[q*d+r] = s / a[r*d+r]
			}
		}
	}
	for q := 0; q < d; q++ { // L·z = b
		s := b[q]
		for k := 0; k < q; k++ {
			s -= a[q*d+k] * x[k]
		}
		x[q] = s / a[q*d+q]
	}
	for q := d - 1; q >= 0; q-- { // Lᵀ·x = z
		s := x[q]
		for k := q + 1; k < d; k++ {
			s -= a[k*d+q] * x[k]
		}
		x[q] = s / a[q*d+q]
	}
}

// affineUB bounds max over i ∈ the row cell a (bound lr) and j ∈ column
// cell b (bound lc) of f_i + g_j − |x_i − y_j|²/2: with Δ = cen_a − cen_b,
// slopes s_a, s_b, offsets u ∈ U_a, v ∈ V_b and w = u − v ∈ W = U_a − V_b,
//
//	f_i + g_j − C_ij ≤ top_a + top_b + ⟨s_a + s_b, u⟩ − ⟨s_b, w⟩ − |Δ + w|²/2
//	               ≤ top_a + top_b + max_U ⟨s_a + s_b, u⟩ + |s_b|²/2 + ⟨s_b, Δ⟩ − dist(−(Δ + s_b), W)²/2,
//
// u and w bounded independently. Near the plan's support s_a + s_b ≈ 0
// (the slopes are x − T(x) and y − T⁻¹(y)), so the bound is tight where it
// matters.
func (r *cellRow) affineUB(b int) float64 {
	d := r.d
	ca, cb := r.ca, r.cb[b*d:(b+1)*d]
	sa, sb := r.sa, r.sb[b*d:(b+1)*d]
	ula, uha := r.ula, r.uha
	vlb, vhb := r.vlb[b*d:(b+1)*d], r.vhb[b*d:(b+1)*d]
	v := r.ta + r.tb[b]
	var dist2 float64
	for q := 0; q < d; q++ {
		t := sa[q] + sb[q]
		v += max(t*ula[q], t*uha[q])
		delta := ca[q] - cb[q]
		v += sb[q]*sb[q]/2 + sb[q]*delta
		z := -(delta + sb[q])
		gap := max(0, (ula[q]-vhb[q])-z, z-(uha[q]-vlb[q]))
		dist2 += gap * gap
	}
	return v - dist2/2
}

// ranges returns tr as the pattern between row blocks rb and column blocks
// cb (sharing tr's lists: no copy).
func (tr truncation) ranges(rb, cb []int) *Ranges {
	return &Ranges{RowStart: rb, ColStart: cb, Offsets: tr.offsets, Cols: tr.cols}
}

// transposeRanges returns the transposed pattern of tr (tr.ranges(cb,
// rb).Transpose() with tr between row blocks cb and column blocks rb)
// between row blocks rb (the L column blocks of tr) and column blocks cb.
func (tr truncation) transposeRanges(rb, cb []int) *Ranges {
	off, cols := transposeLists(tr.offsets, tr.cols, len(rb)-1)
	return &Ranges{RowStart: rb, ColStart: cb, Offsets: off, Cols: cols}
}

// transpose returns the kept row blocks of each of the L column blocks of
// tr, ascending (Ranges.Transpose on the int32 lists).
func (tr truncation) transpose(L int) truncation {
	off, cols := transposeLists(tr.offsets, tr.cols, L)
	return truncation{offsets: off, cols: cols}
}

// union returns the lists keeping the pairs of a or b (same blocks), at
// their exact size once a first pass has counted them — or (nil, true),
// allocating no lists, when that count exceeds limit (limit ≥ 0). Both
// passes run over row blocks on up to threads goroutines (each row's union
// is its own).
func union(a, b truncation, limit float64, threads int) (*truncation, bool) {
	K := len(a.offsets) - 1
	kept := func(t truncation, k int) []int32 { return t.cols[t.offsets[k]:t.offsets[k+1]] }
	off := make([]int, K+1)
	ParallelRows(K, threads, 256, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			off[k+1] = mergeSorted(kept(a, k), kept(b, k), nil)
		}
	})
	for k := 0; k < K; k++ {
		off[k+1] += off[k]
	}
	if limit >= 0 && float64(off[K]) > limit {
		return nil, true
	}
	cols := make([]int32, off[K])
	ParallelRows(K, threads, 256, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			mergeSorted(kept(a, k), kept(b, k), cols[off[k]:off[k+1]])
		}
	})
	return &truncation{offsets: off, cols: cols}, false
}

// mergeSorted writes the union of the ascending lists p and q into out
// (nil: count only) and returns its length.
func mergeSorted(p, q []int32, out []int32) int {
	n, i, j := 0, 0, 0
	for i < len(p) && j < len(q) {
		v := p[i]
		switch {
		case v < q[j]:
			i++
		case q[j] < v:
			v = q[j]
			j++
		default:
			i, j = i+1, j+1
		}
		if out != nil {
			out[n] = v
		}
		n++
	}
	if out != nil {
		n += copy(out[n:], p[i:])
		n += copy(out[n:], q[j:])
		return n
	}
	return n + len(p) - i + len(q) - j
}
