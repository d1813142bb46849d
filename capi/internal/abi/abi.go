// Package abi is the Go side of the C ABI (include/geomloss.h): option keys
// and their validation, size checks, status codes, and the evaluation call
// that package capi's //export functions forward to. It has no cgo, so the
// validation layer can be unit- and fuzz-tested with `go test`.
//
// The numbers below are ABI: they must match include/geomloss.h and never
// change within a major version.
package abi

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/libgeomloss/libgeomloss"
	"github.com/libgeomloss/libgeomloss/core"
)

// Status codes (geomloss_status).
const (
	OK                 = 0
	ErrInvalidArgument = 1
	ErrInvalidOption   = 2
	ErrShape           = 3
	ErrValue           = 4
	ErrMemory          = 5
	ErrUnsupported     = 6
	ErrInternal        = 7
	ErrNullPointer     = 8
	ErrSize            = 9
	// NumStatus is one more than the largest status code.
	NumStatus = 10
)

// Option keys (geomloss_option).
const (
	KeyLoss         = 1
	KeyP            = 2
	KeyBlur         = 3
	KeyReach        = 4
	KeyDiameter     = 5
	KeyScaling      = 6
	KeyTruncate     = 7
	KeyClusterScale = 8
	KeyDebias       = 9
	KeyBackend      = 10
	KeyThreads      = 11
	KeyDevice       = 12
	// NumKeys is one more than the largest key.
	NumKeys = 13
)

// Devices (geomloss_device).
const (
	DeviceAuto = 0
	DeviceCPU  = 1
	DeviceGPU  = 2
)

// MaxThreads bounds GEOMLOSS_OPT_THREADS.
const MaxThreads = 1 << 16

// MaxElems bounds every array length (B·N·D, B·M·D, ...): 2^40 elements.
const MaxElems = 1 << 40

// Error is an ABI error: a status code and a message naming the argument.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func errf(status int, format string, a ...any) error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, a...)}
}

// StatusOf maps an error to its status code and message: nil → OK, "";
// *Error and *core.Error keep their code; anything else is internal.
func StatusOf(err error) (int, string) {
	if err == nil {
		return OK, ""
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Status, ae.Msg
	}
	var ce *core.Error
	if errors.As(err, &ce) {
		if ce.Code >= core.ErrInvalidArgument && ce.Code <= core.ErrInternal || ce.Code == core.ErrCancelled || ce.Code == core.ErrDevice {
			// core's codes are the ABI's codes 1..7 (checked by a test).
			return int(ce.Code), ce.Msg
		}
		return ErrInternal, fmt.Sprintf("internal error: unknown core error code %d: %s", int(ce.Code), ce.Msg)
	}
	return ErrInternal, "internal error: " + err.Error()
}

// PanicError converts a recovered panic value into an internal error whose
// message has the panic value, then where it happened: the frames below the
// panic, innermost first (call it in the deferred function that recovers).
func PanicError(v any) error {
	return &Error{Status: ErrInternal, Msg: fmt.Sprintf("internal error: panic: %v%s", v, panicSite())}
}

// panicSite lists up to 8 frames of the panicking goroutine below
// runtime.gopanic. (Not debug.Stack: its argument dump reads stack words
// that memcheck rightly calls uninitialised.)
func panicSite() string {
	pc := make([]uintptr, 64)
	frames := runtime.CallersFrames(pc[:runtime.Callers(2, pc)])
	s, found, n := "", false, 0
	for {
		f, more := frames.Next()
		if found && n < 8 && !strings.HasPrefix(f.Function, "runtime.") {
			s += fmt.Sprintf("\n  at %s (%s:%d)", f.Function, filepath.Base(f.File), f.Line)
			n++
		}
		if f.Function == "runtime.gopanic" || f.Function == "runtime.panicmem" || f.Function == "runtime.sigpanic" {
			found = true
		}
		if !more {
			break
		}
	}
	return s
}

