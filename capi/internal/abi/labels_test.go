package abi

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/libgeomloss/libgeomloss"
	"github.com/libgeomloss/libgeomloss/core"
)

// labelGetter serves float64 buffers and int64 label buffers.
func labelGetter(bufs map[int][]float64, labels map[int][]int64) Getter {
	f := getter(bufs)
	return func(key, need int) Buffer {
		if l, ok := labels[key]; ok {
			if len(l) == 0 {
				return Buffer{Ptr: unsafe.Pointer(&struct{ i int64 }{}), Count: 0}
			}
			return Buffer{Ptr: unsafe.Pointer(&l[0]), Count: int64(len(l))}
		}
		return f(key, need)
	}
}

// TestRunLabels: GEOMLOSS_BUF_LABELS_X/_Y reach the core as int64 labels
// (the same value and gradient as the Go API with those labels, on the
// multiscale backend, batched), their counts are checked naming them, and
// they are not modified.
func TestRunLabels(t *testing.T) {
	const B, N, M, D = 2, 7, 5, 3
	x, y := problem(B, N, M, D)
	lx, ly := make([]int64, B*N), make([]int64, B*M)
	for i := range lx {
		lx[i] = int64(i%3) - 1
	}
	for j := range ly {
		ly[j] = int64(j%2) << 40
	}
	lx0, ly0 := append([]int64(nil), lx...), append([]int64(nil), ly...)
	o := Defaults()
	val, gx := make([]float64, B), make([]float64, B*N*D)
	rep, err := Run[float64](&o, B, N, M, D, labelGetter(map[int][]float64{BufX: x, BufY: y, BufValue: val, BufGradX: gx},
		map[int][]int64{BufLabelsX: lx, BufLabelsY: ly}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Backend != int(core.Multiscale) {
		t.Errorf("labels ran backend %d, want multiscale", rep.Backend)
	}
	want, err := geomloss.Evaluate(o.Params, core.Problem[float64]{B: B, N: N, M: M, D: D, X: x, Y: y, LabelsX: lx, LabelsY: ly},
		core.Request[float64]{GradX: true})
	if err != nil {
		t.Fatal(err)
	}
	for b := range val {
		if val[b] != want.Value[b] {
			t.Errorf("value[%d] = %v, Go API %v", b, val[b], want.Value[b])
		}
	}
	for i := range gx {
		if gx[i] != want.GradX[i] {
			t.Fatalf("grad_x[%d] = %v, Go API %v", i, gx[i], want.GradX[i])
		}
	}
	for i := range lx {
		if lx[i] != lx0[i] {
			t.Fatal("labels_x was modified")
		}
	}
	for j := range ly {
		if ly[j] != ly0[j] {
			t.Fatal("labels_y was modified")
		}
	}
	online := Defaults()
	online.Params.Backend = core.Online
	for _, c := range []struct {
		name   string
		o      *Options
		labels map[int][]int64
		st     int
		msg    string
	}{
		{"short labels_x", &o, map[int][]int64{BufLabelsX: lx[:5], BufLabelsY: ly}, ErrShape, "labels_x has 5 elements, needs 14 (B×N = 2×7)"},
		{"long labels_y", &o, map[int][]int64{BufLabelsX: lx, BufLabelsY: append(ly, 0)}, ErrShape, "labels_y has 11 elements, needs 10 (B×M = 2×5)"},
		{"one side", &o, map[int][]int64{BufLabelsX: lx}, ErrInvalidArgument, "labels"},
		{"online", &online, map[int][]int64{BufLabelsX: lx, BufLabelsY: ly}, ErrInvalidOption, "backend"},
	} {
		v := []float64{42, 42}
		_, err := Run[float64](c.o, B, N, M, D, labelGetter(map[int][]float64{BufX: x, BufY: y, BufValue: v}, c.labels), nil)
		st, msg := StatusOf(err)
		if st != c.st || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: %d %q, want %d %q", c.name, st, msg, c.st, c.msg)
		}
		if v[0] != 42 || v[1] != 42 {
			t.Errorf("%s: value written on error", c.name)
		}
	}
}
