package grid

import "github.com/libgeomloss/libgeomloss/core"

// The adjoints of the pyramid's two linear maps between a level c and the
// next finer one f, for the potentials' VJP through a last jump (potgrad.go).

// upsampleT returns Uᵀ·v on level c for a map v of level f, U the upsampling
// of upsample: along each halved axis, fine sample u takes ¾ of coarse
// sample ⌊u/2⌋ and ¼ of its neighbour j(u) (⌊u/2⌋ − 1 for even u, ⌊u/2⌋ + 1
// for odd u, clamped), so the adjoint sends ¾·v_u to ⌊u/2⌋ and ¼·v_u to
// j(u). The axes' maps act on different indices, so they commute; sums are
// in float64, in a fixed order. v nil: nil.
func upsampleT[T core.Float](v []T, cl, fl level) []T {
	if v == nil {
		return nil
	}
	cur := make([]float64, len(v))
	for i, x := range v {
		cur[i] = float64(x)
	}
	shape := append([]int(nil), fl.shape...)
	for ax := range shape {
		nf, nc := shape[ax], cl.shape[ax]
		if nc == nf {
			continue
		}
		outer, stride := AxisSplit(shape, ax)
		next := make([]float64, outer*nc*stride)
		for o := 0; o < outer; o++ {
			src, dst := cur[o*nf*stride:(o+1)*nf*stride], next[o*nc*stride:(o+1)*nc*stride]
			for u := 0; u < nf; u++ {
				k := u / 2
				j := max(k-1, 0)
				if u%2 == 1 {
					j = min(k+1, nc-1)
				}
				row, a, b := src[u*stride:(u+1)*stride], dst[k*stride:(k+1)*stride], dst[j*stride:(j+1)*stride]
				for i, x := range row {
					a[i] += 0.75 * x
					b[i] += 0.25 * x
				}
			}
		}
		cur, shape[ax] = next, nc
	}
	out := make([]T, len(cur))
	for i, x := range cur {
		out[i] = T(x)
	}
	return out
}

// spreadAdd adds Pᵀ·v to dst (a map of level f; nil: nothing), P the
// sum-pooling of sumPool from level f to level c: each fine pixel receives
// the value of v (a map of level c) at its parent, the pixel of halved
// multi-index.
func spreadAdd(v []float64, cl, fl level, dst []float64) {
	if dst == nil {
		return
	}
	d := len(fl.shape)
	idx := make([]int, d)
	for i := range dst {
		c := 0
		for k, u := range idx {
			c = c*cl.shape[k] + u/2
		}
		dst[i] += v[c]
		for k := d - 1; k >= 0; k-- {
			if idx[k]++; idx[k] < fl.shape[k] {
				break
			}
			idx[k] = 0
		}
	}
}
