package gpu_test

import (
	"math/rand/v2"
	"testing"

	geomloss "github.com/libgeomloss/libgeomloss"
	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/gpu"
)

// BenchmarkSeedExample is the seed example on the device: a Sinkhorn
// divergence (p = 2, blur 0.05, float32) and its gradient between 100 000
// and 200 000 points in 3D, with the online and multiscale backends
// (build/test-gpu.sh; logs the backend that ran and the note).
func BenchmarkSeedExample(b *testing.B) {
	if _, err := gpu.Default(); err != nil {
		b.Skipf("no usable GPU: %v", err)
	}
	const n, m = 100000, 200000
	r := rand.New(rand.NewPCG(3, 4))
	pts := func(k int, shift float32) []float32 {
		p := make([]float32, 3*k)
		for i := range p {
			p[i] = float32(r.Float64()) + shift
		}
		return p
	}
	x, y := pts(n, 0), pts(m, .2)
	for _, backend := range []core.Backend{core.Online, core.Multiscale} {
		b.Run(backend.String(), func(b *testing.B) {
			par := geomloss.DefaultParams()
			par.Backend = backend
			for i := 0; i < b.N; i++ {
				res, err := geomloss.Evaluate(par, geomloss.Problem[float32]{B: 1, N: n, M: m, D: 3, X: x, Y: y},
					geomloss.Request[float32]{GradX: true}, geomloss.Options{Device: core.DeviceGPU})
				if err != nil {
					b.Fatal(err)
				}
				if i == 0 {
					b.Logf("value %.6g on %s (%s), backend %s; note %q", res.Value[0], res.Device, res.Engine, res.Backend, res.Note)
				}
			}
		})
	}
}
