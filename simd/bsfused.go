package simd

import (
	"math"
	"slices"

	"github.com/libgeomloss/libgeomloss/core"
)

// Fused Sinkhorn updates (core.DualPair, core.SelfPair) on block-sparse
// Pairs: one exponential per kept pair for both directions of the update,
// through the fused kernels of the online Pairs (fused.go, simd/gen "sb")
// run on the gathered tiles of BlockSparsePair.
//
// The kept pairs are exactly those of the block-sparse SoftMin of this
// Pair (pattern r) and of its transpose (pattern r.Transpose(): the same
// pairs), so with E_ij = hx_i + hy_j − C_ij/ε the row sums Σ_j e^{E_ij}
// over row i's kept columns give the SoftMin of XY and the column sums over
// column j's kept rows the SoftMin of YX (core.DualPair).
//
// Work decomposition (bsPlan, fixed by the pattern, the sizes and the
// vector width only, never by the thread count): the rows are cut into at
// most 64 chunks of near-equal work (kept columns per row), a chunk's rows
// forming runs of consecutive rows of one row cluster. Chunk c owns float64
// partials for the columns its runs keep (its touched columns, laid out
// cluster by cluster in increasing order: O(Σ_c touched_c) ≤ O(chunks·M),
// with fewer chunks (not fewer than 4) where they would exceed
// core.DualPartialBytes). A run sweeps its cluster's gathered tiles one by
// one: each of its rows through the fused kernel (row sum: the tiles' sums
// added in float64 in tile order), the tile's column terms summed in the
// element type over at most dualStageRows rows (float32; float64: the whole
// run) and then added to the chunk's partials at the columns' places. A
// column's sum is its chunks' partials added in float64 in chunk order.
// So every result is identical bit for bit whatever the thread count.
//
// Validity is core.DualSumValid with the fused kernels' flush level and
// ceiling (fused.go), for the count of terms of each sum (a row's padded
// kept columns, a column's kept rows). A row or column with no kept pair
// gets +∞, as the block-sparse SoftMin gives it.
//
// The self pass (SoftMinSelf, and SoftMinBoth with x = y, hx = hy) needs a
// symmetric pattern (RowStart = ColStart, l kept for k exactly when k is
// kept for l) on a Pair whose clouds hold the same points; otherwise it
// declines. Row cluster k's rows sweep the kept clusters l ≥ k: l = k (the
// diagonal block) into the row sums only, l > k into the row sums and
// into the partials of l's columns, which are the same points, so that
// the pairs (l, k) are never swept: index i's sum is its sweep plus its
// partials (E is symmetric bit for bit: |x_i − x_i'|² from differences,
// hx_i + h_i' commutes).

// bsFused holds a block-sparse Pair's fused plans (built on first use) and
// buffers.
type bsFused[T core.Float] struct {
	cross, self *bsPlan
	sym         int // 0: not yet known, 1: the self pass applies, 2: it does not
	hx          []T
	rs, cs      []float64
	part        []float64
	bad         []bool // per chunk or column block: a sum out of its valid range
}

// bsPlan is a fused pass's fixed work decomposition.
type bsPlan struct {
	runs  [][]bsRun // chunk c's runs, in row order
	part  []int     // chunk c's partials are part[c] … part[c+1]−1 of the partial buffer
	touch [][]bsSeg // chunk c's touched columns, ascending, and their partials
	cnt   []int     // per row cluster: the count of terms of its rows' sums (0: no kept pair)
	ccnt  []int     // the cross pass, per column cluster: its columns' count of terms (kept rows)
	cblk  []int     // column blocks (column cluster boundaries) of the column sums
}

// bsRun is the rows [lo, hi) of one row cluster in one chunk, sweeping
// the column segments segs, whose partials start at dst (−1: not kept).
type bsRun struct {
	lo, hi int
	k      int // the row cluster
	segs   [][2]int32
	dst    []int
}

// bsSeg is a chunk's partials dst, dst+1, … for the columns [j0, j1).
type bsSeg struct{ j0, j1, dst int }

