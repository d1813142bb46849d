package core

import (
	"fmt"
	"math"

	"github.com/libgeomloss/libgeomloss/core/cluster"
)

// Multiscale defaults (see msConfig).
const (
	msKappaDefault   = math.MaxFloat64
	msKappaConverged = 8
	msRepeatsDefault = 0
	msBlockPts       = 32  // target mean number of points per block
	msTopCells       = 64  // the truncation test starts from groupings of at most this many cells
	msVoxels         = 16  // voxel levels: sides s_c, s_c/2, …, s_c/2^15
	msMinBlock       = 24  // blocks wider than blockSide are split down to this many points
	msMinCoarse      = 500 // clouds of fewer points have no coarse levels (nothing to save)
)

// msConfig are the multiscale backend's settings for one item.
type msConfig struct {
	truncate float64 // +Inf: keep every pair
	side     float64 // voxel side of the coarsest level (cluster_scale)
	p        int
	rho      float64 // +Inf balanced
	// maxDrop bounds the relative part of a row's soft-min sum that the
	// truncation may drop: e^{−truncate}/100.
	maxDrop          float64
	labelsX, labelsY []int64
	// kernelRadius > 0 selects the kernel losses' truncation (§5.3): one fine
	// level whose blocks are kept iff their boxes lie within this distance.
	kernelRadius float64
	// blockSide: voxel blocks wider than this are split further (down to
	// msMinBlock points), so that sparse regions do not make wide blocks
	// whose loose bounds keep everything: 6·blur.
	blockSide float64
	diameter  float64 // of the two clouds (§2.1)
	// kappa is the coarse levels' jump rule: iteration k at σ = ε_k^{1/p}
	// runs on the coarsest clusters at most σ/kappa wide (+Inf: none, the
	// exact annealing path; see multiscale).
	kappa float64
}

// msPoint is one cloud's view of a level: its points (sorted), their
// weights and log-weights, its block boundaries in its own indices, and the
// hierarchy shift it comes from (−1: the fine points).
type msSide[T Float] struct {
	shift int
	pts   Cloud[T]
	w, lw []T
	blk   []int
}

// msLevel is one scale of the multiscale geometry.
type msLevel[T Float] struct {
	x, y *msSide[T]
	// uxy is the x-y pattern as int32 lists (half a Ranges: its Ranges and
	// transpose are built where a reduction needs them, crossRanges); rxx,
	// ryy are the self patterns. nil: every pair (online reductions).
	uxy        *truncation
	rxx, ryy   *Ranges
	sc         Scale[T]
	closer     closeList
	fine       bool // the input measures: Scale in input order
	taylor     bool // the Taylor level (input points, input order)
	degree     int  // the Taylor level's largest polynomial degree
	keptPairs  int64
	keptBlocks int64
	allPairs   int64
	allBlocks  int64
	drop       float64
}

// multiscale is the multiscale backend's geometry (ALGORITHMS.md §4, kept
// on the exact annealing path): a Taylor level for the large-ε iterations, a
// hierarchy of clusters per cloud (octree voxels for D ≤ 3, a k-d tree
// beyond, or the caller's labels), optional coarse levels of cluster
// centroids (clamped masses, §4.3), and the fine level of the input points
// sorted by cluster.
//
//   - Taylor level (mstaylor.go, taylor.go, exppoly.go): while ρ = R_x·R_y/ε is small
//     (≤ 5 in float64, 8 in float32) and the polynomial is cheaper than the
//     pairs, every soft-min is the low-rank polynomial reduction on the input
//     points — exact to 1e-14 (float64) / 1e-8 (float32) relative.
//   - Truncation (the fine level): at every new ε of the schedule (but the
//     last, short step, retestRatio) the reductions are rebuilt over the
//     block pairs that the truncation test keeps from the current duals, at
//     the ε they will run at (truncTest.run:
//     bounding-box and affine potential bounds, hierarchical, both
//     directions, potentials normalised by one soft-min pass, dropped mass ≤
//     e^{−truncate}/100 per row, reported in Note) — once the test can pay
//     (worthTruncating, and a look-ahead on a sample of row cells,
//     likelyDense); before that, and wherever it keeps more than
//     msDenseFraction of the blocks or more than msMaxPatternBlocks block
//     pairs (memory), the reductions are online. Blocks are
//     the coarsest voxels of at most 32 points and at most 6·blur wide,
//     merged with their siblings up to 32 points.
//   - Coarse levels (Schedule; off by default, msKappa = +∞): iteration k at
//     σ = ε_k^{1/p} would run on the coarsest level whose clusters are at
//     most σ/κ wide; the duals jump to finer points by one soft-min over the
//     coarser level (§4.7). GeomLoss jumps at κ = 1 (18–70 % off, §4.10); κ =
//     16 is within 1e-4 on 3D Gaussians but up to 4 % off on 2D unbalanced
//     problems (TestMultiscaleCoarseLevels), and jumps only where the Taylor
//     level is exact anyway, so the default keeps every iteration exact.
//
// The fine level's reductions take and return vectors in input order, so the
// losses' final step and gradients (§7.4) work unchanged.
type multiscale[T Float] struct {
	eng     Engine[T]
	res     Resources
	cost    Cost
	need    Needs
	cfg     msConfig
	x, y    Cloud[T] // input order
	a, b    []T
	la, lb  []T
	hx, hy  *cluster.Hierarchy
	btx     *blockTree
	bty     *blockTree
	sizeX   []float64 // mean cluster size per hierarchy level
	sizeY   []float64
	cntX    []int
	cntY    []int
	plan    [][2]int // per level: the (x, y) hierarchy shifts, −1 = fine
	levels  []*msLevel[T]
	sched   Schedule
	levelOf []int // level of each iteration of the schedule
	// taylorIters is the number of leading iterations on the Taylor level
	// (0: none; see taylorRun).
	taylorIters int
	sparseNote  string
}

