package simd

import (
	"math"

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
// vector sum and into the chunk's column partials: in the element type
// over the whole width when a chunk has at most dualStageRows rows (or in
// float64); else (float32) into a one-tile staging buffer that is added to
// the chunk's float64 partials after every dualStageRows rows, so that no
// float32 partial holds more than dualStageRows terms. A row's tile sums
// are added in float64 in tile order, the column partials in float64 in
// chunk order.
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
// float64 in chunk order (chunk by chunk: sequential reads).
func (p *pair[T]) colSums(chunks int) []float64 {
	if len(p.cs) != p.mp {
		p.cs = make([]float64, p.mp)
	}
	cs := p.cs
	clear(cs)
	for c := 0; c < chunks; c++ {
		if p.spill != nil {
			for j, v := range p.spill[c*p.mp : (c+1)*p.mp] {
				cs[j] += v
			}
			continue
		}
		for j, v := range p.part[c*p.mp : (c+1)*p.mp] {
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

// dualChunks returns the fused passes' fixed row chunking (a column costs
// each chunk at most 8 bytes: see partials).
func (p *pair[T]) dualChunks() (rows, chunks int) {
	return core.DualChunks(p.n, p.mp, 8, 32, 16)
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
// go to the chunk's partials from column keep on (the self pass keeps no
// terms of its diagonal block, columns [j0, keep)): directly in the element
// type, or (spill) staged one tile and dualStageRows rows at a time and
// added to the chunk's float64 partials.
func (p *pair[T]) fusedRows(kern func(*sbArgs[T]), c, lo, hi, j0, keep int, hx2 []T, nc T, rs []float64) {
	d, j1 := p.d, p.mp
	a := sbArgs[T]{y: p.ys, h: p.buf, nc: nc, acc: p.accOf(c)}
	for i := lo; i < hi; i++ {
		rs[i] = 0
	}
	sweep := func(t0, t1, r0, r1 int, col []T) {
		a.j0, a.j1, a.col = t0, t1, col
		for i := r0; i < r1; i++ {
			a.x, a.hx = p.x.Pts[i*d:(i+1)*d], hx2[i]
			kern(&a)
			rs[i] += float64(a.s)
		}
	}
	if p.spill == nil {
		part := p.part[c*p.mp : (c+1)*p.mp]
		clear(part)
		for t0 := j0; t0 < j1; t0 += tileCols {
			t1 := min(t0+tileCols, j1)
			sweep(t0, t1, lo, hi, part[t0:t1])
		}
		clear(part[j0:keep])
		return
	}
	spill := p.spill[c*p.mp : (c+1)*p.mp]
	clear(spill)
	stage := p.part[c*tileCols : (c+1)*tileCols]
	for r0 := lo; r0 < hi; r0 += dualStageRows {
		r1 := min(hi, r0+dualStageRows)
		for t0 := j0; t0 < j1; t0 += tileCols {
			t1 := min(t0+tileCols, j1)
			st := stage[:t1-t0]
			clear(st)
			sweep(t0, t1, r0, r1, st)
			from := min(max(t0, keep), t1)
			for j, v := range st[from-t0:] {
				spill[from+j] += float64(v)
			}
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

// partials sizes the Pair's column partials for chunks chunks of rows
// rows: chunks·mp in the element type — or, in float32 with more than
// dualStageRows rows per chunk, chunks·mp float64 partials (spill) and a
// one-tile float32 staging buffer per chunk — and the chunks' kernel
// scratch (accOf).
func (p *pair[T]) partials(rows, chunks int) {
	_, f32 := any(p.part).([]float32)
	spill := f32 && rows > dualStageRows
	size := chunks * p.mp
	if spill {
		size = chunks * tileCols
	}
	if len(p.part) != size || (p.spill != nil) != spill || len(p.accs) != chunks*8*p.k.width {
		p.part = aligned64[T](size)
		p.accs = aligned64[T](chunks * 8 * p.k.width)
		p.spill = nil
		if spill {
			p.spill = make([]float64, chunks*p.mp)
		}
	}
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