// StatusString is geomloss_status_string.
func StatusString(status int) string {
	switch status {
	case OK:
		return "ok"
	case ErrInvalidArgument:
		return "invalid argument"
	case ErrInvalidOption:
		return "invalid option"
	case ErrShape:
		return "shape mismatch"
	case ErrValue:
		return "invalid value"
	case ErrMemory:
		return "out of memory or over a memory cap"
	case ErrUnsupported:
		return "unsupported"
	case ErrInternal:
		return "internal error"
	case ErrNullPointer:
		return "null pointer"
	case ErrSize:
		return "invalid size"
	}
	return "unknown status"
}

// ---- options ----------------------------------------------------------------

// Options are the settings of a geomloss_options object.
type Options struct {
	Params  core.Params
	Threads int64
	Device  int
}

// Defaults returns GeomLoss's SamplesLoss defaults, all threads, device auto.
func Defaults() Options {
	return Options{Params: core.DefaultParams(), Threads: 0, Device: DeviceAuto}
}

type kind int

const (
	kindNone kind = iota
	kindInt
	kindDouble
)

var keyNames = [NumKeys]string{"", "loss", "p", "blur", "reach", "diameter", "scaling", "truncate", "cluster_scale", "debias", "backend", "threads", "device"}

func keyKind(key int) kind {
	switch key {
	case KeyLoss, KeyP, KeyDebias, KeyBackend, KeyThreads, KeyDevice:
		return kindInt
	case KeyBlur, KeyReach, KeyDiameter, KeyScaling, KeyTruncate, KeyClusterScale:
		return kindDouble
	}
	return kindNone
}

// KeyName returns the option's name ("blur"), or "" for an unknown key.
func KeyName(key int) string {
	if key <= 0 || key >= NumKeys {
		return ""
	}
	return keyNames[key]
}

func checkKey(key int, want kind) error {
	k := keyKind(key)
	if k == kindNone {
		return errf(ErrInvalidOption, "option key %d is unknown (want 1..%d, GEOMLOSS_OPT_*)", key, NumKeys-1)
	}
	if k != want {
		if k == kindInt {
			return errf(ErrInvalidOption, "%s is an integer option: use geomloss_options_set_int/get_int", keyNames[key])
		}
		return errf(ErrInvalidOption, "%s is a floating-point option: use geomloss_options_set_double/get_double", keyNames[key])
	}
	return nil
}

var enumNames = map[int][]string{
	KeyLoss:    {"", "sinkhorn", "hausdorff", "energy", "gaussian", "laplacian"},
	KeyBackend: {"auto", "tensorized", "online", "multiscale"},
	KeyDevice:  {"auto", "cpu", "gpu"},
}

// ValueName returns the name of an enumerated option value ("sinkhorn"), or
// false for an unknown key or value.
func ValueName(key int, value int64) (string, bool) {
	names, ok := enumNames[key]
	if !ok || value < 0 || value >= int64(len(names)) || names[value] == "" {
		return "", false
	}
	return names[value], true
}

func enumChoices(key int) string {
	s := ""
	for v, n := range enumNames[key] {
		if n != "" {
			if s != "" {
				s += ", "
			}
			s += fmt.Sprintf("%d=%s", v, n)
		}
	}
	return s
}

// SetInt is geomloss_options_set_int. On error o is unchanged.
func (o *Options) SetInt(key int, v int64) error {
	if err := checkKey(key, kindInt); err != nil {
		return err
	}
	switch key {
	case KeyLoss, KeyBackend, KeyDevice:
		if _, ok := ValueName(key, v); !ok {
			return errf(ErrInvalidOption, "%s: unknown value %d (want %s)", keyNames[key], v, enumChoices(key))
		}
		switch key {
		case KeyLoss:
			o.Params.Loss = core.Loss(v)
		case KeyBackend:
			o.Params.Backend = core.Backend(v)
		default:
			o.Device = int(v)
		}
	case KeyP:
		if v != 1 && v != 2 {
			return errf(ErrInvalidOption, "p: must be 1 or 2, got %d", v)
		}
		o.Params.P = int(v)
	case KeyDebias:
		if v != 0 && v != 1 {
			return errf(ErrInvalidOption, "debias: must be 0 or 1, got %d", v)
		}
		o.Params.Debias = v == 1
	case KeyThreads:
		if v < 0 || v > MaxThreads {
			return errf(ErrInvalidOption, "threads: must lie in [0, %d] (0 = all cores), got %d", MaxThreads, v)
		}
		o.Threads = v
	}
	return nil
}

