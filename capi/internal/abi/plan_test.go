package abi

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// planOuts are the outputs geomloss_plan_eval can write, with fresh buffers.
func planOuts(n, m, d, k, l int, matrix bool) map[int][]float64 {
	o := map[int][]float64{BufValueLinear: {0}, BufMarginalA: make([]float64, n), BufMarginalB: make([]float64, m),
		BufPlanV: make([]float64, n*k), BufPlanTU: make([]float64, m*l), BufPlan: make([]float64, n*m)}
	if !matrix {
		o[BufAToB], o[BufBToA] = make([]float64, n*d), make([]float64, m*d)
	}
	return o
}

// TestPlanHandle: the products, marginals, maps, linear cost and dense plan
// of a kept plan equal the solve call's outputs bit for bit (points, a cost
// matrix, and the power cost); the points may be overwritten after the
// solve; a freed, zero or forged handle is refused with a clear error, and
// freeing twice is an error; the table ends empty.
func TestPlanHandle(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n, m, d, k, l := 7, 6, 2, 3, 2
	fill := func(c int) []float64 {
		v := make([]float64, c)
		for i := range v {
			v[i] = r.Float64()
		}
		return v
	}
	x, y, v, u, c := fill(n*d), fill(m*d), fill(m*k), fill(n*l), fill(n*m)
	live := LivePlans()
	for _, tc := range []struct {
		name   string
		matrix bool
		cost   int
		q      float64
	}{{"sqeuclidean", false, 0, 0}, {"power q=1.5", false, 3, 1.5}, {"matrix", true, 0, 0}} {
		o := Defaults()
		o.Params.Debias = false
		o.OT.Reg, o.OT.Cost, o.OT.Q = 0.1, tc.cost, tc.q
		in := map[int][]float64{BufX: slices.Clone(x), BufY: slices.Clone(y), BufV: v, BufU: u}
		if tc.matrix {
			in = map[int][]float64{BufC: c, BufV: v, BufU: u}
		}
		want := planOuts(n, m, d, k, l, tc.matrix)
		both := map[int][]float64{}
		for key, b := range in {
			both[key] = b
		}
		for key, b := range want {
			both[key] = b
		}
		if _, err := OTRun[float64](&o, tc.matrix, int64(n), int64(m), int64(d), keyed(both), nil); err != nil {
			t.Fatal(err)
		}
		solveIn := map[int][]float64{}
		for key, b := range in {
			if key != BufV && key != BufU {
				solveIn[key] = b
			}
		}
		solveIn[BufValue] = []float64{0}
		_, h, err := OTRunPlan[float64](&o, tc.matrix, int64(n), int64(m), int64(d), keyed(solveIn), nil)
		if err != nil || h == 0 {
			t.Fatalf("%s: handle %d, %v", tc.name, h, err)
		}
		if !tc.matrix { // the plan keeps its own copy of the points
			for i := range in[BufX] {
				in[BufX][i] = math.NaN()
			}
		}
		got := planOuts(n, m, d, k, l, tc.matrix)
		got[BufV], got[BufU] = v, u
		if err := PlanEval(h, keyed(got)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for key, w := range want {
			if !slices.Equal(got[key], w) {
				t.Errorf("%s: %s from the handle differs from the solve's", tc.name, keyNameOf(key))
			}
		}
		dt, gn, gm, gd, err := PlanInfo(h)
		wd := int64(d)
		if tc.matrix {
			wd = 0
		}
		if err != nil || dt != F64 || gn != int64(n) || gm != int64(m) || gd != wd {
			t.Errorf("%s: info %d %d %d %d %v", tc.name, dt, gn, gm, gd, err)
		}
		// Refusals: an input of the solve, a wrong count.
		if err := PlanEval(h, keyed(map[int][]float64{BufX: x, BufMarginalA: make([]float64, n)})); err == nil || !strings.Contains(err.Error(), "x (GEOMLOSS_BUF_X) is not an argument of geomloss_plan_eval") {
			t.Errorf("%s: x given to plan_eval: %v", tc.name, err)
		}
		if err := PlanEval(h, keyed(map[int][]float64{BufMarginalA: make([]float64, n+1)})); err == nil || !strings.Contains(err.Error(), "marginal_a has") {
			t.Errorf("%s: wrong count: %v", tc.name, err)
		}
		if err := PlanFree(h); err != nil {
			t.Fatal(err)
		}
		for _, f := range []func() error{
			func() error { return PlanFree(h) },
			func() error { return PlanEval(h, keyed(planOuts(n, m, d, k, l, tc.matrix))) },
			func() error { _, _, _, _, err := PlanInfo(h); return err },
		} {
			if err := f(); err == nil || statusOf(err) != ErrInvalidArgument || !strings.Contains(err.Error(), "not a live plan handle") {
				t.Errorf("%s: freed handle: %v", tc.name, err)
			}
		}
	}
	for _, h := range []uint64{0, 1 << 62} {
		if err := PlanFree(h); err == nil {
			t.Errorf("handle %d: freed", h)
		}
	}
	if LivePlans() != live {
		t.Errorf("%d plans live, want %d", LivePlans(), live)
	}
}

// TestPlanHandleConcurrent: 8 goroutines share two plans (products on the
// same plan are serialised), each result equal to the sequential one bit
// for bit; a free racing with the products either completes before a
// product (which is then refused) or after it.
func TestPlanHandleConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n, m, d := 40, 30, 3
	x, y := make([]float64, n*d), make([]float64, m*d)
	for i := range x {
		x[i] = r.Float64()
	}
	for i := range y {
		y[i] = r.Float64()
	}
	o := Defaults()
	o.Params.Debias = false
	o.OT.Reg = 0.05
	var hs []uint64
	for range 2 {
		_, h, err := OTRunPlan[float64](&o, false, int64(n), int64(m), int64(d), keyed(map[int][]float64{BufX: x, BufY: y}), nil)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	ref := map[uint64][]float64{}
	for _, h := range hs {
		b := map[int][]float64{BufAToB: make([]float64, n*d)}
		if err := PlanEval(h, keyed(b)); err != nil {
			t.Fatal(err)
		}
		ref[h] = b[BufAToB]
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := hs[g%2]
			for range 20 {
				b := map[int][]float64{BufAToB: make([]float64, n*d)}
				if err := PlanEval(h, keyed(b)); err != nil {
					t.Error(err)
					return
				}
				if !slices.Equal(b[BufAToB], ref[h]) {
					t.Error("concurrent a_to_b differs")
					return
				}
			}
		}()
	}
	wg.Wait()
	// A free racing with products: each product succeeds or is refused.
	h := hs[0]
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				b := map[int][]float64{BufMarginalA: make([]float64, n)}
				if err := PlanEval(h, keyed(b)); err != nil && !strings.Contains(err.Error(), "not a live plan handle") {
					t.Errorf("goroutine %d: %v", g, err)
				}
			}
		}()
	}
	if err := PlanFree(h); err != nil {
		t.Error(err)
	}
	wg.Wait()
	if err := PlanFree(hs[1]); err != nil {
		t.Error(err)
	}
}

