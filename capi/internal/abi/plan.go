package abi

import (
	"sync"

	"github.com/libgeomloss/libgeomloss/core"
)

// The plan handles of geomloss_ot_solve_sample_plan / geomloss_ot_solve_plan:
// a solved plan stays in Go memory, in a table keyed by a 64-bit number the
// caller holds (C never holds a Go pointer). Numbers count up from 1 and are
// never reused, so a freed or forged handle is refused, never mistaken for
// another plan. The table is safe for concurrent use; operations on one
// plan are serialised by its own lock (a plan's reductions are not meant to
// run concurrently), operations on different plans run in parallel.

// planKeys are the buffers geomloss_plan_eval reads or writes.
var (
	planSampleKeys = []int{BufV, BufU, BufValueLinear, BufMarginalA, BufMarginalB, BufAToB, BufBToA, BufPlanV, BufPlanTU, BufPlan, BufValueGradX, BufValueGradY}
	planMatrixKeys = []int{BufV, BufU, BufValueLinear, BufMarginalA, BufMarginalB, BufPlanV, BufPlanTU, BufPlan}
)

type planEntry struct {
	mu     sync.Mutex
	res    any // *core.OTResult[float32] or [float64]; nil once freed
	dtype  int
	d      Dims
	matrix bool
}

type planTable struct {
	mu   sync.Mutex
	next uint64
	m    map[uint64]*planEntry
}

var plans = &planTable{m: map[uint64]*planEntry{}}

func (t *planTable) add(res any, d Dims, matrix bool) uint64 {
	dtype := F64
	if _, ok := res.(*core.OTResult[float32]); ok {
		dtype = F32
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	t.m[t.next] = &planEntry{res: res, dtype: dtype, d: Dims{B: 1, N: d.N, M: d.M, D: d.D}, matrix: matrix}
	return t.next
}

func (t *planTable) get(h uint64) (*planEntry, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.m[h]; ok {
		return e, nil
	}
	return nil, errf(ErrInvalidArgument, "plan: %d is not a live plan handle (freed, or not made by geomloss_ot_solve_sample_plan / geomloss_ot_solve_plan)", h)
}

// LivePlans returns the number of plans not yet freed (for leak tests).
func LivePlans() int {
	plans.mu.Lock()
	defer plans.mu.Unlock()
	return len(plans.m)
}

// PlanFree is geomloss_plan_free: it releases the plan of handle h, once;
// a second free (or any use afterwards) is refused naming the handle. It
// waits for an operation in progress on the plan to end.
func PlanFree(h uint64) error {
	plans.mu.Lock()
	e, ok := plans.m[h]
	delete(plans.m, h)
	plans.mu.Unlock()
	if !ok {
		return errf(ErrInvalidArgument, "plan: %d is not a live plan handle (freed already, or not made by geomloss_ot_solve_sample_plan / geomloss_ot_solve_plan)", h)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var err error
	switch r := e.res.(type) {
	case *core.OTResult[float32]:
		err = r.Close()
	case *core.OTResult[float64]:
		err = r.Close()
	}
	e.res = nil
	return err
}

// PlanInfo is geomloss_plan_info: the element type and sizes of plan h
// (D = 0 for a plan of a cost matrix).
func PlanInfo(h uint64) (dtype int, n, m, d int64, err error) {
	e, err := plans.get(h)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	if e.matrix {
		return e.dtype, int64(e.d.N), int64(e.d.M), 0, nil
	}
	return e.dtype, int64(e.d.N), int64(e.d.M), int64(e.d.D), nil
}

// PlanEval is geomloss_plan_eval: the outputs whose buffers are set
// (value_linear, marginal_a/b, a_to_b, b_to_a, plan_v with v, plan_t_u with
// u, plan), computed from the kept plan by the same code as the solve's
// outputs, so equal to what the solve call would have written bit for bit;
// the buffers' element type is the plan's. Written only on success. It
// never panics.
func PlanEval(h uint64, get Getter) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = PanicError(v)
		}
	}()
	e, err := plans.get(h)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch r := e.res.(type) {
	case *core.OTResult[float32]:
		return planEval(r, e, get)
	case *core.OTResult[float64]:
		return planEval(r, e, get)
	}
	return errf(ErrInvalidArgument, "plan: %d was freed while in use", h) // unreachable: free takes the lock
}

func planEval[T core.Float](res *core.OTResult[T], e *planEntry, get Getter) error {
	keys := planSampleKeys
	if e.matrix {
		keys = planMatrixKeys
	}
	d := e.d
	views, err := bindOT[T](&d, "geomloss_plan_eval", keys, get)
	if err != nil {
		return err
	}
	outs, err := otOutputs(res, views, d)
	if err != nil {
		return err
	}
	for key, v := range outs {
		if len(views[key]) != len(v) {
			return errf(ErrInternal, "internal error: %d elements computed for %s, want %d", len(v), keyNameOf(key), len(views[key]))
		}
	}
	for key, v := range outs {
		copy(views[key], v)
	}
	return nil
}
