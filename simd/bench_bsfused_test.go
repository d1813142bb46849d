package simd

import (
	"fmt"
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
	benchDualModes(b, xy, yx, xx, x.N, y.N, float64(r.KeptPairs()), float64(rxx.KeptPairs()), mode)
}
