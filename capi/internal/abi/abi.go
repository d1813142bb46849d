// Package abi is the Go side of the C ABI (include/geomloss.h): option keys
// and their validation, size checks, status codes, and the evaluation call
// that package capi's //export functions forward to. It has no cgo, so the
// validation layer can be unit- and fuzz-tested with `go test`.
//
// The ABI's numbers and names (status codes, option keys, enum values,
// buffer keys, the version) are generated from include/geomloss.h into
// abi_gen.go by capi/internal/abigen; this file holds the logic only.
package abi

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/libgeomloss/libgeomloss"
	"github.com/libgeomloss/libgeomloss/core"
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
// *Error keeps its status; a *core.Error keeps its code, which is the ABI's
// status of the same number (core codes are ABI codes; a test checks it);
// anything else is internal.
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
		if c := int(ce.Code); c > OK && c < NumStatus && statusStrings[c] != "" {
			return c, ce.Msg
		}
		return ErrInternal, fmt.Sprintf("internal error: unknown core error code %d: %s", int(ce.Code), ce.Msg)
	}
	return ErrInternal, "internal error: " + err.Error()
}

// PanicError converts a recovered panic value into an internal error whose
// message has the panic value, then where it happened (core.PanicError: the
// frames below the panic, innermost first; call it in the deferred function
// that recovers).
func PanicError(v any) error { return core.PanicError(v) }

// StatusString is geomloss_status_string.
func StatusString(status int) string {
	if status < 0 || status >= NumStatus || statusStrings[status] == "" {
		return "unknown status"
	}
	return statusStrings[status]
}

// ---- options ----------------------------------------------------------------

// Options are the settings of a geomloss_options object.
type Options struct {
	Params  core.Params
	Threads int64
	Device  int
	// BlurSet records that GEOMLOSS_OPT_BLUR was set (since creation or its
	// reset): the grid entries use the pixel width when it was not.
	BlurSet bool
	// OT holds the OT solver's own options (GEOMLOSS_OPT_COST, _REG,
	// _UNBALANCED); Params.Tol and MaxIter serve both entry points.
	OT OTOptions
	// Grid holds the grid entries' own options (GEOMLOSS_OPT_SINGLE_SCALE,
	// _GRID_TOL).
	Grid GridOptions
}

// GridOptions are the options read by geomloss_eval_grid only.
type GridOptions struct {
	SingleScale bool
	Tol         float64 // the pass tolerance; 0: the default
}

