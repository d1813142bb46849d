package simd

import (
	"fmt"
	"testing"

	"github.com/libgeomloss/libgeomloss/core/grid"
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

// BenchmarkGridPass: one pass along each axis of a 32³ float32 grid, one
// thread, per grid path, at the solver's typical finest temperature (ε a
// quarter of a pixel², p = 2, float32 tolerance 1e-8) on inputs like its
// h = ℓ + g/ε: a log-blob plus a linear potential that moves each output's
// maximiser ~10 pixels away (the case where the portable engine's product
// sums do not apply).
func BenchmarkGridPass(b *testing.B) {
	const n = 32
	shape := []int{n, n, n}
	h := 1. / n
	eps := h * h / 4
	in := make([]float32, n*n*n)
	for i := range in {
		x, y, z := float64(i/(n*n))*h, float64(i/n%n)*h, float64(i%n)*h
		q := (x-.4)*(x-.4) + (y-.5)*(y-.5) + (z-.6)*(z-.6)
		in[i] = float32(-q/0.02 + 0.3*h*(x+y+z)*(10*n*h)/eps)
	}
	out := make([]float32, len(in))
	k := grid.NewAxisKernel(2, n, h, eps, grid.TauFor(n, 1e-8))
	for _, name := range GridPaths() {
		e, err := GridEngine[float32](name)
		if err != nil {
			b.Fatal(err)
		}
		for ax := 2; ax >= 0; ax-- {
			b.Run(fmt.Sprintf("%s/axis%d", name, ax), func(b *testing.B) {
				for b.Loop() {
					if err := e.LSEAxis(k, shape, ax, in, out, 1); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(in)), "ns/pixel")
			})
		}
	}
}
