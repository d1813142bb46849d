package core

import "fmt"

// Block-sparse transport plans (the multiscale backend's plans).
//
// At the final ε a plan π_ij = a_i b_j e^{(f_i + g_j − C_ij)/ε} carries
// almost all of its mass on the pairs of nearby points: the truncation test
// of the multiscale fine level (multiscale.masks, run on the plan's own
// potentials f, g) keeps the block pairs that can hold more than
// e^{−truncate}/100 of a row's mass, in both directions, so every row of π
// and of πᵀ loses at most that relative mass (the bound the Note states).
// The products πV, πᵀU, the marginals, the barycentric maps, ⟨π, C⟩ and the
// dense plan are then reductions over the kept blocks only: the work is
// the kept pairs, not N·M.

// planRows is what Plan.Dense needs: row i of π over every column.
type planRows[T Float] interface {
	// denseRow writes π_i· (M entries, exp(s_i + h_j − C_ij/ε), 0 outside
	// the pattern) into z.
	denseRow(i int, eps T, si T, h []T, z []float64, sc *planScratch[T])
}

// denseRow implements planRows for core's portable Pairs (every pair).
func (p *rowPair[T]) denseRow(i int, eps T, si T, h []T, z []float64, sc *planScratch[T]) {
	sc.sq = grow(sc.sq, p.y.N)
	p.planRow(i, eps, si, h, p.row.sqDists(i, sc.sq), z, nil)
}

// gatherCols appends to dst the rows [ColStart[l], ColStart[l+1]) of the
// row-major src (width entries per column point) for every column cluster l
// kept by row cluster k, in increasing order.
func (p *blockPair[T]) gatherCols(k int, src []T, width int, dst []T) []T {
	dst = dst[:0]
	for _, l := range p.r.Kept(k) {
		dst = append(dst, src[p.r.ColStart[l]*width:p.r.ColStart[l+1]*width]...)
	}
	return dst
}

// sub returns the portable row reduction between x and the gathered columns
// yk of one row cluster.
func (p *blockPair[T]) sub(yk Cloud[T]) *rowPair[T] {
	return &rowPair[T]{x: p.x, y: yk, cost: p.cost, res: p.res, row: onlineRow[T]{x: p.x, y: yk, cost: p.cost}}
}

// PlanTimes implements PlanPair for the portable block-sparse Pair: row i of
// row cluster k sums over the kept columns only, gathered in increasing
// order, with the online rows' code — the dense plan's products with the
// excluded pairs masked, bit for bit, whatever the thread count.
func (p *blockPair[T]) PlanTimes(eps T, s, h, v []T, k int, out, cost []T) error {
	n, m := p.x.N, p.y.N
	if len(s) != n || len(h) != m || len(v) != m*k || len(out) != n*k || (cost != nil && len(cost) != n) {
		return errorf(ErrInternal, "PlanTimes: buffer sizes (s %d, h %d, v %d, out %d) do not match N=%d M=%d K=%d", len(s), len(h), len(v), len(out), n, m, k)
	}
	p.clusters(func(c int, st *bpScratch[T]) {
		st.ys = p.gatherCols(c, p.y.Pts, p.y.D, st.ys)
		st.vs = p.gatherCols(c, h, 1, st.vs)
		st.v = p.gatherCols(c, v, k, st.v)
		sub := p.sub(Cloud[T]{Pts: st.ys, N: len(st.vs), D: p.y.D})
		for i := p.r.RowStart[c]; i < p.r.RowStart[c+1]; i++ {
			sub.planRowTimes(i, eps, s[i], st.vs, st.v, k, out, cost, &st.plan)
		}
	})
	return p.res.Stop.Err()
}

// denseRow implements planRows for the portable block-sparse Pair: the kept
// columns' entries, zeros elsewhere. (Rows are looked up by cluster; Dense
// is for small problems.)
func (p *blockPair[T]) denseRow(i int, eps T, si T, h []T, z []float64, sc *planScratch[T]) {
	clear(z)
	c := p.rowCluster(i)
	for _, l := range p.r.Kept(c) {
		j0, j1 := p.r.ColStart[l], p.r.ColStart[l+1]
		yl := Cloud[T]{Pts: p.y.Pts[j0*p.y.D : j1*p.y.D], N: j1 - j0, D: p.y.D}
		sc.sq = grow(sc.sq, yl.N)
		sub := p.sub(yl)
		sub.planRow(i, eps, si, h[j0:j1], sub.row.sqDists(i, sc.sq), z[j0:j1], nil)
	}
}

