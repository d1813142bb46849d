package geomloss_test

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/libgeomloss/libgeomloss"
	"github.com/libgeomloss/libgeomloss/core"
)

func randClouds(seed uint64, b, n, m, d int) (x, y []float32) {
	rng := rand.New(rand.NewPCG(seed, 7))
	x, y = make([]float32, b*n*d), make([]float32, b*m*d)
	for i := range x {
		x[i] = rng.Float32()
	}
	for i := range y {
		y[i] = rng.Float32() + 0.3
	}
	return x, y
}

// TestRawTensorizedHasNoSelfMatrices: raw OT (debias = false) on the
// tensorized backend stores the N×M and M×N matrices only — not the N×N and
// M×M ones it never reads. With N = 1000, M = 4000 (float32), the self
// matrices alone would be 68 MB; the cross ones are 32 MB.
func TestRawTensorizedHasNoSelfMatrices(t *testing.T) {
	const n, m = 1000, 4000
	x, y := randClouds(3, 1, n, m, 3)
	par := geomloss.DefaultParams()
	par.Blur, par.Backend = 3, geomloss.Tensorized // 2-step schedule
	pr := geomloss.Problem[float32]{B: 1, N: n, M: m, D: 3, X: x, Y: y}
	alloc := func(debias bool) uint64 {
		par.Debias = debias
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := geomloss.Evaluate(par, pr, geomloss.Request[float32]{}); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	cross, self := uint64(4*2*n*m), uint64(4*(n*n+m*m))
	raw, debiased := alloc(false), alloc(true)
	if raw > cross+cross/4 {
		t.Errorf("raw tensorized allocated %d bytes, want about the two cross matrices (%d) and no self matrices (%d more)", raw, cross, self)
	}
	if debiased < cross+self {
		t.Errorf("debiased tensorized allocated %d bytes, less than its four matrices (%d): the test measures nothing", debiased, cross+self)
	}
}

// TestCancelFromProgress: a progress callback returning true stops a long
// evaluation with ErrCancelled, promptly — also from inside a long
// iteration, through the heartbeat (one online soft-min here takes about a
// second per thread).
func TestCancelFromProgress(t *testing.T) {
	const n = 30000
	x, y := randClouds(4, 1, n, n, 3)
	par := geomloss.DefaultParams()
	par.Backend, par.Blur = geomloss.Online, 0.01
	pr := geomloss.Problem[float32]{B: 1, N: n, M: n, D: 3, X: x, Y: y}
	var calls int
	var cancelAt time.Time
	start := time.Now()
	_, err := geomloss.Evaluate(par, pr, geomloss.Request[float32]{GradX: true, Progress: func(stage string, iter, total int) bool {
		calls++
		if time.Since(start) > 300*time.Millisecond && cancelAt.IsZero() {
			cancelAt = time.Now()
			return true
		}
		return false
	}})
	var e *core.Error
	if !errors.As(err, &e) || e.Code != core.ErrCancelled {
		t.Fatalf("got %v, want an ErrCancelled error", err)
	}
	if cancelAt.IsZero() {
		t.Fatal("the callback never asked to cancel")
	}
	if lag := time.Since(cancelAt); lag > time.Second {
		t.Errorf("cancellation took %v after the request, want well under 1 s", lag)
	}
	if calls < 2 {
		t.Errorf("progress called %d times; the heartbeat should repeat it while a reduction runs", calls)
	}
}

// TestBatchWorkersMatchSerial: a batch spread over workers (one item per
// core, single-threaded engines) gives the results of item-by-item
// evaluations bit for bit.
func TestBatchWorkersMatchSerial(t *testing.T) {
	const B, n, m, d = 6, 150, 120, 3
	x, y := randClouds(5, B, n, m, d)
	par := geomloss.DefaultParams()
	req := geomloss.Request[float32]{GradX: true, GradY: true, Potentials: true}
	batch, err := geomloss.Evaluate(par, geomloss.Problem[float32]{B: B, N: n, M: m, D: d, X: x, Y: y}, req, geomloss.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	for b := 0; b < B; b++ {
		par1 := par
		par1.Diameter = core.EstimateDiameter(x, y, d) // the batch shares one diameter (§2.1)
		one, err := geomloss.Evaluate(par1, geomloss.Problem[float32]{B: 1, N: n, M: m, D: d,
			X: x[b*n*d : (b+1)*n*d], Y: y[b*m*d : (b+1)*m*d]}, req, geomloss.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		if one.Value[0] != batch.Value[b] || !slices.Equal(one.GradX, batch.GradX[b*n*d:(b+1)*n*d]) ||
			!slices.Equal(one.F, batch.F[b*n:(b+1)*n]) || !slices.Equal(one.GradY, batch.GradY[b*m*d:(b+1)*m*d]) {
			t.Errorf("batch item %d differs from its serial evaluation", b)
		}
	}
}

// TestDeviceGPUWithoutEngine: device=gpu without a usable GPU engine is an
// ErrUnsupported error that says why; device=auto runs on the CPU.
func TestDeviceSelection(t *testing.T) {
	x, y := randClouds(6, 1, 20, 30, 2)
	pr := geomloss.Problem[float32]{B: 1, N: 20, M: 30, D: 2, X: x, Y: y}
	par := geomloss.DefaultParams()
	res, err := geomloss.Evaluate(par, pr, geomloss.Request[float32]{}, geomloss.Options{Device: core.DeviceAuto})
	if err != nil {
		t.Fatal(err)
	}
	if res.Device != "cpu" {
		if _, gerr := geomloss.Evaluate(par, pr, geomloss.Request[float32]{}, geomloss.Options{Device: core.DeviceGPU}); gerr != nil {
			t.Fatalf("auto ran on %q but device=gpu fails: %v", res.Device, gerr)
		}
		return
	}
	_, err = geomloss.Evaluate(par, pr, geomloss.Request[float32]{}, geomloss.Options{Device: core.DeviceGPU})
	var e *core.Error
	if !errors.As(err, &e) || e.Code != core.ErrUnsupported {
		t.Fatalf("device=gpu on a CPU-only setup: got %v, want ErrUnsupported", err)
	}
	t.Logf("device=gpu: %v", err)
}
