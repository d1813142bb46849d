package simd

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// A wide problem (140 000 columns: 64 row chunks' float32 column partials
// alone would take 36 MB) gets the fused update all the same — with fewer
// chunks (core.DualChunks) — equal to the two SoftMins it replaces within the
// conformance bound, and the same bits on 1 and 2 threads. (Before the
// chunking rule the Pair declined above 32 MiB of partials, so the
// seed example's 10⁵ vs 2·10⁵ iterations ran two passes.)
func TestFusedWide(t *testing.T) {
	const n, m, eps = 2000, 140000, float32(0.05)
	if _, chunks := core.DualChunks(n, m, 8, 32, 16); chunks >= 64 {
		t.Fatalf("DualChunks(%d, %d) = %d chunks: the case no longer tests the column budget", n, m, chunks)
	}
	r := rand.New(rand.NewPCG(7, 11))
	cloud := func(k int) core.Cloud[float32] {
		p := make([]float32, 3*k)
		for i := range p {
			p[i] = r.Float32()
		}
		return core.Cloud[float32]{Pts: p, N: k, D: 3}
	}
	x, y := cloud(n), cloud(m)
	hx, hy := make([]float32, n), make([]float32, m)
	for i := range hx {
		hx[i] = r.Float32() - 0.5
	}
	for j := range hy {
		hy[j] = r.Float32() - 0.5
	}
	for _, name := range Paths() {
		if name == "portable" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			var first [][]float32
			for _, th := range []int{1, 2} {
				e, err := ForPath[float32](name, core.Resources{Threads: th})
				if err != nil {
					t.Fatal(err)
				}
				xy, err := e.Pair(x, y, core.CostHalfSquared)
				if err != nil {
					t.Fatal(err)
				}
				outX, outY := make([]float32, n), make([]float32, m)
				okX, okY, err := xy.(core.DualPair[float32]).SoftMinBoth(eps, hx, hy, outX, outY)
				if err != nil || !okX || !okY {
					t.Fatalf("threads %d: SoftMinBoth ok %v %v, err %v: want both directions", th, okX, okY, err)
				}
				if first == nil {
					first = [][]float32{outX, outY}
					yx, err := e.Pair(y, x, core.CostHalfSquared)
					if err != nil {
						t.Fatal(err)
					}
					wantX, wantY := make([]float32, n), make([]float32, m)
					if err := xy.SoftMin(eps, hy, wantX, nil); err != nil {
						t.Fatal(err)
					}
					if err := yx.SoftMin(eps, hx, wantY, nil); err != nil {
						t.Fatal(err)
					}
					// u·ε·(1 + 2 max|h| + max C/ε), C ≤ 3/2 in the unit cube, with
					// the conformance suite's factor.
					tol := 0x1p-24 * float64(eps) * (1 + 2*0.5 + 1.5/float64(eps)) * 64
					for k, pair := range [][2][]float32{{outX, wantX}, {outY, wantY}} {
						for i := range pair[0] {
							if d := math.Abs(float64(pair[0][i] - pair[1][i])); !(d <= tol) {
								t.Fatalf("direction %d, entry %d: fused %g, SoftMin %g (|Δ| %.3g > %.3g)", k, i, pair[0][i], pair[1][i], d, tol)
							}
						}
					}
					yx.Close()
				} else if !slices.Equal(first[0], outX) || !slices.Equal(first[1], outY) {
					t.Fatalf("threads %d: results differ from 1 thread's", th)
				}
				xy.Close()
			}
		})
	}
}
