package main

/*
#include <stdlib.h>
#include "capi.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/libgeomloss/libgeomloss/capi/internal/abi"
)

// The OT solver's entries (geomloss_ot_solve_sample, geomloss_ot_solve):
// the options and progress plumbing of eval, then abi.OTRun.

//export glcgo_ot_solve_sample
func glcgo_ot_solve_sample(opts *C.geomloss_options, dtype C.int, N, M, D C.int64_t, bufs *C.geomloss_buffers) (st C.int) {
	defer rescue(&st)
	return otSolve(opts, int(dtype), false, 1, N, M, D, bufs, nil)
}

//export glcgo_ot_solve
func glcgo_ot_solve(opts *C.geomloss_options, dtype C.int, N, M C.int64_t, bufs *C.geomloss_buffers) (st C.int) {
	defer rescue(&st)
	return otSolve(opts, int(dtype), true, 1, N, M, 1, bufs, nil)
}

//export glcgo_ot_solve_sample_batch
func glcgo_ot_solve_sample_batch(opts *C.geomloss_options, dtype C.int, B, N, M, D C.int64_t, bufs *C.geomloss_buffers) (st C.int) {
	defer rescue(&st)
	return otSolve(opts, int(dtype), false, B, N, M, D, bufs, nil)
}

//export glcgo_ot_solve_batch
func glcgo_ot_solve_batch(opts *C.geomloss_options, dtype C.int, B, N, M C.int64_t, bufs *C.geomloss_buffers) (st C.int) {
	defer rescue(&st)
	return otSolve(opts, int(dtype), true, B, N, M, 1, bufs, nil)
}

//export glcgo_ot_solve_sample_plan
func glcgo_ot_solve_sample_plan(opts *C.geomloss_options, dtype C.int, N, M, D C.int64_t, bufs *C.geomloss_buffers, plan *C.uint64_t) (st C.int) {
	defer rescue(&st)
	if plan == nil {
		C.glc_clear_run()
		return finish(&abi.Error{Status: abi.ErrNullPointer, Msg: "plan is NULL (where the plan's handle is written)"})
	}
	return otSolve(opts, int(dtype), false, 1, N, M, D, bufs, unsafe.Slice(plan, 1))
}

//export glcgo_ot_solve_plan
func glcgo_ot_solve_plan(opts *C.geomloss_options, dtype C.int, N, M C.int64_t, bufs *C.geomloss_buffers, plan *C.uint64_t) (st C.int) {
	defer rescue(&st)
	if plan == nil {
		C.glc_clear_run()
		return finish(&abi.Error{Status: abi.ErrNullPointer, Msg: "plan is NULL (where the plan's handle is written)"})
	}
	return otSolve(opts, int(dtype), true, 1, N, M, 1, bufs, unsafe.Slice(plan, 1))
}

//export glcgo_ot_solve_sample_batch_plan
func glcgo_ot_solve_sample_batch_plan(opts *C.geomloss_options, dtype C.int, B, N, M, D C.int64_t, bufs *C.geomloss_buffers, plans *C.uint64_t) (st C.int) {
	defer rescue(&st)
	return otSolveBatchPlan(opts, int(dtype), false, B, N, M, D, bufs, plans)
}

//export glcgo_ot_solve_batch_plan
func glcgo_ot_solve_batch_plan(opts *C.geomloss_options, dtype C.int, B, N, M C.int64_t, bufs *C.geomloss_buffers, plans *C.uint64_t) (st C.int) {
	defer rescue(&st)
	return otSolveBatchPlan(opts, int(dtype), true, B, N, M, 1, bufs, plans)
}

// otSolveBatchPlan runs a _batch_plan entry: plans (B handles) receives
// item b's handle at b, all 0 on failure (written only for a B that passes
// the size checks, so never past an array the caller could not have).
func otSolveBatchPlan(opts *C.geomloss_options, dtype int, matrix bool, B, N, M, D C.int64_t, bufs *C.geomloss_buffers, plans *C.uint64_t) C.int {
	if plans == nil {
		C.glc_clear_run()
		return finish(&abi.Error{Status: abi.ErrNullPointer, Msg: "plans is NULL (where the B plans' handles are written)"})
	}
	var out []C.uint64_t
	if _, err := abi.CheckSizes(int64(B), 1, 1, 1); err == nil {
		out = unsafe.Slice(plans, int(B))
		clear(out)
	}
	return otSolve(opts, dtype, matrix, B, N, M, D, bufs, out)
}

//export glcgo_plan_eval
func glcgo_plan_eval(plan C.uint64_t, bufs *C.geomloss_buffers) (st C.int) {
	defer rescue(&st)
	if err := checkBuffers(bufs); err != nil {
		return finish(err)
	}
	return finish(abi.PlanEval(uint64(plan), getter(bufs)))
}

//export glcgo_plan_info
func glcgo_plan_info(plan C.uint64_t, dtype *C.int, N, M, D *C.int64_t) (st C.int) {
	defer rescue(&st)
	t, n, m, d, err := abi.PlanInfo(uint64(plan))
	if err != nil {
		return finish(err)
	}
	if dtype != nil {
		*dtype = C.int(t)
	}
	for _, v := range []struct {
		p *C.int64_t
		v int64
	}{{N, n}, {M, m}, {D, d}} {
		if v.p != nil {
			*v.p = C.int64_t(v.v)
		}
	}
	return finish(nil)
}

//export glcgo_plan_free
func glcgo_plan_free(plan C.uint64_t) (st C.int) {
	defer rescue(&st)
	return finish(abi.PlanFree(uint64(plan)))
}

// getter reads the keyed buffers of bufs.
func getter(bufs *C.geomloss_buffers) abi.Getter {
	return func(key, need int) abi.Buffer {
		if key <= 0 || key >= len(bufs.slot) {
			return abi.Buffer{}
		}
		s := bufs.slot[key]
		return abi.Buffer{Ptr: s.ptr, Count: int64(s.count)}
	}
}

// otSolve runs an OT entry; plans non-nil (the _plan entries: B handles)
// receives the handles of the kept plans, item b's at b, 0s on failure.
func otSolve(opts *C.geomloss_options, dtype int, matrix bool, B, N, M, D C.int64_t, bufs *C.geomloss_buffers, plans []C.uint64_t) C.int {
	C.glc_clear_run()
	clear(plans)
	if err := checkBuffers(bufs); err != nil {
		return finish(err)
	}
	o, fn, userData, err := callArgs(opts, dtype)
	if err != nil {
		return finish(err)
	}
	progress, release, err := progressOf(fn, userData, int64(D)) // reports come on the caller's thread, as in eval
	if err != nil {
		return finish(err)
	}
	defer release()
	get := getter(bufs)
	var rep abi.Report
	var hs []uint64
	switch {
	case plans != nil && dtype == abi.F32:
		rep, hs, err = abi.OTRunBatchPlan[float32](&o, matrix, int64(B), int64(N), int64(M), int64(D), get, progress)
	case plans != nil:
		rep, hs, err = abi.OTRunBatchPlan[float64](&o, matrix, int64(B), int64(N), int64(M), int64(D), get, progress)
	case dtype == abi.F32:
		rep, err = abi.OTRunBatch[float32](&o, matrix, int64(B), int64(N), int64(M), int64(D), get, progress)
	default:
		rep, err = abi.OTRunBatch[float64](&o, matrix, int64(B), int64(N), int64(M), int64(D), get, progress)
	}
	if err != nil {
		return finish(err)
	}
	if plans != nil && len(hs) != len(plans) { // B failed the size checks, so no error could pass them
		for _, h := range hs {
			abi.PlanFree(h)
		}
		return finish(&abi.Error{Status: abi.ErrInternal, Msg: fmt.Sprintf("internal error: %d plans kept for B = %d", len(hs), len(plans))})
	}
	for b, h := range hs {
		plans[b] = C.uint64_t(h)
	}
	e, en := cstr(rep.Engine)
	n, nn := cstr(rep.Note)
	C.glc_set_run(C.int(rep.Backend), C.int(rep.Device), e, en, n, nn)
	return finish(nil)
}
