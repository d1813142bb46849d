package simd

import (
	"math"
	"slices"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/enginetest"
)

// Every path this machine supports, portable included, passes the
// conformance suite in float32 and float64.
func TestConformance(t *testing.T) {
	for _, name := range Paths() {
		t.Run(name, func(t *testing.T) {
			e32, err := ForPath[float32](name)
			if err != nil {
				t.Fatal(err)
			}
			e64, err := ForPath[float64](name)
			if err != nil {
				t.Fatal(err)
			}
			if e32.Name() != name || e64.Name() != name {
				t.Fatalf("Name() = %q/%q, want %q", e32.Name(), e64.Name(), name)
			}
			t.Run("float32", func(t *testing.T) { enginetest.Run(t, e32) })
			t.Run("float64", func(t *testing.T) { enginetest.Run(t, e64) })
		})
	}
}

func TestPaths(t *testing.T) {
	p := Paths()
	if p[len(p)-1] != "portable" {
		t.Fatalf("Paths() = %v, want portable last", p)
	}
	if !slices.Contains(p, Selected()) {
		t.Fatalf("Selected() = %q not in %v", Selected(), p)
	}
	if _, err := ForPath[float32]("sse9"); err == nil {
		t.Fatal("ForPath(sse9) succeeded")
	}
	if For[float64]().Name() != Selected() {
		t.Fatalf("For().Name() = %q, want %q", For[float64]().Name(), Selected())
	}
}

func ulpDiff32(a, b float32) float64 {
	if a == b {
		return 0
	}
	return math.Abs(float64(a)-float64(b)) / float64(math.Nextafter32(float32(math.Abs(float64(b))), float32(math.Inf(1)))-float32(math.Abs(float64(b))))
}

// The vector exp meets its documented accuracy: ≤ 2 ulp in float32 and
// ≤ 1e-15 relative in float64 (against math.Exp), exact 0 below the floor.
func TestExpAccuracy(t *testing.T) {
	for _, p := range registry {
		if !p.supported() {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			n := 1 << 20
			x32 := make([]float32, n)
			x64 := make([]float64, n)
			for i := range x32 {
				x32[i] = float32(-87.3 * float64(i) / float64(n-1))
				x64[i] = -708 * float64(i) / float64(n-1)
			}
			in32, in64 := slices.Clone(x32), slices.Clone(x64)
			p.k32.exp(x32)
			p.k64.exp(x64)
			var worst32, worst64 float64
			for i := range x32 {
				want := float32(math.Exp(float64(in32[i])))
				worst32 = max(worst32, ulpDiff32(x32[i], want))
				w64 := math.Exp(in64[i])
				worst64 = max(worst64, math.Abs(x64[i]-w64)/w64)
			}
			t.Logf("worst float32 error %.2f ulp, float64 relative %.3g", worst32, worst64)
			if worst32 > 2 {
				t.Errorf("float32 exp error %.2f ulp > 2", worst32)
			}
			if worst64 > 1e-15 {
				t.Errorf("float64 exp relative error %.3g > 1e-15", worst64)
			}
			z32 := []float32{float32(math.Inf(-1)), -88, -1000, -3e38, -88.5, -100, -90, -1e6, -89, -95, -120, -150, -200, -1e30, -88.1, -1e3}
			z64 := []float64{math.Inf(-1), -709, -1e4, -1e300, -800, -710, -2000, -1e9}
			p.k32.exp(z32[:len(z32)/p.k32.width*p.k32.width])
			p.k64.exp(z64[:len(z64)/p.k64.width*p.k64.width])
			for i, v := range z32[:len(z32)/p.k32.width*p.k32.width] {
				if v != 0 {
					t.Errorf("float32 exp of floor argument %d = %g, want 0", i, v)
				}
			}
			for i, v := range z64[:len(z64)/p.k64.width*p.k64.width] {
				if v != 0 {
					t.Errorf("float64 exp of floor argument %d = %g, want 0", i, v)
				}
			}
			one := make([]float32, p.k32.width)
			p.k32.exp(one)
			if one[0] != 1 {
				t.Errorf("exp(0) = %g", one[0])
			}
		})
	}
}

var _ = core.CostEuclidean
