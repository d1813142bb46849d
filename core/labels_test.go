package core

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestBatchedLabels: B > 1 with labels (B×N, B×M) gives, item by item, the
// results of each item evaluated alone with its own labels — bit for bit —
// and each item's labels cluster that item only (the same label values in
// two items are unrelated clusters).
func TestBatchedLabels(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const B, N, M, D = 3, 40, 50, 2
	items := make([]Problem[float64], B)
	batch := Problem[float64]{B: B, N: N, M: M, D: D}
	for b := range items {
		it := normalProblem(rng, N, M, D, true)
		it.LabelsX, it.LabelsY = make([]int64, N), make([]int64, M)
		for i := range it.LabelsX {
			it.LabelsX[i] = int64(rng.IntN(4)) - 2
		}
		for j := range it.LabelsY {
			it.LabelsY[j] = int64(rng.IntN(5)) * 1000
		}
		items[b] = it
		batch.X, batch.Y = append(batch.X, it.X...), append(batch.Y, it.Y...)
		batch.A, batch.Bw = append(batch.A, it.A...), append(batch.Bw, it.Bw...)
		batch.LabelsX, batch.LabelsY = append(batch.LabelsX, it.LabelsX...), append(batch.LabelsY, it.LabelsY...)
	}
	par := DefaultParams()
	par.Blur = 0.2
	par.Diameter = 8 // the estimate is joint over the batch: fix it to compare with single items
	got := mustEval(t, par, batch, allOutputs)
	if got.Backend != Multiscale {
		t.Fatalf("batched labels ran %s, want multiscale", got.Backend)
	}
	for b, it := range items {
		want := mustEval(t, par, it, allOutputs)
		for _, o := range []struct {
			name string
			g, w []float64
			n    int
		}{{"value", got.Value, want.Value, 1}, {"F", got.F, want.F, N}, {"G", got.G, want.G, M},
			{"grad x", got.GradX, want.GradX, N * D}, {"grad y", got.GradY, want.GradY, M * D},
			{"grad a", got.GradA, want.GradA, N}, {"grad b", got.GradB, want.GradB, M}} {
			for k, w := range o.w {
				if g := o.g[b*o.n+k]; g != w {
					t.Fatalf("item %d: %s[%d] = %v batched, %v alone", b, o.name, k, g, w)
				}
			}
		}
	}
}

// TestBatchedLabelErrors: label arrays of one item's length in a batch are
// refused naming them.
func TestBatchedLabelErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	pr := normalProblem(rng, 10, 12, 2, false)
	pr.B = 2
	pr.X, pr.Y = append(pr.X, pr.X...), append(pr.Y, pr.Y...)
	for _, c := range []struct {
		lx, ly []int64
		want   string
	}{
		{make([]int64, 10), make([]int64, 24), "l_x (labels of x) has 10 elements but x has B×N = 2×10"},
		{make([]int64, 20), make([]int64, 12), "l_y (labels of y) has 12 elements but y has B×M = 2×12"},
	} {
		q := pr
		q.LabelsX, q.LabelsY = c.lx, c.ly
		_, err := Evaluate(Config[float64]{}, DefaultParams(), q, Request[float64]{})
		var e *Error
		if !errors.As(err, &e) || e.Code != ErrShape || !strings.Contains(e.Msg, c.want) {
			t.Errorf("got %v, want an ErrShape %q", err, c.want)
		}
	}
}
