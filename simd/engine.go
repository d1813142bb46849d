package simd

import (
	"math"
	"runtime"
	"unsafe"

	"github.com/libgeomloss/libgeomloss/core"
)

// Tiling. A tile is tileCols columns of the second cloud (its coordinates and
// log-weights, ≤ 2048·(D+1)·4 bytes: in L1 for D ≤ 3 in float32, in L2
// otherwise); every row of a block of blockRows rows sweeps the tile before the
// next tile is loaded, so Y streams from cache, not memory (a dense Pair
// instead sweeps each row's tiles in turn: see tiles). Workers take row
// blocks from a shared counter. Tile boundaries depend only on M, and a row's
// result only on its own sweep, so results are identical bit for bit whatever
// the number of threads and the order in which blocks are taken.
const (
	tileCols  = 2048
	blockRows = 32
)

// smArgs are the arguments of one soft-min tile kernel: row x against the
// columns [j0, j1) (multiples of the vector width) of the transposed cloud y
// and log-weights h (−∞ in padding).
type smArgs[T core.Float] struct {
	x      []T              // the row's point, len D
	y      [][]T            // y[k][j]: coordinate k of point j (padded)
	yp     []unsafe.Pointer // &y[k][0] (generic-D kernels)
	xb     []T              // scratch for x broadcast (generic D), len ≥ D·width, 64-byte aligned
	h      []T              // padded log-weights times log₂e
	srow   []T              // dense kernels: the row's squared distances (padded)
	j0, j1 int
	nc     T   // −log₂e/(2ε) for p = 2, −log₂e/ε for p = 1
	m      T   // in: starting reference; out: the tile's reference (≥ in, ≥ max z − slack), log₂ units
	s      T   // out: Σ_j 2^(z_j − m), z_j = h_j + nc·(s_ij or C_ij)
	g      []T // out (if the kernel has grad): Σ_j 2^(z_j − m)·∇₁C, len D
	scr    []T // scratch, len ≥ D·width, 64-byte aligned
	acc    []T // vector results and vector scratch, len ≥ 7·width, 64-byte aligned
}

// ksArgs are the arguments of one kernel-sum tile kernel. c is the kernel's
// coefficient (gaussian −log₂e/(2σ²), laplacian 1/σ², energy unused); s and g
// are raw sums that the caller scales (see kernelScale).
type ksArgs[T core.Float] struct {
	x      []T
	y      [][]T
	yp     []unsafe.Pointer
	xb     []T
	w      []T // padded weights (0 in padding)
	srow   []T
	j0, j1 int
	c      T
	s      T
	g      []T
	scr    []T
	acc    []T
}

// sqArgs are the arguments of the dense fill: out[j] = |x − y_j|² for the
// len(out) (padded) columns, computed exactly as the online kernels do.
type sqArgs[T core.Float] struct {
	x   []T
	y   [][]T
	yp  []unsafe.Pointer
	xb  []T
	out []T
}

// sbArgs are the arguments of one fused Sinkhorn kernel (core.DualPair,
// core.SelfPair): row x with its log-dual hx, in base 2, against the
// columns [j0, j1) of the transposed cloud y with log-duals h (base 2, −∞
// in padding); the terms 2^E, E = hx + h_j + nc·C_j, are summed into s and
// added to col[j − j0] (col holds the columns [j0, j1) only).
type sbArgs[T core.Float] struct {
	x      []T
	hx     T
	y      [][]T
	h      []T
	col    []T
	j0, j1 int
	nc     T
	s      T
	acc    []T // scratch, len ≥ 7·width, 64-byte aligned
}

