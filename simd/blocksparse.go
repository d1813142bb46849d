package simd

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/libgeomloss/libgeomloss/core"
)

// BlockSparsePair implements core.BlockSparseEngine with the engine's tile
// kernels. Y is stored transposed; for each work unit (at most blockRows
// rows of one row cluster, taken from a shared counter) the columns of the
// row cluster's kept clusters are gathered into a contiguous tile of the
// worker (coordinates and h or weights, padded to the vector width with
// h = −∞ / w = 0 at the end only), at most tileCols columns at a time; the
// rows then sweep each gathered tile in one kernel call each — two rows per
// call through the two-row kernel where there is one, as the online Pair —
// instead of one call per run of consecutive kept clusters. A row's result
// depends only on its own tiles, whose bounds depend only on the pattern,
// in increasing order, so the results are identical bit for bit whatever
// the thread count.
func (e engine[T]) BlockSparsePair(x, y core.Cloud[T], cost core.Cost, r *core.Ranges) (core.Pair[T], error) {
	if err := r.Validate(x.N, y.N); err != nil {
		return nil, &core.Error{Code: core.ErrInternal, Msg: err.Error()}
	}
	if y.N > math.MaxInt32 {
		return nil, &core.Error{Code: core.ErrInvalidOption, Msg: fmt.Sprintf("block-sparse reductions: %d columns, at most %d", y.N, math.MaxInt32)}
	}
	d := y.D
	yt := make([][]T, d)
	for k := range yt {
		yt[k] = make([]T, y.N)
		for j := range y.N {
			yt[k][j] = y.Pts[j*d+k]
		}
	}
	// Column segments of consecutive kept clusters, per row cluster.
	K := r.RowClusters()
	segOff := make([]int, K+1)
	var segs [][2]int32
	for k := 0; k < K; k++ {
		segments(r, r.Kept(k), func(l0, l1 int) {
			segs = append(segs, [2]int32{int32(r.ColStart[l0]), int32(r.ColStart[l1])})
		})
		segOff[k+1] = len(segs)
	}
	var units [][3]int // row range and cluster: a cluster's rows in near-equal units of ≤ blockRows
	for k := 0; k < K; k++ {
		n := r.RowStart[k+1] - r.RowStart[k]
		if n == 0 {
			continue
		}
		size := (n + (n+blockRows-1)/blockRows - 1) / ((n + blockRows - 1) / blockRows)
		for i := r.RowStart[k]; i < r.RowStart[k+1]; i += size {
			units = append(units, [3]int{i, min(i+size, r.RowStart[k+1]), k})
		}
	}
	return &bsPair[T]{x: x, y: y, m: y.N, d: d, yt: yt, buf: make([]T, y.N), r: r,
		segOff: segOff, segs: segs, units: units, cost: cost, res: e.res, k: e.k}, nil
}

// segments calls yield(l0, l1) for each run l0, l0+1, …, l1−1 of
// consecutive clusters of kept (ascending) that holds some column.
func segments(r *core.Ranges, kept []int32, yield func(l0, l1 int)) {
	for a := 0; a < len(kept); {
		b := a + 1
		for b < len(kept) && kept[b] == kept[b-1]+1 {
			b++
		}
		if r.ColStart[kept[b-1]+1] > r.ColStart[kept[a]] {
			yield(int(kept[a]), int(kept[b-1])+1)
		}
		a = b
	}
}

var (
	_ core.BlockSparseEngine[float32] = engine[float32]{}
	_ core.BlockSparseEngine[float64] = engine[float64]{}
)

type bsPair[T core.Float] struct {
	x, y   core.Cloud[T]
	m, d   int
	yt     [][]T // yt[k][j]: coordinate k of column j
	buf    []T   // h (base 2) or weights of the current call, per column
	segOff []int
	segs   [][2]int32 // column ranges [j0, j1) kept by each row cluster (M < 2³¹)
	units  [][3]int
	cost   core.Cost
	res    core.Resources
	k      *kernels[T]
	r      *core.Ranges
	fused  bsFused[T] // the fused passes' plans and buffers (bsfused.go)
}

func (p *bsPair[T]) Close() error {
	p.yt, p.buf, p.segs, p.units = nil, nil, nil, nil
	p.fused = bsFused[T]{}
	return nil
}

// gather is a worker's tile of gathered columns: coordinates, h or weights.
type gather[T core.Float] struct {
	ws   *workspace[T]
	a, b smArgs[T] // the kernels' arguments (reused: they escape to the kernels)
	ka   ksArgs[T]
	y    [][]T
	yp   []unsafe.Pointer
	v    []T
	col  []T         // the fused kernels' column terms of the tile
	pcs  []tilePiece // the fused passes: where the tile's columns come from
}

