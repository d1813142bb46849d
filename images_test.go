package geomloss

import (
	"errors"
	"math"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/grid"
	"github.com/libgeomloss/libgeomloss/simd"
)

// TestEvaluateImages: the root entry points reach the grid solver (a
// density against its 2-pixel translate on 16², S ≈ |τ|²/2 to 10%, the
// pyramid's accuracy at the defaults) and refuse DeviceGPU with a coded
// error.
func TestEvaluateImages(t *testing.T) {
	const n = 16
	a, b := make([]float64, n*n), make([]float64, n*n)
	for i := 4; i < 10; i++ {
		for j := 4; j < 10; j++ {
			a[i*n+j] = 1. / 36
			b[(i+2)*n+j] = 1. / 36
		}
	}
	res, err := EvaluateImages(DefaultImageParams(), ImageProblem[float64]{B: 1, Shape: []int{n, n}, A: a, Bw: b}, ImageRequest[float64]{GradA: true})
	if err != nil {
		t.Fatal(err)
	}
	want := 0.5 * (2. / n) * (2. / n)
	if math.Abs(res.Value[0]-want) > 0.1*want || len(res.GradA) != n*n {
		t.Errorf("S = %g, want ≈ %g (and %d gradient values)", res.Value[0], want, len(res.GradA))
	}
	bar, err := ImagesBarycenter(DefaultBarycenterParams(), 1, 2, []int{n, n}, append(append([]float64(nil), a...), b...), []float64{.5, .5})
	if err != nil || len(bar) != n*n {
		t.Fatalf("barycenter: %v (%d values)", err, len(bar))
	}
	par := DefaultBarycenterParams()
	par.ExtraIterations = 1
	cot := make([]float64, n*n)
	cot[5*n+6] = 1
	_, gm, gw, err := ImagesBarycenterGrad(par, 1, 2, []int{n, n}, append(append([]float64(nil), a...), b...), []float64{.5, .5}, cot)
	if err != nil || len(gm) != 2*n*n || len(gw) != 2 || gw[0] == 0 {
		t.Fatalf("barycenter gradient: %v (%d, %v)", err, len(gm), gw)
	}
	var ce *core.Error
	if _, err := EvaluateImages(DefaultImageParams(), ImageProblem[float64]{B: 1, Shape: []int{n, n}, A: a, Bw: b}, ImageRequest[float64]{}, Options{Device: core.DeviceGPU}); !errors.As(err, &ce) || ce.Code != core.ErrUnsupported {
		t.Errorf("DeviceGPU: got %v, want ErrUnsupported", err)
	}
}

// TestImagesEngine: the image functions run on the fastest grid engine of
// this machine (the AVX2 passes where the CPU has them) and name it in the
// result; its values and gradients agree with the portable engine's to
// 1e-12 (float64) and 1e-5 (float32), relative.
func TestImagesEngine(t *testing.T) {
	want := simd.GridPaths()[0]
	if simd.Selected() == "portable" {
		want = "portable"
	}
	shape := []int{24, 20}
	a, b := make([]float64, 24*20), make([]float64, 24*20)
	for i := range a {
		x, y := float64(i/20)/24, float64(i%20)/20
		a[i] = math.Exp(-((x-.3)*(x-.3)+(y-.4)*(y-.4))/0.02) + 1e-3
		b[i] = math.Exp(-((x-.7)*(x-.7)+(y-.6)*(y-.6))/0.01) + 1e-3
	}
	for _, w := range [][]float64{a, b} {
		s := 0.0
		for _, x := range w {
			s += x
		}
		for i := range w {
			w[i] /= s
		}
	}
	check := func(name string, got, ref []float64, tol float64) {
		t.Helper()
		num, den := 0.0, 0.0
		for i := range ref {
			num += (got[i] - ref[i]) * (got[i] - ref[i])
			den += ref[i] * ref[i]
		}
		if e := math.Sqrt(num / den); !(e <= tol) {
			t.Errorf("%s: relative difference %.3g from the portable engine > %.3g", name, e, tol)
		}
	}
	req64 := ImageRequest[float64]{GradA: true, GradB: true}
	res, err := EvaluateImages(DefaultImageParams(), ImageProblem[float64]{B: 1, Shape: shape, A: a, Bw: b}, req64)
	if err != nil {
		t.Fatal(err)
	}
	if res.Engine != want || ImagesEngine[float64]() != want {
		t.Fatalf("engine %q (ImagesEngine %q), want %q", res.Engine, ImagesEngine[float64](), want)
	}
	ref, err := grid.Evaluate(grid.Config[float64]{}, DefaultImageParams(), ImageProblem[float64]{B: 1, Shape: shape, A: a, Bw: b}, req64)
	if err != nil || ref.Engine != "portable" {
		t.Fatal(err, ref.Engine)
	}
	check("value", res.Value, ref.Value, 1e-12)
	check("grad a", res.GradA, ref.GradA, 1e-12)
	check("grad b", res.GradB, ref.GradB, 1e-12)
	a32, b32 := make([]float32, len(a)), make([]float32, len(b))
	for i := range a {
		a32[i], b32[i] = float32(a[i]), float32(b[i])
	}
	r32, err := EvaluateImages(DefaultImageParams(), ImageProblem[float32]{B: 1, Shape: shape, A: a32, Bw: b32}, ImageRequest[float32]{GradA: true})
	if err != nil || r32.Engine != want {
		t.Fatal(err, r32.Engine)
	}
	g := make([]float64, len(a))
	for i, x := range r32.GradA {
		g[i] = float64(x)
	}
	check("float32 value", []float64{float64(r32.Value[0])}, ref.Value, 1e-5)
	check("float32 grad a", g, ref.GradA, 1e-5)
}
