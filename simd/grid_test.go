package simd

import (
	"testing"

	"github.com/libgeomloss/libgeomloss/core/grid/gridtest"
)

// TestGridConformance runs the grid AxisEngine suite (core/grid/gridtest)
// on every grid path this machine supports, float32 and float64.
func TestGridConformance(t *testing.T) {
	for _, name := range GridPaths() {
		t.Run(name, func(t *testing.T) {
			e32, err := GridEngine[float32](name)
			if err != nil {
				t.Fatal(err)
			}
			e64, err := GridEngine[float64](name)
			if err != nil {
				t.Fatal(err)
			}
			if e32.Name() != name || e64.Name() != name {
				t.Fatalf("engine names %q, %q for path %q", e32.Name(), e64.Name(), name)
			}
			gridtest.Run[float32](t, e32)
			gridtest.Run[float64](t, e64)
		})
	}
}
