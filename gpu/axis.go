package gpu

import (
	"math"
	"sync"
	"unsafe"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/grid"
	"github.com/libgeomloss/libgeomloss/gpu/cuda"
	"github.com/libgeomloss/libgeomloss/gpu/kernels"
)

// AxisEngine is the grid.AxisEngine of the device: the 1D passes of the
// separable grid soft-min (images), one thread per output pixel
// (kernels/lseaxis.cu). Its device buffers are kept between passes (an
// evaluation makes many of the same size) until Close.
type AxisEngine[T core.Float] struct {
	dev  *Device
	mu   sync.Mutex
	bufs map[string]buffer
}

var _ grid.AxisEngine[float32] = (*AxisEngine[float32])(nil)

// NewAxisEngine returns the grid pass engine for T on d.
func NewAxisEngine[T core.Float](d *Device) *AxisEngine[T] {
	return &AxisEngine[T]{dev: d, bufs: map[string]buffer{}}
}

// Name is "cuda".
func (a *AxisEngine[T]) Name() string { return "cuda" }

// LSEAxis implements grid.AxisEngine (threads is unused: the device has its own).
func (a *AxisEngine[T]) LSEAxis(k *grid.AxisKernel, shape []int, axis int, in, out []T, threads int) error {
	if err := grid.CheckPass(k, shape, axis, len(in), len(out)); err != nil {
		return err
	}
	if len(in) == 0 {
		return nil
	}
	outer, stride := grid.AxisSplit(shape, axis)
	a.mu.Lock()
	defer a.mu.Unlock()
	done, err := a.dev.enter()
	if err != nil {
		return err
	}
	defer done()
	if err := a.pass(k, outer, k.N, stride, in, out); err != nil {
		a.release()
		return cuda.AsCore(err)
	}
	return nil
}

func (a *AxisEngine[T]) buf(name string, bytes uint64) (cuda.DevPtr, error) {
	if b, ok := a.bufs[name]; ok && b.bytes >= bytes {
		return b.p, nil
	} else if ok {
		delete(a.bufs, name)
		if err := a.dev.drv.MemFree(b.p); err != nil {
			return 0, err
		}
	}
	p, err := a.dev.drv.MemAlloc(bytes)
	if err != nil {
		return 0, err
	}
	a.bufs[name] = buffer{p, bytes}
	return p, nil
}

func (a *AxisEngine[T]) pass(k *grid.AxisKernel, outer, n, stride int, in, out []T) error {
	drv, s := a.dev.drv, a.dev.stream
	es := uint64(elemSize[T]())
	size := uint64(len(in))
	f, err := a.dev.function(kernels.LSEAxis(es == 8))
	if err != nil {
		return err
	}
	var pr params
	if pr.x, err = a.buf("in", size*es); err != nil {
		return err
	}
	if pr.out, err = a.buf("out", size*es); err != nil {
		return err
	}
	if pr.h, err = a.buf("cost", uint64(n)*8); err != nil {
		return err
	}
	if err := drv.MemcpyHtoD(pr.x, unsafe.Pointer(&in[0]), size*es, s); err != nil {
		return err
	}
	if err := drv.MemcpyHtoD(pr.h, unsafe.Pointer(&k.Cost[0]), uint64(n)*8, s); err != nil {
		return err
	}
	pr.n, pr.m, pr.d, pr.eps = int64(outer), int64(n), int64(stride), k.Tau
	if math.IsNaN(k.Tau) {
		return core.Errorf(core.ErrInvalidArgument, "kernel: Tau is NaN")
	}
	grid := uint32((size + kernels.Block - 1) / kernels.Block)
	if err := drv.Launch(f, [3]uint32{grid, 1, 1}, [3]uint32{kernels.Block, 1, 1}, 0, s, pr.bytes()); err != nil {
		return err
	}
	if err := drv.MemcpyDtoH(unsafe.Pointer(&out[0]), pr.out, size*es, s); err != nil {
		return err
	}
	return drv.StreamSynchronize(s)
}

// release frees the device buffers (device locked, context current).
func (a *AxisEngine[T]) release() error {
	var first error
	for name, b := range a.bufs {
		if err := a.dev.drv.MemFree(b.p); err != nil && first == nil {
			first = err
		}
		delete(a.bufs, name)
	}
	return first
}

// Close releases the engine's device buffers; the engine may be used again
// (it allocates anew).
func (a *AxisEngine[T]) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.bufs) == 0 {
		return nil
	}
	done, err := a.dev.enter()
	if err != nil {
		return err
	}
	defer done()
	return cuda.AsCore(a.release())
}
