package abi

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"unsafe"

	"github.com/libgeomloss/libgeomloss/core"
)

func TestStatusCodesMatchCore(t *testing.T) {
	for _, c := range []struct {
		core core.Code
		abi  int
	}{
		{core.ErrInvalidArgument, ErrInvalidArgument}, {core.ErrInvalidOption, ErrInvalidOption},
		{core.ErrShape, ErrShape}, {core.ErrValue, ErrValue}, {core.ErrMemory, ErrMemory},
		{core.ErrUnsupported, ErrUnsupported}, {core.ErrInternal, ErrInternal},
		{core.ErrCancelled, ErrCancelled}, {core.ErrDevice, ErrDevice},
	} {
		if int(c.core) != c.abi {
			t.Errorf("core code %d maps to ABI status %d", c.core, c.abi)
		}
		st, msg := StatusOf(&core.Error{Code: c.core, Msg: "m"})
		if st != c.abi || msg != "m" {
			t.Errorf("StatusOf(core %d) = %d, %q", c.core, st, msg)
		}
	}
}

func TestStatusOf(t *testing.T) {
	if st, msg := StatusOf(nil); st != OK || msg != "" {
		t.Errorf("nil: %d %q", st, msg)
	}
	if st, msg := StatusOf(fmt.Errorf("wrapped: %w", &Error{ErrSize, "N must be >= 1"})); st != ErrSize || msg != "N must be >= 1" {
		t.Errorf("wrapped abi error: %d %q", st, msg)
	}
	if st, msg := StatusOf(errors.New("boom")); st != ErrInternal || !strings.Contains(msg, "boom") {
		t.Errorf("plain error: %d %q", st, msg)
	}
	if st, _ := StatusOf(&core.Error{Code: 99, Msg: "x"}); st != ErrInternal {
		t.Errorf("unknown core code: %d", st)
	}
	for s := -1; s <= NumStatus; s++ {
		name := StatusString(s)
		if (s < 0 || s >= NumStatus) != (name == "unknown status") {
			t.Errorf("StatusString(%d) = %q", s, name)
		}
	}
}

func TestOptionDefaultsAndRoundTrip(t *testing.T) {
	o := Defaults()
	want := map[int]float64{KeyLoss: 1, KeyP: 2, KeyDebias: 1, KeyBackend: 0, KeyThreads: 0, KeyDevice: 0,
		KeyBlur: 0.05, KeyReach: 0, KeyDiameter: 0, KeyScaling: 0.5, KeyTruncate: 5, KeyClusterScale: 0}
	for key := 1; key < NumKeys; key++ {
		var got float64
		if keyKind(key) == kindInt {
			v, err := o.GetInt(key)
			if err != nil {
				t.Fatal(err)
			}
			got = float64(v)
		} else {
			v, err := o.GetDouble(key)
			if err != nil {
				t.Fatal(err)
			}
			got = v
		}
		if got != want[key] {
			t.Errorf("default %s = %g, want %g", KeyName(key), got, want[key])
		}
	}
	sets := []struct {
		key int
		v   float64
	}{{KeyLoss, 4}, {KeyP, 1}, {KeyDebias, 0}, {KeyBackend, 2}, {KeyThreads, 7}, {KeyDevice, 1},
		{KeyBlur, 0.3}, {KeyReach, math.Inf(1)}, {KeyDiameter, 2}, {KeyScaling, 0.8}, {KeyTruncate, math.Inf(1)}, {KeyClusterScale, 0.2}}
	for _, s := range sets {
		var err error
		var got float64
		if keyKind(s.key) == kindInt {
			err = o.SetInt(s.key, int64(s.v))
			v, _ := o.GetInt(s.key)
			got = float64(v)
		} else {
			err = o.SetDouble(s.key, s.v)
			got, _ = o.GetDouble(s.key)
		}
		if err != nil || got != s.v {
			t.Errorf("set %s = %g: err %v, read back %g", KeyName(s.key), s.v, err, got)
		}
	}
	if err := o.Validate(); err != nil {
		t.Errorf("valid options rejected: %v", err)
	}
	for key := 1; key < NumKeys; key++ {
		if err := o.Reset(key); err != nil {
			t.Errorf("reset %s: %v", KeyName(key), err)
		}
	}
	if o != Defaults() {
		t.Errorf("after resetting every key: %+v", o)
	}
}

func TestOptionErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		name string
		err  func(o *Options) error
		msg  string
	}{
		{"unknown key", func(o *Options) error { return o.SetInt(0, 1) }, "option key 0 is unknown"},
		{"unknown key get", func(o *Options) error { _, e := o.GetDouble(NumKeys); return e }, "is unknown"},
		{"wrong type", func(o *Options) error { return o.SetInt(KeyBlur, 1) }, "blur is a floating-point option"},
		{"wrong type 2", func(o *Options) error { return o.SetDouble(KeyThreads, 1) }, "threads is an integer option"},
		{"string on double", func(o *Options) error { return o.SetString(KeyScaling, "0.5") }, "scaling is not an enumerated option"},
		{"string on int", func(o *Options) error { return o.SetString(KeyP, "2") }, "p is not an enumerated option"},
		{"string unknown key", func(o *Options) error { return o.SetString(-3, "x") }, "option key -3 is unknown"},
		{"bad name", func(o *Options) error { return o.SetString(KeyLoss, "sinkhorn ") }, `loss: unknown name "sinkhorn "`},
		{"long name", func(o *Options) error { return o.SetString(KeyBackend, strings.Repeat("z", 500)) }, "..."},
		{"loss 0", func(o *Options) error { return o.SetInt(KeyLoss, 0) }, "loss: unknown value 0"},
		{"backend huge", func(o *Options) error { return o.SetInt(KeyBackend, math.MaxInt64) }, "backend: unknown value"},
		{"p", func(o *Options) error { return o.SetInt(KeyP, 0) }, "p: must be 1 or 2"},
		{"debias", func(o *Options) error { return o.SetInt(KeyDebias, -1) }, "debias: must be 0 or 1"},
		{"threads", func(o *Options) error { return o.SetInt(KeyThreads, MaxThreads+1) }, "threads: must lie in"},
		{"blur nan", func(o *Options) error { return o.SetDouble(KeyBlur, nan) }, "blur"},
		{"blur inf", func(o *Options) error { return o.SetDouble(KeyBlur, inf) }, "blur"},
		{"reach", func(o *Options) error { return o.SetDouble(KeyReach, -inf) }, "reach"},
		{"diameter", func(o *Options) error { return o.SetDouble(KeyDiameter, nan) }, "diameter"},
		{"scaling", func(o *Options) error { return o.SetDouble(KeyScaling, -0.5) }, "scaling"},
		{"truncate", func(o *Options) error { return o.SetDouble(KeyTruncate, -inf) }, "truncate"},
		{"cluster_scale", func(o *Options) error { return o.SetDouble(KeyClusterScale, inf) }, "cluster_scale"},
		{"reset unknown", func(o *Options) error { return o.Reset(99) }, "option key 99"},
	} {
		o := Defaults()
		err := c.err(&o)
		st, msg := StatusOf(err)
		if st != ErrInvalidOption || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: status %d, message %q, want %q", c.name, st, msg, c.msg)
		}
		if o != Defaults() {
			t.Errorf("%s: a failed setter changed the options: %+v", c.name, o)
		}
	}
	// cross-option rule, checked at evaluation
	o := Defaults()
	_ = o.SetInt(KeyLoss, int64(core.Hausdorff))
	_ = o.SetDouble(KeyReach, 1)
	if st, msg := StatusOf(o.Validate()); st != ErrInvalidOption || !strings.Contains(msg, "hausdorff") {
		t.Errorf("hausdorff with reach: %d %q", st, msg)
	}
	o = Defaults()
	o.Device = 9
	if st, _ := StatusOf(o.Validate()); st != ErrInvalidOption {
		t.Errorf("corrupt device accepted")
	}
}

