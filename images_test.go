package geomloss

import (
	"errors"
	"math"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
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
