package abi

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/libgeomloss/libgeomloss"
)

// gridGetter serves Go slices as the caller's buffers.
func gridGetter(bufs map[int][]float64) Getter {
	return func(key, need int) Buffer {
		v, ok := bufs[key]
		if !ok {
			return Buffer{}
		}
		return Buffer{Ptr: unsafe.Pointer(&v[0]), Count: int64(len(v))}
	}
}

// TestRunGridMatchesRoot: RunGrid gives the root EvaluateImages' results bit
// for bit (value, F, G, both gradients, a cotangent), with the blur not set
// meaning the pixel width, and outputs untouched on error.
func TestRunGridMatchesRoot(t *testing.T) {
	const n = 8
	a, b := make([]float64, 2*n*n), make([]float64, 2*n*n)
	for i := range a {
		a[i] = float64(1+i%5) / 100
		b[i] = float64(1+(i*7)%5) / 100
	}
	for _, w := range [][]float64{a, b} { // equal masses per item
		for it := 0; it < 2; it++ {
			s := 0.0
			for _, v := range w[it*n*n : (it+1)*n*n] {
				s += v
			}
			for i := it * n * n; i < (it+1)*n*n; i++ {
				w[i] /= s
			}
		}
	}
	cot := []float64{2, -1}
	out := map[int][]float64{BufValue: make([]float64, 2), BufF: make([]float64, 2*n*n), BufG: make([]float64, 2*n*n),
		BufGradA: make([]float64, 2*n*n), BufGradB: make([]float64, 2*n*n)}
	bufs := map[int][]float64{BufA: a, BufB: b, BufCotValue: cot}
	for k, v := range out {
		bufs[k] = v
	}
	o := Defaults()
	if _, err := RunGrid[float64](&o, 2, []int64{n, n}, nil, gridGetter(bufs), nil); err != nil {
		t.Fatal(err)
	}
	res, err := geomloss.EvaluateImages(geomloss.DefaultImageParams(), geomloss.ImageProblem[float64]{B: 2, Shape: []int{n, n}, A: a, Bw: b},
		geomloss.ImageRequest[float64]{GradA: true, GradB: true, Potentials: true, CotValue: cot})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want []float64
	}{{"value", out[BufValue], res.Value}, {"F", out[BufF], res.F}, {"G", out[BufG], res.G},
		{"grad_a", out[BufGradA], res.GradA}, {"grad_b", out[BufGradB], res.GradB}} {
		for i := range c.want {
			if c.got[i] != c.want[i] {
				t.Fatalf("%s[%d] = %v, root gives %v", c.name, i, c.got[i], c.want[i])
			}
		}
	}
	// The blur set to the pixel width gives the same value; after a reset too.
	if err := o.SetDouble(KeyBlur, 1.0/n); err != nil || !o.BlurSet {
		t.Fatalf("SetDouble(blur): %v, BlurSet %v", err, o.BlurSet)
	}
	v2 := []float64{0, 0}
	if _, err := RunGrid[float64](&o, 2, []int64{n, n}, nil, gridGetter(map[int][]float64{BufA: a, BufB: b, BufValue: v2, BufCotValue: cot}), nil); err != nil || v2[0] != res.Value[0] {
		t.Fatalf("blur 1/n: %v, %v vs %v", err, v2[0], res.Value[0])
	}
	if err := o.Reset(KeyBlur); err != nil || o.BlurSet {
		t.Fatalf("Reset(blur): %v, BlurSet %v", err, o.BlurSet)
	}
	// Errors leave the outputs untouched.
	before := append([]float64(nil), out[BufValue]...)
	bufs[BufX] = []float64{1}
	_, err = RunGrid[float64](&o, 2, []int64{n, n}, nil, gridGetter(bufs), nil)
	if st, msg := StatusOf(err); st != ErrInvalidArgument || !strings.Contains(msg, "x is set") {
		t.Errorf("x set: %d %q", st, msg)
	}
	delete(bufs, BufX)
	bufs[BufGradB] = bufs[BufGradB][:n*n]
	_, err = RunGrid[float64](&o, 2, []int64{n, n}, nil, gridGetter(bufs), nil)
	if st, msg := StatusOf(err); st != ErrShape || !strings.Contains(msg, "grad_b has 64 elements, needs 128 (B×Π shape = 2×8×8)") {
		t.Errorf("short grad_b: %d %q", st, msg)
	}
	if out[BufValue][0] != before[0] {
		t.Error("a failed call wrote value")
	}
}