// newMultiscale builds the clusterings of the two clouds (input order, with
// weights a, b and log-weights la, lb).
func newMultiscale[T Float](eng Engine[T], res Resources, x, y Cloud[T], a, b, la, lb []T, need Needs, cost Cost, cfg msConfig) (*multiscale[T], error) {
	g := &multiscale[T]{eng: eng, res: res, cost: cost, need: need, cfg: cfg, x: x, y: y, a: a, b: b, la: la, lb: lb}
	var err error
	mk := func(c Cloud[T], labels []int64) (*cluster.Hierarchy, error) {
		switch {
		case labels != nil:
			return cluster.Labels(labels), nil
		case c.D <= 3:
			// msVoxels levels up to cluster_scale, then coarser ones up to
			// the diameter (groupings for the truncation test only).
			extra := 0
			if cfg.diameter > cfg.side {
				extra = int(math.Ceil(math.Log2(cfg.diameter/cfg.side))) + 1
			}
			h, err := cluster.Voxel(c.Pts, c.N, c.D, cfg.side/math.Exp2(msVoxels-1), msVoxels+extra)
			if err != nil {
				return nil, errorf(ErrInvalidOption, "%v", err)
			}
			return h, nil
		default:
			return cluster.KD(c.Pts, c.N, c.D), nil
		}
	}
	if g.hx, err = mk(x, cfg.labelsX); err != nil {
		return nil, err
	}
	if g.hy, err = mk(y, cfg.labelsY); err != nil {
		return nil, err
	}
	g.sizeX, g.cntX = levelSizes(g.hx, x)
	g.sizeY, g.cntY = levelSizes(g.hy, y)
	bx, by := msBlockPts, msBlockPts
	if cfg.labelsX != nil {
		bx = 0 // the labels' clusters are the blocks
	}
	if cfg.labelsY != nil {
		by = 0
	}
	g.btx = newBlockTree(g.hx, bx, cfg.blockSide, x.Pts, a, x.D, msTopCells)
	g.bty = newBlockTree(g.hy, by, cfg.blockSide, y.Pts, b, y.D, msTopCells)
	if _, ok := eng.(BlockSparseEngine[T]); !ok {
		g.sparseNote = fmt.Sprintf("engine %s has no block-sparse capability: multiscale reductions ran on the portable code", eng.Name())
	}
	return g, nil
}

// levelSizes returns, per hierarchy level, a bound on its clusters' extent
// and their count: the voxel diagonal side·2^t·√D for voxels, else the
// largest bounding-box diagonal of a cluster (a mean would let the many
// single-point clusters of the finer levels hide the large ones).
func levelSizes[T Float](h *cluster.Hierarchy, c Cloud[T]) ([]float64, []int) {
	size, cnt := make([]float64, h.Levels), make([]int, h.Levels)
	d := c.D
	lo, hi := make([]float64, d), make([]float64, d)
	var bd []int // level t's boundaries (k-d trees only; one buffer for every level)
	for t := 0; t < h.Levels; t++ {
		cnt[t] = h.Count(t)
		if h.Side > 0 && t >= msVoxels { // above cluster_scale: never a coarse level
			size[t] = math.Inf(1)
			continue
		}
		if h.Side > 0 {
			size[t] = h.Side * math.Exp2(float64(t)) * math.Sqrt(float64(d))
			continue
		}
		bd = h.AppendBounds(bd[:0], t)
		for k := 0; k+1 < len(bd); k++ {
			for q := range lo {
				lo[q], hi[q] = math.Inf(1), math.Inf(-1)
			}
			for _, i := range h.Perm[bd[k]:bd[k+1]] {
				for q := 0; q < d; q++ {
					v := float64(c.Pts[i*d+q])
					lo[q], hi[q] = min(lo[q], v), max(hi[q], v)
				}
			}
			var s float64
			for q := range lo {
				s += (hi[q] - lo[q]) * (hi[q] - lo[q])
			}
			size[t] = max(size[t], math.Sqrt(s))
		}
	}
	return size, cnt
}

// shiftFor returns the coarse level iteration temperature eps runs on for
// one cloud: the coarsest whose clusters are small against σ = eps^{1/p}
// and that has at most half as many clusters as points (−1: the points).
func (g *multiscale[T]) shiftFor(size []float64, cnt []int, n int, eps float64) int {
	if n < msMinCoarse && g.cfg.labelsX == nil {
		return -1
	}
	sigma := math.Pow(eps, 1/float64(g.cfg.p))
	for t := len(size) - 1; t >= 0; t-- {
		if size[t] <= sigma/g.cfg.kappa {
			if 2*cnt[t] <= n {
				return t
			}
			return -1
		}
	}
	return -1
}

