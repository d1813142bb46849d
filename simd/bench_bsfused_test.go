package simd

import (
	"fmt"
	"math"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// BenchmarkBlockSparseSoftMinBoth times one simultaneous Sinkhorn update
// on the block-sparse pattern of BenchmarkBlockSparse (2^15 points a side,
// sorted by grid cells, each cell keeping its 3^D neighbours), p = 2,
// float32, one thread: "fused" is one SoftMinBoth over the kept pairs,
// "two" the two block-sparse SoftMins it replaces (XY over r with h = hy,
// YX over r.Transpose() with h = hx); "self" is SoftMinSelf on x's
// symmetric neighbour pattern against "selfref", one block-sparse SoftMin.
// Pairs are the kept pairs, counted once per update, so that the modes'
// pairs/cycle compare directly. The duals are near-feasible (an ε-scaling
// run on the same patterns down to ε = 0.0025); the benchmark fails if the
// fused pass declines.
func BenchmarkBlockSparseSoftMinBoth(b *testing.B) {
	forEachPath(b, func(b *testing.B, name string) {
		for _, d := range []int{2, 3} {
			for _, mode := range []string{"fused", "two", "self", "selfref"} {
				b.Run(fmt.Sprintf("f32/D%d/%s", d, mode), func(b *testing.B) { benchBSBoth[float32](b, name, d, mode) })
			}
		}
	})
}

func benchBSBoth[T core.Float](b *testing.B, name string, d int, mode string) {
	x, y, _, r, rxx := sortedGridPattern[T](d)
	eng := engineOf[T](name)(1).(core.BlockSparseEngine[T])
	pair := func(u, v core.Cloud[T], r *core.Ranges) core.Pair[T] {
		p, err := eng.BlockSparsePair(u, v, core.CostHalfSquared, r)
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	xy, yx, xx := pair(x, y, r), pair(y, x, r.Transpose()), pair(x, x, rxx)
	n, m := x.N, y.N
	la, lb := uniformLog[T](n), uniformLog[T](m)
	f, g, faa := make([]T, n), make([]T, m), make([]T, n)
	ft, gt := make([]T, n), make([]T, m)
	hx, hy, hs := make([]T, n), make([]T, m), make([]T, n)
	eps := benchEps[T]()
	logDual := func(h, l, pot []T, e float64) {
		for j := range h {
			h[j] = l[j] + T(float64(pot[j])/e)
		}
	}
	avg := func(u, v []T) {
		for i := range u {
			u[i] = (u[i] + v[i]) / 2
		}
	}
	for _, e := range core.EpsSchedule(2, math.Sqrt(3), math.Sqrt(float64(eps)), 0.5) {
		logDual(hy, lb, g, e)
		logDual(hx, la, f, e)
		logDual(hs, la, faa, e)
		xy.SoftMin(T(e), hy, ft, nil)
		yx.SoftMin(T(e), hx, gt, nil)
		avg(f, ft)
		avg(g, gt)
		xx.SoftMin(T(e), hs, ft, nil)
		avg(faa, ft)
	}
	logDual(hy, lb, g, float64(eps))
	logDual(hx, la, f, float64(eps))
	logDual(hs, la, faa, float64(eps))
	var op func()
	pairs := float64(r.KeptPairs())
	switch mode {
	case "fused":
		op = func() {
			if okX, okY, _ := xy.(core.DualPair[T]).SoftMinBoth(eps, hx, hy, ft, gt); !okX || !okY {
				b.Fatalf("the fused pass declined (okX=%v okY=%v)", okX, okY)
			}
		}
	case "two":
		op = func() { xy.SoftMin(eps, hy, ft, nil); yx.SoftMin(eps, hx, gt, nil) }
	case "self":
		pairs = float64(rxx.KeptPairs())
		op = func() {
			if ok, _ := xx.(core.SelfPair[T]).SoftMinSelf(eps, hs, ft); !ok {
				b.Fatal("the fused self pass declined")
			}
		}
	default:
		pairs = float64(rxx.KeptPairs())
		op = func() { xx.SoftMin(eps, hs, ft, nil) }
	}
	pt := startPairs(b)
	for b.Loop() {
		pt.lap(op)
	}
	pt.report(b, pairs, 1)
}