// kernels is one code path's set of tile kernels for element type T.
type kernels[T core.Float] struct {
	width int
	sm    [4][2][2]func(*smArgs[T])   // [D or 0 if D>3][p−1][grad]
	ks    [3][4][2]func(*ksArgs[T])   // [kernel−1][D or 0][grad]
	dsm   [4][2][2]func(*smArgs[T])   // dense (stored squared distances) soft-min
	dks   [3][4][2]func(*ksArgs[T])   // dense kernel sums
	sq    [4]func(*sqArgs[T])         // dense fill, [D or 0]
	sm2   [4][2]func(a, b *smArgs[T]) // two-row online soft-min without gradient, [D][p−1]; nil where absent
	sb    [4][2]func(*sbArgs[T])      // fused Sinkhorn kernels, [D][p−1]; nil for D > 3
	exp2  func(x []T)                 // in-place vector 2^x (len a multiple of width); for tests
}

type engine[T core.Float] struct {
	name string
	k    *kernels[T]
	res  core.Resources
}

var (
	_ core.Engine[float32]      = engine[float32]{}
	_ core.DenseEngine[float32] = engine[float32]{}
	_ core.DenseEngine[float64] = engine[float64]{}
)

func (e engine[T]) Name() string   { return e.name }
func (e engine[T]) Device() string { return "cpu" }

func (e engine[T]) Pair(x, y core.Cloud[T], cost core.Cost) (core.Pair[T], error) {
	if e.portableBetter(x, y) { // route.go
		return core.Portable[T](e.res).Pair(x, y, cost)
	}
	return e.newPair(x, y, cost), nil
}

