package core

import "math"

// item is one batch item's measures (the input points, weights and
// log-weights) and the reductions of its finest scale (xy: rows x / columns
// y, yx, xx, yy), guarded so that the first failing reduction is kept in err
// and later ones are skipped (see guard).
type item[T Float] struct {
	x, y           Cloud[T]
	a, b           []T // weights (never nil inside the solver)
	la, lb         []T // log-weights L(a), L(b)
	xy, yx, xx, yy Pair[T]
	ma, mb         float64 // total masses
	err            error
}

// use installs the reductions of scale sc (the finest) as the item's,
// behind a guard recording the first error in it.err.
func (it *item[T]) use(sc *Scale[T]) {
	wrap := func(p Pair[T]) Pair[T] {
		if p == nil {
			return nil
		}
		return guard[T]{p: p, err: &it.err}
	}
	it.xy, it.yx, it.xx, it.yy = wrap(sc.XY), wrap(sc.YX), wrap(sc.XX), wrap(sc.YY)
}

// logWeights returns L(w)_i = ln w_i for w_i > 0, else the floor −1e5 (§0).
func logWeights[T Float](w []T) []T {
	l := make([]T, len(w))
	for i, v := range w {
		if v > 0 {
			l[i] = T(math.Log(float64(v)))
		} else {
			l[i] = -1e5
		}
	}
	return l
}
