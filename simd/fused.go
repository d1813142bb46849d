package simd

import (
	"math"
	"unsafe"

	"github.com/libgeomloss/libgeomloss/core"
)

// Fused Sinkhorn updates (core.DualPair, core.SelfPair) on the vector
// paths: one exponential per pair for both directions of the update.
//
// The rows are cut into fixed chunks (core.DualChunks: a multiple of 16
// rows, at most 64 chunks; they depend on N, M and T only). A chunk's rows
// go by two through the fused kernel over each tile of columns: the
// kernel adds the terms 2^E (E = hx_i + hy_j − C_ij/ε in base 2, clamped
// to [Lo − 1, Hi]: see simd/gen, "sb") into the two rows' vector sums and
// into the chunk's own vector of column partial sums (element type,
// ≤ chunk rows terms each); a row's tile sums are added in float64 in tile
// order, and the column partials in float64 in chunk order. So every
// result depends on N, M and the data only: identical bit for bit
// whatever the thread count.
//
// Validity (core.DualSumValid): each term is exact to the exponential's
// accuracy, except those below 2^(Lo−1) (2^−101 in float32, 2^−1001 in
// float64), which come out as 2^(Lo−1) or 0, and those above 2^Hi (2^64,
// 2^512), which come out as 2^Hi. A row (column) sum of the padded count
// of terms is used when count·2^(Lo−1)·2^mant ≤ s < 2^Hi; else that
// direction is declined and the solver runs SoftMin. The partials take
// chunks·M elements: above dualMaxBytes, or with fewer than 4 chunks'
// worth of rows, the Pair declines too.

// dualMaxBytes bounds the column partials of one fused call.
const dualMaxBytes = 32 << 20

// dualFlush and dualCeil are the exponential's flush level and ceiling of
// the fused kernels, in the units of their terms.
func dualFlush[T core.Float]() (flush, ceil float64) {
	var z T
	if _, ok := any(z).(float32); ok {
		return 0x1p-101, 0x1p64
	}
	return 0x1p-1001, 0x1p512
}

// fusedKernels returns the one- and two-row fused kernels for the Pair, or
// nils where it has none (dense Pairs, D > 3).
func (p *pair[T]) fusedKernels() (one, two func(*sbArgs[T])) {
	if p.dense != nil || p.d > 3 || p.d < 1 {
		return nil, nil
	}
	pi := 0
	if p.cost == core.CostHalfSquared {
		pi = 1
	}
	k := p.k.sb[p.d][pi]
	return k[0], k[1]
}

// dualChunks returns the fused passes' fixed row chunking, or ok = false
// when the column partials would take more than dualMaxBytes.
func (p *pair[T]) dualChunks() (rows, chunks int, ok bool) {
	var z T
	rows, chunks = core.DualChunks(p.n, 32, 16)
	return rows, chunks, chunks*p.mp*int(unsafe.Sizeof(z)) <= dualMaxBytes
}

// log2Into writes v·log₂e into dst (len(v) entries) and −∞ into the rest.
func log2Into[T core.Float](dst, v []T) {
	for j, x := range v {
		dst[j] = T(float64(x) * math.Log2E)
	}
	ninf := T(math.Inf(-1))
	for j := len(v); j < len(dst); j++ {
		dst[j] = ninf
	}
}

// finiteOrNegInf reports whether v has no NaN and no +∞, and whether it
// has some −∞.
func finiteOrNegInf[T core.Float](v []T) (clean, negInf bool) {
	for _, x := range v {
		f := float64(x)
		if f != f || math.IsInf(f, 1) {
			return false, false
		}
		negInf = negInf || math.IsInf(f, -1)
	}
	return true, negInf
}

// SoftMinBoth implements core.DualPair.
func (p *pair[T]) SoftMinBoth(eps T, hx, hy, outX, outY []T) (okX, okY bool, err error) {
	one, two := p.fusedKernels()
	rows, chunks, fits := p.dualChunks()
	cx, nx := finiteOrNegInf(hx[:p.n])
	cy, ny := finiteOrNegInf(hy[:p.m])
	// A −∞ in hx empties its row's sum (and likewise hy a column's): that
	// direction cannot be delivered; with both, nothing can.
	if one == nil || !fits || !cx || !cy || (nx && ny) {
		return false, false, nil
	}
	log2Into(p.buf, hy[:p.m])
	hx2 := p.scratchX()
	log2Into(hx2, hx[:p.n])
	cols := p.partials(chunks)
	rs := p.rowSums()
	nc := p.fusedScale(eps)
	core.ForChunks(chunks, p.res.Threads, p.res.Stop, func(c int) {
		lo, hi := c*rows, min(p.n, (c+1)*rows)
		col := cols[c*p.mp : (c+1)*p.mp : (c+1)*p.mp]
		clear(col)
		p.fusedRows(one, two, lo, hi, 0, p.mp, hx2, nc, col, rs)
	})
	if err := p.res.Stop.Err(); err != nil {
		return false, false, err
	}
	flush, ceil := dualFlush[T]()
	mant := core.Mantissa[T]()
	okX = !nx
	for i := 0; okX && i < p.n; i++ {
		okX = core.DualSumValid(rs[i], p.mp, flush, ceil, mant)
		outX[i] = dualOut2(eps, rs[i], hx2[i])
	}
	okY = !ny
	for j := 0; okY && j < p.m; j++ {
		s := 0.0
		for c := 0; c < chunks; c++ {
			s += float64(cols[c*p.mp+j])
		}
		okY = core.DualSumValid(s, p.n, flush, ceil, mant)
		outY[j] = dualOut2(eps, s, p.buf[j])
	}
	return okX, okY, nil
}

