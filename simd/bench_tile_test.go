package simd

import (
	"fmt"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// BenchmarkTile times the bare soft-min tile kernels (D = 3, p = 2) of every
// vector path: 64 rows sweep one tile of tileCols columns that stays in
// cache, each row starting from its own final maximum (the common case of a
// tile after the first: the raise branch is rare), without the engine's
// row bookkeeping — the figures of the package doc's performance table
// (best-pairs/cycle: the fastest of the b.N sweeps).
func BenchmarkTile(b *testing.B) {
	for _, p := range registry {
		if !p.supported() {
			continue
		}
		for _, g := range []int{0, 1} {
			b.Run(fmt.Sprintf("%s/f32/D3/p2/grad=%v", p.name, g == 1), func(b *testing.B) { benchTile(b, p.name, p.k32, g) })
			b.Run(fmt.Sprintf("%s/f64/D3/p2/grad=%v", p.name, g == 1), func(b *testing.B) { benchTile(b, p.name, p.k64, g) })
		}
	}
}

func benchTile[T core.Float](b *testing.B, name string, k *kernels[T], gi int) {
	const rows = 64
	x, y, h := benchClouds[T](rows, tileCols, 3)
	pr := engine[T]{name: name, k: k}.newPair(x, y, core.CostHalfSquared)
	for j := range h {
		pr.buf[j] = h[j] * 1.4426950408889634
	}
	ws := newWorkspace[T](3, k.width)
	a := smArgs[T]{y: pr.ys, yp: pr.yp, xb: ws.xb, h: pr.buf, nc: T(-1.4426950408889634 / (2 * float64(benchEps[T]()))),
		g: ws.g, scr: ws.scr, acc: ws.acc, j0: 0, j1: tileCols}
	kern := k.sm[3][1][gi]
	m := make([]T, rows)
	for r := range m {
		a.x, a.m = x.Pts[3*r:3*r+3], negMax[T]()
		kern(&a)
		m[r] = a.m
	}
	pt := startPairs(b)
	for b.Loop() {
		pt.lap(func() { // one sweep, ~0.1 ms
			for r := range m {
				a.x, a.m = x.Pts[3*r:3*r+3], m[r]
				kern(&a)
			}
		})
	}
	pt.report(b, rows*tileCols, 1)
}

// BenchmarkTileFused times the bare fused Sinkhorn kernel (D = 3, p = 2)
// like BenchmarkTile: 64 rows sweep one tile of tileCols columns in cache,
// each adding its terms into one vector of column sums.
func BenchmarkTileFused(b *testing.B) {
	for _, p := range registry {
		if !p.supported() {
			continue
		}
		b.Run(p.name+"/f32/D3/p2", func(b *testing.B) { benchTileFused(b, p.name, p.k32) })
		b.Run(p.name+"/f64/D3/p2", func(b *testing.B) { benchTileFused(b, p.name, p.k64) })
	}
}

func benchTileFused[T core.Float](b *testing.B, name string, k *kernels[T]) {
	const rows = 64
	x, y, h := benchClouds[T](rows, tileCols, 3)
	pr := engine[T]{name: name, k: k}.newPair(x, y, core.CostHalfSquared)
	for j := range h {
		pr.buf[j] = h[j] * 1.4426950408889634
	}
	a := sbArgs[T]{y: pr.ys, h: pr.buf, col: aligned64[T](tileCols), nc: T(-1.4426950408889634 / (2 * float64(benchEps[T]()))),
		acc: aligned64[T](7 * k.width), j0: 0, j1: tileCols, hx: T(-9)}
	kern := k.sb[3][1]
	pt := startPairs(b)
	for b.Loop() {
		pt.lap(func() {
			for r := 0; r < rows; r++ {
				a.x = x.Pts[3*r : 3*r+3]
				kern(&a)
			}
		})
	}
	pt.report(b, rows*tileCols, 1)
}
