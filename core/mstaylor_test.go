package core

import "testing"

// TestAutoPicksMultiscale: auto runs large p = 2 Sinkhorn problems in
// dimension ≤ 3 on the multiscale backend (with a note saying so), and
// everything else online.
func TestAutoPicksMultiscale(t *testing.T) {
	eng := Portable[float32](Resources{})
	for _, c := range []struct {
		n, m, d, b, p int
		loss          Loss
		want          Backend
	}{
		{10000, 20000, 3, 1, 2, Sinkhorn, Multiscale},
		{20000, 10000, 2, 1, 2, Sinkhorn, Multiscale},
		{9000, 20000, 3, 1, 2, Sinkhorn, Online},  // N·M below the threshold
		{10000, 20000, 4, 1, 2, Sinkhorn, Online}, // no octree
		{10000, 20000, 3, 1, 1, Sinkhorn, Online}, // no Taylor level
		{10000, 20000, 3, 2, 2, Sinkhorn, Online}, // batches
		{10000, 20000, 3, 1, 2, Gaussian, Online},
	} {
		par := DefaultParams()
		par.P, par.Loss = c.p, c.loss
		pr := Problem[float32]{B: c.b, N: c.n, M: c.m, D: c.d}
		got, note, err := chooseBackend(par, pr, eng, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%+v: auto chose %v, want %v", c, got, c.want)
		}
		if got == Multiscale && note == "" {
			t.Errorf("%+v: no note says auto chose multiscale", c)
		}
	}
}
