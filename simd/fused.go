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
// rows, at most 64 chunks, fewer for wide problems so that their column
// partials stay within core.DualPartialBytes; they depend on N, M and T
// only). A chunk's rows go one by one through the fused kernel over each
// tile of columns: the kernel adds the terms 2^E (E = hx_i + hy_j − C_ij/ε
// in base 2, clamped to [Lo − 1, Hi]: see simd/gen, "sb") into the row's
// vector sum and into the chunk's column partials in the element type; in
// float32 a chunk of more than dualStageRows rows spills them into float64
// partials every dualStageRows rows, so that no float32 partial holds more
// than dualStageRows terms. A row's tile sums are added in float64 in tile
// order, the column partials in float64 in chunk order.
// So every result depends on N, M and the data only: identical bit for bit
// whatever the thread count.
//
// Validity (core.DualSumValid): each term is exact to the exponential's
// accuracy, except those below 2^(Lo−1) (2^−101 in float32, 2^−1001 in
// float64), which come out as 2^(Lo−1) or 0, and those above 2^Hi (2^64,
// 2^512), which come out as 2^Hi. A row (column) sum of the padded count
// of terms is used when count·2^(Lo−1)·2^mant ≤ s < 2^Hi; else that
// direction is declined and the solver runs SoftMin.

// dualStageRows bounds the rows whose terms a staged column partial holds
// in the element type (the same bound as a tile lane's row sum, 128 terms
// in float32) before it is added to the float64 partials.
const dualStageRows = 128

// dualCeil is the fused kernels' ceiling 2^Hi, in the units of their terms.
func dualCeil[T core.Float]() float64 {
	var z T
	if _, ok := any(z).(float32); ok {
		return 0x1p64
	}
	return 0x1p512
}

// dualBounds returns the smallest valid sum of count terms (see
// core.DualSumValid): count·2^(Lo−1)·2^mant, with the flush level 2^(Lo−1)
// of the fused kernels (2^−101 in float32, 2^−1001 in float64).
func dualBounds[T core.Float](count int) float64 {
	var z T
	if _, ok := any(z).(float32); ok {
		return float64(count) * 0x1p-101 * 0x1p24
	}
	return float64(count) * 0x1p-1001 * 0x1p53
}

// colSums returns the column sums of the chunks' partials, added in
// float64 in chunk order (chunk by chunk: sequential reads): a chunk's
// spilled float64 partials, then its staged ones.
func (p *pair[T]) colSums(chunks int) []float64 {
	if len(p.cs) != p.mp {
		p.cs = make([]float64, p.mp)
	}
	cs := p.cs
	clear(cs)
	for c := 0; c < chunks; c++ {
		if p.spilled[c] {
			for j, v := range p.spill[c*p.mp : (c+1)*p.mp] {
				cs[j] += v
			}
		}
		for j, v := range p.stageOf(c) {
			cs[j] += float64(v)
		}
	}
	return cs
}

// fusedKernel returns the fused kernel for the Pair, or nil where it has
// none (dense Pairs, D > 3).
func (p *pair[T]) fusedKernel() func(*sbArgs[T]) {
	if p.dense != nil || p.d > 3 || p.d < 1 {
		return nil
	}
	pi := 0
	if p.cost == core.CostHalfSquared {
		pi = 1
	}
	return p.k.sb[p.d][pi]
}