// Schedule plans the levels: see multiscale.
func (g *multiscale[T]) Schedule(eps []float64) Schedule {
	var out Schedule
	g.plan, g.levelOf = nil, nil
	prev := [2]int{-2, -2}
	g.taylorIters = g.taylorRun(eps)
	if t := g.taylorIters; t > 0 {
		g.plan = append(g.plan, msTaylorLevel)
		for _, e := range eps[:t] {
			out.Eps = append(out.Eps, e)
			g.levelOf = append(g.levelOf, 0)
		}
		prev = msTaylorLevel
	}
	// The fine level's pattern is tested again once ε falls below
	// retest·tested (tested: the ε of its last test; see retestRatio).
	retest, tested := g.retestRatio(), math.Inf(1)
	for k := g.taylorIters; k < len(eps); k++ {
		e := eps[k]
		lv := [2]int{g.shiftFor(g.sizeX, g.cntX, g.x.N, e), g.shiftFor(g.sizeY, g.cntY, g.y.N, e)}
		if k == len(eps)-1 || prev == msTaylorLevel { // never coarser than the exact Taylor level
			lv = [2]int{-1, -1}
		}
		if prev != msTaylorLevel { // never coarser than before
			if lv[0] > prev[0] && prev[0] != -2 {
				lv[0] = prev[0]
			}
			if lv[1] > prev[1] && prev[1] != -2 {
				lv[1] = prev[1]
			}
		}
		fine := lv == [2]int{-1, -1}
		newLevel := lv != prev
		retrunc := !newLevel && fine && k > 0 && e < retest*tested && !math.IsInf(g.cfg.truncate, 1) && len(out.Eps) > 0
		if newLevel || retrunc {
			tested = e
		}
		if len(out.Eps) > 0 && (newLevel || retrunc) {
			out.Jumps = append(out.Jumps, len(out.Eps)-1)
		}
		if newLevel || retrunc || len(g.plan) == 0 {
			g.plan = append(g.plan, lv)
		}
		if newLevel && prev[0] != -2 && prev != msTaylorLevel {
			for r := 0; r < msRepeats; r++ { // re-converge at the jump ε
				out.Eps = append(out.Eps, eps[k-1])
				g.levelOf = append(g.levelOf, len(g.plan)-1)
			}
		}
		out.Eps = append(out.Eps, e)
		g.levelOf = append(g.levelOf, len(g.plan)-1)
		prev = lv
	}
	g.sched = out
	return out
}

// retestRatio returns the factor by which ε must fall below the ε of the
// fine pattern's last test before the next iteration tests it again:
// msRetestRatio where both measures have total mass at most 1, else 0.99
// (every new ε). A pattern tested at ε₁ still bounds what it drops at any
// ε₂ < ε₁ (for the same duals) when the kept mass B_i = Σ_kept b_j of every
// row is at most 1: with z_j = g_j − C_ij and the probability q_j = b_j/B_i
// on the kept columns, the normalised potential is
//
//	f̂(ε) = −ε·log B_i − M(1/ε),   M(t) = (1/t)·log Σ_kept q_j e^{t·z_j},
//
// and M is increasing in t (a power mean), so f̂(ε₂) ≤ f̂(ε₁) + (ε₁ − ε₂)·log B_i
// ≤ f̂(ε₁); a dropped pair had (f̂(ε₁) + z_j)/ε₁ < thr < 0, hence
// (f̂(ε₂) + z_j)/ε₂ < thr·ε₁/ε₂ < thr. The schedule's steps divide ε by
// scaling^{-p} (4 by default) except the last, which only reaches blur^p:
// that last, short step keeps the pattern (a test costs several sparse
// iterations).
func (g *multiscale[T]) retestRatio() float64 {
	// 1e-6: the rounding of the sum of a normalised measure's weights.
	if mass(g.a, 0, len(g.a)) <= 1+1e-6 && mass(g.b, 0, len(g.b)) <= 1+1e-6 {
		return msRetestRatio
	}
	return 0.99
}

// msRetestRatio: see retestRatio.
const msRetestRatio = 0.5

func (g *multiscale[T]) Levels() int {
	if len(g.plan) == 0 {
		return 1
	}
	return len(g.plan)
}

func (g *multiscale[T]) Scale(k int) (*Scale[T], error) {
	if len(g.plan) == 0 {
		g.plan = [][2]int{{-1, -1}}
	}
	if k < 0 || k >= len(g.plan) {
		return nil, errorf(ErrInternal, "multiscale geometry: no scale %d", k)
	}
	for len(g.levels) <= k {
		if len(g.levels) != 0 {
			return nil, errorf(ErrInternal, "multiscale geometry: scale %d asked before the jump to it", k)
		}
		pl := g.plan[0]
		if pl == msTaylorLevel {
			lv, err := g.buildTaylor()
			if err != nil {
				return nil, err
			}
			g.levels = append(g.levels, lv)
			continue
		}
		lv, err := g.buildLevel(0, g.side(g.x, g.a, g.hx, g.btx, pl[0]), g.side(g.y, g.b, g.hy, g.bty, pl[1]), Duals[T]{}, 0)
		if err != nil {
			return nil, err
		}
		g.levels = append(g.levels, lv)
	}
	return &g.levels[k].sc, nil
}

