package simd

import (
	"fmt"
	"testing"
	"time"

	"github.com/libgeomloss/libgeomloss/core"
)

func BenchmarkZZTile(b *testing.B) {
	for _, cols := range []int{504, 2048} {
		for _, fresh := range []bool{false, true} {
			b.Run(fmt.Sprintf("cols=%d/fresh=%v", cols, fresh), func(b *testing.B) {
				k := registry[1].k32
				if registry[0].supported() {
					k = registry[0].k32
				}
				const rows = 64
				x, y, h := benchClouds[float32](rows, cols, 3)
				pr := engine[float32]{name: "x", k: k}.newPair(x, y, core.CostHalfSquared)
				for j := range h {
					pr.buf[j] = h[j] * 1.4426950408889634
				}
				ws := newWorkspace[float32](3, k.width)
				a := smArgs[float32]{y: pr.ys, yp: pr.yp, xb: ws.xb, h: pr.buf, nc: float32(-1.4426950408889634 / (2 * float64(benchEps[float32]()))),
					g: ws.g, scr: ws.scr, acc: ws.acc, j0: 0, j1: cols}
				kern := k.sm[3][1][0]
				m := make([]float32, rows)
				for r := range m {
					a.x, a.m = x.Pts[3*r:3*r+3], negMax[float32]()
					kern(&a)
					m[r] = a.m
				}
				if fresh {
					for r := range m {
						m[r] = negMax[float32]()
					}
				}
				pt := startPairs(b)
				best := time.Duration(1 << 62)
				for b.Loop() {
					t0 := time.Now()
					for r := range m {
						a.x, a.m = x.Pts[3*r:3*r+3], m[r]
						kern(&a)
					}
					best = min(best, time.Since(t0))
				}
				pt.report(b, float64(rows*cols), 1)
				b.ReportMetric(float64(rows*cols)/(best.Seconds()*max(clock0, clockHz())), "best-pairs/cycle")
			})
		}
	}
}
