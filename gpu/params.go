package gpu

import (
	"encoding/binary"
	"math"

	"github.com/libgeomloss/libgeomloss/gpu/cuda"
	"github.com/libgeomloss/libgeomloss/gpu/kernels"
)

// params is the kernels' Params struct (gpu/kernels/common.cuh): 16 fields
// of 8 bytes, pointers first.
type params struct {
	x, y, h, out, grad, state       cuda.DevPtr
	slices, offsets, cols, colstart cuda.DevPtr
	n, m, d, flags                  int64
	eps                             float64
}

// paramPointers is the number of pointer fields at the start of params.
const paramPointers = 10

// bytes encodes p in the layout of the C struct (little-endian, as every
// CUDA host is).
func (p *params) bytes() []byte {
	b := make([]byte, kernels.ParamsSize)
	w := func(k int, v uint64) { binary.LittleEndian.PutUint64(b[8*k:], v) }
	for k, v := range []cuda.DevPtr{p.x, p.y, p.h, p.out, p.grad, p.state, p.slices, p.offsets, p.cols, p.colstart} {
		w(k, uint64(v))
	}
	w(10, uint64(p.n))
	w(11, uint64(p.m))
	w(12, uint64(p.d))
	w(13, uint64(p.flags))
	w(14, math.Float64bits(p.eps))
	return b
}