// side returns one cloud's points at hierarchy shift t (−1: the sorted
// input points; else the cluster centroids with clamped masses).
func (g *multiscale[T]) side(c Cloud[T], w []T, h *cluster.Hierarchy, bt *blockTree, t int) *msSide[T] {
	s := &msSide[T]{shift: t}
	if t < 0 {
		pts, ws := make([]T, len(c.Pts)), make([]T, c.N)
		for k, i := range h.Perm {
			copy(pts[k*c.D:(k+1)*c.D], c.Point(i))
			ws[k] = w[i]
		}
		s.pts, s.w, s.blk = Cloud[T]{Pts: pts, N: c.N, D: c.D}, ws, bt.fine
	} else {
		cb := h.Bounds(t)
		cent, mass := cluster.Centroids(c.Pts, w, c.D, h.Perm, cb)
		s.pts, s.w = Cloud[T]{Pts: cent, N: len(mass), D: c.D}, mass
		s.blk = make([]int, 0, len(bt.fine))
		j := 0
		for _, f := range bt.fine { // block boundaries are cluster boundaries
			for cb[j] < f {
				j++
			}
			s.blk = append(s.blk, j)
		}
	}
	s.lw = logWeights(s.w)
	return s
}

// blockMax returns the maximum of v over each block of s.
func blockMax[T Float](s *msSide[T], v []T) []float64 {
	out := make([]float64, len(s.blk)-1)
	for k := range out {
		m := math.Inf(-1)
		for _, x := range v[s.blk[k]:s.blk[k+1]] {
			m = max(m, float64(x))
		}
		out[k] = m
	}
	return out
}

// potBound is one potential's bounds over the cells of a blockTree, as the
// truncation test uses them: per grouping and cell the potential's maximum
// and, for |x − y|²/2, its affine bound (nil otherwise). masks fits each
// potential's bound once and shares it between the tests that use it (a
// pure function of the potential: sharing changes no bit).
type potBound struct {
	max [][]float64
	lin *linBound
}

// bound returns the bounds of potential v (sorted order, the points of s)
// over bt's cells; nil for a nil potential.
func (g *multiscale[T]) bound(s *msSide[T], bt *blockTree, v []T) *potBound {
	if v == nil {
		return nil
	}
	return &potBound{max: bt.aggregate(blockMax(s, v)), lin: g.linBound(bt, s, v)}
}

// kernelMask is the kernel losses' pattern between rows rs (blocks rt) and
// columns cs (blocks ct): the block pairs whose boxes lie within
// kernelRadius.
func (g *multiscale[T]) kernelMask(rt, ct *blockTree) *truncation {
	tt := truncTest{rt: rt, ct: ct, distOnly: true, threads: g.res.Threads, radius2: g.cfg.kernelRadius * g.cfg.kernelRadius, thr: -1}
	tr := tt.run()
	return &tr
}

// crossRanges returns the level's x-y pattern as a Ranges between x's and
// y's blocks, or with transpose its transpose (y's blocks × x's); nil:
// every pair.
func (lv *msLevel[T]) crossRanges(transpose bool) *Ranges {
	switch {
	case lv.uxy == nil:
		return nil
	case transpose:
		return lv.uxy.transposeRanges(lv.y.blk, lv.x.blk)
	default:
		return lv.uxy.ranges(lv.x.blk, lv.y.blk)
	}
}

// mask2 runs the truncation test for rows rs (blocks rt) and columns cs
// (blocks ct) in both directions, from the bounds of the potentials: the
// rows-x test bounds (uRow_i + vCol_j − C_ij)/ε, the rows-y test
// (vRow_j + uCol_i − C_ij)/ε; it returns nil (every pair) without
// truncation or potentials. With discard, a pattern that is dense (see
// dense) is not wanted: the tests stop as soon as one keeps more than the
// dense limit (the union keeps at least as many) and mask2 returns
// (nil, true), exactly when the full pattern would be dense; without it
// only the memory cap msMaxPatternBlocks applies, the same way (nil: the
// level's reductions are online); otherwise the second result is false.
// The pattern is returned as int32 lists (see msLevel.uxy).
func (g *multiscale[T]) mask2(rs, cs *msSide[T], rt, ct *blockTree, uRow, vCol, vRow, uCol *potBound, eps, rho float64, lv *msLevel[T], discard bool) (*truncation, bool) {
	if math.IsInf(g.cfg.truncate, 1) || uRow == nil || vCol == nil {
		return nil, false
	}
	limit := patternLimit(len(rs.blk)-1, len(cs.blk)-1, discard)
	// Both directions (rows x and rows y) must meet the bound: the pattern is
	// the union of the test for each, so every row block of either side
	// keeps what its own bound needs.
	ta := g.potentialTest(rt, ct, uRow, vCol, eps, rho)
	a, over := ta.runLimited(limit)
	if over {
		return nil, true
	}
	tb := g.potentialTest(ct, rt, vRow, uCol, eps, rho)
	b, over := tb.runLimited(limit)
	if over {
		return nil, true
	}
	lv.drop = max(lv.drop, a.maxDrop, b.maxDrop)
	bt := b.transpose(len(rs.blk) - 1)
	b = truncation{}
	return union(a, bt, limit, g.res.Threads)
}

// linBound returns the affine bound of potential v over bt's cells for the
// cost |x − y|²/2 (nil for other costs: the maxima bound alone).
func (g *multiscale[T]) linBound(bt *blockTree, s *msSide[T], v []T) *linBound {
	if g.cost != CostHalfSquared || !msAffineBound {
		return nil
	}
	return newLinBound(bt, s, v, g.res.Threads)
}

