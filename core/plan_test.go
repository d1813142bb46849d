package core_test

import (
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/enginetest"
)

// noPlan is the portable engine with Pairs that hide the PlanPair
// capability, so that core.PlanReducer takes the soft-min fallback.
type noPlan[T core.Float] struct{ core.Engine[T] }

type bare[T core.Float] struct{ core.Pair[T] }

func (e noPlan[T]) Pair(x, y core.Cloud[T], c core.Cost) (core.Pair[T], error) {
	p, err := e.Engine.Pair(x, y, c)
	return bare[T]{p}, err
}

// TestPlanSoftMinFallback runs the plan table on the soft-min fallback of
// core.PlanReducer (what engines without the plan capability get), and
// checks that the fallback is reported.
func TestPlanSoftMinFallback(t *testing.T) {
	n64 := func(r core.Resources) core.Engine[float64] { return noPlan[float64]{core.Portable[float64](r)} }
	n32 := func(r core.Resources) core.Engine[float32] { return noPlan[float32]{core.Portable[float32](r)} }
	x := core.Cloud[float64]{Pts: []float64{0, 1}, N: 2, D: 1}
	_, closer, note, err := core.PlanReducer(n64(core.Resources{}), core.Resources{}, x, x, core.CostHalfSquared)
	if err != nil || note == "" {
		t.Fatalf("fallback: err %v, note %q (want a note naming it)", err, note)
	}
	closer()
	if _, _, note, _ := core.PlanReducer(core.Portable[float64](core.Resources{}), core.Resources{}, x, x, core.CostHalfSquared); note != "" {
		t.Errorf("portable engine: unexpected fallback note %q", note)
	}
	t.Run("float64", func(t *testing.T) { enginetest.RunPlan(t, n64, 128) })
	t.Run("float32", func(t *testing.T) { enginetest.RunPlan(t, n32, 128) })
}
