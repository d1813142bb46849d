package geomloss_test

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/libgeomloss/libgeomloss"
)

// TestOnlineMemoryIsLinear: one online Sinkhorn evaluation at N = M = 20 000
// (D = 3, float32, with the gradient) allocates far less than one N×M matrix
// (1.6 GB): under 16 MB in total, counting every allocation of the call.
func TestOnlineMemoryIsLinear(t *testing.T) {
	const n = 20000
	rng := rand.New(rand.NewPCG(5, 6))
	x, y := make([]float32, 3*n), make([]float32, 3*n)
	for i := range x {
		x[i], y[i] = rng.Float32(), rng.Float32()+0.2
	}
	par := geomloss.DefaultParams()
	// Blur above the diameter: a 2-step schedule; raw OT: two reductions a step.
	par.Blur, par.Debias, par.Backend = 3, false, geomloss.Online
	pr := geomloss.Problem[float32]{B: 1, N: n, M: n, D: 3, X: x, Y: y}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := geomloss.Evaluate(par, pr, geomloss.Request[float32]{GradX: true})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if res.Backend != geomloss.Online {
		t.Fatalf("ran %s, want online", res.Backend)
	}
	if total := after.TotalAlloc - before.TotalAlloc; total > 16<<20 {
		t.Errorf("online evaluation allocated %d bytes, want < 16 MB (an N×M matrix would be %d)", total, 4*n*n)
	}
	if v := res.Value[0]; !(v > 0) {
		t.Errorf("value %g, want > 0 for distinct clouds", v)
	}
}
