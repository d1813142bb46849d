package gpu

import (
	"os"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/enginetest"
	"github.com/libgeomloss/libgeomloss/core/goldentest"
	"github.com/libgeomloss/libgeomloss/core/grid/gridtest"
	"github.com/libgeomloss/libgeomloss/gpu/cuda"
)

// The tests of this file run on a real device (build/test-gpu.sh). Without
// a usable GPU they skip, saying why; with GEOMLOSS_REQUIRE_GPU=1 (set by
// build/test-gpu.sh) they fail instead, so a GPU run cannot pass by
// skipping. Their CPU counterparts on the fake driver and the emulated
// kernels (TestConformanceEmulated, TestConformanceChunked,
// TestGoldenEmulated) always run.

func realDevice(t testing.TB) *Device {
	t.Helper()
	d, err := Default()
	if err != nil {
		if os.Getenv("GEOMLOSS_REQUIRE_GPU") != "" {
			t.Fatalf("GEOMLOSS_REQUIRE_GPU is set but the GPU is unusable: %v", err)
		}
		t.Skipf("no usable GPU (%v): see TestConformanceEmulated for the CPU check of the same code", err)
	}
	return d
}

// TestDeviceConformance runs core's conformance table (with its block-sparse
// table) on the device.
func TestDeviceConformance(t *testing.T) {
	dev := realDevice(t)
	info, why := dev.Info()
	t.Logf("device: %s, %+v (NVML: %q)", dev.Name(), info, why)
	t.Run("float32", func(t *testing.T) {
		enginetest.Run[float32](t, func(r core.Resources) core.Engine[float32] { return New[float32](dev, r) })
	})
	t.Run("float64", func(t *testing.T) {
		enginetest.Run[float64](t, func(r core.Resources) core.Engine[float64] { return New[float64](dev, r) })
	})
}

// TestDeviceChunked runs the quick table on the device with a memory budget
// that cuts every problem into 128-row and 128-column chunks.
func TestDeviceChunked(t *testing.T) {
	realDevice(t)
	drv, err := cuda.Load("")
	if err != nil {
		t.Fatal(err)
	}
	dev, err := Open(drv, Options{MemoryBudget: 2 * (colBytes(128, 16, 8) + rowBytes(128, 16, 8, true))})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	enginetest.RunQuick[float64](t, func(r core.Resources) core.Engine[float64] { return New[float64](dev, r) })
}

// TestDeviceGolden reproduces the golden values on the device with every
// backend the engine serves.
func TestDeviceGolden(t *testing.T) {
	dev := realDevice(t)
	for _, b := range []core.Backend{core.Online, core.Multiscale} {
		t.Run(b.String()+"/float64", func(t *testing.T) { goldentest.Run(t, New[float64](dev, core.Resources{}), b, 1e-6) })
		t.Run(b.String()+"/float32", func(t *testing.T) { goldentest.Run(t, New[float32](dev, core.Resources{}), b, 2e-4) })
	}
}

// TestDeviceAxisConformance runs core/grid's pass table on the device.
func TestDeviceAxisConformance(t *testing.T) {
	dev := realDevice(t)
	a32, a64 := NewAxisEngine[float32](dev), NewAxisEngine[float64](dev)
	defer a32.Close()
	defer a64.Close()
	t.Run("float32", func(t *testing.T) { gridtest.Run[float32](t, a32) })
	t.Run("float64", func(t *testing.T) { gridtest.Run[float64](t, a64) })
}
