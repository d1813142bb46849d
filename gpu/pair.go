package gpu

import (
	"unsafe"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/gpu/cuda"
	"github.com/libgeomloss/libgeomloss/gpu/kernels"
)

// pair is the engine's core.Pair: the clouds on the host, their device
// copies and work buffers (allocated at the first reduction, reused by the
// next ones, released by Close or by a device error), and the plan.
type pair[T core.Float] struct {
	e      *Engine[T]
	x, y   core.Cloud[T]
	cost   core.Cost
	plan   plan
	sparse []int32 // block-sparse: slices (first row, end row, cluster), then offsets, cols, colstart
	nsl    int     // number of slices (blocks of a block-sparse launch)
	parts  [4][2]int
	bufs   map[string]buffer
	xUp    bool // x (all rows) uploaded
	yUp    bool // y (all columns) uploaded
	spUp   bool // block-sparse pattern uploaded
	closed bool
}

type buffer struct {
	p     cuda.DevPtr
	bytes uint64
}

func elemSize[T core.Float]() int {
	var z T
	return int(unsafe.Sizeof(z))
}

func newPair[T core.Float](e *Engine[T], x, y core.Cloud[T], cost core.Cost, r *core.Ranges) (*pair[T], error) {
	if cost != core.CostEuclidean && cost != core.CostHalfSquared {
		return nil, core.Errorf(core.ErrInvalidArgument, "gpu: unknown cost %d", cost)
	}
	if x.D != y.D || x.D < 1 {
		return nil, core.Errorf(core.ErrShape, "gpu: x has %d columns, y has %d", x.D, y.D)
	}
	if int64(x.N)*int64(x.D) >= 1<<31 || int64(y.N)*int64(y.D) >= 1<<31 {
		return nil, core.Errorf(core.ErrMemory, "gpu: clouds of %d and %d points in D = %d exceed the kernels' 32-bit indexing", x.N, y.N, x.D)
	}
	p := &pair[T]{e: e, x: x, y: y, cost: cost, bufs: map[string]buffer{}}
	if r != nil {
		p.setRanges(r)
	}
	budget := e.dev.opts.MemoryBudget
	if budget == 0 {
		done, err := e.dev.enter()
		if err != nil {
			return nil, err
		}
		free, _, err := e.dev.drv.MemGetInfo()
		done()
		if err != nil {
			return nil, cuda.AsCore(err)
		}
		budget = free / 10 * 9
	}
	pl, err := makePlan(x.N, y.N, x.D, elemSize[T](), budget, uint64(4*len(p.sparse)), r != nil)
	if err != nil {
		return nil, err
	}
	p.plan = pl
	return p, nil
}

// setRanges lays out the block-sparse pattern for the kernels: every row
// cluster cut into slices of at most kernels.Block rows (one block each).
func (p *pair[T]) setRanges(r *core.Ranges) {
	var sl []int32
	for k := 0; k < r.RowClusters(); k++ {
		for a := r.RowStart[k]; a < r.RowStart[k+1]; a += kernels.Block {
			sl = append(sl, int32(a), int32(min(a+kernels.Block, r.RowStart[k+1])), int32(k))
		}
	}
	p.nsl = len(sl) / 3
	all := sl
	ints := func(k int, part []int) {
		p.parts[k] = [2]int{len(all), len(all) + len(part)}
		for _, v := range part {
			all = append(all, int32(v))
		}
	}
	ints(1, r.Offsets)
	p.parts[2] = [2]int{len(all), len(all) + len(r.Cols)}
	all = append(all, r.Cols...)
	ints(3, r.ColStart)
	p.parts[0] = [2]int{0, len(sl)}
	p.sparse = all
}