// SoftMinSelf implements core.SelfPair. Chunk c (rows [r0, r1)) sweeps the
// columns j ≥ r0: on its diagonal block [r0, r1) only into its rows' sums
// (the block's column sums go to a scratch vector: those pairs are its
// rows' own), beyond it into its rows' sums and its column partials. Row
// i's sum is then its own sweep plus the partials of the earlier chunks.
func (p *pair[T]) SoftMinSelf(eps T, h, out []T) (ok bool, err error) {
	one, two := p.fusedKernels()
	rows, chunks, fits := p.dualChunks()
	clean, negInf := finiteOrNegInf(h[:p.n])
	if one == nil || !fits || !clean || negInf || !core.SameCloud(p.x, p.y) {
		return false, nil
	}
	log2Into(p.buf, h[:p.m])
	cols := p.partials(chunks)
	rs := p.rowSums()
	nc := p.fusedScale(eps)
	core.ForChunks(chunks, p.res.Threads, p.res.Stop, func(c int) {
		lo, hi := c*rows, min(p.n, (c+1)*rows)
		col := cols[c*p.mp : (c+1)*p.mp : (c+1)*p.mp]
		clear(col)
		diag := min(p.mp, (hi+p.k.width-1)/p.k.width*p.k.width) // lo is a multiple of the width
		p.fusedRows(one, two, lo, hi, lo, diag, p.buf, nc, aligned64[T](p.mp), rs)
		sums := rs[lo:hi]
		own := append([]float64(nil), sums...)
		p.fusedRows(one, two, lo, hi, diag, p.mp, p.buf, nc, col, rs)
		for r := range sums {
			sums[r] += own[r]
		}
	})
	if err := p.res.Stop.Err(); err != nil {
		return false, err
	}
	flush, ceil := dualFlush[T]()
	mant := core.Mantissa[T]()
	for i := 0; i < p.n; i++ {
		s := rs[i]
		for c := 0; c < chunks; c++ {
			s += float64(cols[c*p.mp+i])
		}
		if !core.DualSumValid(s, p.mp, flush, ceil, mant) {
			return false, nil
		}
		out[i] = dualOut2(eps, s, p.buf[i])
	}
	return true, nil
}

// fusedRows runs the fused kernels for rows [lo, hi) over the columns
// [j0, j1) (multiples of the width) in tiles of tileCols, the rows by two,
// and sets rs[i] to each row's sum (float64, in tile order); the columns'
// terms go to col.
func (p *pair[T]) fusedRows(one, two func(*sbArgs[T]), lo, hi, j0, j1 int, hx2 []T, nc T, col []T, rs []float64) {
	d := p.d
	a := sbArgs[T]{y: p.ys, h: p.buf, col: col, nc: nc, acc: aligned64[T](7 * p.k.width)}
	for i := lo; i < hi; i++ {
		rs[i] = 0
	}
	for t0 := j0; t0 < j1; t0 += tileCols {
		a.j0, a.j1 = t0, min(t0+tileCols, j1)
		i := lo
		for ; i+1 < hi; i += 2 {
			a.x, a.xb = p.x.Pts[i*d:(i+1)*d], p.x.Pts[(i+1)*d:(i+2)*d]
			a.hx, a.hxb = hx2[i], hx2[i+1]
			two(&a)
			rs[i] += float64(a.s)
			rs[i+1] += float64(a.sb)
		}
		if i < hi {
			a.x, a.hx = p.x.Pts[i*d:(i+1)*d], hx2[i]
			one(&a)
			rs[i] += float64(a.s)
		}
	}
}

// fusedScale returns the kernels' cost factor nc = −log₂e/(2ε) for p = 2,
// −log₂e/ε for p = 1 (the soft-min's; see softMinKernel).
func (p *pair[T]) fusedScale(eps T) T {
	if p.cost == core.CostHalfSquared {
		return T(-math.Log2E / (2 * float64(eps)))
	}
	return T(-math.Log2E / float64(eps))
}

// scratchX returns the Pair's buffer for the rows' base-2 log-duals.
func (p *pair[T]) scratchX() []T {
	if len(p.fx) != p.n {
		p.fx = make([]T, p.n)
	}
	return p.fx
}

// partials returns the Pair's buffer of chunks·mp column partial sums.
func (p *pair[T]) partials(chunks int) []T {
	if len(p.cols) != chunks*p.mp {
		p.cols = aligned64[T](chunks * p.mp)
	}
	return p.cols
}

// rowSums returns the Pair's buffer of n float64 row sums.
func (p *pair[T]) rowSums() []float64 {
	if len(p.rs) != p.n {
		p.rs = make([]float64, p.n)
	}
	return p.rs
}

// dualOut2 returns −ε·(ln s − h₂·ln 2) for a sum s of base-2 terms and the
// base-2 log-dual h₂ (see core.DualPair).
func dualOut2[T core.Float](eps T, s float64, h2 T) T {
	return T(-float64(eps) * (math.Log(s) - float64(h2)*math.Ln2))
}

var (
	_ core.DualPair[float32] = (*pair[float32])(nil)
	_ core.SelfPair[float64] = (*pair[float64])(nil)
)
