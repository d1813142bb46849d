package grid_test

import (
	"testing"

	"github.com/libgeomloss/libgeomloss/core/grid"
	"github.com/libgeomloss/libgeomloss/core/grid/gridtest"
)

// TestPortableConformance runs the AxisEngine suite on the portable engine.
func TestPortableConformance(t *testing.T) {
	gridtest.Run[float64](t, grid.Portable[float64]())
	gridtest.Run[float32](t, grid.Portable[float32]())
}