// msAffineBound enables the affine potential bounds of the truncation test.
var msAffineBound = true

// worthTruncating reports whether the truncation test can pay at eps: the
// distance r beyond which the kernel e^{−C/ε} is below the threshold
// (C(r) = ε·|threshold|) must be at most diameter/msTruncRadius; at larger
// ε the test would keep nearly every block and cost more than it saves.
func (g *multiscale[T]) worthTruncating(eps float64) bool {
	if msAlwaysTruncate {
		return true
	}
	c := eps * -g.threshold()
	r := c // p = 1: C = r
	if g.cfg.p == 2 {
		r = math.Sqrt(2 * c)
	}
	return r <= g.cfg.diameter/msTruncRadius
}

// msTruncRadius: the truncation test runs once the kernel's reach (the
// distance at which e^{−C/ε} falls below the threshold) is below
// diameter/msTruncRadius; patterns keeping most blocks still fall back to
// online reductions (msDenseFraction).
const msTruncRadius = 4

// msDenseFraction: a pattern keeping more than this fraction of the block
// pairs is replaced by online reductions (every pair), which are faster.
const msDenseFraction = 0.35

func dense(r *Ranges) bool {
	if r == nil {
		return false
	}
	lim := denseLimit(r.RowClusters(), r.ColClusters())
	return lim >= 0 && float64(len(r.Cols)) > lim
}

// denseLimit is the number of kept block pairs above which a K×L pattern
// is dense: msDenseFraction·K·L, at most msMaxPatternBlocks (the cap alone
// with msAlwaysTruncate).
func denseLimit(K, L int) float64 {
	if msAlwaysTruncate {
		return msMaxPatternBlocks
	}
	return min(msDenseFraction*float64(K)*float64(L), msMaxPatternBlocks)
}

// msMaxPatternBlocks caps the block pairs one pattern may keep (2²⁶: 256 MiB
// as int32 lists, and the engine's segments beside them): a pattern above
// it is dense whatever its fraction, and that level's reductions are
// online — exact, in O(N + M) memory. Without it a middle temperature of
// 10⁶ vs 10⁶ points (K·L ≈ 2.5·10⁹ block pairs, a third of them kept)
// built patterns of more than 20 GB. A variable so that tests can lower it.
var msMaxPatternBlocks = float64(1 << 26)

// patternLimit is the limit of a K×L test: denseLimit with discard, else
// the memory cap msMaxPatternBlocks alone.
func patternLimit(K, L int, discard bool) float64 {
	if discard {
		return denseLimit(K, L)
	}
	return msMaxPatternBlocks
}

// potentialTest returns the truncation test between the row blocks rt
// (potential bounds u) and the column blocks ct (bounds v) at eps.
func (g *multiscale[T]) potentialTest(rt, ct *blockTree, u, v *potBound, eps, rho float64) truncTest {
	return truncTest{rt: rt, ct: ct, fr: u.max, fc: v.max, lr: u.lin, lc: v.lin,
		eps: eps, thr: g.threshold(), rho: rho, cost: g.cost, maxDrop: g.cfg.maxDrop, threads: g.res.Threads, stop: g.res.Stop}
}

// likelyDense runs the rows-x truncation test on every msLookAhead-th top
// cell of x only and reports whether it keeps more than denseLimit's share
// of the block pairs there (the full test, which costs about as much as a
// sparse reduction, is then skipped).
func (g *multiscale[T]) likelyDense(rt, ct *blockTree, u, v *potBound, eps float64) bool {
	if g.cfg.kernelRadius > 0 || msAlwaysTruncate {
		return false
	}
	tt := g.potentialTest(rt, ct, u, v, eps, g.cfg.rho)
	K, L := len(rt.fine)-1, len(ct.fine)-1
	return tt.estimate(msLookAhead)*float64(K)*float64(L) > denseLimit(K, L)
}

// msLookAhead is the stride of likelyDense's sample of top row cells.
const msLookAhead = 8

// selfMask is mask2 for a self problem (rows and columns the same cloud):
// one test, symmetrised (the pattern and its transpose); discard as in
// mask2 (the union keeps at least the test's pairs).
func (g *multiscale[T]) selfMask(s *msSide[T], bt *blockTree, uRow, uCol *potBound, eps, rho float64, lv *msLevel[T], discard bool) (*Ranges, bool) {
	limit := patternLimit(len(s.blk)-1, len(s.blk)-1, discard)
	tt := g.potentialTest(bt, bt, uRow, uCol, eps, rho)
	a, over := tt.runLimited(limit)
	if over {
		return nil, true
	}
	lv.drop = max(lv.drop, a.maxDrop)
	at := a.transpose(len(s.blk) - 1)
	u, over := union(a, at, limit, g.res.Threads)
	if over {
		return nil, true
	}
	return u.ranges(s.blk, s.blk), false
}

