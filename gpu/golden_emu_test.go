//go:build cgo

package gpu

import (
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/goldentest"
)

// TestGoldenEmulated reproduces the golden values (GeomLoss's outputs) with
// the engine on the emulated device, through the whole solver (online
// backend; build/test-gpu.sh runs the others on a device).
func TestGoldenEmulated(t *testing.T) {
	dev := openFake(t, newFake(), Options{})
	for _, b := range []core.Backend{core.Online} {
		t.Run(b.String()+"/float64", func(t *testing.T) {
			goldentest.Run(t, New[float64](dev, core.Resources{}), b, 1e-6)
		})
		t.Run(b.String()+"/float32", func(t *testing.T) {
			goldentest.Run(t, New[float32](dev, core.Resources{}), b, 2e-4)
		})
	}
}
