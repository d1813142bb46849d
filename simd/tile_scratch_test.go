package simd

import (
	"testing"
	"time"
)

func TestTileCycles(t *testing.T) {
	hz := clockHz()
	for _, p := range registry {
		if !p.supported() {
			continue
		}
		x, y, h := benchClouds[float32](64, tileCols, 3)
		pr := engine[float32]{name: p.name, k: p.k32}.newPair(x, y, 2)
		for j := range h {
			pr.buf[j] = h[j] * 1.4427
		}
		ws := newWorkspace[float32](3, p.k32.width)
		for gi := 0; gi < 2; gi++ {
			for mode := 2; mode < 3; mode++ {
				a := smArgs[float32]{x: x.Pts[:3], y: pr.ys, yp: pr.yp, xb: ws.xb, h: pr.buf, nc: -288.5, g: ws.g, scr: ws.scr, acc: ws.acc, j0: 0, j1: tileCols}
				k := p.k32.sm[3][1][gi]
				ms := make([]float32, 64)
				for r := range ms {
					a.x = x.Pts[3*r : 3*r+3]
					a.m = -3e38
					k(&a)
					ms[r] = a.m
				}
				best := 1e9
				for rep := 0; rep < 300; rep++ {
					t0 := time.Now()
					for it := 0; it < 20; it++ {
						r := it % 64
						if mode == 0 {
							r = 0
						}
						a.x = x.Pts[3*r : 3*r+3]
						a.m = -3e38
						if mode == 2 {
							a.m = ms[r]
						}
						k(&a)
					}
					best = min(best, time.Since(t0).Seconds())
				}
				t.Logf("%s grad=%d mode=%d: %.2f cycles per 8 pairs", p.name, gi, mode, best/20/(tileCols/8)*hz)
			}
		}
	}
}