// normalized returns the undamped soft-min smin_ε(C(rows, cols), L(w) + pot/ε)
// over pattern r (rows × cols): the potential that makes row i's kept sum
// Σ_j w_j e^{(f̂_i + pot_j − C_ij)/ε} exactly 1. For a self pattern (rows =
// cols, r symmetric) it is one symmetric pass where the Pair has
// SoftMinSelf, SoftMin otherwise or where that pass declines.
func (g *multiscale[T]) normalized(rows, cols *msSide[T], r *Ranges, pot []T, eps float64) ([]T, error) {
	p, err := g.pair(rows.pts, cols.pts, r)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	out := make([]T, rows.pts.N)
	if sp, ok := p.(SelfPair[T]); ok && rows == cols {
		done, err := sp.SoftMinSelf(T(eps), logDual(cols.lw, pot, eps, make([]T, cols.pts.N)), out)
		if err != nil || done {
			return out, err
		}
	}
	if err := softMinInto(p, eps, 1, cols.lw, pot, make([]T, cols.pts.N), out, nil); err != nil {
		return nil, err
	}
	return out, nil
}

// normalizedCross returns normalized(x, y, u, gp) and normalized(y, x, uᵀ,
// f) in one pass over the pattern's pairs where its block-sparse Pair has
// SoftMinBoth (DualPair); a direction it declines (or every direction,
// without the capability) is computed by normalized. One Ranges at a time
// lives beside the int32 lists.
func (g *multiscale[T]) normalizedCross(x, y *msSide[T], u *truncation, f, gp []T, eps float64) (fh, gh []T, err error) {
	p, err := g.pair(x.pts, y.pts, u.ranges(x.blk, y.blk))
	if err != nil {
		return nil, nil, err
	}
	var okX, okY bool
	if dp, ok := p.(DualPair[T]); ok {
		fh, gh = make([]T, x.pts.N), make([]T, y.pts.N)
		hx := logDual(x.lw, f, eps, make([]T, x.pts.N))
		hy := logDual(y.lw, gp, eps, make([]T, y.pts.N))
		okX, okY, err = dp.SoftMinBoth(T(eps), hx, hy, fh, gh)
	}
	if cerr := p.Close(); err == nil {
		err = cerr
	}
	if err == nil && !okX {
		fh, err = g.normalized(x, y, u.ranges(x.blk, y.blk), gp, eps)
	}
	if err == nil && !okY {
		gh, err = g.normalized(y, x, u.transposeRanges(y.blk, x.blk), f, eps)
	}
	if err != nil {
		return nil, nil, err
	}
	return fh, gh, nil
}

// masks computes the level's truncation patterns from the duals d at eps in
// two passes. The first bounds the log-densities with the duals themselves;
// but the row sums Σ_j b_j e^{(f_i+g_j−C_ij)/ε} that the bound is relative to
// are only ≈ 1 (f is an average of two soft-mins, and at small ε a tiny
// difference is a large factor), so the second pass replaces each row's
// potential by the exact soft-min of the other dual over the first pattern,
// for which the kept sum is exactly 1 — the bound is then relative to (at
// least) the row's true sum.
func (g *multiscale[T]) masks(lv *msLevel[T], d Duals[T], eps float64) error {
	x, y := lv.x, lv.y
	if g.cfg.kernelRadius > 0 {
		lv.uxy = g.kernelMask(g.btx, g.bty)
		lv.rxx = g.kernelMask(g.btx, g.btx).ranges(x.blk, x.blk)
		lv.ryy = g.kernelMask(g.bty, g.bty).ranges(y.blk, y.blk)
		return nil
	}
	// Coarse levels run at temperatures large against their clusters
	// (σ ≥ 16× their size), where truncation would keep nearly everything:
	// their reductions are online; only the fine level is truncated.
	if math.IsInf(g.cfg.truncate, 1) || !lv.fine || !g.worthTruncating(eps) {
		return nil
	}
	inf := math.Inf(1)
	if g.need.Cross && d.F != nil {
		bF, bG := g.bound(x, g.btx, d.F), g.bound(y, g.bty, d.G)
		if g.likelyDense(g.btx, g.bty, bF, bG, eps) {
			return nil // the look-ahead says most blocks are kept: online reductions
		}
		u, dn := g.mask2(x, y, g.btx, g.bty, bF, bG, bG, bF, eps, g.cfg.rho, lv, true)
		if dn {
			return nil // most blocks kept: online reductions are faster
		}
		fh, gh, err := g.normalizedCross(x, y, u, d.F, d.G, eps)
		if err != nil {
			return err
		}
		u = nil
		lv.drop = 0
		lv.uxy, _ = g.mask2(x, y, g.btx, g.bty, g.bound(x, g.btx, fh), bG, g.bound(y, g.bty, gh), bF, eps, inf, lv, false)
	}
	self := func(s *msSide[T], bt *blockTree, u []T) (*Ranges, error) {
		bu := g.bound(s, bt, u)
		r, dn := g.selfMask(s, bt, bu, bu, eps, g.cfg.rho, lv, true)
		if dn {
			return nil, nil
		}
		uh, err := g.normalized(s, s, r, u, eps)
		if err != nil {
			return nil, err
		}
		r, _ = g.selfMask(s, bt, g.bound(s, bt, uh), bu, eps, inf, lv, false)
		return r, nil
	}
	var err error
	if g.need.Self && d.FAA != nil {
		if lv.rxx, err = self(x, g.btx, d.FAA); err != nil {
			return err
		}
		if lv.ryy, err = self(y, g.bty, d.GBB); err != nil {
			return err
		}
	}
	return g.res.Stop.Err() // a cancelled test may have ended early
}

