package core

// densePair is the tensorized backend's portable Pair: it stores the matrix
// of squared distances s_ij = |x_i − y_j|² once and reduces its rows with the
// same code as the portable online engine.
func densePair[T Float](x, y Cloud[T], cost Cost, res Resources) (Pair[T], error) {
	s := make([]T, x.N*y.N)
	row := onlineRow[T]{x: x, y: y, cost: cost}
	ParallelRows(x.N, res.Threads, 64, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row.sqDists(i, s[i*y.N:(i+1)*y.N])
		}
	})
	return &rowPair[T]{x: x, y: y, cost: cost, res: res, row: denseRows[T]{s: s, m: y.N}}, nil
}

type denseRows[T Float] struct {
	s []T
	m int
}

func (d denseRows[T]) sqDists(i int, _ []T) []T { return d.s[i*d.m : (i+1)*d.m] }
