package simd

import (
	"fmt"
	"math"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// BenchmarkSoftMinBoth times one simultaneous Sinkhorn update (both
// directions) on an n × m pair, D = 3, p = 2, one thread: "fused" is one
// SoftMinBoth (one exponential per pair), "two" the two SoftMins it
// replaces (XY with h = hy, YX with h = hx); "self" is SoftMinSelf against
// "selfref", one SoftMin on the n × n self pair. Pairs are counted once per
// update (n·m), so the two modes' pairs/s compare directly. The duals are
// near-feasible (an ε-scaling run down to ε = 0.0025, as the loop's), and
// the benchmark fails if the fused pass declines.
func BenchmarkSoftMinBoth(b *testing.B) {
	for _, name := range Paths() {
		if name == "portable" {
			continue
		}
		for _, sz := range [][2]int{{500, 500}, {2048, 4096}, {16384, 2048}} { // 16384 rows: chunks of 256 (float32 partials spilled)
			for _, mode := range []string{"fused", "two", "self", "selfref"} {
				b.Run(fmt.Sprintf("%s/f32/n=%d/m=%d/%s", name, sz[0], sz[1], mode), func(b *testing.B) {
					benchBoth[float32](b, name, sz[0], sz[1], mode)
				})
				if sz[0] == 500 {
					b.Run(fmt.Sprintf("%s/f64/n=%d/m=%d/%s", name, sz[0], sz[1], mode), func(b *testing.B) {
						benchBoth[float64](b, name, sz[0], sz[1], mode)
					})
				}
			}
		}
	}
}

func benchBoth[T core.Float](b *testing.B, name string, n, m int, mode string) {
	x, y, _ := benchClouds[T](n, m, 3)
	eng := engineOf[T](name)(1)
	pair := func(u, v core.Cloud[T]) core.Pair[T] {
		p, err := eng.Pair(u, v, core.CostHalfSquared)
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	xy, yx, xx := pair(x, y), pair(y, x), pair(x, x)
	benchDualModes(b, xy, yx, xx, n, m, float64(n)*float64(m), float64(n)*float64(n), mode)
}

// benchDualModes times one update of mode on the pairs xy (x to y, n × m),
// yx (its transpose) and xx (x to itself), after an ε-scaling run down to
// benchEps that makes the duals near-feasible (uniform weights): "fused" is
// xy's SoftMinBoth, "two" the SoftMins of xy and yx it replaces, "self"
// xx's SoftMinSelf and anything else ("selfref") xx's SoftMin. It reports
// pairsXY pairs per update for "fused" and "two", pairsXX for the others,
// and fails if a fused pass declines.
func benchDualModes[T core.Float](b *testing.B, xy, yx, xx core.Pair[T], n, m int, pairsXY, pairsXX float64, mode string) {
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
	pairs := pairsXY
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
		pairs = pairsXX
		op = func() {
			if ok, _ := xx.(core.SelfPair[T]).SoftMinSelf(eps, hs, ft); !ok {
				b.Fatal("the fused self pass declined")
			}
		}
	default:
		pairs = pairsXX
		op = func() { xx.SoftMin(eps, hs, ft, nil) }
	}
	pt := startPairs(b)
	for b.Loop() {
		pt.lap(op)
	}
	pt.report(b, pairs, 1)
}

func uniformLog[T core.Float](n int) []T {
	l := make([]T, n)
	for i := range l {
		l[i] = T(-math.Log(float64(n)))
	}
	return l
}