// DensePair implements core.DenseEngine: the tensorized backend's Pair. It
// stores the N×M matrix of squared distances (rows padded to the vector
// width), computed by the same vector code as the online kernels, and its
// reductions read that matrix instead of recomputing distances — the results
// are the online Pair's, bit for bit. Coordinates are still read for the
// gradients.
func (e engine[T]) DensePair(x, y core.Cloud[T], cost core.Cost) (core.Pair[T], error) {
	if e.portableBetter(x, y) { // route.go
		return core.Portable[T](e.res).(core.DenseEngine[T]).DensePair(x, y, cost)
	}
	p := e.newPair(x, y, cost)
	p.dense = aligned64[T](p.n * p.mp)
	fill := e.k.sq[dIndex(p.d)]
	p.run(func(lo, hi int, _ *workspace[T]) {
		a := sqArgs[T]{y: p.ys, yp: p.yp, xb: aligned64[T](p.d * e.k.width)}
		for i := lo; i < hi; i++ {
			a.x = x.Pts[i*p.d : (i+1)*p.d]
			a.out = p.dense[i*p.mp : (i+1)*p.mp]
			fill(&a)
		}
	})
	if err := p.res.Stop.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

func (e engine[T]) newPair(x, y core.Cloud[T], cost core.Cost) *pair[T] {
	w := e.k.width
	mp := (y.N + w - 1) / w * w
	if mp == 0 {
		mp = w
	}
	d := y.D
	store := aligned64[T](d * mp)
	ys := make([][]T, d)
	for k := range ys {
		ys[k] = store[k*mp : (k+1)*mp : (k+1)*mp]
	}
	for j := 0; j < y.N; j++ {
		for k := 0; k < d; k++ {
			ys[k][j] = y.Pts[j*d+k]
		}
	}
	yp := make([]unsafe.Pointer, d)
	for k := range yp {
		yp[k] = unsafe.Pointer(unsafe.SliceData(ys[k]))
	}
	return &pair[T]{x: x, y: y, n: x.N, m: y.N, mp: mp, d: d, ys: ys, yp: yp, buf: aligned64[T](mp),
		cost: cost, res: e.res, k: e.k}
}

type pair[T core.Float] struct {
	x, y     core.Cloud[T] // y only for portableKernelSum (tinysigma.go)
	n, m, mp int
	d        int
	ys       [][]T
	yp       []unsafe.Pointer // &ys[k][0]
	buf      []T              // padded h or weights of the current call
	dense    []T              // DensePair: n rows of mp squared distances; nil online
	ws       *workspace[T]    // single-threaded runs' workspace (see run)
	fx       []T              // fused updates (fused.go): the rows' base-2 log-duals
	part     []T              // fused updates: the chunks' column partial sums (or staging tiles, see partials)
	spill    []float64        // fused updates, float32 chunks of > 128 rows: their float64 partials (else nil)
	rs       []float64        // fused updates: the rows' sums
	cs       []float64        // fused updates: the column sums
	accs     []T              // fused updates: the chunks' kernel scratch
	sym      int8             // fused updates: 0 unknown, 1 the two clouds are the same points, 2 not
	cost     core.Cost
	res      core.Resources
	k        *kernels[T]
}

// Close drops the Pair's buffers (garbage-collected memory) so that a
// Pair kept by mistake does not pin them; idempotent.
func (p *pair[T]) Close() error {
	p.ys, p.yp, p.buf, p.dense, p.ws = nil, nil, nil, nil, nil
	p.fx, p.part, p.spill, p.rs, p.cs, p.accs = nil, nil, nil, nil, nil, nil
	return nil
}

// srow returns row i of the stored squared distances (nil online).
func (p *pair[T]) srow(i int) []T {
	if p.dense == nil {
		return nil
	}
	return p.dense[i*p.mp : (i+1)*p.mp : (i+1)*p.mp]
}

func dIndex(d int) int {
	if d <= 3 {
		return d
	}
	return 0
}

// rowState is the float64 running reduction of one row across tiles.
type rowState struct {
	m, s float64
	g    []float64
}

// clearKernelSums zeroes the running kernel sums and gradients of rows.
func clearKernelSums(rows []rowState) {
	for r := range rows {
		rows[r].s = 0
		clear(rows[r].g)
	}
}

// addKernelSum adds one kernel-sum call's results (a.s and, with grad,
// a.g) to the row's running sums.
func addKernelSum[T core.Float](st *rowState, a *ksArgs[T], grad bool) {
	st.s += float64(a.s)
	if grad {
		for q := range st.g {
			st.g[q] += float64(a.g[q])
		}
	}
}

// putKernelSums writes the kernel sums of rows (rows lo, lo+1, …) into out
// scaled by valF and, with grad non-nil, their gradients scaled by gradF
// (see kernelScale).
func putKernelSums[T core.Float](rows []rowState, lo, d int, valF, gradF float64, out, grad []T) {
	for r := range rows {
		i := lo + r
		out[i] = T(valF * rows[r].s)
		if grad != nil {
			for q := 0; q < d; q++ {
				grad[i*d+q] = T(gradF * rows[r].g[q])
			}
		}
	}
}

func negMax[T core.Float]() T {
	var z T
	if _, ok := any(z).(float32); ok {
		f := float32(-math.MaxFloat32)
		return T(f)
	}
	f := -math.MaxFloat64
	return T(f)
}

// run calls body(lo, hi, scratch) on row blocks from several goroutines,
// until every block is done or the resources' Stop is set.
func (p *pair[T]) run(body func(lo, hi int, ws *workspace[T])) {
	nb := (p.n + blockRows - 1) / blockRows
	t := p.res.Threads
	if t <= 0 {
		t = runtime.GOMAXPROCS(0)
	}
	scratch := func() *workspace[T] { return newWorkspace[T](p.d, p.k.width) }
	if min(t, nb) <= 1 { // one goroutine: the Pair's own workspace, reused across calls
		if p.ws == nil {
			p.ws = scratch()
		}
		scratch = func() *workspace[T] { return p.ws }
	}
	core.ForChunksScratch(nb, t, p.res.Stop.Stopped, scratch, func(b int, ws *workspace[T]) {
		lo := b * blockRows
		body(lo, min(lo+blockRows, p.n), ws)
	})
}

// tiles calls visit(r, j0, j1) for every row r < rows of a block and every
// tile [j0, j1) of the columns, each row's tiles in increasing order. Online,
// the tile is the outer loop (the block's rows sweep a tile of Y while it is
// in cache); dense, the row is (each row of the stored matrix streams from
// memory in one sequential run). A row's result depends only on its own
// tiles, in the same order either way.
func (p *pair[T]) tiles(rows int, visit func(r, j0, j1 int)) {
	if p.dense != nil {
		for r := 0; r < rows; r++ {
			for j0 := 0; j0 < p.mp; j0 += tileCols {
				visit(r, j0, min(j0+tileCols, p.mp))
			}
		}
		return
	}
	for j0 := 0; j0 < p.mp; j0 += tileCols {
		for r := 0; r < rows; r++ {
			visit(r, j0, min(j0+tileCols, p.mp))
		}
	}
}

type workspace[T core.Float] struct {
	rows [blockRows]rowState
	g    []T
	scr  []T
	acc  []T
	xb   []T
}

func newWorkspace[T core.Float](d, w int) *workspace[T] {
	ws := &workspace[T]{g: make([]T, d), scr: aligned64[T](d * w), acc: aligned64[T](7 * w), xb: aligned64[T](d * w)}
	gs := make([]float64, blockRows*d)
	for r := range ws.rows {
		ws.rows[r].g = gs[r*d : (r+1)*d : (r+1)*d]
	}
	return ws
}

func (p *pair[T]) SoftMin(eps T, h, out, grad []T) error {
	// The kernels work in base 2: h₂ = h·log₂e, z₂ = h₂ − c₂·C, sums of 2^(z₂−m₂).
	for j, v := range h[:p.m] {
		p.buf[j] = T(float64(v) * math.Log2E)
	}
	ninf := T(math.Inf(-1))
	for j := p.m; j < p.mp; j++ {
		p.buf[j] = ninf
	}
	gi := 0
	if grad != nil {
		gi = 1
	}
	nc, kern := p.k.softMinKernel(p.d, p.cost, eps, gi == 1, p.dense != nil)
	nm := negMax[T]()
	d := p.d
	p.run(func(lo, hi int, ws *workspace[T]) {
		a := smArgs[T]{y: p.ys, yp: p.yp, xb: ws.xb, h: p.buf, nc: nc, g: ws.g, scr: ws.scr, acc: ws.acc}
		rows := ws.rows[:hi-lo]
		for r := range rows {
			rows[r].m, rows[r].s = float64(nm), 0
			clear(rows[r].g)
		}
		if p.mp <= tileCols {
			// One tile per row (small clouds, e.g. batch items): the row's
			// state is its tile's, as mergeSoftMinTile makes it from a first
			// tile, without the per-tile closure and merge; rows go by two
			// through the two-row kernel where there is one (the same
			// results bit for bit, so the pairing does not matter).
			a.j0, a.j1 = 0, p.mp
			take := func(r int, a *smArgs[T]) {
				if st := &rows[r]; a.s != 0 {
					st.m, st.s = float64(a.m), float64(a.s)
					if gi == 1 {
						for k := range st.g {
							st.g[k] = float64(a.g[k])
						}
					}
				}
			}
			r := 0
			if two := p.k.softMin2(d, p.cost); gi == 0 && p.dense == nil && two != nil {
				b := a
				for ; r+1 < len(rows); r += 2 {
					i := lo + r
					a.x, b.x = p.x.Pts[i*d:(i+1)*d], p.x.Pts[(i+1)*d:(i+2)*d]
					a.m, b.m = nm, nm
					two(&a, &b)
					take(r, &a)
					take(r+1, &b)
				}
			}
			for ; r < len(rows); r++ {
				i := lo + r
				a.x = p.x.Pts[i*d : (i+1)*d]
				a.srow = p.srow(i)
				a.m = nm
				kern(&a)
				take(r, &a)
			}
			for r := range rows { // the logarithms after the sweeps: independent, overlapped
				finishSoftMinRow(&rows[r], float64(eps), lo+r, d, out, grad)
			}
			return
		}
		if two := p.k.softMin2(d, p.cost); gi == 0 && p.dense == nil && two != nil {
			// The rows by two over each tile (the order of p.tiles online).
			b := a
			for j0 := 0; j0 < p.mp; j0 += tileCols {
				a.j0, a.j1 = j0, min(j0+tileCols, p.mp)
				r := 0
				for ; r+1 < len(rows); r += 2 {
					i := lo + r
					a.x, b.x = p.x.Pts[i*d:(i+1)*d], p.x.Pts[(i+1)*d:(i+2)*d]
					a.m, b.m = T(rows[r].m), T(rows[r+1].m)
					two(&a, &b)
					mergeSoftMinTile(&rows[r], &a, false)
					mergeSoftMinTile(&rows[r+1], &b, false)
				}
				if r < len(rows) {
					a.x = p.x.Pts[(lo+r)*d : (lo+r+1)*d]
					a.m = T(rows[r].m)
					kern(&a)
					mergeSoftMinTile(&rows[r], &a, false)
				}
			}
		} else {
			p.tiles(len(rows), func(r, j0, j1 int) {
				a.j0, a.j1 = j0, j1
				st := &rows[r]
				a.x = p.x.Pts[(lo+r)*d : (lo+r+1)*d]
				a.srow = p.srow(lo + r)
				a.m = T(st.m)
				kern(&a)
				mergeSoftMinTile(st, &a, gi == 1)
			})
		}
		for r := range rows {
			finishSoftMinRow(&rows[r], float64(eps), lo+r, d, out, grad)
		}
	})
	return p.res.Stop.Err()
}

// softMin2 returns the two-row soft-min kernel (online, without gradient)
// for dimension d and the cost, or nil where the path has none.
func (ks *kernels[T]) softMin2(d int, cost core.Cost) func(a, b *smArgs[T]) {
	if d > 3 {
		return nil
	}
	pi := 0 // p = 1
	if cost == core.CostHalfSquared {
		pi = 1
	}
	return ks.sm2[d][pi]
}

// kernelScale returns the factors turning the kernels' raw sums into
// Σ w k and Σ w ∇₁k (see ksArgs).
func kernelScale(k core.Kernel, sigma float64) (c, valF, gradF float64) {
	switch k {
	case core.KernelGaussian:
		return -math.Log2E / (2 * sigma * sigma), 1, -1 / (sigma * sigma)
	case core.KernelLaplacian:
		return 1 / (sigma * sigma), 1, -1 / (sigma * sigma)
	default:
		return 0, -1, -1
	}
}

func (p *pair[T]) KernelSum(k core.Kernel, sigma T, wts, out, grad []T) error {
	copy(p.buf, wts[:p.m])
	clear(p.buf[p.m:])
	c, valF, gradF := kernelScale(k, float64(sigma))
	if scaleOverflows[T](c) {
		return p.portableKernelSum(k, sigma, wts, out, grad)
	}
	gi := 0
	if grad != nil {
		gi = 1
	}
	kern := p.k.ks[int(k)-1][dIndex(p.d)][gi]
	if p.dense != nil {
		kern = p.k.dks[int(k)-1][dIndex(p.d)][gi]
	}
	d := p.d
	p.run(func(lo, hi int, ws *workspace[T]) {
		a := ksArgs[T]{y: p.ys, yp: p.yp, xb: ws.xb, w: p.buf, c: T(c), g: ws.g, scr: ws.scr, acc: ws.acc}
		rows := ws.rows[:hi-lo]
		clearKernelSums(rows)
		p.tiles(len(rows), func(r, j0, j1 int) {
			a.j0, a.j1 = j0, j1
			st := &rows[r]
			a.x = p.x.Pts[(lo+r)*d : (lo+r+1)*d]
			a.srow = p.srow(lo + r)
			kern(&a)
			addKernelSum(st, &a, gi == 1)
		})
		putKernelSums(rows, lo, d, valF, gradF, out, grad)
	})
	return p.res.Stop.Err()
}

// aligned64 returns a zeroed slice of n elements starting on a 64-byte
// boundary (vector accumulators kept in memory must not split cache lines).
func aligned64[T core.Float](n int) []T {
	var z T
	sz := int(unsafe.Sizeof(z))
	b := make([]T, n+64/sz)
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) % 64 / uintptr(sz))
	if off != 0 {
		off = 64/sz - off
	}
	return b[off : off+n : off+n]
}
