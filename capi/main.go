// Command capi is the C ABI of libgeomloss, built with -buildmode=c-shared
// into libgeomloss.so (see build/lib.sh). The API is the hand-written
// include/geomloss.h; this package holds the Go side of its functions as
// private exports (glcgo_*), which forward.c defines the public functions
// with, against the header's prototypes. Validation lives in
// capi/internal/abi (fuzz-tested); thread-local state and static strings
// live in state.c. The ABI's constants are generated from the header (see
// capi/internal/abigen).
//
// Every export recovers from panics and returns GEOMLOSS_ERR_INTERNAL.
package main

//go:generate go run ./internal/abigen

/*
#cgo CFLAGS: -std=gnu11 -O2 -Wall -I${SRCDIR}/../include
#include <stdlib.h>
#include <string.h>
#include "capi.h"
*/
import "C"

import (
	"fmt"
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
	o.Params.Tol = float64(opts.tol)
	o.Params.MaxIter = int(opts.max_iter)
	o.OT = abi.OTOptions{Cost: int(opts.cost), Reg: float64(opts.reg), Unbalanced: float64(opts.unbalanced), Q: float64(opts.q)}
	o.Grid = abi.GridOptions{SingleScale: opts.single_scale != 0, Tol: float64(opts.grid_tol)}
	o.BlurSet = opts.blur_set != 0
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
	opts.tol = C.double(o.Params.Tol)
	opts.max_iter = C.int64_t(o.Params.MaxIter)
	opts.cost = C.int32_t(o.OT.Cost)
	opts.reg = C.double(o.OT.Reg)
	opts.unbalanced = C.double(o.OT.Unbalanced)
	opts.q = C.double(o.OT.Q)
	opts.single_scale = 0
	if o.Grid.SingleScale {
		opts.single_scale = 1
	}
	opts.grid_tol = C.double(o.Grid.Tol)
	opts.blur_set = 0
	if o.BlurSet {
		opts.blur_set = 1
	}
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

//export glcgo_options_create
func glcgo_options_create() (res *C.geomloss_options) {
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

//export glcgo_options_clone
func glcgo_options_clone(opts *C.geomloss_options) (res *C.geomloss_options) {
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

//export glcgo_options_destroy
func glcgo_options_destroy(opts *C.geomloss_options) {
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

//export glcgo_options_set_int
func glcgo_options_set_int(opts *C.geomloss_options, key C.int, value C.int64_t) (st C.int) {
	defer rescue(&st)
	hook("geomloss_options_set_int", int64(value))
	return update(opts, func(o *abi.Options) error { return o.SetInt(int(key), int64(value)) })
}

//export glcgo_options_set_double
func glcgo_options_set_double(opts *C.geomloss_options, key C.int, value C.double) (st C.int) {
	defer rescue(&st)
	return update(opts, func(o *abi.Options) error { return o.SetDouble(int(key), float64(value)) })
}

//export glcgo_options_set_string
func glcgo_options_set_string(opts *C.geomloss_options, key C.int, value *C.char) (st C.int) {
	defer rescue(&st)
	return update(opts, func(o *abi.Options) error {
		if value == nil {
			return &abi.Error{Status: abi.ErrNullPointer, Msg: fmt.Sprintf("value is NULL (the name for option %s)", keyLabel(int(key)))}
		}
		return o.SetString(int(key), C.GoStringN(value, C.int(C.strnlen(value, 1024))))
	})
}

//export glcgo_options_get_int
func glcgo_options_get_int(opts *C.geomloss_options, key C.int, value *C.int64_t) (st C.int) {
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

//export glcgo_options_get_double
func glcgo_options_get_double(opts *C.geomloss_options, key C.int, value *C.double) (st C.int) {
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

//export glcgo_options_reset
func glcgo_options_reset(opts *C.geomloss_options, key C.int) (st C.int) {
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

//export glcgo_options_set_progress
func glcgo_options_set_progress(opts *C.geomloss_options, fn C.geomloss_progress_fn, userData unsafe.Pointer) (st C.int) {
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

//export glcgo_buffers_create
func glcgo_buffers_create() (res *C.geomloss_buffers) {
	defer func() {
		if v := recover(); v != nil {
			finish(abi.PanicError(v))
			res = nil
		}
	}()
	p := (*C.geomloss_buffers)(C.calloc(1, C.size_t(unsafe.Sizeof(C.geomloss_buffers{}))))
	if p == nil {
		finish(&abi.Error{Status: abi.ErrMemory, Msg: "geomloss_buffers: out of memory"})
		return nil
	}
	p.magic = C.GLC_BUFFERS_MAGIC
	finish(nil)
	return p
}

//export glcgo_buffers_destroy
func glcgo_buffers_destroy(bufs *C.geomloss_buffers) {
	defer func() {
		if v := recover(); v != nil {
			finish(abi.PanicError(v))
		}
	}()
	if bufs == nil {
		return
	}
	bufs.magic = 0
	C.free(unsafe.Pointer(bufs))
}

// checkBuffers checks that bufs is a live buffers object.
func checkBuffers(bufs *C.geomloss_buffers) error {
	if bufs == nil {
		return &abi.Error{Status: abi.ErrNullPointer, Msg: "bufs is NULL"}
	}
	if bufs.magic != C.GLC_BUFFERS_MAGIC {
		return &abi.Error{Status: abi.ErrInvalidArgument, Msg: "bufs is not a live geomloss_buffers (destroyed, or not made by geomloss_buffers_create)"}
	}
	return nil
}

//export glcgo_buffers_set
func glcgo_buffers_set(bufs *C.geomloss_buffers, key C.int, ptr unsafe.Pointer, count C.int64_t) (st C.int) {
	defer rescue(&st)
	err := checkBuffers(bufs)
	if err == nil {
		n := int64(count)
		if ptr == nil { // a removal: the count is ignored
			n = 0
		}
		err = abi.CheckBuffer(int(key), n)
	}
	if err == nil && int(key) >= len(bufs.slot) {
		err = &abi.Error{Status: abi.ErrInternal, Msg: fmt.Sprintf("internal error: buffer key %d has no slot", int(key))}
	}
	if err == nil {
		bufs.slot[key] = C.struct_glc_buffer{ptr: ptr, count: 0}
		if ptr != nil {
			bufs.slot[key].count = count
		}
	}
	return finish(err)
}

//export glcgo_eval
func glcgo_eval(opts *C.geomloss_options, dtype C.int, B, N, M, D C.int64_t, bufs *C.geomloss_buffers) (st C.int) {
	defer rescue(&st)
	C.glc_clear_run()
	if err := checkBuffers(bufs); err != nil {
		return finish(err)
	}
	return eval(opts, int(dtype), B, N, M, D, func(key, need int) abi.Buffer {
		if key <= 0 || key >= len(bufs.slot) {
			return abi.Buffer{}
		}
		s := bufs.slot[key]
		return abi.Buffer{Ptr: s.ptr, Count: int64(s.count)}
	})
}

// positional is the buffer getter of geomloss_eval_f32/_f64: the pointers
// in key order, each with exactly the count its key needs.
func positional(ptrs ...unsafe.Pointer) abi.Getter {
	keys := [...]int{abi.BufX, abi.BufY, abi.BufA, abi.BufB, abi.BufCotValue, abi.BufCotF, abi.BufCotG,
		abi.BufValue, abi.BufF, abi.BufG, abi.BufGradX, abi.BufGradY, abi.BufGradA, abi.BufGradB}
	return func(key, need int) abi.Buffer {
		for i, k := range keys {
			if k == key && ptrs[i] != nil {
				return abi.Buffer{Ptr: ptrs[i], Count: int64(need)}
			}
		}
		return abi.Buffer{}
	}
}

//export glcgo_eval_f32
func glcgo_eval_f32(opts *C.geomloss_options, B, N, M, D C.int64_t,
	x, y, a, b, cotValue, cotF, cotG *C.float,
	value, F, G, gradX, gradY, gradA, gradB *C.float) (st C.int) {
	defer rescue(&st)
	C.glc_clear_run()
	return eval(opts, abi.F32, B, N, M, D, positional(unsafe.Pointer(x), unsafe.Pointer(y), unsafe.Pointer(a), unsafe.Pointer(b),
		unsafe.Pointer(cotValue), unsafe.Pointer(cotF), unsafe.Pointer(cotG), unsafe.Pointer(value), unsafe.Pointer(F), unsafe.Pointer(G),
		unsafe.Pointer(gradX), unsafe.Pointer(gradY), unsafe.Pointer(gradA), unsafe.Pointer(gradB)))
}

//export glcgo_eval_f64
func glcgo_eval_f64(opts *C.geomloss_options, B, N, M, D C.int64_t,
	x, y, a, b, cotValue, cotF, cotG *C.double,
	value, F, G, gradX, gradY, gradA, gradB *C.double) (st C.int) {
	defer rescue(&st)
	C.glc_clear_run()
	return eval(opts, abi.F64, B, N, M, D, positional(unsafe.Pointer(x), unsafe.Pointer(y), unsafe.Pointer(a), unsafe.Pointer(b),
		unsafe.Pointer(cotValue), unsafe.Pointer(cotF), unsafe.Pointer(cotG), unsafe.Pointer(value), unsafe.Pointer(F), unsafe.Pointer(G),
		unsafe.Pointer(gradX), unsafe.Pointer(gradY), unsafe.Pointer(gradA), unsafe.Pointer(gradB)))
}

// callArgs reads the options of a call (opts NULL: the defaults) with its
// progress callback and user data, and checks its element type dtype.
func callArgs(opts *C.geomloss_options, dtype int) (o abi.Options, fn C.geomloss_progress_fn, userData unsafe.Pointer, err error) {
	if opts == nil {
		o = abi.Defaults()
	} else {
		if o, err = load(opts); err != nil {
			return
		}
		fn, userData = opts.progress, opts.user_data
	}
	if dtype != abi.F32 && dtype != abi.F64 {
		err = &abi.Error{Status: abi.ErrInvalidArgument, Msg: fmt.Sprintf("dtype: unknown element type %d (want GEOMLOSS_F32 = %d or GEOMLOSS_F64 = %d)", dtype, abi.F32, abi.F64)}
	}
	return
}

// eval is the one evaluation path of geomloss_eval and its positional
// wrappers: options (NULL = defaults), the progress callback, then
// abi.Run (sizes, buffers, evaluation) in the precision of dtype.
func eval(opts *C.geomloss_options, dtype int, B, N, M, D C.int64_t, get abi.Getter) C.int {
	o, fn, userData, err := callArgs(opts, dtype)
	if err != nil {
		return finish(err)
	}
	hook("geomloss_eval", int64(D))
	progress, release, err := progressOf(fn, userData, int64(D))
	if err != nil {
		return finish(err)
	}
	defer release()
	var rep abi.Report
	if dtype == abi.F32 {
		rep, err = abi.Run[float32](&o, int64(B), int64(N), int64(M), int64(D), get, progress)
	} else {
		rep, err = abi.Run[float64](&o, int64(B), int64(N), int64(M), int64(D), get, progress)
	}
	return report(rep, err)
}

// report records a run's outcome: on success the last-run report, and the
// status either way.
func report(rep abi.Report, err error) C.int {
	if err != nil {
		return finish(err)
	}
	e, en := cstr(rep.Engine)
	n, nn := cstr(rep.Note)
	C.glc_set_run(C.int(rep.Backend), C.int(rep.Device), e, en, n, nn)
	return finish(nil)
}

// progressOf wraps a C progress callback (nil: none) for the core, which
// delivers every report on the calling goroutine, i.e. on the caller's
// thread, so the callback is called directly. release frees its buffer.
// hookN is the test hook's value for the delivery (a test build panics on 7777).
func progressOf(fn C.geomloss_progress_fn, userData unsafe.Pointer, hookN int64) (progress func(string, int, int) bool, release func(), err error) {
	if fn == nil {
		return nil, func() {}, nil
	}
	stage := (*C.char)(C.malloc(256))
	if stage == nil {
		return nil, nil, &abi.Error{Status: abi.ErrMemory, Msg: "progress: out of memory"}
	}
	cancelled := false
	progress = func(s string, iter, total int) bool {
		if cancelled { // called no more after a non-zero return
			return true
		}
		hook("the progress delivery", hookN-1)
		n := copy(unsafe.Slice((*byte)(unsafe.Pointer(stage)), 255), s)
		*(*byte)(unsafe.Add(unsafe.Pointer(stage), n)) = 0
		cancelled = C.glc_call_progress(fn, stage, C.int64_t(iter), C.int64_t(total), userData) != 0
		return cancelled
	}
	return progress, func() { C.free(unsafe.Pointer(stage)) }, nil
}

// gridArgs reads opts for the grid entries (NULL: the defaults) and
// checks dtype, shape and spacing pointers; it returns the options, the
// progress callback, and the shape and spacing copied into Go slices.
func gridArgs(opts *C.geomloss_options, dtype C.int, ndim C.int, shape *C.int64_t, spacing *C.double) (o abi.Options, fn C.geomloss_progress_fn, userData unsafe.Pointer, sh []int64, sp []float64, err error) {
	if o, fn, userData, err = callArgs(opts, int(dtype)); err != nil {
		return
	}
	if ndim < 1 || ndim > 3 {
		err = &abi.Error{Status: abi.ErrSize, Msg: fmt.Sprintf("ndim must be 1, 2 or 3 (grid axes), got %d", int(ndim))}
		return
	}
	if shape == nil {
		err = &abi.Error{Status: abi.ErrNullPointer, Msg: "shape is NULL (the ndim sides of the grid)"}
		return
	}
	for _, v := range unsafe.Slice(shape, int(ndim)) {
		sh = append(sh, int64(v))
	}
	if spacing != nil {
		for _, v := range unsafe.Slice(spacing, int(ndim)) {
			sp = append(sp, float64(v))
		}
	}
	return
}

//export glcgo_eval_grid
func glcgo_eval_grid(opts *C.geomloss_options, dtype C.int, B C.int64_t, ndim C.int, shape *C.int64_t, spacing *C.double, bufs *C.geomloss_buffers) (st C.int) {
	defer rescue(&st)
	C.glc_clear_run()
	if err := checkBuffers(bufs); err != nil {
		return finish(err)
	}
	o, fn, userData, sh, sp, err := gridArgs(opts, dtype, ndim, shape, spacing)
	if err != nil {
		return finish(err)
	}
	hook("geomloss_eval_grid", int64(B))
	progress, release, err := progressOf(fn, userData, int64(B))
	if err != nil {
		return finish(err)
	}
	defer release()
	get := func(key, need int) abi.Buffer {
		if key <= 0 || key >= len(bufs.slot) {
			return abi.Buffer{}
		}
		s := bufs.slot[key]
		return abi.Buffer{Ptr: s.ptr, Count: int64(s.count)}
	}
	var rep abi.Report
	if dtype == abi.F32 {
		rep, err = abi.RunGrid[float32](&o, int64(B), sh, sp, get, progress)
	} else {
		rep, err = abi.RunGrid[float64](&o, int64(B), sh, sp, get, progress)
	}
	return report(rep, err)
}

//export glcgo_images_barycenter
func glcgo_images_barycenter(opts *C.geomloss_options, dtype C.int, B, K C.int64_t, ndim C.int, shape *C.int64_t, spacing *C.double,
	scalingN, extra C.int64_t, measures, weights, cot, bar, gradMeasures, gradWeights unsafe.Pointer) (st C.int) {
	defer rescue(&st)
	C.glc_clear_run()
	o, _, _, sh, sp, err := gridArgs(opts, dtype, ndim, shape, spacing)
	if err != nil {
		return finish(err)
	}
	hook("geomloss_images_barycenter", int64(B))
	p := abi.BarycenterPtrs{Measures: measures, Weights: weights, Cot: cot, Bar: bar, GradMeasures: gradMeasures, GradWeights: gradWeights}
	var rep abi.Report
	if dtype == abi.F32 {
		rep, err = abi.RunBarycenter[float32](&o, int64(B), int64(K), sh, sp, int64(scalingN), int64(extra), p)
	} else {
		rep, err = abi.RunBarycenter[float64](&o, int64(B), int64(K), sh, sp, int64(scalingN), int64(extra), p)
	}
	return report(rep, err)
}
