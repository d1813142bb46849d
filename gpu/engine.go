package gpu

import (
	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/gpu/kernels"
)

// Engine is the CUDA engine for element type T on one Device. Its Pairs
// hold their clouds in device memory for their lifetime (Close releases
// it) and reduce with the kernels of gpu/kernels: one thread per row, the
// columns in ascending shared-memory tiles, so results are the same bit for
// bit on a device whatever Resources.Threads says.
type Engine[T core.Float] struct {
	dev *Device
	res core.Resources
}

// New returns the engine for T on d with the given resources (Threads is
// unused: the device has its own; Stop is checked before every launch).
func New[T core.Float](d *Device, res core.Resources) *Engine[T] { return &Engine[T]{dev: d, res: res} }

var (
	_ core.Engine[float32]            = (*Engine[float32])(nil)
	_ core.BlockSparseEngine[float32] = (*Engine[float32])(nil)
	_ core.BlockSparseEngine[float64] = (*Engine[float64])(nil)
)

// Name is "cuda".
func (e *Engine[T]) Name() string { return "cuda" }

// Device names the device, e.g. "cuda:0 NVIDIA H200".
func (e *Engine[T]) Device() string { return e.dev.name }

// Pair returns an online Pair between x and y on the device (or, for
// D > kernels.MaxD, the best CPU engine's Pair).
func (e *Engine[T]) Pair(x, y core.Cloud[T], cost core.Cost) (core.Pair[T], error) {
	if x.D > kernels.MaxD {
		cpu, _, err := core.NewEngine[T](core.DeviceCPU, e.res)
		if err != nil {
			return nil, err
		}
		return cpu.Pair(x, y, cost)
	}
	return newPair(e, x, y, cost, nil)
}

// BlockSparsePair returns a Pair that reduces row i of row cluster k over
// the columns of the clusters r keeps for k only (core.BlockSparseEngine).
func (e *Engine[T]) BlockSparsePair(x, y core.Cloud[T], cost core.Cost, r *core.Ranges) (core.Pair[T], error) {
	if r == nil {
		return nil, core.Errorf(core.ErrInvalidArgument, "gpu: block-sparse Pair without ranges")
	}
	if err := r.Validate(x.N, y.N); err != nil {
		return nil, core.Errorf(core.ErrInvalidArgument, "gpu: %v", err)
	}
	if x.D > kernels.MaxD {
		cpu, _, err := core.NewEngine[T](core.DeviceCPU, e.res)
		if err != nil {
			return nil, err
		}
		bs, ok := cpu.(core.BlockSparseEngine[T])
		if !ok {
			return nil, core.Errorf(core.ErrUnsupported, "gpu: block-sparse reductions in D = %d > %d need a CPU engine with the block-sparse capability", x.D, kernels.MaxD)
		}
		return bs.BlockSparsePair(x, y, cost, r)
	}
	return newPair(e, x, y, cost, r)
}
