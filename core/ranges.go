package core

import (
	"fmt"
	"slices"
)

// Ranges is a block-sparse pattern between two clouds whose points are
// sorted by cluster (KeOps' "ranges", ALGORITHMS.md §4.8):
//
//	row cluster k     = x's index range [RowStart[k], RowStart[k+1]),
//	column cluster l  = y's index range [ColStart[l], ColStart[l+1]),
//	kept for k        = column clusters Cols[Offsets[k]:Offsets[k+1]], ascending.
//
// A block-sparse reduction for row i in cluster k runs over the columns of
// the kept clusters only; the other pairs contribute nothing.
type Ranges struct {
	RowStart []int   // K+1 boundaries, RowStart[0] = 0, RowStart[K] = N
	ColStart []int   // L+1 boundaries, ColStart[0] = 0, ColStart[L] = M
	Offsets  []int   // K+1 offsets into Cols
	Cols     []int32 // kept column clusters of every row cluster, in row-cluster order (4 bytes each: a pattern's memory is its kept block pairs)
}

// RowClusters returns K, the number of row clusters.
func (r *Ranges) RowClusters() int { return len(r.RowStart) - 1 }

// ColClusters returns L, the number of column clusters.
func (r *Ranges) ColClusters() int { return len(r.ColStart) - 1 }

// Kept returns the column clusters kept for row cluster k.
func (r *Ranges) Kept(k int) []int32 { return r.Cols[r.Offsets[k]:r.Offsets[k+1]] }

// Validate checks that r is a well-formed pattern between n rows and m
// columns: monotone boundaries covering [0, n) and [0, m), offsets
// consistent with Cols, kept clusters in range and strictly ascending.
func (r *Ranges) Validate(n, m int) error {
	bounds := func(name string, b []int, total int) error {
		if len(b) < 2 || b[0] != 0 || b[len(b)-1] != total {
			return fmt.Errorf("ranges: %s must run from 0 to %d", name, total)
		}
		for k := 1; k < len(b); k++ {
			if b[k] < b[k-1] {
				return fmt.Errorf("ranges: %s decreases at %d", name, k)
			}
		}
		return nil
	}
	if err := bounds("RowStart", r.RowStart, n); err != nil {
		return err
	}
	if err := bounds("ColStart", r.ColStart, m); err != nil {
		return err
	}
	if len(r.Offsets) != len(r.RowStart) {
		return fmt.Errorf("ranges: Offsets has %d entries, needs %d", len(r.Offsets), len(r.RowStart))
	}
	if err := bounds("Offsets", r.Offsets, len(r.Cols)); err != nil {
		return err
	}
	for k := 0; k < r.RowClusters(); k++ {
		prev := -1
		for _, l := range r.Kept(k) {
			if int(l) <= prev || int(l) >= r.ColClusters() {
				return fmt.Errorf("ranges: row cluster %d keeps column cluster %d (out of order or range)", k, l)
			}
			prev = int(l)
		}
	}
	return nil
}

// Transpose returns the pattern of the transposed reduction (rows y, columns x).
func (r *Ranges) Transpose() *Ranges {
	off, cols := transposeLists(r.Offsets, r.Cols, r.ColClusters())
	return &Ranges{RowStart: r.ColStart, ColStart: r.RowStart, Offsets: off, Cols: cols}
}

// transposeLists returns the offsets and lists of the transpose of the
// lists cols[offsets[k]:offsets[k+1]] (K = len(offsets)−1 rows, entries in
// [0, L)): for each of the L columns, the rows that keep it, ascending.
func transposeLists(offsets []int, cols []int32, L int) ([]int, []int32) {
	off := make([]int, L+1)
	for _, l := range cols {
		off[l+1]++
	}
	for l := 0; l < L; l++ {
		off[l+1] += off[l]
	}
	out, fill := make([]int32, len(cols)), slices.Clone(off[:L])
	for k := 0; k+1 < len(offsets); k++ { // ascending k: every transposed list is ascending
		for _, l := range cols[offsets[k]:offsets[k+1]] {
			out[fill[l]] = int32(k)
			fill[l]++
		}
	}
	return off, out
}

// KeptPairs returns the number of (i, j) pairs the pattern keeps.
func (r *Ranges) KeptPairs() int64 {
	var n int64
	for k := 0; k < r.RowClusters(); k++ {
		rows := int64(r.RowStart[k+1] - r.RowStart[k])
		for _, l := range r.Kept(k) {
			n += rows * int64(r.ColStart[l+1]-r.ColStart[l])
		}
	}
	return n
}