// pair builds a reduction between u and v over pattern r (nil: all pairs).
func (g *multiscale[T]) pair(u, v Cloud[T], r *Ranges) (Pair[T], error) {
	if r == nil {
		return g.eng.Pair(u, v, g.cost)
	}
	if bs, ok := g.eng.(BlockSparseEngine[T]); ok {
		return bs.BlockSparsePair(u, v, g.cost, r)
	}
	return BlockSparsePair(u, v, g.cost, r, g.res)
}

// buildLevel builds level k of the plan on the sides xs, ys with duals d
// on their points (sorted level order; zero Duals for the first level: no
// truncation) at temperature eps.
func (g *multiscale[T]) buildLevel(k int, xs, ys *msSide[T], d Duals[T], eps float64) (*msLevel[T], error) {
	lv := &msLevel[T]{fine: g.plan[k] == [2]int{-1, -1}, x: xs, y: ys}
	if err := g.masks(lv, d, eps); err != nil {
		return nil, err
	}
	px, py := g.hx.Perm, g.hy.Perm
	mk := func(dst *Pair[T], u, v *msSide[T], r *Ranges, pu, pv []int) error {
		p, err := g.pair(u.pts, v.pts, r)
		if err != nil {
			return err
		}
		if lv.fine {
			p = newPermPair(p, pu, pv, u.pts.D)
		}
		*dst = p
		lv.closer.add(p)
		if r != nil {
			lv.keptPairs += r.KeptPairs()
			lv.keptBlocks += int64(len(r.Cols))
		} else {
			lv.keptPairs += int64(u.pts.N) * int64(v.pts.N)
			lv.keptBlocks += int64(len(u.blk)-1) * int64(len(v.blk)-1)
		}
		lv.allPairs += int64(u.pts.N) * int64(v.pts.N)
		lv.allBlocks += int64(len(u.blk)-1) * int64(len(v.blk)-1)
		return nil
	}
	var err error
	if g.need.Cross {
		// Each Ranges lives until its reduction is built (see msLevel.uxy).
		if err = mk(&lv.sc.XY, lv.x, lv.y, lv.crossRanges(false), px, py); err == nil {
			err = mk(&lv.sc.YX, lv.y, lv.x, lv.crossRanges(true), py, px)
		}
	}
	if err == nil && g.need.Self {
		if err = mk(&lv.sc.XX, lv.x, lv.x, lv.rxx, px, px); err == nil {
			err = mk(&lv.sc.YY, lv.y, lv.y, lv.ryy, py, py)
		}
	}
	if err != nil {
		lv.closer.close()
		return nil, err
	}
	if lv.fine {
		lv.sc.LA, lv.sc.LB = g.la, g.lb
	} else {
		lv.sc.LA, lv.sc.LB = lv.x.lw, lv.y.lw
	}
	return lv, nil
}

// Jump extrapolates the duals of level k (temperature eps, damping lam) to
// level k+1 (§4.7): a dual on points that do not change is kept; otherwise
// it is one soft-min over level k's points, e.g.
//
//	f(x'_i) = λ·smin_ε(C(x'_i, y_·), L(β) + g/ε)   over the columns of the
//	blocks level k keeps for x'_i's block.
//
// Then level k's reductions are released and level k+1's built, truncated
// from the extrapolated duals.
func (g *multiscale[T]) Jump(k int, eps, lam float64, d Duals[T]) (Duals[T], error) {
	if k < 0 || k+1 >= len(g.plan) || k >= len(g.levels) {
		return Duals[T]{}, errorf(ErrInternal, "multiscale geometry: no jump from scale %d", k)
	}
	cur := g.levels[k]
	if cur.taylor {
		return g.jumpFromTaylor(k, eps, d)
	}
	if cur.fine {
		d = g.sorted(d)
	}
	nx := g.plan[k+1]
	xs, ys := cur.x, cur.y
	if nx[0] != xs.shift {
		xs = g.side(g.x, g.a, g.hx, g.btx, nx[0])
	}
	if nx[1] != ys.shift {
		ys = g.side(g.y, g.b, g.hy, g.bty, nx[1])
	}
	ext := func(rows, cols *msSide[T], r func() *Ranges, pot, old []T, same bool) ([]T, error) {
		if pot == nil {
			return nil, nil
		}
		out := make([]T, rows.pts.N)
		if same {
			copy(out, old)
			return out, nil
		}
		var rr *Ranges
		if r := r(); r != nil {
			rr = &Ranges{RowStart: rows.blk, ColStart: cols.blk, Offsets: r.Offsets, Cols: r.Cols}
		}
		p, err := g.pair(rows.pts, cols.pts, rr)
		if err != nil {
			return nil, err
		}
		defer p.Close()
		if err := softMinInto(p, eps, lam, cols.lw, pot, make([]T, cols.pts.N), out, nil); err != nil {
			return nil, err
		}
		return out, nil
	}
	var nd Duals[T]
	var err error
	sameX, sameY := xs == cur.x, ys == cur.y
	if nd.F, err = ext(xs, cur.y, func() *Ranges { return cur.crossRanges(false) }, d.G, d.F, sameX); err != nil {
		return nd, err
	}
	if nd.G, err = ext(ys, cur.x, func() *Ranges { return cur.crossRanges(true) }, d.F, d.G, sameY); err != nil {
		return nd, err
	}
	if nd.FAA, err = ext(xs, cur.x, func() *Ranges { return cur.rxx }, d.FAA, d.FAA, sameX); err != nil {
		return nd, err
	}
	if nd.GBB, err = ext(ys, cur.y, func() *Ranges { return cur.ryy }, d.GBB, d.GBB, sameY); err != nil {
		return nd, err
	}
	if err := cur.closer.close(); err != nil {
		return nd, err
	}
	cur.uxy, cur.rxx, cur.ryy = nil, nil, nil // no longer used: release
	lv, err := g.buildLevel(k+1, xs, ys, nd, g.firstEps(k+1, eps))
	if err != nil {
		return nd, err
	}
	g.levels = append(g.levels, lv)
	if lv.fine {
		nd = g.input(nd)
	}
	return nd, nil
}