// rowCluster returns the row cluster holding row i (binary search).
func (p *blockPair[T]) rowCluster(i int) int {
	lo, hi := 0, p.r.RowClusters()
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if p.r.RowStart[mid] <= i {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// PlanTimes implements PlanPair for a permuted Pair whose inner Pair has the
// capability: s, h, v are taken to the sorted order, out and cost back.
func (q *permPair[T]) PlanTimes(eps T, s, h, v []T, k int, out, cost []T) error {
	pp, ok := q.p.(PlanPair[T])
	if !ok {
		return errorf(ErrInternal, "PlanTimes: the permuted Pair has no plan capability")
	}
	n, m := len(q.rows), len(q.cols)
	if len(s) != n || len(h) != m || len(v) != m*k || len(out) != n*k || (cost != nil && len(cost) != n) {
		return errorf(ErrInternal, "PlanTimes: buffer sizes (s %d, h %d, v %d, out %d) do not match N=%d M=%d K=%d", len(s), len(h), len(v), len(out), n, m, k)
	}
	o := make([]T, n*k)
	var c []T
	if cost != nil {
		c = make([]T, n)
	}
	if err := pp.PlanTimes(eps, sorted(s, q.rows, 1), sorted(h, q.cols, 1), sorted(v, q.cols, k), k, o, c); err != nil {
		return err
	}
	unsort(out, o, q.rows, k)
	if cost != nil {
		unsort(cost, c, q.rows, 1)
	}
	return nil
}

// planGradRows writes out_i = scale·Σ_j π_ij ∇₁C(x_i, y_j) (N×D, sorted
// order) over the kept columns of row i's cluster, gathered as PlanTimes
// gathers them, with the online rows' code (planGradRow).
func (p *blockPair[T]) planGradRows(eps T, scale float64, s, h, out []T) {
	p.clusters(func(c int, st *bpScratch[T]) {
		st.ys = p.gatherCols(c, p.y.Pts, p.y.D, st.ys)
		st.vs = p.gatherCols(c, h, 1, st.vs)
		m := len(st.vs)
		sub := p.sub(Cloud[T]{Pts: st.ys, N: m, D: p.y.D})
		st.s, st.z = grow(st.s, m), grow(st.z, m)
		for i := p.r.RowStart[c]; i < p.r.RowStart[c+1] && !p.res.Stop.Stopped(); i++ {
			sub.planGradRow(i, eps, scale, s[i], st.vs, out, st.s, st.z)
		}
	})
}

// permRows presents a sorted planRows in the input order; p reduces the
// rows x over the kept blocks, t the rows y over the transposed ones.
type permRows[T Float] struct {
	p, t       *blockPair[T]
	rows, cols []int // input index of each sorted row / column
	inv        []int // sorted index of each input row
}

// costGrads implements planGrads: s, h are taken to the sorted order, the
// gradient rows (over the kept blocks, both directions) back.
func (q *permRows[T]) costGrads(eps T, scale float64, s, h, gx, gy []T) error {
	ss, hs := sorted(s, q.rows, 1), sorted(h, q.cols, 1)
	gxs, gys := make([]T, len(gx)), make([]T, len(gy))
	q.p.planGradRows(eps, scale, ss, hs, gxs)
	q.t.planGradRows(eps, scale, hs, ss, gys)
	unsort(gx, gxs, q.rows, q.p.x.D)
	unsort(gy, gys, q.cols, q.t.x.D)
	return q.p.res.Stop.Err()
}

func (q *permRows[T]) denseRow(i int, eps T, si T, h []T, z []float64, sc *planScratch[T]) {
	zs := make([]float64, len(q.cols))
	q.p.denseRow(q.inv[i], eps, si, sorted(h, q.cols, 1), zs, sc)
	unsort(z, zs, q.cols, 1)
}

// sorted returns the rows of v (width entries each) in the sorted order:
// row a of the result is row idx[a] of v.
func sorted[E any](v []E, idx []int, width int) []E {
	out := make([]E, len(idx)*width)
	for a, i := range idx {
		copy(out[a*width:(a+1)*width], v[i*width:(i+1)*width])
	}
	return out
}

// unsort writes the sorted rows src back to dst in the input order: row
// idx[a] of dst is row a of src.
func unsort[E any](dst, src []E, idx []int, width int) {
	for a, i := range idx {
		copy(dst[i*width:(i+1)*width], src[a*width:(a+1)*width])
	}
}

var (
	_ PlanPair[float32] = (*blockPair[float32])(nil)
	_ PlanPair[float32] = (*permPair[float32])(nil)
	_ planRows[float32] = (*blockPair[float32])(nil)
	_ planRows[float32] = (*permRows[float32])(nil)
)

// sparsePlan is a multiscale plan's reductions: xy (rows x) and yx (rows
// y) over the kept blocks, ref for Dense, and what the note reports.
type sparsePlan[T Float] struct {
	xy, yx    PlanPair[T]
	ref       planRows[T]
	closers   []func() error
	keptPairs int64
	allPairs  int64
	drop      float64
	fallback  string // the engine's block-sparse Pair has no plan capability
}

// note says what the plan's reductions keep.
func (sp *sparsePlan[T]) note() string {
	n := fmt.Sprintf("plan products over the kept block pairs of the final potentials (%.3g%% of pairs; dropped mass ≤ %.2g relative per row)",
		100*float64(sp.keptPairs)/float64(max(sp.allPairs, 1)), sp.drop)
	if sp.fallback != "" {
		n += "; " + sp.fallback
	}
	return n
}

// planPairs returns the block-sparse reductions of the plan of the
// potentials F, G (input order, the Pairs' cost units) at eps, from the
// fine level's truncation test run on F, G; nil when the test does not run
// there or would keep most blocks (the caller then streams every pair).
// Products run on the engine's block-sparse Pair (through soft-mins when it
// lacks the plan capability), row costs and Dense on core's portable one.
func (g *multiscale[T]) planPairs(F, G []T, eps float64) (*sparsePlan[T], error) {
	lv := &msLevel[T]{fine: true, x: g.side(g.x, g.a, g.hx, g.btx, -1), y: g.side(g.y, g.b, g.hy, g.bty, -1)}
	saved := g.need
	g.need = Needs{Cross: true}
	err := g.masks(lv, g.sorted(Duals[T]{F: F, G: G}), eps)
	g.need = saved
	if err != nil || lv.uxy == nil {
		return nil, err
	}
	rxy := lv.crossRanges(false)
	xs, ys := lv.x.pts, lv.y.pts
	px, py := g.hx.Perm, g.hy.Perm
	sp := &sparsePlan[T]{keptPairs: rxy.KeptPairs(), allPairs: int64(xs.N) * int64(ys.N), drop: lv.drop}
	rt := lv.crossRanges(true)
	build := func(u, v Cloud[T], r *Ranges, pu, pv []int) (PlanPair[T], *blockPair[T], error) {
		ref := &blockPair[T]{x: u, y: v, cost: g.cost, r: r, res: g.res}
		p, err := g.pair(u, v, r)
		if err != nil {
			return nil, nil, err
		}
		sp.closers = append(sp.closers, p.Close)
		if _, ok := p.(PlanPair[T]); ok {
			return newPermPair(p, pu, pv, u.D), ref, nil
		}
		sp.fallback = "engine " + g.eng.Name() + " has no block-sparse plan capability: products as its block-sparse soft-mins (row costs on the portable code)"
		return softMinPlan[T]{p: newPermPair(p, pu, pv, u.D), rows: newPermPair[T](ref, pu, pv, u.D)}, ref, nil
	}
	var ref, reft *blockPair[T]
	if sp.xy, ref, err = build(xs, ys, rxy, px, py); err == nil {
		sp.yx, reft, err = build(ys, xs, rt, py, px)
	}
	if err != nil {
		for _, c := range sp.closers {
			c()
		}
		return nil, err
	}
	inv := make([]int, len(px))
	for k, i := range px {
		inv[i] = k
	}
	sp.ref = &permRows[T]{p: ref, t: reft, rows: px, cols: py, inv: inv}
	return sp, nil
}
