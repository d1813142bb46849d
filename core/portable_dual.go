package core

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Fused Sinkhorn updates (DualPair, SelfPair) on the portable engine's
// online Pairs. Rows are cut into DualChunks fixed chunks; each chunk adds
// its exponentials e^{E_ij} (float64, expFast, flushed to 0 below e^−707 <
// 2^−1019) into its own row sums and its own vector of column partial sums;
// the column partials are then added in chunk order. The chunks depend on N
// and M only (DualChunks), so the results are identical bit for bit whatever the thread count.

// The chunking rule of every engine's fused updates. dualMaxChunks bounds
// the number of row chunks; their column partials (chunks·M values) are
// held to DualPartialBytes by taking fewer chunks for wide problems, but
// never fewer than dualMinChunks (beyond that the partials grow like
// dualMinChunks values per column: O(M), still no N×M term).
const (
	dualMaxChunks    = 64
	dualMinChunks    = 4
	DualPartialBytes = 32 << 20
)

// DualChunks returns the fixed row chunking of the fused updates for n rows
// against m columns whose partials take colBytes bytes per chunk: chunks
// of rows rows each (a multiple of align, at least minRows), and their
// number (≤ dualMaxChunks, and within DualPartialBytes where dualMinChunks
// chunks are). It depends on its arguments only, never on the thread count.
func DualChunks(n, m, colBytes, minRows, align int) (rows, chunks int) {
	most := dualMaxChunks
	if m > 0 {
		most = min(most, max(dualMinChunks, DualPartialBytes/(colBytes*m)))
	}
	rows = max(minRows, (n+most-1)/most)
	rows = (rows + align - 1) / align * align
	return rows, max(1, (n+rows-1)/rows)
}

// ForChunks runs body(c) for c < chunks on up to threads goroutines (≤ 0:
// all cores), which take chunks from a shared counter, stopping early once
// stop is set. A chunk's work must depend on c only.
func ForChunks(chunks, threads int, stop *Stop, body func(c int)) {
	ForChunksScratch(chunks, threads, stop.Stopped, func() struct{} { return struct{}{} },
		func(c int, _ struct{}) { body(c) })
}

// ForChunksScratch is ForChunks with per-goroutine state: each goroutine
// makes its own s = scratch() once, before its first chunk, and calls
// body(c, s) for the chunks c it takes from the shared counter; no chunk is
// taken once quit (nil: never) returns true. A chunk's result must depend
// on c only (s is scratch, not an accumulator), so that neither the thread
// count nor which goroutine ran which chunk changes any bit.
func ForChunksScratch[S any](chunks, threads int, quit func() bool, scratch func() S, body func(c int, s S)) {
	if chunks <= 0 {
		return
	}
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	threads = min(threads, chunks)
	var next atomic.Int64
	work := func() {
		s := scratch()
		for {
			c := int(next.Add(1)) - 1
			if c >= chunks || (quit != nil && quit()) {
				return
			}
			body(c, s)
		}
	}
	if threads <= 1 {
		work()
		return
	}
	var wg sync.WaitGroup
	for range threads {
		wg.Go(work)
	}
	wg.Wait()
}

// fusedCost reports whether p may fuse its updates: an online Pair of one
// of the exactly transposable costs (the YX Pair's costs are XY's, bit for
// bit: distances from differences, whose squares do not depend on the sign).
func (p *rowPair[T]) fusedCost() bool {
	_, online := p.row.(onlineRow[T])
	return online && (p.cost == CostHalfSquared || p.cost == CostEuclidean)
}

// cost returns C(s) rounded in T, as softMinRow uses it.
func (p *rowPair[T]) pointCost(s T) T {
	if p.cost == CostHalfSquared {
		return s / 2
	}
	return T(math.Sqrt(float64(max(s, T(DistClamp)))))
}

const portableFlush = 0x1p-1019 // expFast is 0 below e^−707 < 2^−1019

