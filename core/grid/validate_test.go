package grid

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// TestInvalidInput: every bad argument is a *core.Error with the right code
// whose message names the argument; nothing the caller owns is modified.
func TestInvalidInput(t *testing.T) {
	shape := []int{4, 5}
	good := func() (Params, Problem[float64]) {
		a, b := blobs(1, 2, shape, false), blobs(2, 2, shape, false)
		return DefaultParams(), Problem[float64]{B: 2, Shape: shape, A: a, Bw: b}
	}
	for _, c := range []struct {
		name string
		edit func(*Params, *Problem[float64], *Request[float64])
		code core.Code
		word string
	}{
		{"p", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.P = 3 }, core.ErrInvalidOption, "p:"},
		{"blur<0", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Blur = -1 }, core.ErrInvalidOption, "blur"},
		{"blur NaN", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Blur = math.NaN() }, core.ErrInvalidOption, "blur"},
		{"scaling", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Scaling = 1 }, core.ErrInvalidOption, "scaling"},
		{"reach", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Reach = -2 }, core.ErrInvalidOption, "reach"},
		{"diameter", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Diameter = math.Inf(1) }, core.ErrInvalidOption, "diameter"},
		{"tolerance", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Tolerance = 2 }, core.ErrInvalidOption, "tolerance"},
		{"spacing len", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Spacing = []float64{1} }, core.ErrShape, "spacing"},
		{"spacing 0", func(p *Params, _ *Problem[float64], _ *Request[float64]) { p.Spacing = []float64{1, 0} }, core.ErrInvalidOption, "spacing"},
		{"4 axes", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.Shape = []int{2, 2, 5, 1} }, core.ErrShape, "shape"},
		{"no axes", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.Shape = nil }, core.ErrShape, "shape"},
		{"side 0", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.Shape = []int{0, 5} }, core.ErrShape, "shape"},
		{"B", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.B = 0 }, core.ErrInvalidArgument, "B"},
		{"len a", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.A = pr.A[:39] }, core.ErrShape, "a has"},
		{"len b", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.Bw = nil }, core.ErrShape, "b has"},
		{"NaN a", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.A[3] = math.NaN() }, core.ErrValue, "a: element 3"},
		{"negative b", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.Bw[7] = -1e-3 }, core.ErrValue, "b: element 7"},
		{"zero mass", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { clear(pr.A[20:]) }, core.ErrValue, "batch item 1"},
		{"unequal masses", func(_ *Params, pr *Problem[float64], _ *Request[float64]) { pr.Bw[0] += 0.1 }, core.ErrValue, "masses"},
		{"cotangent len", func(_ *Params, _ *Problem[float64], r *Request[float64]) { r.CotValue = []float64{1} }, core.ErrShape, "cotangent"},
		{"cotangent NaN", func(_ *Params, _ *Problem[float64], r *Request[float64]) { r.CotValue = []float64{1, math.Inf(1)} }, core.ErrValue, "cotangent"},
	} {
		par, pr := good()
		req := Request[float64]{GradA: true}
		pr.A, pr.Bw = append([]float64(nil), pr.A...), append([]float64(nil), pr.Bw...)
		c.edit(&par, &pr, &req)
		res, err := Evaluate(Config[float64]{}, par, pr, req)
		var ce *core.Error
		if !errors.As(err, &ce) {
			t.Errorf("%s: got %v, %v; want a *core.Error", c.name, res, err)
			continue
		}
		if ce.Code != c.code || !strings.Contains(ce.Msg, c.word) {
			t.Errorf("%s: got code %d %q; want code %d naming %q", c.name, ce.Code, ce.Msg, c.code, c.word)
		}
	}
	// Unequal masses are fine when unbalanced; inputs are left untouched.
	par, pr := good()
	pr.Bw[0] += 0.1
	par.Reach = 0.5
	a0, b0 := append([]float64(nil), pr.A...), append([]float64(nil), pr.Bw...)
	if _, err := Evaluate(Config[float64]{}, par, pr, Request[float64]{GradA: true, GradB: true, Potentials: true}); err != nil {
		t.Fatal(err)
	}
	for i := range a0 {
		if a0[i] != pr.A[i] || b0[i] != pr.Bw[i] {
			t.Fatal("Evaluate modified its inputs")
		}
	}
}

