//go:build cgo

package gpu

import (
	"math"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// TestBlockSparse checks the block-sparse Pair against the definition: row
// i of row cluster k reduces over the columns of the kept column clusters
// only, i.e. core's portable Pair between the rows of k and the
// concatenation of the kept column ranges. The pattern has empty row and
// column clusters, a row cluster that keeps nothing (soft-min +∞, zero
// gradient, zero kernel sum), one spanning several blocks and a single row.
func TestBlockSparse(t *testing.T) {
	t.Run("float32", func(t *testing.T) { blockSparse[float32](t, 3e-5) })
	t.Run("float64", func(t *testing.T) { blockSparse[float64](t, 1e-12) })
}

func blockSparse[T core.Float](t *testing.T, tol float64) {
	const n, m, d = 300, 400, 3
	r := &core.Ranges{
		RowStart: []int{0, 0, 70, 200, 201, 300},
		ColStart: []int{0, 150, 150, 350, 400},
		Offsets:  []int{0, 1, 3, 3, 7, 8},
		Cols:     []int32{1, 0, 2, 0, 1, 2, 3, 3},
	}
	pr := randomProblem[T](n, m, d, 11)
	drv := newFake()
	e := New[T](openFake(t, drv, Options{}), core.Resources{})
	ref := core.Portable[T](core.Resources{})
	for _, cost := range []core.Cost{core.CostHalfSquared, core.CostEuclidean} {
		p, err := e.BlockSparsePair(pr.x, pr.y, cost, r)
		if err != nil {
			t.Fatal(err)
		}
		out, grad := make([]T, n), make([]T, n*d)
		check := func(what string, sub func(q core.Pair[T], hs []T, o, g []T) error, w []T) {
			for k := 0; k < r.RowClusters(); k++ {
				a, b := r.RowStart[k], r.RowStart[k+1]
				if a == b {
					continue
				}
				var ys, ws []T
				for _, l := range r.Kept(k) {
					ys = append(ys, pr.y.Pts[r.ColStart[l]*d:r.ColStart[l+1]*d]...)
					ws = append(ws, w[r.ColStart[l]:r.ColStart[l+1]]...)
				}
				wo, wg := make([]T, b-a), make([]T, (b-a)*d)
				if len(ws) > 0 {
					q, _ := ref.Pair(core.Cloud[T]{Pts: pr.x.Pts[a*d : b*d], N: b - a, D: d}, core.Cloud[T]{Pts: ys, N: len(ws), D: d}, cost)
					if err := sub(q, ws, wo, wg); err != nil {
						t.Fatal(err)
					}
				} else if what == "soft-min" {
					for i := range wo {
						wo[i] = T(math.Inf(1))
					}
				}
				for i := a; i < b; i++ {
					got, want := float64(out[i]), float64(wo[i-a])
					if !(math.Abs(got-want) <= tol*(1+math.Abs(want))) && !(math.IsInf(want, 1) && math.IsInf(got, 1)) {
						t.Fatalf("cost %d %s: row %d (cluster %d) = %g, want %g", cost, what, i, k, got, want)
					}
					for c := 0; c < d; c++ {
						if g, wg := float64(grad[i*d+c]), float64(wg[(i-a)*d+c]); !(math.Abs(g-wg) <= tol*(1+math.Abs(wg))) {
							t.Fatalf("cost %d %s: row %d grad[%d] = %g, want %g", cost, what, i, c, g, wg)
						}
					}
				}
			}
		}
		if err := p.SoftMin(.05, pr.h, out, grad); err != nil {
			t.Fatal(err)
		}
		check("soft-min", func(q core.Pair[T], hs, o, g []T) error { return q.SoftMin(.05, hs, o, g) }, pr.h)
		for _, k := range []core.Kernel{core.KernelGaussian, core.KernelLaplacian, core.KernelEnergy} {
			if err := p.KernelSum(k, .2, pr.w, out, grad); err != nil {
				t.Fatal(err)
			}
			check("kernel sum", func(q core.Pair[T], ws, o, g []T) error { return q.KernelSum(k, .2, ws, o, g) }, pr.w)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if nl, _, _ := drv.Live(); nl != 0 {
		t.Errorf("%d allocations left", nl)
	}
}