// buf returns the device buffer name of at least bytes, allocating it on first use.
func (p *pair[T]) buf(name string, bytes uint64) (cuda.DevPtr, error) {
	if bytes == 0 {
		return 0, nil
	}
	if b, ok := p.bufs[name]; ok && b.bytes >= bytes {
		return b.p, nil
	} else if ok {
		if err := p.e.dev.drv.MemFree(b.p); err != nil {
			return 0, err
		}
		delete(p.bufs, name)
	}
	ptr, err := p.e.dev.drv.MemAlloc(bytes)
	if err != nil {
		return 0, err
	}
	p.bufs[name] = buffer{ptr, bytes}
	return ptr, nil
}

// upload copies s to the start of buffer name (sized for max elements of T).
func upload[S any](p interface {
	buf(string, uint64) (cuda.DevPtr, error)
}, dev *Device, name string, s []S, maxElems int) (cuda.DevPtr, error) {
	var z S
	es := uint64(unsafe.Sizeof(z))
	ptr, err := p.buf(name, uint64(maxElems)*es)
	if err != nil || len(s) == 0 {
		return ptr, err
	}
	return ptr, dev.drv.MemcpyHtoD(ptr, unsafe.Pointer(&s[0]), uint64(len(s))*es, dev.stream)
}

// release frees every device buffer of the pair (d.mu held, context current).
func (p *pair[T]) release() error {
	var first error
	for name, b := range p.bufs {
		if err := p.e.dev.drv.MemFree(b.p); err != nil && first == nil {
			first = err
		}
		delete(p.bufs, name)
	}
	p.xUp, p.yUp, p.spUp = false, false, false
	return first
}

// Close releases the pair's device memory. It is idempotent.
func (p *pair[T]) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	if len(p.bufs) == 0 {
		return nil
	}
	done, err := p.e.dev.enter()
	if err != nil {
		return err
	}
	defer done()
	return cuda.AsCore(p.release())
}

func (p *pair[T]) SoftMin(eps T, h, out, grad []T) error {
	pn := 1
	if p.cost == core.CostHalfSquared {
		pn = 2
	}
	name := kernels.SoftMin(elemSize[T]() == 8, pn, p.x.D, grad != nil)
	return p.reduce(name, float64(eps), "h", h, out, grad)
}

var kernelNames = map[core.Kernel]string{core.KernelGaussian: "gaussian", core.KernelLaplacian: "laplacian", core.KernelEnergy: "energy"}

func (p *pair[T]) KernelSum(k core.Kernel, sigma T, w, out, grad []T) error {
	kn, ok := kernelNames[k]
	if !ok {
		return core.Errorf(core.ErrInvalidArgument, "gpu: unknown kernel %d", k)
	}
	return p.reduce(kernels.KernelSum(elemSize[T]() == 8, kn, p.x.D, grad != nil), float64(sigma), "w", w, out, grad)
}

// reduce runs kernel name over the plan's chunks (rows outer, columns inner,
// both ascending) with the column weights w and the real parameter param.
// A device error releases the pair's device memory (the next reduction
// allocates and uploads again) and is returned as ErrDevice or ErrMemory.
func (p *pair[T]) reduce(name string, param float64, wname string, w, out, grad []T) error {
	n, m, d := p.x.N, p.y.N, p.x.D
	switch {
	case p.closed:
		return core.Errorf(core.ErrInternal, "gpu: reduction on a closed Pair")
	case len(w) != m:
		return core.Errorf(core.ErrShape, "gpu: %s has %d entries for %d points", wname, len(w), m)
	case len(out) != n:
		return core.Errorf(core.ErrShape, "gpu: out has %d entries for %d points", len(out), n)
	case grad != nil && len(grad) != n*d:
		return core.Errorf(core.ErrShape, "gpu: grad has %d entries, want %d", len(grad), n*d)
	}
	if err := p.e.res.Stop.Err(); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	done, err := p.e.dev.enter()
	if err != nil {
		return err
	}
	defer done()
	if err := p.run(name, param, w, out, grad); err != nil {
		if ce, ok := err.(*core.Error); ok && ce.Code == core.ErrCancelled {
			return err
		}
		p.release()
		return cuda.AsCore(err)
	}
	return nil
}

