package gpu

import (
	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/gpu/cuda"
	"github.com/libgeomloss/libgeomloss/gpu/kernels"
)

// plan is how a Pair's reductions are cut to fit its memory budget: rows
// of x in chunks of rows, columns of y in chunks of cols (rows = N and
// cols = M when everything fits: then x and y are uploaded once, at the
// first reduction, and reused by every later one).
//
// Device memory of a chunk, with e the size of T:
//
//	columns:  cols·(D+1)·e                  (points and weights)
//	rows:     rows·(2D+1)·e                 (points, results, gradients)
//	state:    rows·(2+D)·8 if cols < M      (running max, sum, gradient)
type plan struct {
	rows, cols int
}

func (pl plan) chunkedCols(m int) bool { return pl.cols < m }

func colBytes(c, d, e int) uint64 { return uint64(c) * uint64(d+1) * uint64(e) }

func rowBytes(r, d, e int, state bool) uint64 {
	b := uint64(r) * uint64(2*d+1) * uint64(e)
	if state {
		b += uint64(kernels.StateWords(r, d)) * 8
	}
	return b
}

// roundDown rounds v down to a multiple of kernels.Block.
func roundDown(v uint64) int { return int(v/kernels.Block) * kernels.Block }

// makePlan chooses the chunks of an n×m reduction in dimension d of e-byte
// elements within budget bytes (extra bytes are needed besides: the
// block-sparse pattern). Block-sparse reductions are not chunked.
func makePlan(n, m, d, e int, budget, extra uint64, sparse bool) (plan, error) {
	if budget > extra && colBytes(m, d, e)+rowBytes(n, d, e, false) <= budget-extra {
		return plan{rows: max(n, 1), cols: max(m, 1)}, nil
	}
	need := colBytes(m, d, e) + rowBytes(n, d, e, false) + extra
	if sparse {
		return plan{}, core.Errorf(core.ErrMemory, "gpu: a block-sparse reduction of %d×%d points in D = %d needs %s of device memory, %s available", n, m, d, cuda.Bytes(need), cuda.Bytes(budget))
	}
	var pl plan
	if cb := colBytes(m, d, e); cb <= budget/2 {
		pl.cols = m
		pl.rows = roundDown((budget - cb) / rowBytes(1, d, e, false))
	} else {
		pl.cols = roundDown(budget / 2 / colBytes(1, d, e))
		pl.rows = roundDown(budget / 2 / rowBytes(1, d, e, true))
	}
	if pl.rows < kernels.Block || pl.cols < kernels.Block {
		min := colBytes(kernels.Block, d, e) + rowBytes(kernels.Block, d, e, true)
		return plan{}, core.Errorf(core.ErrMemory, "gpu: %s of device memory available, a reduction in D = %d needs at least %s (%d×%d points need %s)", cuda.Bytes(budget), d, cuda.Bytes(min), n, m, cuda.Bytes(need))
	}
	pl.rows, pl.cols = min(pl.rows, n), min(pl.cols, m)
	return pl, nil
}
