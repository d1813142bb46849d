package core

// BlockSparsePair is core's portable block-sparse Pair (the multiscale
// backend's fallback for engines without BlockSparseEngine, and the oracle
// of the conformance suite): row i of row cluster k reduces over the columns
// of the column clusters r keeps for k, gathered in increasing order, with
// exactly the portable engine's row code. Since an excluded pair would add
// e^−∞ = 0 (or w_j = 0) to a left-to-right sum, the results equal the
// portable dense reduction with the excluded pairs masked, bit for bit.
// x and y must be sorted by cluster (see Ranges); r is validated.
func BlockSparsePair[T Float](x, y Cloud[T], cost Cost, r *Ranges, res Resources) (Pair[T], error) {
	if err := r.Validate(x.N, y.N); err != nil {
		return nil, errorf(ErrInternal, "%v", err)
	}
	return &blockPair[T]{x: x, y: y, cost: cost, r: r, res: res}, nil
}

// BlockSparsePair implements BlockSparseEngine for the portable engine.
func (e portable[T]) BlockSparsePair(x, y Cloud[T], cost Cost, r *Ranges) (Pair[T], error) {
	return BlockSparsePair(x, y, cost, r, e.res)
}

var _ BlockSparseEngine[float64] = portable[float64]{}

type blockPair[T Float] struct {
	x, y Cloud[T]
	cost Cost
	r    *Ranges
	res  Resources
}

func (p *blockPair[T]) Close() error { return nil }

// gather fills ys with the kept columns of row cluster k (and, for each,
// the entries of v at those columns into vs), returning the gathered cloud.
func (p *blockPair[T]) gather(k int, v []T, ys, vs *[]T) (Cloud[T], []T) {
	d := p.y.D
	(*ys), (*vs) = (*ys)[:0], (*vs)[:0]
	for _, l := range p.r.Kept(k) {
		j0, j1 := p.r.ColStart[l], p.r.ColStart[l+1]
		*ys = append(*ys, p.y.Pts[j0*d:j1*d]...)
		*vs = append(*vs, v[j0:j1]...)
	}
	return Cloud[T]{Pts: *ys, N: len(*vs), D: d}, *vs
}

// clusters runs body(k) for every row cluster k on up to Threads goroutines
// (clusters taken from a shared counter; each row's result depends only on
// its own cluster, so the thread count does not change any bit), until done
// or Stop is set.
func (p *blockPair[T]) clusters(body func(k int, st *bpScratch[T])) {
	ForChunksScratch(p.r.RowClusters(), p.res.Threads, p.res.Stop.Stopped, func() *bpScratch[T] { return new(bpScratch[T]) }, body)
}

type bpScratch[T Float] struct {
	ys, vs, s, v []T
	z, r         []float64
	plan         planScratch[T]
}

func grow[E any](b []E, n int) []E {
	if cap(b) < n {
		return make([]E, n)
	}
	return b[:n]
}

func (p *blockPair[T]) SoftMin(eps T, h, out, grad []T) error {
	p.clusters(func(k int, st *bpScratch[T]) {
		yk, hk := p.gather(k, h, &st.ys, &st.vs)
		m := yk.N
		st.s, st.z = grow(st.s, m), grow(st.z, m)
		var r []float64
		if grad != nil && p.cost == CostEuclidean {
			st.r = grow(st.r, m)
			r = st.r
		}
		sub := rowPair[T]{x: p.x, y: yk, cost: p.cost, res: p.res}
		row := onlineRow[T]{x: p.x, y: yk, cost: p.cost}
		for i := p.r.RowStart[k]; i < p.r.RowStart[k+1]; i++ {
			sub.softMinRow(i, eps, hk, out, grad, row.sqDists(i, st.s), st.z, r)
		}
	})
	return p.res.Stop.Err()
}

