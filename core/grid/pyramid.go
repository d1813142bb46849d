package grid

import "github.com/libgeomloss/libgeomloss/core"

// level is one resolution of the pyramid: its shape (row-major, last axis
// fastest) and pixel widths.
type level struct {
	shape   []int
	spacing []float64
	size    int
}

// coarser returns the side after one halving: ⌈n/2⌉ (a side of 1 stays 1).
func coarser(n int) int { return (n + 1) / 2 }

// pyramidLevels returns the levels from the coarsest to the finest: the
// finest is the grid itself; each coarser one halves every side (⌈n/2⌉) and
// doubles every pixel width, until no side exceeds 2 (§6.2: sides N, …, 4, 2
// for N a power of two; the 1-pixel level is never used). With single true,
// only the finest level.
func pyramidLevels(shape []int, spacing []float64, single bool) []level {
	mk := func(sh []int, sp []float64) level {
		size := 1
		for _, s := range sh {
			size *= s
		}
		return level{shape: sh, spacing: sp, size: size}
	}
	lv := []level{mk(shape, spacing)}
	for !single {
		cur := lv[len(lv)-1]
		big := false
		for _, s := range cur.shape {
			big = big || s > 2
		}
		if !big {
			break
		}
		sh, sp := make([]int, len(shape)), make([]float64, len(shape))
		for k, s := range cur.shape {
			sh[k], sp[k] = coarser(s), 2*cur.spacing[k]
		}
		lv = append(lv, mk(sh, sp))
	}
	for i, j := 0, len(lv)-1; i < j; i, j = i+1, j-1 {
		lv[i], lv[j] = lv[j], lv[i]
	}
	return lv
}

// scale returns the level's pixel size for the jump rule (§6.4): its largest
// pixel width over the axes the finest grid resolves (side > 1), a width
// capped by the axis' extent L_k (a side halved down to one pixel spans the
// whole axis). On the reference's N×N grids of [0,1)² it is 1/n.
func (l level) scale(fine level) float64 {
	s := 0.0
	for k, n := range fine.shape {
		if n > 1 {
			s = max(s, min(l.spacing[k], float64(n)*fine.spacing[k]))
		}
	}
	return s
}

// sumPool returns the density of the coarser level c from that of f: each
// coarse pixel holds the total mass of its (up to 2^d) children, so mass is
// preserved (the reference's 2^d·avg_pool).
func sumPool[T core.Float](f []T, fl, cl level) []T {
	out := make([]T, cl.size)
	d := len(fl.shape)
	nf, nc := fl.shape[d-1], cl.shape[d-1]
	idx := make([]int, d-1) // multi-index of a fine row (all axes but the last)
	for r := 0; r < fl.size/nf; r++ {
		c := 0
		for k, i := range idx {
			c = c*cl.shape[k] + i/2
		}
		dst, src := out[c*nc:(c+1)*nc], f[r*nf:(r+1)*nf]
		for u, x := range src { // the fine pixels in row-major order, as one pass over f
			dst[u/2] += x
		}
		for k := d - 2; k >= 0; k-- {
			if idx[k]++; idx[k] < fl.shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out
}

// upsample returns the map of level f interpolated from that of the coarser
// level c (bilinear/trilinear, half-pixel convention, §6.5): along each axis
// that was halved,
//
//	out[2k] = ¼·in[max(k−1, 0)] + ¾·in[k],   out[2k+1] = ¾·in[k] + ¼·in[min(k+1, n−1)],
//
// keeping the first fine-side outputs (an odd side drops the last one). Axes
// are processed from the first to the last, rows split among threads.
func upsample[T core.Float](in []T, cl, fl level, threads int) []T {
	cur := in
	shape := append([]int(nil), cl.shape...)
	for ax := range shape {
		nc, nf := shape[ax], fl.shape[ax]
		if nc == nf {
			continue
		}
		outer, stride := AxisSplit(shape, ax)
		next := make([]T, outer*nf*stride)
		if stride == 1 { // the last axis: one line per outer index
			core.ParallelRows(outer, threads, max(1, 4096/nf), func(lo, hi int) {
				for o := lo; o < hi; o++ {
					src, dst := cur[o*nc:(o+1)*nc], next[o*nf:(o+1)*nf]
					for u := range dst {
						k := u / 2
						j := max(k-1, 0)
						if u%2 == 1 {
							j = min(k+1, nc-1)
						}
						dst[u] = T(0.75*float64(src[k]) + 0.25*float64(src[j]))
					}
				}
			})
			cur, shape[ax] = next, nf
			continue
		}
		core.ParallelRows(outer*nf, threads, max(1, 4096/stride), func(lo, hi int) {
			for ou := lo; ou < hi; ou++ {
				o, u := ou/nf, ou%nf
				src, dst := cur[o*nc*stride:(o+1)*nc*stride], next[o*nf*stride:(o+1)*nf*stride]
				k := u / 2
				j := max(k-1, 0)
				if u%2 == 1 {
					j = min(k+1, nc-1)
				}
				row, a, b := dst[u*stride:(u+1)*stride], src[k*stride:(k+1)*stride], src[j*stride:(j+1)*stride]
				for i := range row {
					row[i] = T(0.75*float64(a[i]) + 0.25*float64(b[i]))
				}
			}
		})
		cur, shape[ax] = next, nf
	}
	if len(cur) > 0 && &cur[0] == &in[0] {
		cur = append([]T(nil), in...)
	}
	return cur
}