func statusOf(err error) int {
	st, _ := StatusOf(err)
	return st
}

// TestOTRunBatch: B problems in one call give, item by item, the single
// call's outputs bit for bit (points and cost matrices, every output, plan
// products included); an item's error names it and leaves every output
// untouched.
func TestOTRunBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	B, n, m, d, k, l := 3, 6, 5, 2, 2, 3
	fill := func(c int) []float64 {
		v := make([]float64, c)
		for i := range v {
			v[i] = r.Float64() + .1
		}
		return v
	}
	for _, matrix := range []bool{false, true} {
		o := Defaults()
		o.Params.Debias = !matrix
		o.OT.Reg = 0.1
		o.Params.Tol = 1e-9
		in := map[int][]float64{BufA: fill(B * n), BufB: fill(B * m), BufV: fill(B * m * k), BufU: fill(B * n * l)}
		for b := 0; b < B; b++ { // equal masses per item
			sa, sb := 0.0, 0.0
			for i := 0; i < n; i++ {
				sa += in[BufA][b*n+i]
			}
			for j := 0; j < m; j++ {
				sb += in[BufB][b*m+j]
			}
			for j := 0; j < m; j++ {
				in[BufB][b*m+j] *= sa / sb
			}
		}
		outs := map[int]int{BufValue: 1, BufValueLinear: 1, BufF: n, BufG: m, BufMarginalA: n, BufMarginalB: m,
			BufPlanV: n * k, BufPlanTU: m * l, BufPlan: n * m, BufNIter: 1, BufMarginalError: 1}
		if matrix {
			in[BufC] = fill(B * n * m)
		} else {
			in[BufX], in[BufY] = fill(B*n*d), fill(B*m*d)
			outs[BufAToB], outs[BufBToA], outs[BufFAa], outs[BufGBb] = n*d, m*d, n, m
		}
		batch := map[int][]float64{}
		for key, v := range in {
			batch[key] = v
		}
		for key, c := range outs {
			batch[key] = make([]float64, B*c)
		}
		if _, err := OTRunBatch[float64](&o, matrix, int64(B), int64(n), int64(m), int64(d), keyed(batch), nil); err != nil {
			t.Fatal(err)
		}
		for b := 0; b < B; b++ {
			one := map[int][]float64{}
			for key, v := range in {
				per := len(v) / B
				one[key] = v[b*per : (b+1)*per]
			}
			for key, c := range outs {
				one[key] = make([]float64, c)
			}
			if _, err := OTRun[float64](&o, matrix, int64(n), int64(m), int64(d), keyed(one), nil); err != nil {
				t.Fatal(err)
			}
			for key, c := range outs {
				if !slices.Equal(batch[key][b*c:(b+1)*c], one[key]) {
					t.Errorf("matrix %v item %d: %s differs from the single call's", matrix, b, keyNameOf(key))
				}
			}
		}
		// Item 1 with unequal masses: refused naming it, no output written.
		in[BufA][n] *= 3
		batch[BufValue] = []float64{42, 42, 42}
		_, err := OTRunBatch[float64](&o, matrix, int64(B), int64(n), int64(m), int64(d), keyed(batch), nil)
		if err == nil || !strings.Contains(err.Error(), "item 1: ") || batch[BufValue][0] != 42 {
			t.Errorf("matrix %v: bad item: %v, value[0] %g", matrix, err, batch[BufValue][0])
		}
	}
}