// SetString is geomloss_options_set_string (enumerated keys only).
func (o *Options) SetString(key int, s string) error {
	names, ok := enumNames[key]
	if !ok {
		if keyKind(key) == kindNone {
			return checkKey(key, kindInt)
		}
		return errf(ErrInvalidOption, "%s is not an enumerated option: set it with geomloss_options_set_%s", keyNames[key], map[kind]string{kindInt: "int", kindDouble: "double"}[keyKind(key)])
	}
	for v, n := range names {
		if n != "" && n == s {
			return o.SetInt(key, int64(v))
		}
	}
	want := ""
	for _, n := range names {
		if n != "" {
			if want != "" {
				want += ", "
			}
			want += n
		}
	}
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return errf(ErrInvalidOption, "%s: unknown name %q (want %s)", keyNames[key], s, want)
}

// SetDouble is geomloss_options_set_double. On error o is unchanged.
func (o *Options) SetDouble(key int, v float64) error {
	if err := checkKey(key, kindDouble); err != nil {
		return err
	}
	name := keyNames[key]
	finitePos := !math.IsNaN(v) && !math.IsInf(v, 0) && v > 0
	switch key {
	case KeyBlur:
		if !finitePos {
			return errf(ErrInvalidOption, "blur: must be a positive finite number, got %g", v)
		}
		o.Params.Blur = v
	case KeyReach:
		if math.IsNaN(v) || v < 0 {
			return errf(ErrInvalidOption, "reach: must be positive (or 0 or +inf for None: balanced transport), got %g", v)
		}
		o.Params.Reach = v
	case KeyDiameter:
		if math.IsNaN(v) || v < 0 || math.IsInf(v, 0) {
			return errf(ErrInvalidOption, "diameter: must be positive and finite (or 0 for None: estimated), got %g", v)
		}
		o.Params.Diameter = v
	case KeyScaling:
		if !(v > 0 && v < 1) {
			return errf(ErrInvalidOption, "scaling: must lie in (0, 1), got %g", v)
		}
		o.Params.Scaling = v
	case KeyTruncate:
		if math.IsNaN(v) || v <= 0 {
			return errf(ErrInvalidOption, "truncate: must be positive (or +inf for None: no truncation), got %g", v)
		}
		o.Params.Truncate = v
	case KeyClusterScale:
		if math.IsNaN(v) || v < 0 || math.IsInf(v, 0) {
			return errf(ErrInvalidOption, "cluster_scale: must be positive and finite (or 0 for None: the default), got %g", v)
		}
		o.Params.ClusterScale = v
	default:
		return errf(ErrInternal, "internal error: option %s has no setter", name)
	}
	return nil
}

// GetInt is geomloss_options_get_int.
func (o *Options) GetInt(key int) (int64, error) {
	if err := checkKey(key, kindInt); err != nil {
		return 0, err
	}
	switch key {
	case KeyLoss:
		return int64(o.Params.Loss), nil
	case KeyP:
		return int64(o.Params.P), nil
	case KeyDebias:
		if o.Params.Debias {
			return 1, nil
		}
		return 0, nil
	case KeyBackend:
		return int64(o.Params.Backend), nil
	case KeyThreads:
		return o.Threads, nil
	default: // KeyDevice
		return int64(o.Device), nil
	}
}

// GetDouble is geomloss_options_get_double.
func (o *Options) GetDouble(key int) (float64, error) {
	if err := checkKey(key, kindDouble); err != nil {
		return 0, err
	}
	switch key {
	case KeyBlur:
		return o.Params.Blur, nil
	case KeyReach:
		return o.Params.Reach, nil
	case KeyDiameter:
		return o.Params.Diameter, nil
	case KeyScaling:
		return o.Params.Scaling, nil
	case KeyTruncate:
		return o.Params.Truncate, nil
	default: // KeyClusterScale
		return o.Params.ClusterScale, nil
	}
}

// Reset is geomloss_options_reset for one key (key 0 is handled by the
// caller, which also owns the progress callback).
func (o *Options) Reset(key int) error {
	d := Defaults()
	switch keyKind(key) {
	case kindInt:
		v, _ := d.GetInt(key)
		return o.SetInt(key, v)
	case kindDouble:
		v, _ := d.GetDouble(key)
		return o.SetDouble(key, v)
	}
	return checkKey(key, kindInt)
}