func newGather[T core.Float](d, w int) *gather[T] {
	g := &gather[T]{ws: newWorkspace[T](d, w), y: make([][]T, d), yp: make([]unsafe.Pointer, d)}
	for k := range g.y {
		g.y[k] = aligned64[T](tileCols)
		g.yp[k] = unsafe.Pointer(unsafe.SliceData(g.y[k]))
	}
	g.v = aligned64[T](tileCols)
	g.col = aligned64[T](tileCols)
	return g
}

// tileCursor walks the columns of a row cluster's segments, one gathered
// tile at a time. With dst (the fused passes), segment s's columns have
// their partials at dst[s], dst[s]+1, … (−1: not kept), and next records
// the tile's pieces in g.pcs.
type tileCursor struct {
	segs [][2]int32
	dst  []int
	j    int // next column of segs[0]
}

// tilePiece is a run of n gathered columns from tile position pos whose
// partials lie at dst, dst+1, … (dst < 0: not kept).
type tilePiece struct {
	pos, n, dst int
}

// next gathers the cursor's next columns into g's tile, at most tileCols (a
// multiple of the vector width w), pads them with pad up to a multiple of
// w, and returns the padded width (0 when the segments are exhausted).
func (p *bsPair[T]) next(g *gather[T], c *tileCursor, w int, pad T) int {
	n := 0
	g.pcs = g.pcs[:0]
	for len(c.segs) > 0 && n < tileCols {
		s0, s1 := int(c.segs[0][0]), int(c.segs[0][1])
		j0 := max(s0, c.j)
		k := min(s1-j0, tileCols-n)
		for q := range g.y {
			copy(g.y[q][n:n+k], p.yt[q][j0:j0+k])
		}
		copy(g.v[n:n+k], p.buf[j0:j0+k])
		if c.dst != nil {
			dst := c.dst[0]
			if dst >= 0 {
				dst += j0 - s0
			}
			g.pcs = append(g.pcs, tilePiece{pos: n, n: k, dst: dst})
		}
		n, c.j = n+k, j0+k
		if c.j == s1 {
			c.segs = c.segs[1:]
			if c.dst != nil {
				c.dst = c.dst[1:]
			}
		}
	}
	np := (n + w - 1) / w * w
	for j := n; j < np; j++ {
		for q := range g.y {
			g.y[q][j] = 0
		}
		g.v[j] = pad
	}
	return np
}

// run calls body on every work unit from several goroutines, until done or
// the resources' Stop is set.
func (p *bsPair[T]) run(body func(lo, hi, k int, g *gather[T])) {
	p.each(len(p.units), func(u int, g *gather[T]) {
		un := p.units[u]
		body(un[0], un[1], un[2], g)
	})
}

// each calls body(u, g) for every u < n from up to Threads goroutines,
// each with its own tile g, which take u from a shared counter, until done
// or the resources' Stop is set.
func (p *bsPair[T]) each(n int, body func(u int, g *gather[T])) {
	core.ForChunksScratch(n, p.res.Threads, p.res.Stop.Stopped, func() *gather[T] { return newGather[T](p.d, p.k.width) }, body)
}

func (p *bsPair[T]) SoftMin(eps T, h, out, grad []T) error {
	for j, v := range h[:p.m] {
		p.buf[j] = T(float64(v) * math.Log2E)
	}
	nc, kern := p.k.softMinKernel(p.d, p.cost, eps, grad != nil, false)
	var two func(a, b *smArgs[T])
	if grad == nil {
		two = p.k.softMin2(p.d, p.cost)
	}
	nm := negMax[T]()
	d := p.d
	p.run(func(lo, hi, k int, g *gather[T]) {
		ws := g.ws
		g.a = smArgs[T]{y: g.y, yp: g.yp, xb: ws.xb, h: g.v, nc: nc, g: ws.g, scr: ws.scr, acc: ws.acc}
		g.b = g.a
		a, b := &g.a, &g.b
		rows := ws.rows[:hi-lo]
		for r := range rows {
			rows[r].m, rows[r].s = float64(nm), 0
			clear(rows[r].g)
		}
		cur := tileCursor{segs: p.segs[p.segOff[k]:p.segOff[k+1]]}
		for n := p.next(g, &cur, p.k.width, T(math.Inf(-1))); n > 0; n = p.next(g, &cur, p.k.width, T(math.Inf(-1))) {
			a.j0, a.j1, b.j0, b.j1 = 0, n, 0, n
			r := 0
			if two != nil {
				for ; r+1 < len(rows); r += 2 {
					i := lo + r
					a.x, b.x = p.x.Pts[i*d:(i+1)*d], p.x.Pts[(i+1)*d:(i+2)*d]
					a.m, b.m = T(rows[r].m), T(rows[r+1].m)
					two(a, b)
					mergeSoftMinTile(&rows[r], a, false)
					mergeSoftMinTile(&rows[r+1], b, false)
				}
			}
			for ; r < len(rows); r++ {
				a.x = p.x.Pts[(lo+r)*d : (lo+r+1)*d]
				a.m = T(rows[r].m)
				kern(a)
				mergeSoftMinTile(&rows[r], a, grad != nil)
			}
		}
		for r := range rows {
			finishSoftMinRow(&rows[r], float64(eps), lo+r, d, out, grad)
		}
	})
	return p.res.Stop.Err()
}

