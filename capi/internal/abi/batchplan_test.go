package abi

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestBatchPlanHandles: OTRunBatchPlan keeps one plan per item, whose
// PlanEval outputs equal those of OTRunPlan on the item alone bit for bit
// (points and cost matrices); a failing item (or a bad buffer) keeps no plan
// at all, and the error names the item; the table ends as it began.
func TestBatchPlanHandles(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	B, n, m, d, k, l := 3, 6, 5, 2, 2, 3
	fill := func(c int) []float64 {
		v := make([]float64, c)
		for i := range v {
			v[i] = r.Float64()
		}
		return v
	}
	x, y, c, v, u := fill(B*n*d), fill(B*m*d), fill(B*n*m), fill(m*k), fill(n*l)
	live := LivePlans()
	for _, matrix := range []bool{false, true} {
		o := Defaults()
		o.Params.Debias, o.Params.Tol = false, 1e-10
		o.OT.Reg = 0.1
		in := map[int][]float64{BufX: x, BufY: y}
		if matrix {
			in = map[int][]float64{BufC: c}
		}
		_, hs, err := OTRunBatchPlan[float64](&o, matrix, int64(B), int64(n), int64(m), int64(d), keyed(in), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(hs) != B || LivePlans() != live+B {
			t.Fatalf("matrix %v: %d handles, %d live plans; want %d and %d", matrix, len(hs), LivePlans(), B, live+B)
		}
		for b, h := range hs {
			one := map[int][]float64{BufX: x[b*n*d : (b+1)*n*d], BufY: y[b*m*d : (b+1)*m*d]}
			if matrix {
				one = map[int][]float64{BufC: c[b*n*m : (b+1)*n*m]}
			}
			_, h1, err := OTRunPlan[float64](&o, matrix, int64(n), int64(m), int64(d), keyed(one), nil)
			if err != nil {
				t.Fatal(err)
			}
			want, got := planOuts(n, m, d, k, l, matrix), planOuts(n, m, d, k, l, matrix)
			want[BufV], want[BufU], got[BufV], got[BufU] = v, u, v, u
			if err := PlanEval(h1, keyed(want)); err != nil {
				t.Fatal(err)
			}
			if err := PlanEval(h, keyed(got)); err != nil {
				t.Fatal(err)
			}
			for key := range want {
				if !slices.Equal(got[key], want[key]) {
					t.Errorf("matrix %v, item %d: %s from the batch's handle differs from the single plan's", matrix, b, keyNameOf(key))
				}
			}
			if err := PlanFree(h1); err != nil {
				t.Error(err)
			}
		}
		for _, h := range hs {
			if err := PlanFree(h); err != nil {
				t.Error(err)
			}
		}
	}
	// Item 1 fails (a NaN point): no plan kept, the error names the item.
	bad := slices.Clone(x)
	bad[n*d] = math.NaN()
	o := Defaults()
	o.OT.Reg = 0.1
	if _, hs, err := OTRunBatchPlan[float64](&o, false, int64(B), int64(n), int64(m), int64(d), keyed(map[int][]float64{BufX: bad, BufY: y}), nil); err == nil || hs != nil || !strings.Contains(err.Error(), "item 1: ") {
		t.Errorf("a NaN in item 1: handles %v, error %v", hs, err)
	}
	// A short output buffer: refused before solving, naming it.
	if _, _, err := OTRunBatchPlan[float64](&o, false, int64(B), int64(n), int64(m), int64(d), keyed(map[int][]float64{BufX: x, BufY: y, BufValue: {0}}), nil); err == nil || !strings.Contains(err.Error(), "value has 1 elements, needs 3") {
		t.Errorf("a short value buffer: %v", err)
	}
	if LivePlans() != live {
		t.Errorf("%d plans live at the end, %d at the start", LivePlans(), live)
	}
}