// TestRunGridCotangents: cot_F and cot_G are accepted on grids, with a
// final full-resolution step (single scale, 6×6) and with the pyramid's
// defaults (16×16: the last iteration is a jump), and give the root's
// gradients bit for bit, different from those without cotangents; a wrong
// count is refused naming the buffer.
func TestRunGridCotangents(t *testing.T) {
	for _, c := range []struct {
		n      int
		single bool
	}{{6, true}, {16, false}} {
		n := c.n
		a, b, cf, cg := make([]float64, n*n), make([]float64, n*n), make([]float64, n*n), make([]float64, n*n)
		for i := range a {
			a[i], b[i] = float64(1+i%5)/100, float64(1+(i*7)%5)/100
			cf[i], cg[i] = float64(i%3)-1, float64(i%4)/3-0.5
		}
		sa, sb := 0.0, 0.0
		for i := range a {
			sa, sb = sa+a[i], sb+b[i]
		}
		for i := range a {
			a[i], b[i] = a[i]/sa, b[i]/sb
		}
		o := Defaults()
		o.Grid.SingleScale = c.single
		ga, gb := make([]float64, n*n), make([]float64, n*n)
		bufs := map[int][]float64{BufA: a, BufB: b, BufCotF: cf, BufCotG: cg, BufValue: make([]float64, 1), BufGradA: ga, BufGradB: gb}
		if _, err := RunGrid[float64](&o, 1, []int64{int64(n), int64(n)}, nil, gridGetter(bufs), nil); err != nil {
			t.Fatal(err)
		}
		par := geomloss.DefaultImageParams()
		par.SingleScale = c.single
		res, err := geomloss.EvaluateImages(par, geomloss.ImageProblem[float64]{B: 1, Shape: []int{n, n}, A: a, Bw: b},
			geomloss.ImageRequest[float64]{GradA: true, GradB: true, CotF: cf, CotG: cg})
		if err != nil {
			t.Fatal(err)
		}
		res0, err := geomloss.EvaluateImages(par, geomloss.ImageProblem[float64]{B: 1, Shape: []int{n, n}, A: a, Bw: b},
			geomloss.ImageRequest[float64]{GradA: true, GradB: true})
		if err != nil {
			t.Fatal(err)
		}
		differs := false
		for i := range ga {
			if ga[i] != res.GradA[i] || gb[i] != res.GradB[i] {
				t.Fatalf("%d×%d pixel %d: grad_a, grad_b = %v, %v; root gives %v, %v", n, n, i, ga[i], gb[i], res.GradA[i], res.GradB[i])
			}
			differs = differs || ga[i] != res0.GradA[i]
		}
		if !differs {
			t.Errorf("%d×%d: cot_F, cot_G did not change grad_a", n, n)
		}
		bufs[BufCotF] = cf[:n*n-1]
		_, err = RunGrid[float64](&o, 1, []int64{int64(n), int64(n)}, nil, gridGetter(bufs), nil)
		if st, msg := StatusOf(err); st != ErrShape || !strings.Contains(msg, fmt.Sprintf("cot_F has %d elements, needs %d (B×Π shape = 1×%d×%d)", n*n-1, n*n, n, n)) {
			t.Errorf("short cot_F: %d %q", st, msg)
		}
	}
}