func (p *bsPair[T]) KernelSum(k core.Kernel, sigma T, wts, out, grad []T) error {
	copy(p.buf, wts[:p.m])
	c, valF, gradF := kernelScale(k, float64(sigma))
	gi := 0
	if grad != nil {
		gi = 1
	}
	kern := p.k.ks[int(k)-1][dIndex(p.d)][gi]
	d := p.d
	p.run(func(lo, hi, cl int, g *gather[T]) {
		ws := g.ws
		g.ka = ksArgs[T]{y: g.y, yp: g.yp, xb: ws.xb, w: g.v, c: T(c), g: ws.g, scr: ws.scr, acc: ws.acc}
		a := &g.ka
		rows := ws.rows[:hi-lo]
		clearKernelSums(rows)
		cur := tileCursor{segs: p.segs[p.segOff[cl]:p.segOff[cl+1]]}
		for n := p.next(g, &cur, p.k.width, 0); n > 0; n = p.next(g, &cur, p.k.width, 0) {
			a.j0, a.j1 = 0, n
			for r := range rows {
				a.x = p.x.Pts[(lo+r)*d : (lo+r+1)*d]
				kern(a)
				addKernelSum(&rows[r], a, gi == 1)
			}
		}
		putKernelSums(rows, lo, d, valF, gradF, out, grad)
	})
	return p.res.Stop.Err()
}

// softMinKernel returns the soft-min cost factor (base 2: −log₂e/(2ε) for
// p = 2, −log₂e/ε for p = 1) and tile kernel for dimension d.
func (ks *kernels[T]) softMinKernel(d int, cost core.Cost, eps T, grad, dense bool) (T, func(*smArgs[T])) {
	var nc T
	pi := 0 // p = 1
	if cost == core.CostHalfSquared {
		nc, pi = T(-math.Log2E/(2*float64(eps))), 1
	} else {
		nc = T(-math.Log2E / float64(eps))
	}
	gi := 0
	if grad {
		gi = 1
	}
	if dense {
		return nc, ks.dsm[dIndex(d)][pi][gi]
	}
	return nc, ks.sm[dIndex(d)][pi][gi]
}

// mergeSoftMinTile folds a tile's (reference m, sum s, gradient g) into a
// row's float64 running reduction, rescaling the smaller reference.
func mergeSoftMinTile[T core.Float](st *rowState, a *smArgs[T], grad bool) {
	if a.s == 0 {
		return
	}
	mt := float64(a.m)
	switch {
	case st.s == 0:
		st.m, st.s = mt, float64(a.s)
		if grad {
			for k := range st.g {
				st.g[k] = float64(a.g[k])
			}
		}
	case mt > st.m:
		f := math.Exp2(st.m - mt)
		st.m, st.s = mt, st.s*f+float64(a.s)
		if grad {
			for k := range st.g {
				st.g[k] = st.g[k]*f + float64(a.g[k])
			}
		}
	default: // mt == st.m: the tile was reduced relative to the row's maximum
		st.s += float64(a.s)
		if grad {
			for k := range st.g {
				st.g[k] += float64(a.g[k])
			}
		}
	}
}

// finishSoftMinRow writes row i's soft-min −ε(m·ln2 + ln s) (+∞ for an
// empty row) and gradient g/s.
func finishSoftMinRow[T core.Float](st *rowState, eps float64, i, d int, out, grad []T) {
	if st.s == 0 {
		out[i] = T(math.Inf(1))
		if grad != nil {
			clear(grad[i*d : (i+1)*d])
		}
		return
	}
	out[i] = T(-eps * (st.m*math.Ln2 + math.Log(st.s)))
	if grad != nil {
		for k := 0; k < d; k++ {
			grad[i*d+k] = T(st.g[k] / st.s)
		}
	}
}