// dualChunks returns the fused passes' fixed row chunking (a column
// costs each chunk its partial and, in float32, a float64 spill).
func (p *pair[T]) dualChunks() (rows, chunks int) {
	var z T
	colBytes := int(unsafe.Sizeof(z))
	if colBytes == 4 {
		colBytes += 8
	}
	return core.DualChunks(p.n, p.mp, colBytes, 32, 16)
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

// SoftMinBoth implements core.DualPair.
func (p *pair[T]) SoftMinBoth(eps T, hx, hy, outX, outY []T) (okX, okY bool, err error) {
	if p.n == p.m && core.SameDuals(hx[:p.n], hy[:p.m]) && p.symmetric() {
		ok, err := p.selfPass(eps, hx, outX) // see core.SelfPair: exact symmetry
		if ok {
			copy(outY[:p.m], outX[:p.n])
		}
		return ok, ok, err
	}
	kern := p.fusedKernel()
	rows, chunks := p.dualChunks()
	cx, nx := core.FiniteOrNegInf(hx[:p.n])
	cy, ny := core.FiniteOrNegInf(hy[:p.m])
	// A −∞ in hx empties its row's sum (and likewise hy a column's): that
	// direction cannot be delivered; with both, nothing can.
	if kern == nil || !cx || !cy || (nx && ny) {
		return false, false, nil
	}
	log2Into(p.buf, hy[:p.m])
	hx2 := p.scratchX()
	log2Into(hx2, hx[:p.n])
	p.partials(rows, chunks)
	rs := p.rowSums()
	nc := p.fusedScale(eps)
	core.ForChunks(chunks, p.res.Threads, p.res.Stop, func(c int) {
		lo, hi := c*rows, min(p.n, (c+1)*rows)
		p.fusedRows(kern, c, lo, hi, 0, 0, hx2, nc, rs)
	})
	if err := p.res.Stop.Err(); err != nil {
		return false, false, err
	}
	loX, loY, ceil := dualBounds[T](p.mp), dualBounds[T](p.n), dualCeil[T]()
	okX = !nx
	for i := 0; okX && i < p.n; i++ {
		okX = rs[i] >= loX && rs[i] < ceil
		outX[i] = dualOut2(eps, rs[i], hx2[i])
	}
	okY = !ny
	if okY {
		cs := p.colSums(chunks)
		for j := 0; okY && j < p.m; j++ {
			okY = cs[j] >= loY && cs[j] < ceil
			outY[j] = dualOut2(eps, cs[j], p.buf[j])
		}
	}
	return okX, okY, nil
}

// SoftMinSelf implements core.SelfPair. Chunk c (rows [r0, r1)) sweeps the
// columns j ≥ r0 into its rows' sums and, beyond its diagonal block
// [r0, r1), into its column partials (the block's column terms are
// discarded: those pairs are its rows' own). Row i's sum is then its own
// sweep plus the partials of the earlier chunks.
func (p *pair[T]) SoftMinSelf(eps T, h, out []T) (ok bool, err error) {
	if !p.symmetric() {
		return false, nil
	}
	return p.selfPass(eps, h, out)
}

// symmetric reports (once computed, cached) whether the Pair's clouds hold
// the same points.
func (p *pair[T]) symmetric() bool {
	if p.sym == 0 {
		p.sym = 2
		if core.SameValues(p.x, p.y) {
			p.sym = 1
		}
	}
	return p.sym == 1
}

// selfPass is SoftMinSelf on a Pair whose clouds are the same points.
func (p *pair[T]) selfPass(eps T, h, out []T) (ok bool, err error) {
	kern := p.fusedKernel()
	rows, chunks := p.dualChunks()
	clean, negInf := core.FiniteOrNegInf(h[:p.n])
	if kern == nil || !clean || negInf {
		return false, nil
	}
	log2Into(p.buf, h[:p.m])
	p.partials(rows, chunks)
	rs := p.rowSums()
	nc := p.fusedScale(eps)
	core.ForChunks(chunks, p.res.Threads, p.res.Stop, func(c int) {
		lo, hi := c*rows, min(p.n, (c+1)*rows)
		diag := min(p.mp, (hi+p.k.width-1)/p.k.width*p.k.width) // lo is a multiple of the width
		// One sweep over the columns j ≥ lo; the diagonal block's column
		// terms (columns [lo, diag)) are not kept: their rows' own sweeps
		// count those pairs.
		p.fusedRows(kern, c, lo, hi, lo, diag, p.buf, nc, rs)
	})
	if err := p.res.Stop.Err(); err != nil {
		return false, err
	}
	lo, ceil := dualBounds[T](p.mp), dualCeil[T]()
	cs := p.colSums(chunks)
	for i := 0; i < p.n; i++ {
		s := rs[i] + cs[i]
		if !(s >= lo && s < ceil) {
			return false, nil
		}
		out[i] = dualOut2(eps, s, p.buf[i])
	}
	return true, nil
}

// fusedRows runs the fused kernel for chunk c's rows [lo, hi) over the
// columns [j0, mp) (j0 a multiple of the width) in tiles of tileCols and
// sets rs[i] to each row's sum (float64, in tile order). The columns' terms
// go to the chunk's partials (stageOf) from column keep on (the self pass
// keeps no terms of its diagonal block, columns [j0, keep)); in float32 a
// chunk of more than dualStageRows rows spills them to float64 every
// dualStageRows rows.
func (p *pair[T]) fusedRows(kern func(*sbArgs[T]), c, lo, hi, j0, keep int, hx2 []T, nc T, rs []float64) {
	d, j1 := p.d, p.mp
	stage := p.stageOf(c)
	clear(stage)
	a := sbArgs[T]{y: p.ys, h: p.buf, nc: nc, acc: p.accOf(c)}
	for i := lo; i < hi; i++ {
		rs[i] = 0
	}
	block := hi - lo
	if p.spill != nil {
		block = dualStageRows
	}
	p.spilled[c] = false
	for r0 := lo; r0 < hi; r0 += block {
		r1 := min(hi, r0+block)
		for t0 := j0; t0 < j1; t0 += tileCols {
			t1 := min(t0+tileCols, j1)
			a.j0, a.j1, a.col = t0, t1, stage[t0:t1]
			for i := r0; i < r1; i++ {
				a.x, a.hx = p.x.Pts[i*d:(i+1)*d], hx2[i]
				kern(&a)
				rs[i] += float64(a.s)
			}
		}
		if r1 < hi { // spill (the last block's terms stay staged)
			sp := p.spill[c*p.mp : (c+1)*p.mp]
			if !p.spilled[c] {
				clear(sp)
				p.spilled[c] = true
			}
			for j, v := range stage[keep:j1] {
				sp[keep+j] += float64(v)
			}
			clear(stage[j0:j1])
		}
	}
	clear(stage[j0:keep])
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

// partials sizes the Pair's column partials for chunks chunks of rows
// rows: chunks·mp in the element type (stageOf) and, in float32 with more
// than dualStageRows rows per chunk, as many float64 spills; and the
// chunks' kernel scratch (accOf).
func (p *pair[T]) partials(rows, chunks int) {
	if len(p.stage) != chunks*p.mp {
		p.stage = aligned64[T](chunks * p.mp)
		p.accs = aligned64[T](chunks * 8 * p.k.width)
		p.spilled = make([]bool, chunks)
		p.spill = nil
	}
	if _, f32 := any(p.stage).([]float32); f32 && rows > dualStageRows && len(p.spill) != chunks*p.mp {
		p.spill = make([]float64, chunks*p.mp)
	}
}

// stageOf returns chunk c's column partials in the element type.
func (p *pair[T]) stageOf(c int) []T {
	return p.stage[c*p.mp : (c+1)*p.mp : (c+1)*p.mp]
}

// accOf returns chunk c's kernel scratch (7·width of 8·width, 64-byte
// aligned: whole cache lines, no sharing between chunks).
func (p *pair[T]) accOf(c int) []T {
	w := 8 * p.k.width
	return p.accs[c*w : c*w+7*p.k.width : c*w+7*p.k.width]
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
