package core

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// TestInvalidInput: every bad input yields an *Error with the right code and
// a message naming the argument; nothing panics and the inputs are untouched.
func TestInvalidInput(t *testing.T) {
	good := func() (Params, Problem[float64], Request[float64]) {
		return DefaultParams(), Problem[float64]{B: 1, N: 2, M: 3, D: 2,
			X: []float64{0, 0, 1, 0}, Y: []float64{0, 1, 1, 1, 0.5, 0.5},
			A: []float64{0.5, 0.5}, Bw: []float64{0.2, 0.3, 0.5}}, Request[float64]{GradX: true}
	}
	cases := []struct {
		name   string
		mutate func(*Params, *Problem[float64], *Request[float64])
		code   Code
		msg    string
	}{
		{"blur zero", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Blur = 0 }, ErrInvalidOption, "blur"},
		{"blur NaN", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Blur = math.NaN() }, ErrInvalidOption, "blur"},
		{"scaling one", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Scaling = 1 }, ErrInvalidOption, "scaling"},
		{"scaling zero", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Scaling = 0 }, ErrInvalidOption, "scaling"},
		{"p three", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.P = 3 }, ErrInvalidOption, "p:"},
		{"negative reach", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Reach = -1 }, ErrInvalidOption, "reach"},
		{"hausdorff reach", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Loss, p.Reach = Hausdorff, 1 }, ErrInvalidOption, "reach"},
		{"unknown loss", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Loss = 42 }, ErrInvalidOption, "loss"},
		{"unknown backend", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Backend = 9 }, ErrInvalidOption, "backend"},
		{"negative diameter", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Diameter = -2 }, ErrInvalidOption, "diameter"},
		{"zero N", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.N = 0 }, ErrInvalidArgument, "N=0"},
		{"x size", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.X = pr.X[:3] }, ErrShape, "x has 3 elements"},
		{"y columns", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.Y = append(pr.Y, 1, 2, 3) }, ErrShape, "y has 3 columns but x has 2"},
		{"a size", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.A = []float64{1} }, ErrShape, "a (weights of x)"},
		{"x NaN", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.X[1] = math.NaN() }, ErrValue, "x: element 1"},
		{"y Inf", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.Y[4] = math.Inf(1) }, ErrValue, "y: element 4"},
		{"negative weight", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.A[0], pr.A[1] = -0.5, 1.5 }, ErrValue, "negative"},
		{"zero weights", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.Bw = []float64{0, 0, 0} }, ErrValue, "all weights"},
		{"unequal masses", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.A[0] = 0.7 }, ErrValue, "set reach"},
		{"cotangent size", func(_ *Params, _ *Problem[float64], r *Request[float64]) { r.CotValue = []float64{1, 2} }, ErrShape, "cotangent of the value"},
		{"tensorized cap", func(p *Params, pr *Problem[float64], _ *Request[float64]) {
			p.Backend = Tensorized
			pr.B, pr.N, pr.M = 1, 1<<14, 1<<13
			pr.X, pr.Y, pr.A, pr.Bw = make([]float64, 2<<14), make([]float64, 2<<13), nil, nil
		}, ErrMemory, "tensorized"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			par, pr, req := good()
			c.mutate(&par, &pr, &req)
			snapshot := append([]float64(nil), pr.X...)
			_, err := Evaluate(Config[float64]{}, par, pr, req)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if e.Code != c.code || !strings.Contains(e.Msg, c.msg) {
				t.Errorf("got code %d %q, want code %d containing %q", e.Code, e.Msg, c.code, c.msg)
			}
			for i := range snapshot {
				if !(snapshot[i] == pr.X[i] || math.IsNaN(snapshot[i])) {
					t.Fatal("x was modified")
				}
			}
		})
	}
	// Signed weights are fine for kernel norms, zero weights on some points too.
	par, pr, req := good()
	par.Loss = Energy
	pr.A[0], pr.A[1] = -0.5, 1.5
	if _, err := Evaluate(Config[float64]{}, par, pr, req); err != nil {
		t.Errorf("kernel loss with signed weights: %v", err)
	}
	par, pr, req = good()
	pr.Bw = []float64{0, 0.5, 0.5}
	if res, err := Evaluate(Config[float64]{}, par, pr, req); err != nil || math.IsNaN(res.Value[0]) {
		t.Errorf("sinkhorn with a zero weight: %v %v", res, err)
	}
}

// TestBackendChoice follows GeomLoss's auto rule and reports substitutions.
func TestBackendChoice(t *testing.T) {
	pr := Problem[float32]{B: 1, N: 6000, M: 6000, D: 3}
	par := DefaultParams()
	cpu := Portable[float32](Resources{})
	if b, _, _ := chooseBackend(par, pr, cpu, 0); b != Online {
		t.Errorf("N·M > 5000²: got %s, want online", b)
	}
	// On a CPU engine, auto never picks the (slower) dense backend; an engine
	// that prefers dense reductions gets them for small problems.
	pr.N, pr.M = 100, 100
	if b, _, _ := chooseBackend(par, pr, cpu, 0); b != Online {
		t.Errorf("small on the CPU: got %s, want online", b)
	}
	if b, _, _ := chooseBackend[float32](par, pr, densePreferring{cpu}, 0); b != Tensorized {
		t.Errorf("small on a dense-preferring engine: got %s, want tensorized", b)
	}
	pr.N, pr.M = 20000, 20000
	if b, _, _ := chooseBackend(par, pr, cpu, 0); b != Multiscale {
		t.Errorf("large 3D sinkhorn: got %s, want multiscale (see TestAutoPicksMultiscale)", b)
	}
	// Kernel norms without truncation (energy, truncate=None) run online.
	par.Backend = Multiscale
	for _, l := range []Loss{Energy, Gaussian} {
		par.Loss, par.Truncate = l, math.Inf(1)
		if b, note, _ := chooseBackend(par, pr, cpu, 0); b != Online || !strings.Contains(note, "online") {
			t.Errorf("%s multiscale without truncation: got %s (%q), want online with a note", l, b, note)
		}
	}
	// Labels select multiscale.
	par = DefaultParams()
	pr.LabelsX, pr.LabelsY = make([]int64, pr.N), make([]int64, pr.M)
	if b, _, _ := chooseBackend(par, pr, cpu, 0); b != Multiscale {
		t.Errorf("labels: got %s, want multiscale", b)
	}
}

// TestOverflowIsAnError: float32 coordinates whose squared distances overflow
// give an error, not a silent NaN or Inf.
func TestOverflowIsAnError(t *testing.T) {
	pr := Problem[float32]{B: 1, N: 2, M: 2, D: 1, X: []float32{0, 1}, Y: []float32{1e20, -1e20}}
	for _, l := range []Loss{Sinkhorn, Energy} {
		par := DefaultParams()
		par.Loss = l
		_, err := Evaluate(Config[float32]{}, par, pr, Request[float32]{GradX: true})
		var e *Error
		if !errors.As(err, &e) || e.Code != ErrValue || !strings.Contains(e.Msg, "out of range") {
			t.Errorf("%s: got %v, want an ErrValue saying the problem is out of range", l, err)
		}
	}
}

// densePreferring is an engine that asks for dense reductions on every problem.
type densePreferring struct{ Engine[float32] }

func (densePreferring) PrefersDense(b, n, m, d int) bool { return true }