// sorted permutes fine duals from input order to the sorted order; input
// does the reverse.
func (g *multiscale[T]) sorted(d Duals[T]) Duals[T] { return g.permute(d, false) }
func (g *multiscale[T]) input(d Duals[T]) Duals[T]  { return g.permute(d, true) }

func (g *multiscale[T]) permute(d Duals[T], toInput bool) Duals[T] {
	pm := func(v []T, perm []int) []T {
		if v == nil {
			return nil
		}
		out := make([]T, len(v))
		for k, i := range perm {
			if toInput {
				out[i] = v[k]
			} else {
				out[k] = v[i]
			}
		}
		return out
	}
	return Duals[T]{F: pm(d.F, g.hx.Perm), G: pm(d.G, g.hy.Perm), FAA: pm(d.FAA, g.hx.Perm), GBB: pm(d.GBB, g.hy.Perm)}
}

func (g *multiscale[T]) Close() error {
	var first error
	for _, lv := range g.levels {
		if err := lv.closer.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Stage describes the level iteration k of the schedule runs on (for the
// progress reports).
func (g *multiscale[T]) Stage(k int) string {
	if k < 0 || k >= len(g.levelOf) {
		return "multiscale"
	}
	l := g.levelOf[k]
	desc := fmt.Sprintf("multiscale level %d/%d", l+1, len(g.plan))
	if l < len(g.levels) && g.levels[l].taylor {
		desc += fmt.Sprintf(" (Taylor soft-mins of degree ≤ %d on %d+%d points)", g.levels[l].degree, g.x.N, g.y.N)
	} else if l < len(g.levels) {
		lv := g.levels[l]
		desc += fmt.Sprintf(" (%d+%d points), kept %.3g%% of blocks", lv.x.pts.N, lv.y.pts.N, 100*float64(lv.keptBlocks)/float64(max(lv.allBlocks, 1)))
	}
	return desc + fmt.Sprintf(", eps=%.4g", g.sched.Eps[k])
}

// Note summarises the run: levels, the fine level's kept fractions and the
// truncation bound.
// coarseIters returns the number of iterations of the schedule on coarse
// levels (centroids on either side).
func (g *multiscale[T]) coarseIters() int {
	n := 0
	for _, l := range g.levelOf {
		if pl := g.plan[l]; pl != msTaylorLevel && (pl[0] >= 0 || pl[1] >= 0) {
			n++
		}
	}
	return n
}

func (g *multiscale[T]) Note() string {
	if len(g.levels) == 0 {
		return ""
	}
	lv := g.levels[len(g.levels)-1]
	s := fmt.Sprintf("multiscale: %d levels, fine level kept %.3g%% of blocks (%.3g%% of pairs)", len(g.plan),
		100*float64(lv.keptBlocks)/float64(max(lv.allBlocks, 1)), 100*float64(lv.keptPairs)/float64(max(lv.allPairs, 1)))
	if n := g.coarseIters(); n > 0 {
		s += fmt.Sprintf("; first %d iterations on cluster centroids (clusters ≤ σ/%g wide; converged on the points at the final ε)", n, g.cfg.kappa)
	}
	if g.taylorIters > 0 {
		s += fmt.Sprintf("; first %d iterations by Taylor soft-mins (degree ≤ %d, relative error ≤ %.0e)", g.taylorIters, g.levels[0].degree, taylorTol[T]())
	}
	if g.cfg.kernelRadius > 0 {
		s += fmt.Sprintf("; kernel truncated beyond %.4g", g.cfg.kernelRadius)
	} else if lv.uxy != nil || lv.rxx != nil {
		s += fmt.Sprintf("; estimated truncation error ≤ %.2g relative mass per row (≤ %.2g·ε on potentials)", lv.drop, lv.drop)
	} else {
		s += "; no truncation"
	}
	if g.sparseNote != "" {
		s += "; " + g.sparseNote
	}
	return s
}

// msKappa and msRepeats are the jump rule's settings (variables so that the
// accuracy tests can probe them).
var (
	msKappa   = float64(msKappaDefault) // +∞ by default: no coarse levels (see multiscale)
	msRepeats = msRepeatsDefault
	// msAlwaysTruncate makes the fine level truncate at every ε, however
	// many blocks the pattern keeps (tests).
	msAlwaysTruncate = false
)

// threshold is the truncation test's log-density threshold: −truncate −
// ln 100, so that the dropped blocks of a row carry at most
// e^{−truncate}/100 = maxDrop of a unit mass in all (their masses sum to at
// most the total mass): no row needs widening unless the total mass of the
// other measure exceeds 1.
func (g *multiscale[T]) threshold() float64 { return math.Log(g.cfg.maxDrop) }