// Validate checks a whole options object (the C struct may have been
// corrupted, and cross-option rules — hausdorff without reach — are checked
// only here, at evaluation).
func (o *Options) Validate() error {
	if _, ok := ValueName(KeyDevice, int64(o.Device)); !ok {
		return errf(ErrInvalidOption, "device: unknown value %d (want %s)", o.Device, enumChoices(KeyDevice))
	}
	if o.Threads < 0 || o.Threads > MaxThreads {
		return errf(ErrInvalidOption, "threads: must lie in [0, %d] (0 = all cores), got %d", MaxThreads, o.Threads)
	}
	if err := o.Params.Validate(); err != nil {
		var ce *core.Error
		if errors.As(err, &ce) {
			return err
		}
		return errf(ErrInvalidOption, "%v", err)
	}
	return nil
}

// ---- sizes --------------------------------------------------------------------

// Dims are validated sizes: every array length they imply fits in MaxElems.
type Dims struct{ B, N, M, D int }

// Lengths of the arrays of the C ABI.
func (d Dims) LenX() int { return d.B * d.N * d.D }
func (d Dims) LenY() int { return d.B * d.M * d.D }
func (d Dims) LenA() int { return d.B * d.N }
func (d Dims) LenB() int { return d.B * d.M }

// mul returns a·b, or false if it exceeds MaxElems (a, b ≥ 1).
func mul(a, b int64) (int64, bool) {
	if a > MaxElems/b {
		return 0, false
	}
	return a * b, true
}

// CheckSizes validates B, N, M, D: each ≥ 1 and every array length
// (B·N·D, B·M·D, B·N, B·M) at most MaxElems.
func CheckSizes(B, N, M, D int64) (Dims, error) {
	for _, s := range []struct {
		name string
		v    int64
	}{{"B", B}, {"N", N}, {"M", M}, {"D", D}} {
		if s.v < 1 {
			return Dims{}, errf(ErrSize, "%s must be >= 1, got %d", s.name, s.v)
		}
	}
	for _, p := range []struct {
		name    string
		a, b, c int64
	}{{"x (B*N*D)", B, N, D}, {"y (B*M*D)", B, M, D}} {
		ab, ok1 := mul(p.a, p.b)
		abc, ok2 := int64(0), false
		if ok1 {
			abc, ok2 = mul(ab, p.c)
		}
		if !ok1 || !ok2 {
			return Dims{}, errf(ErrSize, "%s: B=%d N=%d M=%d D=%d make more than 2^40 elements", p.name, B, N, M, D)
		}
		_ = abc
	}
	return Dims{B: int(B), N: int(N), M: int(M), D: int(D)}, nil
}

// ---- evaluation -------------------------------------------------------------------

// Inputs are the read-only arrays of an evaluation; nil means NULL.
type Inputs[T core.Float] struct {
	X, Y, A, Bw          []T
	CotValue, CotF, CotG []T
}

// Outputs are the caller's output arrays; nil means NULL (not computed).
type Outputs[T core.Float] struct {
	Value, F, G                []T
	GradX, GradY, GradA, GradB []T
}

// Report describes a successful run (geomloss_last_backend, ...).
type Report struct {
	Backend int
	Device  int
	Engine  string
	Note    string
}