func TestValueNames(t *testing.T) {
	for _, key := range []int{KeyLoss, KeyBackend, KeyDevice} {
		n := 0
		for v := int64(-1); v < 8; v++ {
			name, ok := ValueName(key, v)
			if !ok {
				continue
			}
			n++
			o := Defaults()
			if err := o.SetString(key, name); err != nil {
				t.Errorf("%s %q: %v", KeyName(key), name, err)
			}
			if got, _ := o.GetInt(key); got != v {
				t.Errorf("%s %q read back as %d, want %d", KeyName(key), name, got, v)
			}
		}
		if n == 0 {
			t.Errorf("%s has no names", KeyName(key))
		}
	}
	// the names are GeomLoss's, as core spells them
	for l := core.Sinkhorn; l <= core.Laplacian; l++ {
		if name, _ := ValueName(KeyLoss, int64(l)); name != l.String() {
			t.Errorf("loss %d: %q vs core %q", l, name, l.String())
		}
	}
	for b := core.Auto; b <= core.Multiscale; b++ {
		if name, _ := ValueName(KeyBackend, int64(b)); name != b.String() {
			t.Errorf("backend %d: %q vs core %q", b, name, b.String())
		}
	}
	if _, ok := ValueName(KeyBlur, 0); ok {
		t.Error("blur has a value name")
	}
}

func TestCheckSizes(t *testing.T) {
	for _, c := range []struct {
		B, N, M, D int64
		st         int
		msg        string
	}{
		{1, 1, 1, 1, OK, ""},
		{2, 1000, 3000, 3, OK, ""},
		{0, 1, 1, 1, ErrSize, "B must be >= 1, got 0"},
		{1, -1, 1, 1, ErrSize, "N must be >= 1, got -1"},
		{1, 1, math.MinInt64, 1, ErrSize, "M must be >= 1"},
		{1, 1, 1, 0, ErrSize, "D must be >= 1, got 0"},
		{1, 1 << 40, 1, 1, OK, ""},
		{1, 1<<40 + 1, 1, 1, ErrSize, "x (B*N*D)"},
		{2, 1, 1 << 39, 3, ErrSize, "y (B*M*D)"},
		{math.MaxInt64, math.MaxInt64, math.MaxInt64, math.MaxInt64, ErrSize, "2^40"},
		{1 << 21, 1 << 21, 1, 1, ErrSize, "x (B*N*D)"},
	} {
		d, err := CheckSizes(c.B, c.N, c.M, c.D)
		st, msg := StatusOf(err)
		if st != c.st || !strings.Contains(msg, c.msg) {
			t.Errorf("CheckSizes(%d, %d, %d, %d): %d %q, want %d %q", c.B, c.N, c.M, c.D, st, msg, c.st, c.msg)
		}
		if err == nil && (int64(d.LenX()) != c.B*c.N*c.D || int64(d.LenB()) != c.B*c.M) {
			t.Errorf("CheckSizes(%d, %d, %d, %d) = %+v", c.B, c.N, c.M, c.D, d)
		}
	}
}

// problem returns a small deterministic problem.
func problem(B, N, M, D int) ([]float64, []float64) {
	x, y := make([]float64, B*N*D), make([]float64, B*M*D)
	for i := range x {
		x[i] = math.Sin(float64(i) * 0.37)
	}
	for i := range y {
		y[i] = 0.3 + 0.5*math.Cos(float64(i)*0.61)
	}
	return x, y
}

// getter serves Go slices as buffers, keyed like geomloss_buffers_set.
func getter(bufs map[int][]float64) Getter {
	return func(key, need int) Buffer {
		v, ok := bufs[key]
		if !ok {
			return Buffer{}
		}
		if len(v) == 0 {
			return Buffer{Ptr: unsafe.Pointer(&struct{ f float64 }{}), Count: 0}
		}
		return Buffer{Ptr: unsafe.Pointer(&v[0]), Count: int64(len(v))}
	}
}