// bsMaxChunks, bsMinChunks and bsMinRows bound a plan's chunks: at most
// 64 (core.DualChunks' bound), at least bsMinRows rows each where there are
// enough rows, and no fewer than 4 for the partials' memory bound.
const (
	bsMaxChunks = 64
	bsMinChunks = 4
	bsMinRows   = 32
	bsBlockCols = 1 << 14 // the columns of a block of the column sums
)

// newBSPlan builds the plan of the cross pass (self false: every kept pair)
// or of the self pass (self true: the pairs of the clusters l ≥ k, the
// diagonal block's column terms not kept).
func newBSPlan(r *core.Ranges, w int, self bool) *bsPlan {
	K, L := r.RowClusters(), r.ColClusters()
	size := func(l int) int { return r.ColStart[l+1] - r.ColStart[l] }
	// The clusters a row cluster's sweep keeps partials for.
	swept := func(k int) []int32 {
		kept := r.Kept(k)
		if self {
			i, _ := slices.BinarySearch(kept, int32(k+1))
			return kept[i:]
		}
		return kept
	}
	pl := &bsPlan{cnt: make([]int, K)}
	work := make([]int64, K) // per row of cluster k
	var lower []int          // self: kept rows of the clusters l < k, per k
	if self {
		lower = make([]int, K)
		for k := 0; k < K; k++ {
			for _, l := range swept(k) {
				lower[l] += size(k)
			}
		}
	}
	for k := 0; k < K; k++ {
		cols := 0
		for _, l := range swept(k) {
			cols += size(int(l))
		}
		if self && slices.Contains(r.Kept(k), int32(k)) {
			cols += size(k)
		}
		cols = (cols + w - 1) / w * w
		pl.cnt[k] = cols
		if self {
			pl.cnt[k] += lower[k]
		}
		work[k] = int64(cols + w) // a row's tiles, and its fixed cost
	}
	if !self {
		pl.ccnt = make([]int, L)
		for k := 0; k < K; k++ {
			for _, l := range r.Kept(k) {
				pl.ccnt[l] += r.RowStart[k+1] - r.RowStart[k]
			}
		}
	}
	n := r.RowStart[K]
	// Chunk boundaries: near-equal shares of the total work.
	bounds := func(chunks int) []int {
		var total int64
		for k := 0; k < K; k++ {
			total += work[k] * int64(r.RowStart[k+1]-r.RowStart[k])
		}
		b := make([]int, chunks+1)
		b[chunks] = n
		var pre int64 // work of the rows before cluster k
		k := 0
		for c := 1; c < chunks; c++ {
			t := int64(math.Ceil(float64(total) * float64(c) / float64(chunks)))
			for k < K && pre+work[k]*int64(r.RowStart[k+1]-r.RowStart[k]) <= t {
				pre += work[k] * int64(r.RowStart[k+1]-r.RowStart[k])
				k++
			}
			if k == K {
				b[c] = n
			} else {
				b[c] = r.RowStart[k] + int((t-pre+work[k]-1)/work[k])
			}
			b[c] = max(b[c], b[c-1])
		}
		return b
	}
	// touched returns the ascending clusters swept by the row clusters of
	// the rows [lo, hi).
	mark, stamp := make([]int, L), 0
	touched := func(lo, hi int, out []int) []int {
		out = out[:0]
		stamp++
		for k := clusterOf(r.RowStart, lo); k < K && r.RowStart[k] < hi; k++ {
			if r.RowStart[k+1] <= lo {
				continue
			}
			for _, l := range swept(k) {
				if mark[l] != stamp {
					mark[l] = stamp
					out = append(out, int(l))
				}
			}
		}
		slices.Sort(out)
		return out
	}
	chunks := max(1, min(bsMaxChunks, n/bsMinRows))
	var b []int
	var tl []int
	for {
		b = bounds(chunks)
		cols := 0
		for c := 0; c < chunks; c++ {
			tl = touched(b[c], b[c+1], tl)
			for _, l := range tl {
				cols += size(l)
			}
		}
		if chunks <= bsMinChunks || cols*8 <= core.DualPartialBytes {
			break
		}
		chunks /= 2
	}
	pl.runs, pl.touch, pl.part = make([][]bsRun, chunks), make([][]bsSeg, chunks), make([]int, chunks+1)
	loc := make([]int, L) // a touched cluster's first partial in its chunk
	for c := 0; c < chunks; c++ {
		lo, hi := b[c], b[c+1]
		tl = touched(lo, hi, tl)
		off := 0
		for _, l := range tl {
			loc[l] = off
			if s := size(l); s > 0 {
				if ts := pl.touch[c]; len(ts) > 0 && ts[len(ts)-1].j1 == r.ColStart[l] {
					ts[len(ts)-1].j1 += s
				} else {
					pl.touch[c] = append(ts, bsSeg{j0: r.ColStart[l], j1: r.ColStart[l+1], dst: pl.part[c] + off})
				}
			}
			off += size(l)
		}
		pl.part[c+1] = pl.part[c] + off
		for k := clusterOf(r.RowStart, lo); k < K && r.RowStart[k] < hi; k++ {
			run := bsRun{lo: max(lo, r.RowStart[k]), hi: min(hi, r.RowStart[k+1]), k: k}
			if run.lo >= run.hi {
				continue
			}
			if self && slices.Contains(r.Kept(k), int32(k)) && size(k) > 0 {
				run.segs = append(run.segs, [2]int32{int32(r.ColStart[k]), int32(r.ColStart[k+1])})
				run.dst = append(run.dst, -1)
			}
			segments(r, swept(k), func(l0, l1 int) {
				run.segs = append(run.segs, [2]int32{int32(r.ColStart[l0]), int32(r.ColStart[l1])})
				run.dst = append(run.dst, pl.part[c]+loc[l0])
			})
			pl.runs[c] = append(pl.runs[c], run)
		}
	}
	// Column blocks of at least bsBlockCols columns (whole clusters).
	pl.cblk = []int{0}
	for l := 0; l < L; l++ {
		if r.ColStart[l+1]-r.ColStart[pl.cblk[len(pl.cblk)-1]] >= bsBlockCols || l == L-1 {
			pl.cblk = append(pl.cblk, l+1)
		}
	}
	return pl
}

