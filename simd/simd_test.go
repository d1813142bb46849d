package simd

import (
	"math"
	"slices"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/enginetest"
)

// Every path this machine supports, portable included, passes the
// conformance suite in float32 and float64, online and dense (the DensePair
// of the tensorized backend): the full table on the selected path, its Quick
// subset (every kernel specialisation and edge case) on the others — the
// portable engine's full run is core's own conformance test.
func TestConformance(t *testing.T) {
	for _, name := range Paths() {
		t.Run(name, func(t *testing.T) {
			e32, err := ForPath[float32](name, core.Resources{})
			if err != nil {
				t.Fatal(err)
			}
			e64, err := ForPath[float64](name, core.Resources{})
			if err != nil {
				t.Fatal(err)
			}
			if e32.Name() != name || e64.Name() != name {
				t.Fatalf("Name() = %q/%q, want %q", e32.Name(), e64.Name(), name)
			}
			if name != "portable" {
				if _, ok := e32.(core.DenseEngine[float32]); !ok {
					t.Errorf("%s float32 engine does not implement core.DenseEngine", name)
				}
				if _, ok := e64.(core.DenseEngine[float64]); !ok {
					t.Errorf("%s float64 engine does not implement core.DenseEngine", name)
				}
			}
			n32 := func(r core.Resources) core.Engine[float32] { e, _ := ForPath[float32](name, r); return e }
			n64 := func(r core.Resources) core.Engine[float64] { e, _ := ForPath[float64](name, r); return e }
			if name == Selected() {
				t.Run("float32", func(t *testing.T) { enginetest.Run(t, n32) })
				t.Run("float64", func(t *testing.T) { enginetest.Run(t, n64) })
			} else {
				t.Run("float32", func(t *testing.T) { enginetest.RunQuick(t, n32) })
				t.Run("float64", func(t *testing.T) { enginetest.RunQuick(t, n64) })
			}
		})
	}
}

// The dense Pair computes its stored squared distances with the online
// kernels' arithmetic, so both give the same results bit for bit.
func TestDenseMatchesOnline(t *testing.T) {
	for _, name := range Paths() {
		if name == "portable" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			denseVsOnline(t, engineOf[float32](name))
			denseVsOnline(t, engineOf[float64](name))
		})
	}
}

func denseVsOnline[T core.Float](t *testing.T, eng func(int) core.Engine[T]) {
	for _, d := range []int{1, 2, 3, 7} {
		x, y, h := benchClouds[T](45, 2100+d, d)
		w := make([]T, y.N)
		for j := range w {
			w[j] = T(math.Sin(float64(j))) / T(y.N)
		}
		for _, cost := range []core.Cost{core.CostEuclidean, core.CostHalfSquared} {
			on, dn := onlinePair(eng)(x, y, cost, 2), densePair(eng)(x, y, cost, 3)
			o1, o2 := make([]T, x.N), make([]T, x.N)
			g1, g2 := make([]T, x.N*d), make([]T, x.N*d)
			on.SoftMin(.01, h, o1, g1)
			dn.SoftMin(.01, h, o2, g2)
			if !slices.Equal(o1, o2) || !slices.Equal(g1, g2) {
				t.Errorf("D=%d cost %d: dense soft-min differs from online", d, cost)
			}
			for _, k := range []core.Kernel{core.KernelGaussian, core.KernelLaplacian, core.KernelEnergy} {
				on.KernelSum(k, .2, w, o1, g1)
				dn.KernelSum(k, .2, w, o2, g2)
				if !slices.Equal(o1, o2) || !slices.Equal(g1, g2) {
					t.Errorf("D=%d kernel %d: dense kernel sum differs from online", d, k)
				}
			}
		}
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
	if _, err := ForPath[float32]("sse9", core.Resources{}); err == nil {
		t.Fatal("ForPath(sse9) succeeded")
	}
	if n := For[float64](core.Resources{}).Name(); n != Selected() {
		t.Fatalf("For().Name() = %q, want %q", n, Selected())
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