func TestDevicesMatchCore(t *testing.T) {
	if DeviceAuto != int(core.DeviceAuto) || DeviceCPU != int(core.DeviceCPU) || DeviceGPU != int(core.DeviceGPU) {
		t.Error("geomloss_device values differ from core.Device")
	}
}

func TestCheckBuffer(t *testing.T) {
	for _, c := range []struct {
		key   int
		count int64
		st    int
		msg   string
	}{
		{BufX, 6, OK, ""}, {BufGradB, 0, OK, ""},
		{0, 1, ErrInvalidArgument, "buffer key 0 is unknown"}, {-4, 1, ErrInvalidArgument, "buffer key -4"},
		{10, 1, ErrUnsupported, "buffer key 10 is not supported"}, {BufLaterBegin, 1, ErrUnsupported, "not supported"},
		{BufY, -1, ErrSize, "y: count must be >= 0 elements, got -1"},
	} {
		st, msg := StatusOf(CheckBuffer(c.key, c.count))
		if st != c.st || !strings.Contains(msg, c.msg) {
			t.Errorf("CheckBuffer(%d, %d): %d %q, want %d %q", c.key, c.count, st, msg, c.st, c.msg)
		}
	}
	// every key of the header lies in its range, inputs before outputs
	for _, s := range BufSpecs() {
		if s.Output != (s.Key >= BufOutputsBegin) || s.Key <= 0 || s.Key >= BufLaterBegin {
			t.Errorf("%s = %d: outside its range", s.Const, s.Key)
		}
	}
}