// TestBatchAndThreads: a batch of B items gives each item's single answer
// (weighted by its cotangent in the gradients), bit for bit, and the result
// does not depend on the thread count, in float32 and float64.
func TestBatchAndThreads(t *testing.T) {
	testBatch[float64](t)
	testBatch[float32](t)
}

func testBatch[T core.Float](t *testing.T) {
	shape := []int{24, 20, 16} // large enough for passes to be split among threads
	const B = 3
	a, b := convert[T](blobs(11, B, shape, true)), convert[T](blobs(12, B, shape, false))
	size := len(a) / B
	cot := []T{1, -2, 0.5}
	par := DefaultParams()
	par.Reach = 0.7
	req := Request[T]{GradA: true, GradB: true, Potentials: true, CotValue: cot}
	all, err := Evaluate(Config[T]{Threads: 1}, par, Problem[T]{B: B, Shape: shape, A: a, Bw: b}, req)
	if err != nil {
		t.Fatal(err)
	}
	multi, err := Evaluate(Config[T]{Threads: 5}, par, Problem[T]{B: B, Shape: shape, A: a, Bw: b}, req)
	if err != nil {
		t.Fatal(err)
	}
	same := func(name string, x, y []T) {
		t.Helper()
		for i := range x {
			if math.Float64bits(float64(x[i])) != math.Float64bits(float64(y[i])) {
				t.Fatalf("%s[%d]: %v vs %v", name, i, x[i], y[i])
			}
		}
	}
	same("value (threads)", all.Value, multi.Value)
	same("grad a (threads)", all.GradA, multi.GradA)
	same("F (threads)", all.F, multi.F)
	for k := 0; k < B; k++ {
		one, err := Evaluate(Config[T]{}, par, Problem[T]{B: 1, Shape: shape, A: a[k*size : (k+1)*size], Bw: b[k*size : (k+1)*size]},
			Request[T]{GradA: true, GradB: true, Potentials: true, CotValue: cot[k : k+1]})
		if err != nil {
			t.Fatal(err)
		}
		same("value", one.Value, all.Value[k:k+1])
		same("grad a", one.GradA, all.GradA[k*size:(k+1)*size])
		same("grad b", one.GradB, all.GradB[k*size:(k+1)*size])
		same("F", one.F, all.F[k*size:(k+1)*size])
		same("G", one.G, all.G[k*size:(k+1)*size])
	}
}

// TestCancellation: a Progress callback returning true, or a Stop flag set
// beforehand, fails the evaluation (and the barycenter) with ErrCancelled;
// progress reports every iteration of every batch item.
func TestCancellation(t *testing.T) {
	shape := []int{16, 16}
	a, b := blobs(91, 2, shape, false), blobs(92, 2, shape, false)
	pr := Problem[float64]{B: 2, Shape: shape, A: a, Bw: b}
	var calls int
	var last string
	res, err := Evaluate(Config[float64]{}, DefaultParams(), pr, Request[float64]{Progress: func(stage string, iter, total int) bool {
		calls++
		last = stage
		return false
	}})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2*len(res.Eps) || last != "grid sinkhorn (batch item 2 of 2)" {
		t.Errorf("progress: %d calls (want %d), last stage %q", calls, 2*len(res.Eps), last)
	}
	isCancelled := func(err error) bool {
		var ce *core.Error
		return errors.As(err, &ce) && ce.Code == core.ErrCancelled
	}
	_, err = Evaluate(Config[float64]{}, DefaultParams(), pr, Request[float64]{Progress: func(string, int, int) bool { return true }})
	if !isCancelled(err) {
		t.Errorf("progress returning true: got %v, want ErrCancelled", err)
	}
	stop := new(core.Stop)
	stop.Set()
	if _, err := Evaluate(Config[float64]{Stop: stop}, DefaultParams(), pr, Request[float64]{}); !isCancelled(err) {
		t.Errorf("Stop set: got %v, want ErrCancelled", err)
	}
	if _, err := Barycenter(Config[float64]{Stop: stop}, DefaultBarycenterParams(), 1, 2, shape, a, []float64{.5, .5}); !isCancelled(err) {
		t.Errorf("barycenter, Stop set: got %v, want ErrCancelled", err)
	}
}

