//go:build cgo

package gpu

import (
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/grid"
	"github.com/libgeomloss/libgeomloss/core/grid/gridtest"
	"github.com/libgeomloss/libgeomloss/gpu/cuda"
)

// TestAxisConformanceEmulated runs core/grid's pass conformance table on the
// device's grid pass (kernels/lseaxis.cu emulated on the CPU), then checks
// that Close frees its buffers.
func TestAxisConformanceEmulated(t *testing.T) {
	drv := newFake()
	dev := openFake(t, drv, Options{})
	a32, a64 := NewAxisEngine[float32](dev), NewAxisEngine[float64](dev)
	t.Run("float32", func(t *testing.T) { gridtest.Run[float32](t, a32) })
	t.Run("float64", func(t *testing.T) { gridtest.Run[float64](t, a64) })
	a32.Close()
	a64.Close()
	if nl, _, _ := drv.Live(); nl != 0 {
		t.Errorf("%d allocations left after Close", nl)
	}
}

// TestAxisErrors checks the argument errors and a device failure (memory
// released, the next pass works).
func TestAxisErrors(t *testing.T) {
	drv := newFake()
	a := NewAxisEngine[float64](openFake(t, drv, Options{}))
	k := grid.NewAxisKernel(2, 4, .1, .05, grid.TauFor(4, 0))
	in, out := make([]float64, 12), make([]float64, 12)
	wantCode(t, "bad axis", a.LSEAxis(k, []int{3, 4}, 2, in, out, 1), core.ErrInvalidArgument, "axis: 2")
	wantCode(t, "bad size", a.LSEAxis(k, []int{3, 4}, 1, in[:5], out, 1), core.ErrShape, "in/out")
	wantCode(t, "bad kernel", a.LSEAxis(k, []int{4, 3}, 1, in, out, 1), core.ErrShape, "kernel")
	drv.FailAt("cuLaunchKernel", 1, cuda.ErrLaunchFailed)
	wantCode(t, "failing launch", a.LSEAxis(k, []int{3, 4}, 1, in, out, 1), core.ErrDevice, "CUDA_ERROR_LAUNCH_FAILED")
	if nl, _, _ := drv.Live(); nl != 0 {
		t.Errorf("%d allocations left after the error", nl)
	}
	if err := a.LSEAxis(k, []int{3, 4}, 1, in, out, 1); err != nil {
		t.Fatalf("pass after the error: %v", err)
	}
	a.Close()
}
