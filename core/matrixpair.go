package core

// matrixPair returns a portable Pair over an explicit cost matrix c (n×m):
// the rows of a dense Pair storing 2c as "squared distances" with the cost
// s/2 (exact: doubling and halving are exact), over point-less clouds of
// dimension 1. It has no gradients or kernel sums.
func matrixPair[T Float](c []T, n, m int, res Resources) *rowPair[T] {
	s := make([]T, n*m)
	for i, v := range c {
		s[i] = 2 * v
	}
	x, y := Cloud[T]{Pts: make([]T, n), N: n, D: 1}, Cloud[T]{Pts: make([]T, m), N: m, D: 1}
	return &rowPair[T]{x: x, y: y, cost: CostHalfSquared, res: res, row: denseRows[T]{s: s, m: m}}
}

func transpose[T Float](c []T, n, m int) []T {
	t := make([]T, n*m)
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			t[j*n+i] = c[i*m+j]
		}
	}
	return t
}
