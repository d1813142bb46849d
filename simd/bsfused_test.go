package simd

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// bsEngine wraps an engine: its block-sparse Pairs either hide their fused
// updates (fused false: the solver runs two SoftMins per update, as before
// the block-sparse fused passes) or count the fused directions they
// deliver and decline.
type bsEngine[T core.Float] struct {
	core.Engine[T]
	fused          bool
	done, declined *int
}

func (e bsEngine[T]) BlockSparsePair(x, y core.Cloud[T], cost core.Cost, r *core.Ranges) (core.Pair[T], error) {
	p, err := e.Engine.(core.BlockSparseEngine[T]).BlockSparsePair(x, y, cost, r)
	if err != nil || !e.fused {
		return twoPass[T]{p}, err
	}
	return countingBS[T]{p.(*bsPair[T]), e.done, e.declined}, nil
}

// twoPass hides a Pair's fused updates.
type twoPass[T core.Float] struct{ p core.Pair[T] }

func (w twoPass[T]) SoftMin(eps T, h, out, grad []T) error { return w.p.SoftMin(eps, h, out, grad) }
func (w twoPass[T]) KernelSum(k core.Kernel, s T, wt, out, grad []T) error {
	return w.p.KernelSum(k, s, wt, out, grad)
}
func (w twoPass[T]) Close() error { return w.p.Close() }

// countingBS counts a block-sparse Pair's fused directions.
type countingBS[T core.Float] struct {
	*bsPair[T]
	done, declined *int
}

func (c countingBS[T]) SoftMinBoth(eps T, hx, hy, outX, outY []T) (bool, bool, error) {
	okX, okY, err := c.bsPair.SoftMinBoth(eps, hx, hy, outX, outY)
	c.tally(okX)
	c.tally(okY)
	return okX, okY, err
}

func (c countingBS[T]) SoftMinSelf(eps T, h, out []T) (bool, error) {
	ok, err := c.bsPair.SoftMinSelf(eps, h, out)
	c.tally(ok)
	return ok, err
}

func (c countingBS[T]) tally(ok bool) {
	if ok {
		*c.done++
	} else {
		*c.declined++
	}
}

// TestBlockSparseFusedMultiscale: a multiscale Sinkhorn divergence whose
// fine level is truncated (block-sparse Pairs, cross and self) gives the
// same value and gradients with the block-sparse fused updates as with the
// two SoftMins per update (to float rounding: 1e-12 in float64, 2e-5 in
// float32, relative), and the loop takes the fused passes on the sparse
// level (most directions delivered).
func TestBlockSparseFusedMultiscale(t *testing.T) {
	t.Run("float64", func(t *testing.T) { bsFusedMultiscale[float64](t, 1e-12) })
	t.Run("float32", func(t *testing.T) { bsFusedMultiscale[float32](t, 2e-5) })
}

func bsFusedMultiscale[T core.Float](t *testing.T, tol float64) {
	r := rand.New(rand.NewPCG(41, 42))
	n, m, d := 3000, 3500, 2
	pts := func(k int, s float64) []T {
		v := make([]T, k*d)
		for i := range v {
			v[i] = T(s * r.Float64())
		}
		return v
	}
	pr := core.Problem[T]{B: 1, N: n, M: m, D: d, X: pts(n, 1), Y: pts(m, 1.1)}
	par := core.DefaultParams()
	par.Backend, par.Blur = core.Multiscale, 0.005
	req := core.Request[T]{GradX: true, GradY: true}
	var done, declined int
	run := func(fused bool) *core.Result[T] {
		eng := bsEngine[T]{For[T](core.Resources{Threads: 2}), fused, &done, &declined}
		res, err := core.Evaluate(core.Config[T]{Engine: eng}, par, pr, req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := run(true), run(false)
	t.Logf("note: %s; fused directions delivered on block-sparse Pairs: %d, declined %d", a.Note, done, declined)
	if !strings.Contains(a.Note, "kept") {
		t.Fatalf("note %q: want a truncated level", a.Note)
	}
	if done == 0 || float64(declined) > 0.1*float64(done+declined) {
		t.Errorf("fused directions on block-sparse Pairs: %d delivered, %d declined; want ≥ 90%% delivered", done, declined)
	}
	rel := func(what string, got, want []T) {
		num, den := 0.0, 0.0
		for i := range want {
			num += math.Pow(float64(got[i])-float64(want[i]), 2)
			den += math.Pow(float64(want[i]), 2)
		}
		e := math.Sqrt(num / max(den, 1e-300))
		t.Logf("%s: relative difference %.3g", what, e)
		if !(e <= tol) {
			t.Errorf("%s: fused vs two SoftMins, relative difference %.3g > %.3g", what, e, tol)
		}
	}
	rel("value", a.Value, b.Value)
	rel("grad x", a.GradX, b.GradX)
	rel("grad y", a.GradY, b.GradY)
}