// OTOptions are the options read by the OT solver only.
type OTOptions struct {
	Cost            int // a geomloss_cost
	Reg, Unbalanced float64
	Q               float64 // the exponent of GEOMLOSS_COST_POWER; 0: unset
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

func keyKind(key int) kind {
	if key <= 0 || key >= NumKeys {
		return kindNone
	}
	return keyKinds[key]
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
	case KeyLoss, KeyBackend, KeyDevice, KeyCost:
		if _, ok := ValueName(key, v); !ok {
			return errf(ErrInvalidOption, "%s: unknown value %d (want %s)", keyNames[key], v, enumChoices(key))
		}
		switch key {
		case KeyLoss:
			o.Params.Loss = core.Loss(v)
		case KeyBackend:
			o.Params.Backend = core.Backend(v)
		case KeyCost:
			o.OT.Cost = int(v)
		default:
			o.Device = int(v)
		}
	case KeyMaxIter:
		if v < 0 || v > math.MaxInt32 {
			return errf(ErrInvalidOption, "max_iter: must lie in [0, %d] (0 = the default), got %d", math.MaxInt32, v)
		}
		o.Params.MaxIter = int(v)
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
	case KeySingleScale:
		if v != 0 && v != 1 {
			return errf(ErrInvalidOption, "single_scale: must be 0 or 1, got %d", v)
		}
		o.Grid.SingleScale = v == 1
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
		o.BlurSet = true
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
	case KeyTol:
		if math.IsNaN(v) || v < 0 || math.IsInf(v, 0) {
			return errf(ErrInvalidOption, "tol: must be positive and finite (or 0 for None: the fixed schedule), got %g", v)
		}
		o.Params.Tol = v
	case KeyReg:
		if math.IsNaN(v) || v < 0 || math.IsInf(v, 0) {
			return errf(ErrInvalidOption, "reg: must be positive and finite (or 0 for None: from blur), got %g", v)
		}
		o.OT.Reg = v
	case KeyGridTol:
		if !(v >= 0 && v < 1) {
			return errf(ErrInvalidOption, "grid_tol: must lie in [0, 1) (0 = the default), got %g", v)
		}
		o.Grid.Tol = v
	case KeyUnbalanced:
		if math.IsNaN(v) || v < 0 {
			return errf(ErrInvalidOption, "unbalanced: must be positive (or 0 for None: from reach, or +inf: balanced), got %g", v)
		}
		o.OT.Unbalanced = v
	case KeyQ:
		if math.IsNaN(v) || v < 0 || math.IsInf(v, 0) || v > 0 && v < 1 {
			return errf(ErrInvalidOption, "q: the power cost's exponent must be >= 1 and finite (or 0 for None: unset), got %g", v)
		}
		o.OT.Q = v
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
	case KeyMaxIter:
		return int64(o.Params.MaxIter), nil
	case KeyCost:
		return int64(o.OT.Cost), nil
	case KeySingleScale:
		if o.Grid.SingleScale {
			return 1, nil
		}
		return 0, nil
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
	case KeyTol:
		return o.Params.Tol, nil
	case KeyReg:
		return o.OT.Reg, nil
	case KeyUnbalanced:
		return o.OT.Unbalanced, nil
	case KeyQ:
		return o.OT.Q, nil
	case KeyGridTol:
		return o.Grid.Tol, nil
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
		err := o.SetDouble(key, v)
		if key == KeyBlur {
			o.BlurSet = false
		}
		return err
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
// K and L are the OT solver's column counts of v and u (0 elsewhere).
type Dims struct{ B, N, M, D, K, L int }

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

// Inputs are the read-only arrays of an evaluation; nil means not set.
type Inputs[T core.Float] struct {
	X, Y, A, Bw          []T
	CotValue, CotF, CotG []T
	// LabelsX, LabelsY are the cluster labels (B×N, B×M; int64_t whatever
	// the dtype).
	LabelsX, LabelsY []int64
}

// Outputs are the caller's output arrays; nil means not set (not computed).
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

// Run is geomloss_eval after the options are read: it checks the sizes
// (CheckSizes) and the buffers (Bind), then evaluates (Eval).
func Run[T core.Float](o *Options, B, N, M, D int64, get Getter, progress func(stage string, iter, total int) (stop bool)) (Report, error) {
	d, err := CheckSizes(B, N, M, D)
	if err != nil {
		return Report{}, err
	}
	in, out, err := Bind[T](d, get)
	if err != nil {
		return Report{}, err
	}
	return Eval(o, d, in, out, progress)
}

// Eval runs an evaluation on arrays bound by Bind (so of the lengths d
// implies) and, only on success, copies the results into out. The options
// are checked here (the C struct may have been corrupted, and cross-option
// rules are checked only at evaluation); shapes and values are checked once,
// by the core. progress (may be nil) receives the core's progress reports,
// on the calling goroutine. It never panics: a panic below becomes an
// ErrInternal error.
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
	pr := core.Problem[T]{B: d.B, N: d.N, M: d.M, D: d.D, X: in.X, Y: in.Y, A: in.A, Bw: in.Bw,
		LabelsX: in.LabelsX, LabelsY: in.LabelsY}
	req := core.Request[T]{
		GradX: out.GradX != nil, GradY: out.GradY != nil, GradA: out.GradA != nil, GradB: out.GradB != nil,
		Potentials: out.F != nil || out.G != nil,
		CotValue:   in.CotValue, CotF: in.CotF, CotG: in.CotG,
		Progress: progress,
	}
	res, err := geomloss.Evaluate(o.Params, pr, req, geomloss.Options{Threads: int(o.Threads), Device: core.Device(o.Device)})
	if err != nil {
		return Report{}, err
	}
	if res == nil {
		return Report{}, errf(ErrInternal, "internal error: core returned no result and no error")
	}
	pairs := []struct {
		name     string
		dst, src []T
	}{
		{"value", out.Value, res.Value}, {"F", out.F, res.F}, {"G", out.G, res.G},
		{"grad_x", out.GradX, res.GradX}, {"grad_y", out.GradY, res.GradY},
		{"grad_a", out.GradA, res.GradA}, {"grad_b", out.GradB, res.GradB},
	}
	for _, r := range pairs {
		if r.dst != nil && len(r.src) != len(r.dst) {
			return Report{}, errf(ErrInternal, "internal error: core returned %d elements for %s, want %d", len(r.src), r.name, len(r.dst))
		}
	}
	for _, r := range pairs {
		copy(r.dst, r.src)
	}
	dev := DeviceCPU
	if res.Device != "" && !strings.HasPrefix(res.Device, "cpu") {
		dev = DeviceGPU
	}
	return Report{Backend: int(res.Backend), Device: dev, Engine: res.Engine, Note: res.Note}, nil
}
