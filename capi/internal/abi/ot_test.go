package abi

import (
	"math/rand/v2"
	"slices"
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
}

// TestOTRunMultiscale: GEOMLOSS_BACKEND_MULTISCALE on points, on a problem
// whose plan truncates: the solve's outputs and report are
// geomloss.SolveSample's multiscale ones bit for bit, and so are the kept
// plan's products, marginals, linear cost and value gradients (the plan
// over its kept block pairs, as the note says); a batch of two gives each
// item's single result; a cost matrix is refused naming the backend.
func TestOTRunMultiscale(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	n, m, d, k, l := 1000, 1300, 2, 3, 2
	fill := func(c int) []float64 {
		v := make([]float64, c)
		for i := range v {
			v[i] = r.Float64()
		}
		return v
	}
	x, y, v, u := fill(n*d), fill(m*d), fill(m*k), fill(n*l)
	o := Defaults()
	o.Params.Debias = false
	o.Params.Backend = core.Multiscale
	o.OT.Reg = 0.003
	par := core.OTParams{Reg: 0.003, Scaling: o.Params.Scaling, Backend: core.Multiscale}
	res, err := geomloss.SolveSample(x, y, d, nil, nil, par)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if !strings.Contains(res.Plan.Note, "kept block pairs") {
		t.Fatalf("plan note %q: want a block-sparse plan", res.Plan.Note)
	}
	eq := func(name string, got, want []float64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d elements, want %d", name, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s[%d] = %v, want %v", name, i, got[i], want[i])
			}
		}
	}
	bufs := map[int][]float64{BufX: slices.Clone(x), BufY: slices.Clone(y), BufValue: {0}, BufF: make([]float64, n),
		BufG: make([]float64, m), BufMarginalA: make([]float64, n), BufNIter: {0}}
	rep, h, err := OTRunPlan[float64](&o, false, int64(n), int64(m), int64(d), keyed(bufs), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer PlanFree(h)
	if rep.Backend != BackendMultiscale || rep.Note != res.Note {
		t.Fatalf("report backend %d note %q, want %d and %q", rep.Backend, rep.Note, BackendMultiscale, res.Note)
	}
	eq("value", bufs[BufValue], []float64{res.Value})
	eq("F", bufs[BufF], res.PotentialA)
	eq("G", bufs[BufG], res.PotentialB)
	eq("marginal_a", bufs[BufMarginalA], res.MarginalA)
	eq("n_iter", bufs[BufNIter], []float64{float64(res.Iterations)})

	ev := map[int][]float64{BufV: v, BufU: u, BufPlanV: make([]float64, n*k), BufPlanTU: make([]float64, m*l),
		BufValueLinear: {0}, BufMarginalB: make([]float64, m), BufValueGradX: make([]float64, n*d), BufValueGradY: make([]float64, m*d)}
	if err := PlanEval(h, keyed(ev)); err != nil {
		t.Fatal(err)
	}
	pv, _ := res.Plan.Times(v, k)
	ptu, _ := res.Plan.TransposeTimes(u, l)
	gx, gy, err := res.Plan.CostGradients()
	if err != nil {
		t.Fatal(err)
	}
	eq("plan_v", ev[BufPlanV], pv)
	eq("plan_t_u", ev[BufPlanTU], ptu)
	eq("value_linear", ev[BufValueLinear], []float64{res.ValueLinear})
	eq("marginal_b", ev[BufMarginalB], res.MarginalB)
	eq("value_grad_x", ev[BufValueGradX], gx)
	eq("value_grad_y", ev[BufValueGradY], gy)

	// A batch of two (the second item: y and x exchanged, sizes M = N).
	bx, by := append(slices.Clone(x[:n*d]), y[:n*d]...), append(slices.Clone(y[:n*d]), x[:n*d]...)
	bb := map[int][]float64{BufX: bx, BufY: by, BufValue: {0, 0}}
	_, hs, err := OTRunBatchPlan[float64](&o, false, 2, int64(n), int64(n), int64(d), keyed(bb), nil)
	if err != nil {
		t.Fatal(err)
	}
	for b := 0; b < 2; b++ {
		one, err := geomloss.SolveSample(bx[b*n*d:(b+1)*n*d], by[b*n*d:(b+1)*n*d], d, nil, nil, par)
		if err != nil {
			t.Fatal(err)
		}
		eq("batch value", bb[BufValue][b:b+1], []float64{one.Value})
		got := map[int][]float64{BufMarginalA: make([]float64, n)}
		if err := PlanEval(hs[b], keyed(got)); err != nil {
			t.Fatal(err)
		}
		eq("batch marginal_a", got[BufMarginalA], one.MarginalA)
		one.Close()
		PlanFree(hs[b])
	}

	c := make([]float64, 6*5)
	o.OT.Reg = 0.1
	_, err = OTRun[float64](&o, true, 6, 5, 0, keyed(map[int][]float64{BufC: c, BufValue: {0}}), nil)
	if st, msg := StatusOf(err); st != ErrInvalidOption || !strings.Contains(msg, "backend: multiscale needs points") {
		t.Fatalf("a cost matrix with multiscale: %d %q", st, msg)
	}
}