// clusterOf returns the cluster k with start[k] ≤ i < start[k+1] (the
// first such k, skipping empty clusters; len(start)−1 for i = n).
func clusterOf(start []int, i int) int {
	k, _ := slices.BinarySearch(start, i+1)
	return max(0, k-1)
}

// symmetricPattern reports whether r is its own transpose.
func symmetricPattern(r *core.Ranges) bool {
	if !slices.Equal(r.RowStart, r.ColStart) {
		return false
	}
	t := r.Transpose()
	return slices.Equal(t.Offsets, r.Offsets) && slices.Equal(t.Cols, r.Cols)
}

// selfOK reports (once computed, cached) whether the self pass applies:
// the Pair's clouds hold the same points and its pattern is symmetric.
func (p *bsPair[T]) selfOK() bool {
	f := &p.fused
	if f.sym == 0 {
		f.sym = 2
		if core.SameValues(p.x, p.y) && symmetricPattern(p.r) {
			f.sym = 1
		}
	}
	return f.sym == 1
}

// plan returns the Pair's cross or self plan, building it on first use.
func (p *bsPair[T]) plan(self bool) *bsPlan {
	f := &p.fused
	pl := &f.cross
	if self {
		pl = &f.self
	}
	if *pl == nil {
		*pl = newBSPlan(p.r, p.k.width, self)
	}
	return *pl
}

// bsKernel returns the fused kernel for the Pair, or nil where it has none
// (D > 3).
func (p *bsPair[T]) bsKernel() func(*sbArgs[T]) {
	if p.d > 3 || p.d < 1 {
		return nil
	}
	pi := 0
	if p.cost == core.CostHalfSquared {
		pi = 1
	}
	return p.k.sb[p.d][pi]
}

