package simd

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/libgeomloss/libgeomloss/core"
)

// BlockSparsePair implements core.BlockSparseEngine with the engine's tile
// kernels. Y is stored transposed with every column cluster padded to the
// vector width (padding: h = −∞, w = 0, coordinates 0), so each cluster
// starts on a vector boundary and a run of consecutive kept clusters is one
// contiguous column range [j0, j1) for the kernels (split into tiles of at
// most tileCols columns). Work units are blocks of at most blockRows rows of
// one row cluster, taken from a shared counter; within a unit the tile is
// the outer loop (its columns stay in cache while the rows sweep it). A
// row's result depends only on its own runs, in increasing order, so the
// results are identical bit for bit whatever the thread count.
func (e engine[T]) BlockSparsePair(x, y core.Cloud[T], cost core.Cost, r *core.Ranges) (core.Pair[T], error) {
	if err := r.Validate(x.N, y.N); err != nil {
		return nil, &core.Error{Code: core.ErrInternal, Msg: err.Error()}
	}
	w := e.k.width
	L := r.ColClusters()
	start := make([]int, L+1) // padded start of every column cluster
	for l := 0; l < L; l++ {
		n := r.ColStart[l+1] - r.ColStart[l]
		start[l+1] = start[l] + (n+w-1)/w*w
	}
	mp := max(start[L], w)
	d := y.D
	store := aligned64[T](d * mp)
	ys := make([][]T, d)
	for k := range ys {
		ys[k] = store[k*mp : (k+1)*mp : (k+1)*mp]
	}
	pos := make([]int, y.N) // padded position of every column
	for l := 0; l < L; l++ {
		for j := r.ColStart[l]; j < r.ColStart[l+1]; j++ {
			p := start[l] + j - r.ColStart[l]
			pos[j] = p
			for k := 0; k < d; k++ {
				ys[k][p] = y.Pts[j*d+k]
			}
		}
	}
	yp := make([]unsafe.Pointer, d)
	for k := range yp {
		yp[k] = unsafe.Pointer(unsafe.SliceData(ys[k]))
	}
	// Runs of consecutive kept clusters, cut into tiles.
	K := r.RowClusters()
	runOff := make([]int, K+1)
	var runs [][2]int
	for k := 0; k < K; k++ {
		kept := r.Kept(k)
		for a := 0; a < len(kept); {
			b := a + 1
			for b < len(kept) && kept[b] == kept[b-1]+1 {
				b++
			}
			j0, j1 := start[kept[a]], start[kept[b-1]+1]
			for t := j0; t < j1; t += tileCols {
				runs = append(runs, [2]int{t, min(t+tileCols, j1)})
			}
			a = b
		}
		runOff[k+1] = len(runs)
	}
	var units [][3]int // row range and cluster
	for k := 0; k < K; k++ {
		for i := r.RowStart[k]; i < r.RowStart[k+1]; i += blockRows {
			units = append(units, [3]int{i, min(i+blockRows, r.RowStart[k+1]), k})
		}
	}
	return &bsPair[T]{x: x, m: y.N, d: d, ys: ys, yp: yp, buf: aligned64[T](mp), pos: pos,
		runOff: runOff, runs: runs, units: units, cost: cost, res: e.res, k: e.k}, nil
}

var (
	_ core.BlockSparseEngine[float32] = engine[float32]{}
	_ core.BlockSparseEngine[float64] = engine[float64]{}
)

type bsPair[T core.Float] struct {
	x      core.Cloud[T]
	m, d   int
	ys     [][]T
	yp     []unsafe.Pointer
	buf    []T   // padded h or weights of the current call (padding stays −∞ / 0)
	pos    []int // padded position of every column
	runOff []int
	runs   [][2]int
	units  [][3]int
	cost   core.Cost
	res    core.Resources
	k      *kernels[T]
}

func (p *bsPair[T]) Close() error {
	p.ys, p.yp, p.buf, p.runs, p.units = nil, nil, nil, nil, nil
	return nil
}