func TestRun(t *testing.T) {
	const B, N, M, D = 2, 7, 5, 3
	x, y := problem(B, N, M, D)
	o := Defaults()
	val, gx, F := make([]float64, B), make([]float64, B*N*D), make([]float64, B*N)
	rep, err := Run[float64](&o, B, N, M, D, getter(map[int][]float64{BufX: x, BufY: y, BufValue: val, BufGradX: gx, BufF: F}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !(val[0] > 0 && val[1] > 0) || rep.Device != DeviceCPU || rep.Engine == "" || rep.Backend != int(core.Online) {
		t.Errorf("values %v, report %+v", val, rep)
	}
	// Bind's views are the caller's memory, and equal Eval on plain slices
	d, _ := CheckSizes(B, N, M, D)
	val2 := make([]float64, B)
	if _, err := Eval(&o, d, Inputs[float64]{X: x, Y: y}, Outputs[float64]{Value: val2}, nil); err != nil || val2[0] != val[0] || val2[1] != val[1] {
		t.Errorf("Eval %v %v vs Run %v", val2, err, val)
	}
	bad := append([]float64(nil), x...)
	bad[4] = math.Inf(-1)
	gpu := Defaults()
	gpu.Device = DeviceGPU
	for _, c := range []struct {
		name       string
		o          *Options
		B, N, M, D int64
		bufs       map[int][]float64
		st         int
		msg        string
	}{
		{"nil options", nil, B, N, M, D, map[int][]float64{BufX: x, BufY: y}, ErrNullPointer, "opts is NULL"},
		{"nil x", &o, B, N, M, D, map[int][]float64{BufY: y}, ErrNullPointer, "x is NULL (GEOMLOSS_BUF_X: the B×N×D points of the first clouds, required)"},
		{"nil y", &o, B, N, M, D, map[int][]float64{BufX: x}, ErrNullPointer, "y is NULL"},
		{"no value", &o, B, N, M, D, map[int][]float64{BufX: x, BufY: y, BufValue: nil}, ErrNullPointer, "value is NULL"},
		{"short y", &o, B, N, M, D, map[int][]float64{BufX: x, BufY: y[:5]}, ErrShape, "y has 5 elements, needs 30 (B×M×D = 2×5×3)"},
		{"long a", &o, B, N, M, D, map[int][]float64{BufX: x, BufY: y, BufA: make([]float64, B*N+1)}, ErrShape, "a has 15 elements, needs 14 (B×N = 2×7)"},
		{"short grad_x", &o, B, N, M, D, map[int][]float64{BufX: x, BufY: y, BufGradX: make([]float64, B*N*D-1)}, ErrShape, "grad_x has 41 elements, needs 42"},
		{"empty cot_value", &o, B, N, M, D, map[int][]float64{BufX: x, BufY: y, BufCotValue: {}}, ErrShape, "cot_value has 0 elements, needs 2 (B = 2)"},
		{"zero dims", &o, 0, N, M, D, map[int][]float64{BufX: x, BufY: y}, ErrSize, "B must be >= 1"},
		{"non-finite", &o, B, N, M, D, map[int][]float64{BufX: bad, BufY: y}, ErrValue, "x: element 4 is not finite"},
		{"gpu", &gpu, B, N, M, D, map[int][]float64{BufX: x, BufY: y}, ErrUnsupported, "device: gpu"},
	} {
		v, g := []float64{42, 42}, make([]float64, B*N*D)
		for i := range g {
			g[i] = 42
		}
		if _, ok := c.bufs[BufValue]; !ok {
			c.bufs[BufValue] = v
		} else {
			delete(c.bufs, BufValue)
		}
		if _, ok := c.bufs[BufGradX]; !ok {
			c.bufs[BufGradX] = g
		}
		_, err := Run[float64](c.o, c.B, c.N, c.M, c.D, getter(c.bufs), nil)
		st, msg := StatusOf(err)
		if st != c.st || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: %d %q, want %d %q", c.name, st, msg, c.st, c.msg)
		}
		for _, s := range [][]float64{v, g} {
			for _, e := range s {
				if e != 42 {
					t.Fatalf("%s: outputs written on error", c.name)
				}
			}
		}
	}
	// x is never written
	x0, _ := problem(B, N, M, D)
	for i := range x {
		if x[i] != x0[i] {
			t.Fatal("x was modified")
		}
	}
}

func TestRunCancelled(t *testing.T) {
	const B, N, M, D = 1, 40, 30, 2
	x, y := problem(B, N, M, D)
	o := Defaults()
	v := []float64{42}
	calls := 0
	_, err := Run[float64](&o, B, N, M, D, getter(map[int][]float64{BufX: x, BufY: y, BufValue: v}), func(string, int, int) bool {
		calls++
		return true
	})
	if st, msg := StatusOf(err); st != ErrCancelled || !strings.Contains(msg, "cancelled") || v[0] != 42 || calls < 1 {
		t.Errorf("cancel: %d %q, value %v, %d calls", st, msg, v, calls)
	}
}

func TestPanicErrorSite(t *testing.T) {
	var err error
	func() {
		defer func() { err = PanicError(recover()) }()
		var m map[string]int
		m["x"] = 1 // a runtime panic
	}()
	st, msg := StatusOf(err)
	if st != ErrInternal || !strings.Contains(msg, "assignment to entry in nil map") || !strings.Contains(msg, "TestPanicErrorSite") {
		t.Errorf("%d %q", st, msg)
	}
}

// The header documents the bound MaxThreads puts on GEOMLOSS_OPT_THREADS
// (issue 11: it said only ">= 0").
func TestHeaderDocumentsThreadsBound(t *testing.T) {
	h, err := os.ReadFile("../../../include/geomloss.h")
	if err != nil {
		t.Fatal(err)
	}
	s := string(h)
	i := strings.Index(s, "GEOMLOSS_OPT_THREADS = ")
	if i < 0 {
		t.Fatal("geomloss.h: no GEOMLOSS_OPT_THREADS")
	}
	doc := s[strings.LastIndex(s[:i], "/*"):i]
	if want := fmt.Sprintf("[0, %d]", MaxThreads); !strings.Contains(doc, want) {
		t.Errorf("geomloss.h: the comment of GEOMLOSS_OPT_THREADS does not state the range %s:\n%s", want, doc)
	}
}