// SoftMinBoth implements DualPair.
func (p *rowPair[T]) SoftMinBoth(eps T, hx, hy, outX, outY []T) (okX, okY bool, err error) {
	n, m := p.x.N, p.y.N
	if n == m && p.fusedCost() && SameDuals(hx[:n], hy[:m]) && p.symmetric() {
		ok, err := p.selfPass(eps, hx, outX)
		if ok {
			copy(outY[:m], outX[:n])
		}
		return ok, ok, err
	}
	cx, nx := FiniteOrNegInf(hx[:n])
	cy, ny := FiniteOrNegInf(hy[:m])
	// A −∞ in hx empties its row's sum (and likewise hy a column's): that
	// direction cannot be delivered; with both, nothing can.
	if !p.fusedCost() || !cx || !cy || (nx && ny) {
		return false, false, nil
	}
	rows, chunks := DualChunks(n, m, 8, 64, 1)
	cols := make([]float64, chunks*m)
	rs := make([]float64, n)
	inv := 1 / float64(eps)
	ForChunks(chunks, p.res.Threads, p.res.Stop, func(c int) {
		sbuf, z := make([]T, m), make([]float64, m)
		col := cols[c*m : (c+1)*m]
		for i := c * rows; i < min(n, (c+1)*rows); i++ {
			s := p.row.sqDists(i, sbuf)
			hi := float64(hx[i])
			for j, sj := range s {
				z[j] = (hi + float64(hy[j])) - float64(p.pointCost(sj))*inv
			}
			rs[i] = expShifted(z, 0)
			for j, e := range z {
				col[j] += e
			}
		}
	})
	if err := p.res.Stop.Err(); err != nil {
		return false, false, err
	}
	mant := Mantissa[T]()
	okX = !nx
	for i, s := range rs {
		if !okX {
			break
		}
		if okX = DualSumValid(s, m, portableFlush, math.Inf(1), mant); !okX {
			break
		}
		outX[i] = dualOut(float64(eps), s, hx[i])
	}
	okY = !ny
	for j := 0; okY && j < m; j++ {
		s := 0.0
		for c := 0; c < chunks; c++ {
			s += cols[c*m+j]
		}
		if okY = DualSumValid(s, n, portableFlush, math.Inf(1), mant); !okY {
			break
		}
		outY[j] = dualOut(float64(eps), s, hy[j])
	}
	return okX, okY, nil
}

// SoftMinSelf implements SelfPair: row i adds e^{E_ii'} for i' ≥ i to its
// own sum and, for i' > i, to its chunk's partial sum of column i'.
func (p *rowPair[T]) SoftMinSelf(eps T, h, out []T) (ok bool, err error) {
	if !p.fusedCost() || !p.symmetric() {
		return false, nil
	}
	return p.selfPass(eps, h, out)
}

// symmetric reports (once computed, cached) whether the Pair's clouds hold
// the same points.
func (p *rowPair[T]) symmetric() bool {
	if p.sym == 0 {
		p.sym = 2
		if SameValues(p.x, p.y) {
			p.sym = 1
		}
	}
	return p.sym == 1
}

// selfPass is SoftMinSelf on a Pair whose clouds are the same points.
func (p *rowPair[T]) selfPass(eps T, h, out []T) (ok bool, err error) {
	if clean, negInf := FiniteOrNegInf(h[:p.x.N]); !clean || negInf {
		return false, nil
	}
	n := p.x.N
	rows, chunks := DualChunks(n, n, 8, 64, 1)
	cols := make([]float64, chunks*n)
	rs := make([]float64, n)
	inv := 1 / float64(eps)
	ForChunks(chunks, p.res.Threads, p.res.Stop, func(c int) {
		sbuf, z := make([]T, n), make([]float64, n)
		col := cols[c*n : (c+1)*n]
		for i := c * rows; i < min(n, (c+1)*rows); i++ {
			s := p.row.sqDists(i, sbuf)
			hi := float64(h[i])
			zi := z[i:]
			for j, sj := range s[i:] {
				zi[j] = (hi + float64(h[i+j])) - float64(p.pointCost(sj))*inv
			}
			rs[i] = expShifted(zi, 0)
			for j, e := range zi[1:] {
				col[i+1+j] += e
			}
		}
	})
	if err := p.res.Stop.Err(); err != nil {
		return false, err
	}
	mant := Mantissa[T]()
	for i := range n {
		s := rs[i]
		for c := 0; c < chunks; c++ {
			s += cols[c*n+i]
		}
		if !DualSumValid(s, n, portableFlush, math.Inf(1), mant) {
			return false, nil
		}
		out[i] = dualOut(float64(eps), s, h[i])
	}
	return true, nil
}

var (
	_ DualPair[float32] = (*rowPair[float32])(nil)
	_ SelfPair[float64] = (*rowPair[float64])(nil)
)
