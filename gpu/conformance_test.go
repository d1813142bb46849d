//go:build cgo

package gpu

import (
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/enginetest"
)

// TestConformanceEmulated runs core's conformance table on the engine over
// the fake driver, with the real kernels emulated on the CPU: the engine's
// marshalling and the kernels' logic, checked against the float64
// definitions before any GPU sees them.
func TestConformanceEmulated(t *testing.T) {
	drv := newFake()
	dev := openFake(t, drv, Options{})
	t.Run("float32", func(t *testing.T) {
		enginetest.Run[float32](t, func(r core.Resources) core.Engine[float32] { return New[float32](dev, r) })
	})
	t.Run("float64", func(t *testing.T) {
		enginetest.Run[float64](t, func(r core.Resources) core.Engine[float64] { return New[float64](dev, r) })
	})
	if n, b, _ := drv.Live(); n != 0 {
		t.Errorf("%d device allocations (%d bytes) left after the suite: a Pair leaked", n, b)
	}
}

// TestConformanceChunked runs the quick table with a memory budget so small
// that every problem is cut into chunks of 128 rows and 128 columns (the
// column chunks carry the running state), which must not change a result
// beyond the same tolerances.
func TestConformanceChunked(t *testing.T) {
	drv := newFake()
	// 128 columns and 128 rows with state in D = 16, float64: ~0.1 MB.
	dev := openFake(t, drv, Options{MemoryBudget: 2 * (colBytes(128, 16, 8) + rowBytes(128, 16, 8, true))})
	enginetest.RunQuick[float32](t, func(r core.Resources) core.Engine[float32] { return New[float32](dev, r) })
	if drv.Calls("cuLaunchKernel") == 0 {
		t.Fatal("no kernel launched")
	}
}
