package abi

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"github.com/libgeomloss/libgeomloss"
	"github.com/libgeomloss/libgeomloss/core"
)

// keyed is a Getter over Go slices, as geomloss_buffers holds them.
func keyed(bufs map[int][]float64) Getter {
	return func(key, need int) Buffer {
		if v, ok := bufs[key]; ok {
			return Buffer{Ptr: unsafe.Pointer(unsafe.SliceData(v)), Count: int64(len(v))}
		}
		return Buffer{}
	}
}

// TestOTRunMatchesSolveSample: the C entry's outputs are geomloss.SolveSample's, bit for bit.
func TestOTRunMatchesSolveSample(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n, m, d, k := 6, 5, 2, 3
	fill := func(l int) []float64 {
		v := make([]float64, l)
		for i := range v {
			v[i] = r.Float64()
		}
		return v
	}
	x, y, v := fill(n*d), fill(m*d), fill(m*k)
	o := Defaults()
	o.Params.Debias = false
	o.Params.Tol = 1e-10
	o.OT.Reg = 0.2
	bufs := map[int][]float64{BufX: x, BufY: y, BufV: v, BufValue: {0}, BufF: make([]float64, n),
		BufPlanV: make([]float64, n*k), BufAToB: make([]float64, n*d), BufNIter: {0}, BufMarginalError: {0}}
	if _, err := OTRun[float64](&o, false, int64(n), int64(m), int64(d), keyed(bufs), nil); err != nil {
		t.Fatal(err)
	}
	res, err := geomloss.SolveSample(x, y, d, nil, nil, core.OTParams{Reg: 0.2, Tol: 1e-10, Scaling: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	pv, _ := res.Plan.Times(v, k)
	ab, _ := res.Plan.BarycentricAB()
	eq := func(name string, got, want []float64) {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s[%d] = %v, want %v", name, i, got[i], want[i])
			}
		}
	}
	eq("value", bufs[BufValue], []float64{res.Value})
	eq("F", bufs[BufF], res.PotentialA)
	eq("plan_v", bufs[BufPlanV], pv)
	eq("a_to_b", bufs[BufAToB], ab)
	eq("n_iter", bufs[BufNIter], []float64{float64(res.Iterations)})
	if e := bufs[BufMarginalError][0]; e != res.MarginalError || e >= 1e-10 {
		t.Fatalf("marginal_error %g (Go %g)", e, res.MarginalError)
	}
	// Refusals name the buffer; outputs untouched.
	bufs[BufValue][0] = 42
	bufs[BufGradX] = make([]float64, n*d)
	_, err = OTRun[float64](&o, false, int64(n), int64(m), int64(d), keyed(bufs), nil)
	if err == nil || !strings.Contains(err.Error(), "grad_x (GEOMLOSS_BUF_GRAD_X) is not an argument") || bufs[BufValue][0] != 42 {
		t.Fatalf("grad_x: %v, value %g", err, bufs[BufValue][0])
	}
	delete(bufs, BufGradX)
	o.Params.Backend = core.Multiscale
	if _, err = OTRun[float64](&o, false, int64(n), int64(m), int64(d), keyed(bufs), nil); err == nil || !strings.Contains(err.Error(), "backend") {
		t.Fatalf("multiscale: %v", err)
	}
}
