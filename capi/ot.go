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
	return otSolve(opts, int(dtype), false, N, M, D, bufs)
}

//export glcgo_ot_solve
func glcgo_ot_solve(opts *C.geomloss_options, dtype C.int, N, M C.int64_t, bufs *C.geomloss_buffers) (st C.int) {
	defer rescue(&st)
	return otSolve(opts, int(dtype), true, N, M, 1, bufs)
}

func otSolve(opts *C.geomloss_options, dtype int, matrix bool, N, M, D C.int64_t, bufs *C.geomloss_buffers) C.int {
	C.glc_clear_run()
	if err := checkBuffers(bufs); err != nil {
		return finish(err)
	}
	var o abi.Options
	var fn C.geomloss_progress_fn
	var userData unsafe.Pointer
	if opts == nil {
		o = abi.Defaults()
	} else {
		var err error
		if o, err = load(opts); err != nil {
			return finish(err)
		}
		fn, userData = opts.progress, opts.user_data
	}
	if dtype != abi.F32 && dtype != abi.F64 {
		return finish(&abi.Error{Status: abi.ErrInvalidArgument, Msg: fmt.Sprintf("dtype: unknown element type %d (want GEOMLOSS_F32 = %d or GEOMLOSS_F64 = %d)", dtype, abi.F32, abi.F64)})
	}
	var progress func(string, int, int) bool
	if fn != nil {
		// Reports come on this goroutine (the caller's thread), as in eval.
		stage := (*C.char)(C.malloc(256))
		if stage == nil {
			return finish(&abi.Error{Status: abi.ErrMemory, Msg: "progress: out of memory"})
		}
		defer C.free(unsafe.Pointer(stage))
		cancelled := false
		progress = func(s string, iter, total int) bool {
			if cancelled {
				return true
			}
			n := copy(unsafe.Slice((*byte)(unsafe.Pointer(stage)), 255), s)
			*(*byte)(unsafe.Add(unsafe.Pointer(stage), n)) = 0
			cancelled = C.glc_call_progress(fn, stage, C.int64_t(iter), C.int64_t(total), userData) != 0
			return cancelled
		}
	}
	get := func(key, need int) abi.Buffer {
		if key <= 0 || key >= len(bufs.slot) {
			return abi.Buffer{}
		}
		s := bufs.slot[key]
		return abi.Buffer{Ptr: s.ptr, Count: int64(s.count)}
	}
	var rep abi.Report
	var err error
	if dtype == abi.F32 {
		rep, err = abi.OTRun[float32](&o, matrix, int64(N), int64(M), int64(D), get, progress)
	} else {
		rep, err = abi.OTRun[float64](&o, matrix, int64(N), int64(M), int64(D), get, progress)
	}
	if err != nil {
		return finish(err)
	}
	e, en := cstr(rep.Engine)
	n, nn := cstr(rep.Note)
	C.glc_set_run(C.int(rep.Backend), C.int(rep.Device), e, en, n, nn)
	return finish(nil)
}