// SoftMinBoth implements core.DualPair.
func (p *bsPair[T]) SoftMinBoth(eps T, hx, hy, outX, outY []T) (okX, okY bool, err error) {
	n := p.x.N
	if n == p.m && core.SameDuals(hx[:n], hy[:p.m]) && p.selfOK() {
		ok, err := p.selfPass(eps, hx, outX) // see core.SelfPair: exact symmetry
		if ok {
			copy(outY[:p.m], outX[:n])
		}
		return ok, ok, err
	}
	kern := p.bsKernel()
	cx, nx := core.FiniteOrNegInf(hx[:n])
	cy, ny := core.FiniteOrNegInf(hy[:p.m])
	// A −∞ in hx empties its row's sum (and likewise hy a column's): that
	// direction cannot be delivered; with both, nothing can.
	if kern == nil || !cx || !cy || (nx && ny) {
		return false, false, nil
	}
	pl := p.plan(false)
	f := &p.fused
	f.hx = resize(f.hx, n)
	log2Into(p.buf, hy[:p.m])
	log2Into(f.hx, hx[:n])
	var rows []T // the rows' results, where they can be delivered
	if !nx {
		rows = outX
	}
	if err := p.sweep(pl, kern, eps, f.hx, rows); err != nil {
		return false, false, err
	}
	okX = !nx && !slices.Contains(f.bad, true)
	if !ny {
		okY, err = p.columns(pl, func(l0, l1 int, cs []float64) bool {
			for l := l0; l < l1; l++ {
				j0, j1 := p.r.ColStart[l], p.r.ColStart[l+1]
				if !finish(pl.ccnt[l], eps, cs[j0:j1], p.buf[j0:j1], outY[j0:j1]) {
					return false
				}
			}
			return true
		})
	}
	return okX, okY, err
}

// SoftMinSelf implements core.SelfPair (a Pair whose clouds hold the same
// points, with a symmetric pattern; otherwise ok = false).
func (p *bsPair[T]) SoftMinSelf(eps T, h, out []T) (ok bool, err error) {
	if !p.selfOK() {
		return false, nil
	}
	return p.selfPass(eps, h, out)
}

// selfPass is SoftMinSelf where selfOK holds.
func (p *bsPair[T]) selfPass(eps T, h, out []T) (ok bool, err error) {
	kern := p.bsKernel()
	clean, negInf := core.FiniteOrNegInf(h[:p.m])
	if kern == nil || !clean || negInf {
		return false, nil
	}
	pl := p.plan(true)
	log2Into(p.buf, h[:p.m])
	if err := p.sweep(pl, kern, eps, p.buf, nil); err != nil {
		return false, err
	}
	rs := p.fused.rs
	return p.columns(pl, func(l0, l1 int, cs []float64) bool {
		for l := l0; l < l1; l++ {
			j0, j1 := p.r.ColStart[l], p.r.ColStart[l+1]
			for i := j0; i < j1; i++ {
				cs[i] += rs[i] // the sweep, then the partials (see bsFused)
			}
			if !finish(pl.cnt[l], eps, cs[j0:j1], p.buf[j0:j1], out[j0:j1]) {
				return false
			}
		}
		return true
	})
}

// finish writes out[i] = −ε·(ln s_i − h₂_i·ln 2) for sums s_i of count
// terms each (+∞ for count 0: no kept pair), reporting false (out then
// unspecified) where a sum is out of its valid range (core.DualSumValid).
func finish[T core.Float](count int, eps T, s []float64, h2, out []T) bool {
	if count == 0 {
		for i := range out {
			out[i] = T(math.Inf(1))
		}
		return true
	}
	floor, ceil := dualBounds[T](count), dualCeil[T]()
	for i, v := range s {
		if !(v >= floor && v < ceil) {
			return false
		}
		out[i] = dualOut2(eps, v, h2[i])
	}
	return true
}