// Eval validates an evaluation, runs it and, only on success, copies the
// results into out. progress (may be nil) receives the core's progress
// reports. It never panics: a panic below becomes an ErrInternal error.
func Eval[T core.Float](o *Options, d Dims, in Inputs[T], out Outputs[T], progress func(stage string, iter, total int) (stop bool)) (rep Report, err error) {
	defer func() {
		if v := recover(); v != nil {
			rep, err = Report{}, PanicError(v)
		}
	}()
	if o == nil {
		return Report{}, errf(ErrNullPointer, "opts is NULL")
	}
	if err := o.Validate(); err != nil {
		return Report{}, err
	}
	if d.B < 1 || d.N < 1 || d.M < 1 || d.D < 1 {
		if _, err := CheckSizes(int64(d.B), int64(d.N), int64(d.M), int64(d.D)); err != nil {
			return Report{}, err
		}
	}
	for _, r := range []struct {
		name string
		null bool
		what string
	}{
		{"x", in.X == nil, "the B×N×D points of the first clouds"},
		{"y", in.Y == nil, "the B×M×D points of the second clouds"},
		{"value", out.Value == nil, "the output array of B values"},
	} {
		if r.null {
			return Report{}, errf(ErrNullPointer, "%s is NULL (%s, required)", r.name, r.what)
		}
	}
	for _, a := range []struct {
		name string
		n    int
		want int
		dims string
	}{
		{"x", len(in.X), d.LenX(), "B×N×D"}, {"y", len(in.Y), d.LenY(), "B×M×D"},
		{"a", lenOr(in.A, d.LenA()), d.LenA(), "B×N"}, {"b", lenOr(in.Bw, d.LenB()), d.LenB(), "B×M"},
		{"cot_value", lenOr(in.CotValue, d.B), d.B, "B"},
		{"cot_F", lenOr(in.CotF, d.LenA()), d.LenA(), "B×N"}, {"cot_G", lenOr(in.CotG, d.LenB()), d.LenB(), "B×M"},
		{"value", len(out.Value), d.B, "B"},
		{"F", lenOr(out.F, d.LenA()), d.LenA(), "B×N"}, {"G", lenOr(out.G, d.LenB()), d.LenB(), "B×M"},
		{"grad_x", lenOr(out.GradX, d.LenX()), d.LenX(), "B×N×D"}, {"grad_y", lenOr(out.GradY, d.LenY()), d.LenY(), "B×M×D"},
		{"grad_a", lenOr(out.GradA, d.LenA()), d.LenA(), "B×N"}, {"grad_b", lenOr(out.GradB, d.LenB()), d.LenB(), "B×M"},
	} {
		if a.n != a.want {
			return Report{}, errf(ErrShape, "%s has %d elements but %s = %d", a.name, a.n, a.dims, a.want)
		}
	}
	if o.Device == DeviceGPU {
		return Report{}, errf(ErrUnsupported, "device: gpu is not available in this build (no GPU backend yet); use cpu or auto")
	}
	pr := core.Problem[T]{B: d.B, N: d.N, M: d.M, D: d.D, X: in.X, Y: in.Y, A: in.A, Bw: in.Bw}
	req := core.Request[T]{
		GradX: out.GradX != nil, GradY: out.GradY != nil, GradA: out.GradA != nil, GradB: out.GradB != nil,
		Potentials: out.F != nil || out.G != nil,
		CotValue:   in.CotValue, CotF: in.CotF, CotG: in.CotG,
		Progress: progress,
	}
	res, err := geomloss.Evaluate(o.Params, pr, req, geomloss.Options{Threads: int(o.Threads)})
	if err != nil {
		return Report{}, err
	}
	if res == nil {
		return Report{}, errf(ErrInternal, "internal error: core returned no result and no error")
	}
	for _, r := range []struct {
		name     string
		dst, src []T
	}{
		{"value", out.Value, res.Value}, {"F", out.F, res.F}, {"G", out.G, res.G},
		{"grad_x", out.GradX, res.GradX}, {"grad_y", out.GradY, res.GradY},
		{"grad_a", out.GradA, res.GradA}, {"grad_b", out.GradB, res.GradB},
	} {
		if r.dst != nil && len(r.src) != len(r.dst) {
			return Report{}, errf(ErrInternal, "internal error: core returned %d elements for %s, want %d", len(r.src), r.name, len(r.dst))
		}
	}
	copy(out.Value, res.Value)
	copy(out.F, res.F)
	copy(out.G, res.G)
	copy(out.GradX, res.GradX)
	copy(out.GradY, res.GradY)
	copy(out.GradA, res.GradA)
	copy(out.GradB, res.GradB)
	return Report{Backend: int(res.Backend), Device: DeviceCPU, Engine: res.Engine, Note: res.Note}, nil
}

// lenOr returns len(v), or want when v is nil (an absent optional array).
func lenOr[T any](v []T, want int) int {
	if v == nil {
		return want
	}
	return len(v)
}
