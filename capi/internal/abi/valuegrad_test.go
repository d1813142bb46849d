package abi

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/libgeomloss/libgeomloss"
	"github.com/libgeomloss/libgeomloss/core"
)

// TestOTValueGradients: value_grad_x / value_grad_y of the OT solve are
// core's Plan.CostGradients (power cost q = 1.5 and sqeuclidean), a kept
// plan's geomloss_plan_eval writes the same bits, the batch writes each
// item's, and debias = 1 is refused naming the buffer.
func TestOTValueGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	B, n, m, d := 2, 5, 4, 3
	fill := func(c int) []float64 {
		v := make([]float64, c)
		for i := range v {
			v[i] = r.Float64()
		}
		return v
	}
	x, y := fill(B*n*d), fill(B*m*d)
	for _, tc := range []struct {
		cost int
		q    float64
	}{{0, 0}, {3, 1.5}} {
		o := Defaults()
		o.Params.Debias, o.Params.Tol = false, 1e-10
		o.OT.Reg, o.OT.Cost, o.OT.Q = 0.1, tc.cost, tc.q
		gx, gy := make([]float64, B*n*d), make([]float64, B*m*d)
		if _, err := OTRunBatch[float64](&o, false, int64(B), int64(n), int64(m), int64(d), keyed(map[int][]float64{BufX: x, BufY: y, BufValueGradX: gx, BufValueGradY: gy}), nil); err != nil {
			t.Fatal(err)
		}
		for b := 0; b < B; b++ {
			res, err := geomloss.SolveSample(x[b*n*d:(b+1)*n*d], y[b*m*d:(b+1)*m*d], d, nil, nil,
				core.OTParams{Cost: core.OTCost(tc.cost), Q: tc.q, Reg: 0.1, Tol: 1e-10})
			if err != nil {
				t.Fatal(err)
			}
			wx, wy, err := res.Plan.CostGradients()
			res.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(gx[b*n*d:(b+1)*n*d], wx) || !slices.Equal(gy[b*m*d:(b+1)*m*d], wy) {
				t.Errorf("cost %d, item %d: value_grad_x/y differ from Plan.CostGradients", tc.cost, b)
			}
		}
		_, h, err := OTRunPlan[float64](&o, false, int64(n), int64(m), int64(d), keyed(map[int][]float64{BufX: x[:n*d], BufY: y[:m*d]}), nil)
		if err != nil {
			t.Fatal(err)
		}
		hx, hy := make([]float64, n*d), make([]float64, m*d)
		if err := PlanEval(h, keyed(map[int][]float64{BufValueGradX: hx, BufValueGradY: hy})); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(hx, gx[:n*d]) || !slices.Equal(hy, gy[:m*d]) {
			t.Errorf("cost %d: the kept plan's value gradients differ from the solve's", tc.cost)
		}
		PlanFree(h)
		o.Params.Debias = true
		if _, err := OTRun[float64](&o, false, int64(n), int64(m), int64(d), keyed(map[int][]float64{BufX: x[:n*d], BufY: y[:m*d], BufValueGradY: hy}), nil); err == nil || !strings.Contains(err.Error(), "value_grad_y: the gradient of a debiased value") {
			t.Errorf("debias = 1: %v", err)
		}
	}
}
