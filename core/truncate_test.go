package core

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// truncFixture builds a multiscale geometry on randn clouds (x: n points,
// y: 2n, 3D) and its sorted fine sides.
func truncFixture(t *testing.T, n, threads int) (*multiscale[float64], *msSide[float64], *msSide[float64]) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	pr := normalProblem(rng, n, 2*n, 3, true)
	x, y := Cloud[float64]{Pts: pr.X, N: pr.N, D: 3}, Cloud[float64]{Pts: pr.Y, N: pr.M, D: 3}
	cfg := multiscaleConfig(DefaultParams(), 3, 8, nil, nil)
	res := Resources{Threads: threads}
	g, err := newMultiscale(Portable[float64](res), res, x, y, pr.A, pr.Bw, logWeights(pr.A), logWeights(pr.Bw), Needs{Cross: true, Self: true}, CostHalfSquared, *cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g, g.side(g.x, g.a, g.hx, g.btx, -1), g.side(g.y, g.b, g.hy, g.bty, -1)
}

// randomPotential returns ε·u_i with u_i uniform in [0, s) (sorted order).
func randomPotential(rng *rand.Rand, n int, eps, s float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = eps * s * rng.Float64()
	}
	return v
}

// TestTruncLimitedIsExact: runLimited(limit) reports dense exactly when the
// full test keeps more than limit block pairs (limits around the true
// count, the dense limit, 0, none), and otherwise returns the full test's
// pattern, bound and widened count unchanged — whatever the thread count;
// mask2 and selfMask with discard return (nil, true) exactly when the
// pattern without discard is dense, else the same pattern.
func TestTruncLimitedIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var sawDense, sawSparse int
	for _, threads := range []int{1, 3} {
		g, xs, ys := truncFixture(t, 1500, threads)
		K, L := g.btx.blocks(), g.bty.blocks()
		for _, eps := range []float64{0.003, 0.01, 0.03, 0.1, 0.3, 1} {
			f, gg := randomPotential(rng, xs.pts.N, eps, 4), randomPotential(rng, ys.pts.N, eps, 4)
			bf, bg := g.bound(xs, g.btx, f), g.bound(ys, g.bty, gg)
			tt := g.potentialTest(g.btx, g.bty, bf, bg, eps, g.cfg.rho)
			full := tt.run()
			fr := full.ranges(xs.blk, ys.blk)
			if err := fr.Validate(xs.pts.N, ys.pts.N); err != nil {
				t.Fatalf("eps %g: %v", eps, err)
			}
			if !sameRanges(full.transpose(L).ranges(ys.blk, xs.blk), fr.Transpose()) {
				t.Fatalf("eps %g: the int32 transpose differs from Ranges.Transpose", eps)
			}
			n := float64(len(full.cols))
			for _, lim := range []float64{-1, 0, n - 1, n, n + 1, n / 2, denseLimit(K, L), 2 * n} {
				tr, dn := tt.runLimited(lim)
				if want := lim >= 0 && n > lim; dn != want {
					t.Fatalf("threads %d eps %g limit %g (kept %g): dense %v, want %v", threads, eps, lim, n, dn, want)
				}
				if !dn && (!slices.Equal(tr.offsets, full.offsets) || !slices.Equal(tr.cols, full.cols) ||
					math.Float64bits(tr.maxDrop) != math.Float64bits(full.maxDrop) || tr.widened != full.widened) {
					t.Fatalf("threads %d eps %g limit %g: pattern differs from the full test's", threads, eps, lim)
				}
			}
			lv := &msLevel[float64]{fine: true, x: xs, y: ys}
			u0, _ := g.mask2(xs, ys, g.btx, g.bty, bf, bg, bg, bf, eps, g.cfg.rho, lv, false)
			u1, dn := g.mask2(xs, ys, g.btx, g.bty, bf, bg, bg, bf, eps, g.cfg.rho, lv, true)
			r0, r1 := u0.ranges(xs.blk, ys.blk), (*Ranges)(nil)
			if u1 != nil {
				r1 = u1.ranges(xs.blk, ys.blk)
			}
			if dn != dense(r0) || (dn && r1 != nil) || (!dn && !sameRanges(r0, r1)) {
				t.Fatalf("threads %d eps %g: mask2 with discard: dense %v, full pattern dense %v", threads, eps, dn, dense(r0))
			}
			if dn {
				sawDense++
			} else {
				sawSparse++
			}
			s0, _ := g.selfMask(xs, g.btx, bf, bf, eps, g.cfg.rho, lv, false)
			s1, sdn := g.selfMask(xs, g.btx, bf, bf, eps, g.cfg.rho, lv, true)
			if sdn != dense(s0) || (sdn && s1 != nil) || (!sdn && !sameRanges(s0, s1)) {
				t.Fatalf("threads %d eps %g: selfMask with discard: dense %v, full pattern dense %v", threads, eps, sdn, dense(s0))
			}
		}
	}
	if sawDense == 0 || sawSparse == 0 {
		t.Fatalf("the sweep must meet dense (%d) and sparse (%d) patterns", sawDense, sawSparse)
	}
}

func sameRanges(a, b *Ranges) bool {
	return a != nil && b != nil && slices.Equal(a.Offsets, b.Offsets) && slices.Equal(a.Cols, b.Cols) &&
		slices.Equal(a.RowStart, b.RowStart) && slices.Equal(a.ColStart, b.ColStart)
}

// TestTruncKernelPatternBruteForce: the kernel truncation (boxes within the
// radius) keeps exactly the block pairs whose bounding boxes are within the
// radius, checked pair by pair (a parent box contains its children's, so
// the hierarchical descent drops none of them), rows ascending.
func TestTruncKernelPatternBruteForce(t *testing.T) {
	for _, threads := range []int{1, 2} {
		g, _, _ := truncFixture(t, 1200, threads)
		rt, ct := g.btx, g.bty
		for _, radius := range []float64{0.2, 0.7, 2} {
			tt := truncTest{rt: rt, ct: ct, distOnly: true, threads: threads, radius2: radius * radius, thr: -1}
			tr := tt.run()
			d := rt.d
			kept := 0
			for k := 0; k < rt.blocks(); k++ {
				var want []int32
				for l := 0; l < ct.blocks(); l++ {
					var s float64
					for q := 0; q < d; q++ {
						gap := max(0, ct.lo[0][l*d+q]-rt.hi[0][k*d+q], rt.lo[0][k*d+q]-ct.hi[0][l*d+q])
						s += gap * gap
					}
					if s <= radius*radius {
						want = append(want, int32(l))
					}
				}
				if got := tr.cols[tr.offsets[k]:tr.offsets[k+1]]; !slices.Equal(got, want) {
					t.Fatalf("threads %d radius %g: row block %d keeps %v, want %v", threads, radius, k, got, want)
				}
				kept += len(want)
			}
			if kept == 0 || kept == rt.blocks()*ct.blocks() {
				t.Fatalf("radius %g: kept %d of %d pairs: the check needs a partial pattern", radius, kept, rt.blocks()*ct.blocks())
			}
		}
	}
}