// columns forms the column sums (the chunks' partials added in float64 in
// chunk order) of the plan's column blocks in parallel, calling fin(l0, l1,
// cs) on each block of column clusters [l0, l1) once its sums are in cs
// (indexed by column); it reports whether every fin returned true.
func (p *bsPair[T]) columns(pl *bsPlan, fin func(l0, l1 int, cs []float64) bool) (bool, error) {
	f := &p.fused
	f.cs = resize(f.cs, p.m)
	nb := len(pl.cblk) - 1
	bad := resize(f.bad, max(1, nb))
	clear(bad)
	core.ForChunks(nb, p.res.Threads, p.res.Stop, func(b int) {
		l0, l1 := pl.cblk[b], pl.cblk[b+1]
		j0, j1 := p.r.ColStart[l0], p.r.ColStart[l1]
		cs := f.cs[j0:j1]
		clear(cs)
		for _, ts := range pl.touch {
			i, _ := slices.BinarySearchFunc(ts, j0, func(s bsSeg, j int) int { return s.j1 - 1 - j }) // first with j1 > j0
			for ; i < len(ts) && ts[i].j0 < j1; i++ {
				s := ts[i]
				a, z := max(s.j0, j0), min(s.j1, j1)
				for j, v := range f.part[s.dst+a-s.j0 : s.dst+z-s.j0] {
					cs[a-j0+j] += v
				}
			}
		}
		bad[b] = !fin(l0, l1, f.cs)
	})
	f.bad = bad
	return !slices.Contains(bad, true), p.res.Stop.Err()
}

// sweep runs the plan's chunks: each row's sum into p.fused.rs, the kept
// column terms into the chunks' partials p.fused.part; with out non-nil
// (the cross pass), each run's rows' results into out, p.fused.bad[c]
// reporting a sum of chunk c out of its valid range. p.buf holds the
// columns' base-2 log-duals, hx2 the rows'.
func (p *bsPair[T]) sweep(pl *bsPlan, kern func(*sbArgs[T]), eps T, hx2, out []T) error {
	f := &p.fused
	n, d, w := p.x.N, p.d, p.k.width
	chunks := len(pl.runs)
	f.rs = resize(f.rs, n)
	f.part = resize(f.part, pl.part[chunks])
	f.bad = resize(f.bad, chunks)
	clear(f.bad)
	nc, _ := p.k.softMinKernel(d, p.cost, eps, false, false)
	_, f32 := any(nc).(float32)
	ninf := T(math.Inf(-1))
	p.each(chunks, func(c int, g *gather[T]) {
		part := f.part[pl.part[c]:pl.part[c+1]]
		clear(part)
		base := pl.part[c]
		a := sbArgs[T]{y: g.y, h: g.v, nc: nc, acc: g.ws.acc}
		for _, run := range pl.runs[c] {
			rs := f.rs[run.lo:run.hi]
			clear(rs)
			block := run.hi - run.lo
			if f32 {
				block = min(block, dualStageRows)
			}
			cur := tileCursor{segs: run.segs, dst: run.dst}
			for np := p.next(g, &cur, w, ninf); np > 0; np = p.next(g, &cur, w, ninf) {
				a.j0, a.j1, a.col = 0, np, g.col[:np]
				for r0 := run.lo; r0 < run.hi; r0 += block {
					clear(a.col)
					r1 := min(run.hi, r0+block)
					for i := r0; i < r1; i++ {
						a.x, a.hx = p.x.Pts[i*d:(i+1)*d], hx2[i]
						kern(&a)
						rs[i-run.lo] += float64(a.s)
					}
					for _, pc := range g.pcs {
						if pc.dst < 0 {
							continue
						}
						dst := part[pc.dst-base : pc.dst-base+pc.n]
						for q, v := range a.col[pc.pos : pc.pos+pc.n] {
							dst[q] += float64(v)
						}
					}
				}
			}
			if out != nil && !f.bad[c] {
				f.bad[c] = !finish(pl.cnt[run.k], eps, rs, hx2[run.lo:run.hi], out[run.lo:run.hi])
			}
		}
	})
	return p.res.Stop.Err()
}

// resize returns b with n entries (reallocated where its length differs).
func resize[E any](b []E, n int) []E {
	if len(b) != n {
		return make([]E, n)
	}
	return b
}

var (
	_ core.DualPair[float32] = (*bsPair[float32])(nil)
	_ core.SelfPair[float64] = (*bsPair[float64])(nil)
)
