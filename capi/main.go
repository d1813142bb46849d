// Command capi is the C ABI of libgeomloss, built with -buildmode=c-shared
// into libgeomloss.so (see build/lib.sh). The API is the hand-written
// include/geomloss.h; this package holds only the //export'ed functions and
// their conversions. Validation lives in capi/internal/abi (fuzz-tested);
// thread-local state and static strings live in state.c.
//
// Every export recovers from panics and returns GEOMLOSS_ERR_INTERNAL.
package main

/*
#cgo CFLAGS: -std=gnu11 -O2 -Wall
#include <stdlib.h>
#include <string.h>
#include "capi.h"
*/
import "C"

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/libgeomloss/libgeomloss/capi/internal/abi"
	"github.com/libgeomloss/libgeomloss/core"
)

func main() {}

// cstr returns a pointer to s's bytes (not NUL-terminated) for the C
// helpers, which copy them.
func cstr(s string) (*C.char, C.size_t) {
	if len(s) == 0 {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

// finish records err as the calling thread's last error and returns its status.
func finish(err error) C.int {
	st, msg := abi.StatusOf(err)
	p, n := cstr(msg)
	C.glc_set_error(p, n)
	return C.int(st)
}

// rescue turns a panic into GEOMLOSS_ERR_INTERNAL; use as
// defer rescue(&status).
func rescue(st *C.int) {
	if v := recover(); v != nil {
		*st = finish(abi.PanicError(v))
	}
}

// load checks opts and reads it; a NULL opts is an error (callers that
// accept NULL check first).
func load(opts *C.geomloss_options) (abi.Options, error) {
	if opts == nil {
		return abi.Options{}, &abi.Error{Status: abi.ErrNullPointer, Msg: "opts is NULL"}
	}
	if opts.magic != C.GLC_OPTIONS_MAGIC {
		return abi.Options{}, &abi.Error{Status: abi.ErrInvalidArgument, Msg: "opts is not a live geomloss_options (destroyed, or not made by geomloss_options_create)"}
	}
	var o abi.Options
	o.Params.Loss = core.Loss(opts.loss)
	o.Params.P = int(opts.p)
	o.Params.Debias = opts.debias != 0
	o.Params.Backend = core.Backend(opts.backend)
	o.Device = int(opts.device)
	o.Threads = int64(opts.threads)
	o.Params.Blur = float64(opts.blur)
	o.Params.Reach = float64(opts.reach)
	o.Params.Diameter = float64(opts.diameter)
	o.Params.Scaling = float64(opts.scaling)
	o.Params.Truncate = float64(opts.truncate)
	o.Params.ClusterScale = float64(opts.cluster_scale)
	return o, nil
}

// store writes o's settings into opts (leaving the progress callback).
func store(opts *C.geomloss_options, o *abi.Options) {
	opts.loss = C.int32_t(o.Params.Loss)
	opts.p = C.int32_t(o.Params.P)
	opts.debias = 0
	if o.Params.Debias {
		opts.debias = 1
	}
	opts.backend = C.int32_t(o.Params.Backend)
	opts.device = C.int32_t(o.Device)
	opts.threads = C.int64_t(o.Threads)
	opts.blur = C.double(o.Params.Blur)
	opts.reach = C.double(o.Params.Reach)
	opts.diameter = C.double(o.Params.Diameter)
	opts.scaling = C.double(o.Params.Scaling)
	opts.truncate = C.double(o.Params.Truncate)
	opts.cluster_scale = C.double(o.Params.ClusterScale)
}

// update loads opts, applies f and stores the result only if f succeeds.
func update(opts *C.geomloss_options, f func(o *abi.Options) error) C.int {
	o, err := load(opts)
	if err == nil {
		err = f(&o)
	}
	if err == nil {
		store(opts, &o)
	}
	return finish(err)
}

func newOptions() *C.geomloss_options {
	p := (*C.geomloss_options)(C.calloc(1, C.size_t(unsafe.Sizeof(C.geomloss_options{}))))
	if p == nil {
		finish(&abi.Error{Status: abi.ErrMemory, Msg: "geomloss_options: out of memory"})
		return nil
	}
	p.magic = C.GLC_OPTIONS_MAGIC
	return p
}

//export geomloss_options_create
func geomloss_options_create() (res *C.geomloss_options) {
	defer func() {
		if v := recover(); v != nil {
			finish(abi.PanicError(v))
			res = nil
		}
	}()
	p := newOptions()
	if p == nil {
		return nil
	}
	d := abi.Defaults()
	store(p, &d)
	finish(nil)
	return p
}

//export geomloss_options_clone
func geomloss_options_clone(opts *C.geomloss_options) (res *C.geomloss_options) {
	defer func() {
		if v := recover(); v != nil {
			finish(abi.PanicError(v))
			res = nil
		}
	}()
	if _, err := load(opts); err != nil {
		finish(err)
		return nil
	}
	p := newOptions()
	if p == nil {
		return nil
	}
	*p = *opts
	finish(nil)
	return p
}

//export geomloss_options_destroy
func geomloss_options_destroy(opts *C.geomloss_options) {
	defer func() {
		if v := recover(); v != nil {
			finish(abi.PanicError(v))
		}
	}()
	if opts == nil {
		return
	}
	opts.magic = 0
	C.free(unsafe.Pointer(opts))
}

//export geomloss_options_set_int
func geomloss_options_set_int(opts *C.geomloss_options, key C.int, value C.int64_t) (st C.int) {
	defer rescue(&st)
	hook("geomloss_options_set_int", int64(value))
	return update(opts, func(o *abi.Options) error { return o.SetInt(int(key), int64(value)) })
}

//export geomloss_options_set_double
func geomloss_options_set_double(opts *C.geomloss_options, key C.int, value C.double) (st C.int) {
	defer rescue(&st)
	return update(opts, func(o *abi.Options) error { return o.SetDouble(int(key), float64(value)) })
}

//export geomloss_options_set_string
func geomloss_options_set_string(opts *C.geomloss_options, key C.int, value *C.char) (st C.int) {
	defer rescue(&st)
	return update(opts, func(o *abi.Options) error {
		if value == nil {
			return &abi.Error{Status: abi.ErrNullPointer, Msg: fmt.Sprintf("value is NULL (the name for option %s)", keyLabel(int(key)))}
		}
		return o.SetString(int(key), C.GoStringN(value, C.int(C.strnlen(value, 1024))))
	})
}

//export geomloss_options_get_int
func geomloss_options_get_int(opts *C.geomloss_options, key C.int, value *C.int64_t) (st C.int) {
	defer rescue(&st)
	o, err := load(opts)
	if err == nil && value == nil {
		err = &abi.Error{Status: abi.ErrNullPointer, Msg: "value is NULL (the int64_t to read the option into)"}
	}
	if err == nil {
		var v int64
		if v, err = o.GetInt(int(key)); err == nil {
			*value = C.int64_t(v)
		}
	}
	return finish(err)
}

//export geomloss_options_get_double
func geomloss_options_get_double(opts *C.geomloss_options, key C.int, value *C.double) (st C.int) {
	defer rescue(&st)
	o, err := load(opts)
	if err == nil && value == nil {
		err = &abi.Error{Status: abi.ErrNullPointer, Msg: "value is NULL (the double to read the option into)"}
	}
	if err == nil {
		var v float64
		if v, err = o.GetDouble(int(key)); err == nil {
			*value = C.double(v)
		}
	}
	return finish(err)
}

//export geomloss_options_reset
func geomloss_options_reset(opts *C.geomloss_options, key C.int) (st C.int) {
	defer rescue(&st)
	if key == 0 {
		return update(opts, func(o *abi.Options) error {
			*o = abi.Defaults()
			opts.progress = nil
			opts.user_data = nil
			return nil
		})
	}
	return update(opts, func(o *abi.Options) error { return o.Reset(int(key)) })
}

//export geomloss_options_set_progress
func geomloss_options_set_progress(opts *C.geomloss_options, fn C.geomloss_progress_fn, userData unsafe.Pointer) (st C.int) {
	defer rescue(&st)
	return update(opts, func(o *abi.Options) error {
		opts.progress = fn
		opts.user_data = userData
		return nil
	})
}

func keyLabel(key int) string {
	if n := abi.KeyName(key); n != "" {
		return n
	}
	return fmt.Sprintf("key %d", key)
}

//export geomloss_eval_f32
func geomloss_eval_f32(opts *C.geomloss_options, B, N, M, D C.int64_t,
	x, y, a, b, cotValue, cotF, cotG *C.float,
	value, F, G, gradX, gradY, gradA, gradB *C.float) (st C.int) {
	defer rescue(&st)
	C.glc_clear_run()
	return eval[float32](opts, B, N, M, D,
		[7]unsafe.Pointer{unsafe.Pointer(x), unsafe.Pointer(y), unsafe.Pointer(a), unsafe.Pointer(b), unsafe.Pointer(cotValue), unsafe.Pointer(cotF), unsafe.Pointer(cotG)},
		[7]unsafe.Pointer{unsafe.Pointer(value), unsafe.Pointer(F), unsafe.Pointer(G), unsafe.Pointer(gradX), unsafe.Pointer(gradY), unsafe.Pointer(gradA), unsafe.Pointer(gradB)})
}

//export geomloss_eval_f64
func geomloss_eval_f64(opts *C.geomloss_options, B, N, M, D C.int64_t,
	x, y, a, b, cotValue, cotF, cotG *C.double,
	value, F, G, gradX, gradY, gradA, gradB *C.double) (st C.int) {
	defer rescue(&st)
	C.glc_clear_run()
	return eval[float64](opts, B, N, M, D,
		[7]unsafe.Pointer{unsafe.Pointer(x), unsafe.Pointer(y), unsafe.Pointer(a), unsafe.Pointer(b), unsafe.Pointer(cotValue), unsafe.Pointer(cotF), unsafe.Pointer(cotG)},
		[7]unsafe.Pointer{unsafe.Pointer(value), unsafe.Pointer(F), unsafe.Pointer(G), unsafe.Pointer(gradX), unsafe.Pointer(gradY), unsafe.Pointer(gradA), unsafe.Pointer(gradB)})
}

// view returns the n elements at p as a slice (nil for NULL). The slice
// aliases C memory: inputs are only read, outputs only written by abi.Eval
// after success, and no slice outlives the call.
func view[T float32 | float64](p unsafe.Pointer, n int) []T {
	if p == nil {
		return nil
	}
	return unsafe.Slice((*T)(p), n)
}

func eval[T float32 | float64](opts *C.geomloss_options, B, N, M, D C.int64_t, in, out [7]unsafe.Pointer) C.int {
	var o abi.Options
	var progress C.geomloss_progress_fn
	var userData unsafe.Pointer
	if opts == nil {
		o = abi.Defaults()
	} else {
		var err error
		if o, err = load(opts); err != nil {
			return finish(err)
		}
		progress, userData = opts.progress, opts.user_data
	}
	d, err := abi.CheckSizes(int64(B), int64(N), int64(M), int64(D))
	if err != nil {
		return finish(err)
	}
	hook("geomloss_eval", int64(d.D))
	nx, ny, na, nb := d.LenX(), d.LenY(), d.LenA(), d.LenB()
	ins := abi.Inputs[T]{
		X: view[T](in[0], nx), Y: view[T](in[1], ny), A: view[T](in[2], na), Bw: view[T](in[3], nb),
		CotValue: view[T](in[4], d.B), CotF: view[T](in[5], na), CotG: view[T](in[6], nb),
	}
	outs := abi.Outputs[T]{
		Value: view[T](out[0], d.B), F: view[T](out[1], na), G: view[T](out[2], nb),
		GradX: view[T](out[3], nx), GradY: view[T](out[4], ny), GradA: view[T](out[5], na), GradB: view[T](out[6], nb),
	}
	var rep abi.Report
	if progress == nil {
		rep, err = abi.Eval(&o, d, ins, outs, nil)
	} else {
		// The callback runs here, on the caller's thread (see abi.Relay).
		stage := (*C.char)(C.malloc(256))
		if stage == nil {
			return finish(&abi.Error{Status: abi.ErrMemory, Msg: "progress: out of memory"})
		}
		defer C.free(unsafe.Pointer(stage))
		var cancel atomic.Bool // a non-zero return of the callback cancels
		err = abi.Relay(func(pf func(string, int, int)) error {
			hook("the evaluation goroutine", int64(d.D)-1)
			var e error
			rep, e = abi.Eval(&o, d, ins, outs, func(s string, iter, total int) bool {
				pf(s, iter, total)
				return cancel.Load()
			})
			return e
		}, func(s string, iter, total int) {
			n := copy(unsafe.Slice((*byte)(unsafe.Pointer(stage)), 255), s)
			*(*byte)(unsafe.Add(unsafe.Pointer(stage), n)) = 0
			if C.glc_call_progress(progress, stage, C.int64_t(iter), C.int64_t(total), userData) != 0 {
				cancel.Store(true)
			}
		})
	}
	if err != nil {
		return finish(err)
	}
	e, en := cstr(rep.Engine)
	n, nn := cstr(rep.Note)
	C.glc_set_run(C.int(rep.Backend), C.int(rep.Device), e, en, n, nn)
	return finish(nil)
}
