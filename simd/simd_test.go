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
	ab := float32(math.Abs(float64(b)))
	return math.Abs(float64(a)-float64(b)) / float64(math.Nextafter32(ab, float32(math.Inf(1)))-ab)
}

// The vector 2^x meets its documented accuracy on [−100, 0] (float32) and
// [−1000, 0] (float64): ≤ 2 ulp in float32 and ≤ 1e-15 relative in float64
// (against math.Exp2), and gives exactly 0 below, −∞ included.
func TestExp2Accuracy(t *testing.T) {
	for _, p := range registry {
		if !p.supported() {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			n := 1 << 20
			x32 := make([]float32, n)
			x64 := make([]float64, n)
			for i := range x32 {
				x32[i] = float32(-100 * float64(i) / float64(n-1))
				x64[i] = -1000 * float64(i) / float64(n-1)
			}
			in32, in64 := slices.Clone(x32), slices.Clone(x64)
			p.k32.exp2(x32)
			p.k64.exp2(x64)
			var worst32, worst64 float64
			for i := range x32 {
				want := float32(math.Exp2(float64(in32[i])))
				worst32 = max(worst32, ulpDiff32(x32[i], want))
				w64 := math.Exp2(in64[i])
				worst64 = max(worst64, math.Abs(x64[i]-w64)/w64)
			}
			t.Logf("worst float32 error %.2f ulp, float64 relative %.3g", worst32, worst64)
			if worst32 > 2 {
				t.Errorf("float32 exp2 error %.2f ulp > 2", worst32)
			}
			if worst64 > 1e-15 {
				t.Errorf("float64 exp2 relative error %.3g > 1e-15", worst64)
			}
			z32 := make([]float32, 16)
			for i := range z32 {
				z32[i] = []float32{float32(math.Inf(-1)), -100.01, -1e6, -3e38}[i%4]
			}
			z64 := make([]float64, 8)
			for i := range z64 {
				z64[i] = []float64{math.Inf(-1), -1e4, -1e300, -1000.01}[i%4]
			}
			p.k32.exp2(z32)
			p.k64.exp2(z64)
			for i, v := range z32 {
				if v != 0 {
					t.Errorf("float32 exp2 of floor argument %d = %g, want 0", i, v)
				}
			}
			for i, v := range z64 {
				if v != 0 {
					t.Errorf("float64 exp2 of floor argument %d = %g, want 0", i, v)
				}
			}
			one := make([]float32, 16)
			p.k32.exp2(one)
			if one[0] != 1 {
				t.Errorf("exp2(0) = %g", one[0])
			}
		})
	}
}

var _ = core.CostEuclidean