// run calls body on every work unit from several goroutines, until done or
// the resources' Stop is set.
func (p *bsPair[T]) run(body func(lo, hi, k int, ws *workspace[T])) {
	nu := len(p.units)
	t := p.res.Threads
	if t <= 0 {
		t = runtime.GOMAXPROCS(0)
	}
	t = max(1, min(t, nu))
	var next atomic.Int64
	work := func() {
		ws := newWorkspace[T](p.d, p.k.width)
		for {
			u := int(next.Add(1)) - 1
			if u >= nu || p.res.Stop.Stopped() {
				return
			}
			un := p.units[u]
			body(un[0], un[1], un[2], ws)
		}
	}
	if t == 1 {
		work()
		return
	}
	var wg sync.WaitGroup
	for range t {
		wg.Go(work)
	}
	wg.Wait()
}

func (p *bsPair[T]) SoftMin(eps T, h, out, grad []T) error {
	ninf := T(math.Inf(-1))
	for i := range p.buf {
		p.buf[i] = ninf
	}
	for j, v := range h[:p.m] {
		p.buf[p.pos[j]] = T(float64(v) * math.Log2E)
	}
	nc, kern := p.k.softMinKernel(p.d, p.cost, eps, grad != nil, false)
	nm := negMax[T]()
	d := p.d
	p.run(func(lo, hi, k int, ws *workspace[T]) {
		a := smArgs[T]{y: p.ys, yp: p.yp, xb: ws.xb, h: p.buf, nc: nc, g: ws.g, scr: ws.scr, acc: ws.acc}
		rows := ws.rows[:hi-lo]
		for r := range rows {
			rows[r].m, rows[r].s = float64(nm), 0
			clear(rows[r].g)
		}
		for _, run := range p.runs[p.runOff[k]:p.runOff[k+1]] {
			a.j0, a.j1 = run[0], run[1]
			for r := range rows {
				a.x = p.x.Pts[(lo+r)*d : (lo+r+1)*d]
				a.m = T(rows[r].m)
				kern(&a)
				mergeSoftMinTile(&rows[r], &a, grad != nil)
			}
		}
		for r := range rows {
			finishSoftMinRow(&rows[r], float64(eps), lo+r, d, out, grad)
		}
	})
	return p.res.Stop.Err()
}

func (p *bsPair[T]) KernelSum(k core.Kernel, sigma T, wts, out, grad []T) error {
	clear(p.buf)
	for j, v := range wts[:p.m] {
		p.buf[p.pos[j]] = v
	}
	c, valF, gradF := kernelScale(k, float64(sigma))
	gi := 0
	if grad != nil {
		gi = 1
	}
	kern := p.k.ks[int(k)-1][dIndex(p.d)][gi]
	d := p.d
	p.run(func(lo, hi, cl int, ws *workspace[T]) {
		a := ksArgs[T]{y: p.ys, yp: p.yp, xb: ws.xb, w: p.buf, c: T(c), g: ws.g, scr: ws.scr, acc: ws.acc}
		rows := ws.rows[:hi-lo]
		for r := range rows {
			rows[r].s = 0
			clear(rows[r].g)
		}
		for _, run := range p.runs[p.runOff[cl]:p.runOff[cl+1]] {
			a.j0, a.j1 = run[0], run[1]
			for r := range rows {
				a.x = p.x.Pts[(lo+r)*d : (lo+r+1)*d]
				kern(&a)
				st := &rows[r]
				st.s += float64(a.s)
				if gi == 1 {
					for q := range st.g {
						st.g[q] += float64(a.g[q])
					}
				}
			}
		}
		for r := range rows {
			i := lo + r
			out[i] = T(valF * rows[r].s)
			if gi == 1 {
				for q := 0; q < d; q++ {
					grad[i*d+q] = T(gradF * rows[r].g[q])
				}
			}
		}
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