// TestDegenerateGrids: single pixels, sides of 1 and 2, very thin grids,
// p = 1 and unbalanced: answers (finite, ≥ 0), S(a, a) = 0, and 0 for a
// single pixel.
func TestDegenerateGrids(t *testing.T) {
	for _, shape := range [][]int{{1}, {2}, {1, 1}, {1, 7}, {7, 1}, {2, 2, 2}, {1, 1, 9}, {3, 1, 2}, {64, 1}} {
		for _, p := range []int{1, 2} {
			for _, reach := range []float64{0, 0.5} {
				a, b := blobs(17, 1, shape, false), blobs(18, 1, shape, false)
				par := DefaultParams()
				par.P, par.Reach = p, reach
				res, err := Evaluate(Config[float64]{}, par, Problem[float64]{B: 1, Shape: shape, A: a, Bw: b}, Request[float64]{GradA: true, GradB: true, Potentials: true})
				if err != nil {
					t.Fatalf("%v p=%d reach=%g: %v", shape, p, reach, err)
				}
				same, err := Evaluate(Config[float64]{}, par, Problem[float64]{B: 1, Shape: shape, A: a, Bw: a}, Request[float64]{})
				if err != nil {
					t.Fatal(err)
				}
				if same.Value[0] != 0 {
					t.Errorf("%v p=%d reach=%g: S(a,a) = %g", shape, p, reach, same.Value[0])
				}
				if len(a) == 1 && res.Value[0] != 0 {
					t.Errorf("%v: one pixel, S = %g, want 0", shape, res.Value[0])
				}
				if res.Value[0] < -1e-12 {
					t.Errorf("%v p=%d reach=%g: S = %g < 0", shape, p, reach, res.Value[0])
				}
			}
		}
	}
}

// TestFloat32MatchesFloat64: on grids larger than the golden cases (96²,
// 40³, p = 1 and 2, zero pixels, unbalanced), float32 agrees with float64
// within 1e-4 (value and weight gradients, norm-wise).
func TestFloat32MatchesFloat64(t *testing.T) {
	for _, c := range []struct {
		shape []int
		p     int
		reach float64
	}{{[]int{96, 96}, 2, 0}, {[]int{96, 96}, 1, 0}, {[]int{40, 40, 40}, 2, 0.3}} {
		a, b := blobs(21, 1, c.shape, true), blobs(22, 1, c.shape, false)
		par := DefaultParams()
		par.P, par.Reach = c.p, c.reach
		r64, err := Evaluate(Config[float64]{}, par, Problem[float64]{B: 1, Shape: c.shape, A: a, Bw: b}, Request[float64]{GradA: true, GradB: true})
		if err != nil {
			t.Fatal(err)
		}
		r32, err := Evaluate(Config[float32]{}, par, Problem[float32]{B: 1, Shape: c.shape, A: convert[float32](a), Bw: convert[float32](b)}, Request[float32]{GradA: true, GradB: true})
		if err != nil {
			t.Fatal(err)
		}
		ev, ea, eb := relErr(r32.Value, r64.Value, 1e-6), relErr(r32.GradA, r64.GradA, 1e-6), relErr(r32.GradB, r64.GradB, 1e-6)
		t.Logf("%v p=%d reach=%g: float32 vs float64: value %.2g, grad a %.2g, grad b %.2g", c.shape, c.p, c.reach, ev, ea, eb)
		if ev > 1e-4 || ea > 1e-4 || eb > 1e-4 {
			t.Errorf("%v p=%d: float32 off by %.3g %.3g %.3g", c.shape, c.p, ev, ea, eb)
		}
	}
}