func (p *blockPair[T]) KernelSum(k Kernel, sigma T, w, out, grad []T) error {
	p.clusters(func(c int, st *bpScratch[T]) {
		yk, wk := p.gather(c, w, &st.ys, &st.vs)
		m := yk.N
		st.s, st.z = grow(st.s, m), grow(st.z, m)
		sub := rowPair[T]{x: p.x, y: yk, cost: p.cost, res: p.res}
		row := onlineRow[T]{x: p.x, y: yk, cost: p.cost}
		for i := p.r.RowStart[c]; i < p.r.RowStart[c+1]; i++ {
			sub.kernelRow(i, k, sigma, wk, out, grad, row.sqDists(i, st.s), st.z)
		}
	})
	return p.res.Stop.Err()
}

// permPair presents a Pair between sorted clouds in the input order: its
// arguments (column vectors) are permuted into the sorted order and its
// results (row values and gradients) back, so that the losses, which work
// in input order, can use the multiscale backend's fine reductions.
// rows[k] / cols[k] = input index of the k-th sorted row / column point.
type permPair[T Float] struct {
	p          Pair[T]
	rows, cols []int
	d          int
	hv, o, g   []T
	hx, oy     []T // SoftMinBoth's row input and column output (sorted)
}

func newPermPair[T Float](p Pair[T], rows, cols []int, d int) *permPair[T] {
	return &permPair[T]{p: p, rows: rows, cols: cols, d: d, hv: make([]T, len(cols)), o: make([]T, len(rows))}
}

func (q *permPair[T]) Close() error { return q.p.Close() }

func (q *permPair[T]) in(v []T) []T {
	for k, j := range q.cols {
		q.hv[k] = v[j]
	}
	return q.hv
}

func (q *permPair[T]) out(out, grad []T) {
	for k, i := range q.rows {
		out[i] = q.o[k]
	}
	if grad != nil {
		d := q.d
		for k, i := range q.rows {
			copy(grad[i*d:(i+1)*d], q.g[k*d:(k+1)*d])
		}
	}
}

func (q *permPair[T]) gradBuf(grad []T) []T {
	if grad == nil {
		return nil
	}
	if len(q.g) != len(grad) {
		q.g = make([]T, len(grad))
	}
	return q.g
}

func (q *permPair[T]) SoftMin(eps T, h, out, grad []T) error {
	if err := q.p.SoftMin(eps, q.in(h), q.o, q.gradBuf(grad)); err != nil {
		return err
	}
	q.out(out, grad)
	return nil
}

func (q *permPair[T]) KernelSum(k Kernel, sigma T, w, out, grad []T) error {
	if err := q.p.KernelSum(k, sigma, q.in(w), q.o, q.gradBuf(grad)); err != nil {
		return err
	}
	q.out(out, grad)
	return nil
}

// SoftMinBoth is DualPair in the input order, when the sorted Pair has it
// (okX = okY = false otherwise: the caller's SoftMin fallback).
func (q *permPair[T]) SoftMinBoth(eps T, hx, hy, outX, outY []T) (bool, bool, error) {
	dp, ok := q.p.(DualPair[T])
	if !ok {
		return false, false, nil
	}
	if len(q.hx) != len(q.rows) {
		q.hx, q.oy = make([]T, len(q.rows)), make([]T, len(q.cols))
	}
	for k, i := range q.rows {
		q.hx[k] = hx[i]
	}
	okX, okY, err := dp.SoftMinBoth(eps, q.hx, q.in(hy), q.o, q.oy)
	if err != nil {
		return false, false, err
	}
	if okX {
		q.out(outX, nil)
	}
	if okY {
		for k, j := range q.cols {
			outY[j] = q.oy[k]
		}
	}
	return okX, okY, nil
}

// SoftMinSelf is SelfPair in the input order (rows and columns the same
// cloud, the same permutation), when the sorted Pair has it.
func (q *permPair[T]) SoftMinSelf(eps T, h, out []T) (bool, error) {
	sp, ok := q.p.(SelfPair[T])
	if !ok {
		return false, nil
	}
	ok, err := sp.SoftMinSelf(eps, q.in(h), q.o)
	if err == nil && ok {
		q.out(out, nil)
	}
	return ok, err
}

var (
	_ DualPair[float32] = (*permPair[float32])(nil)
	_ SelfPair[float32] = (*permPair[float32])(nil)
)