func (p *pair[T]) run(name string, param float64, w, out, grad []T) error {
	dev := p.e.dev
	drv := dev.drv
	f, err := dev.function(name)
	if err != nil {
		return err
	}
	n, m, d := p.x.N, p.y.N, p.x.D
	R, C := p.plan.rows, p.plan.cols
	es := uint64(elemSize[T]())
	var pr params
	pr.d, pr.eps = int64(d), param
	if p.sparse != nil && !p.spUp {
		sp, err := upload(p, dev, "sparse", p.sparse, len(p.sparse))
		if err != nil {
			return err
		}
		at := func(k int) cuda.DevPtr { return sp + cuda.DevPtr(4*p.parts[k][0]) }
		pr.slices, pr.offsets, pr.cols, pr.colstart = at(0), at(1), at(2), at(3)
		p.spUp = true
	} else if p.sparse != nil {
		sp := p.bufs["sparse"].p
		at := func(k int) cuda.DevPtr { return sp + cuda.DevPtr(4*p.parts[k][0]) }
		pr.slices, pr.offsets, pr.cols, pr.colstart = at(0), at(1), at(2), at(3)
	}
	if C >= m && !p.yUp {
		if _, err := upload(p, dev, "y", p.y.Pts, C*d); err != nil {
			return err
		}
		p.yUp = true
	}
	if C >= m {
		if pr.h, err = upload(p, dev, "w", w, C); err != nil {
			return err
		}
		pr.y = p.bufs["y"].p
	}
	if pr.out, err = p.buf("out", uint64(R)*es); err != nil {
		return err
	}
	if grad != nil {
		if pr.grad, err = p.buf("grad", uint64(R*d)*es); err != nil {
			return err
		}
	}
	if C < m {
		if pr.state, err = p.buf("state", uint64(kernels.StateWords(R, d))*8); err != nil {
			return err
		}
	}
	shmem := kernels.SharedBytes(d, int(es))
	for i0 := 0; i0 < n; i0 += R {
		i1 := min(i0+R, n)
		if err := p.e.res.Stop.Err(); err != nil {
			return err
		}
		if R >= n {
			if !p.xUp {
				if _, err := upload(p, dev, "x", p.x.Pts, R*d); err != nil {
					return err
				}
				p.xUp = true
			}
			pr.x = p.bufs["x"].p
		} else if pr.x, err = upload(p, dev, "x", p.x.Pts[i0*d:i1*d], R*d); err != nil {
			return err
		}
		pr.n = int64(i1 - i0)
		grid := uint32((i1 - i0 + kernels.Block - 1) / kernels.Block)
		if p.sparse != nil {
			grid = uint32(p.nsl)
		}
		for j0 := 0; j0 < max(m, 1); j0 += C {
			j1 := min(j0+C, m)
			if C < m {
				if err := p.e.res.Stop.Err(); err != nil {
					return err
				}
				if pr.y, err = upload(p, dev, "y", p.y.Pts[j0*d:j1*d], C*d); err != nil {
					return err
				}
				if pr.h, err = upload(p, dev, "w", w[j0:j1], C); err != nil {
					return err
				}
			}
			pr.m = int64(j1 - j0)
			pr.flags = 0
			if j0 == 0 {
				pr.flags |= kernels.First
			}
			if j1 >= m {
				pr.flags |= kernels.Last
			}
			if grid > 0 {
				if err := drv.Launch(f, [3]uint32{grid, 1, 1}, [3]uint32{kernels.Block, 1, 1}, shmem, dev.stream, pr.bytes()); err != nil {
					return err
				}
			}
		}
		if err := drv.MemcpyDtoH(unsafe.Pointer(&out[i0]), pr.out, uint64(i1-i0)*es, dev.stream); err != nil {
			return err
		}
		if grad != nil {
			if err := drv.MemcpyDtoH(unsafe.Pointer(&grad[i0*d]), pr.grad, uint64((i1-i0)*d)*es, dev.stream); err != nil {
				return err
			}
		}
		if err := drv.StreamSynchronize(dev.stream); err != nil {
			return err
		}
	}
	return nil
}
