package core

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// patternHash is "kept/FNV-64a" of a pattern's boundaries, offsets and
// lists ("nil" for every pair).
func patternHash(r *Ranges) string {
	if r == nil {
		return "nil"
	}
	h := fnv.New64a()
	cols := make([]int, len(r.Cols))
	for i, l := range r.Cols {
		cols[i] = int(l)
	}
	for _, s := range [][]int{r.RowStart, r.ColStart, r.Offsets, cols} {
		for _, v := range s {
			fmt.Fprintf(h, "%d,", v)
		}
		h.Write([]byte{';'})
	}
	return fmt.Sprintf("%d/%016x", len(r.Cols), h.Sum64())
}

// TestTruncPatternsGolden: the cross (both directions, union) and self
// (symmetrised) patterns and the drop bound, on random potentials,
// balanced and with ρ = 0.01 (rows widened), for 1, 2 and 3 threads, are
// the bits the truncation code gave before its speed-ups (commit 48d4c6b:
// a bound per test, serial look-ahead, []int unions through
// Ranges.Transpose). amd64 only: elsewhere the compiler may fuse
// multiply-adds, and the bounds' last bits may differ.
func TestTruncPatternsGolden(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("golden bits recorded on amd64 (no fused multiply-add)")
	}
	golden := []struct { // the same for every thread count
		eps, rho  float64
		cross, yy string
		drop      uint64
	}{
		{0.002, math.Inf(1), "4778/d03c54bcc3b94ce1", "7868/fb5d37187301c63f", 0x3ed3059efd55d8c4},
		{0.002, 0.01, "4778/d03c54bcc3b94ce1", "7868/fb5d37187301c63f", 0x3eef0929ff2d6d27},
		{0.01, math.Inf(1), "9337/ea47aa1f881b7450", "18094/4362bfd4d58b9039", 0x3ef202613394c69d},
		{0.01, 0.01, "10058/8aa31e5477d13ab5", "18186/7fd4151bb415d7a3", 0x3f11a74b37975559},
		{0.05, math.Inf(1), "25079/0438fc53e4fd07cb", "50932/0ac95f859a5fc272", 0x3f00029d9cc34383},
		{0.05, 0.01, "35168/cdedb8730fca032f", "70424/f2ce86d603dfccd5", 0x3f11a47aeca4b241},
	}
	for _, threads := range []int{1, 2, 3} {
		g, xs, ys := truncFixture(t, 3000, threads)
		rng := rand.New(rand.NewPCG(21, 22))
		i := 0
		for _, eps := range []float64{0.002, 0.01, 0.05} {
			f, gg := randomPotential(rng, xs.pts.N, eps, 6), randomPotential(rng, ys.pts.N, eps, 6)
			bf, bg := g.bound(xs, g.btx, f), g.bound(ys, g.bty, gg)
			for _, rho := range []float64{math.Inf(1), 0.01} {
				want := golden[i]
				i++
				if want.eps != eps || want.rho != rho {
					t.Fatalf("golden table out of order at %d", i)
				}
				lv := &msLevel[float64]{fine: true, x: xs, y: ys}
				u, _ := g.mask2(xs, ys, g.btx, g.bty, bf, bg, bg, bf, eps, rho, lv, false)
				s, _ := g.selfMask(ys, g.bty, bg, bg, eps, rho, lv, false)
				lv.uxy = u
				if c, yy := patternHash(lv.crossRanges(false)), patternHash(s); c != want.cross || yy != want.yy || math.Float64bits(lv.drop) != want.drop {
					t.Errorf("threads %d eps %g rho %g: cross %s self %s drop %#x, want %s %s %#x",
						threads, eps, rho, c, yy, math.Float64bits(lv.drop), want.cross, want.yy, want.drop)
				}
			}
		}
	}
}

// TestTruncFarSkipIsExact: skipping the affine bound of the pairs whose box
// part is below thr − 40 changes no kept pair, no drop bound and no widened
// count (the same test with the skip disabled, balanced and widened).
func TestTruncFarSkipIsExact(t *testing.T) {
	g, xs, ys := truncFixture(t, 2000, 2)
	rng := rand.New(rand.NewPCG(23, 24))
	skipped := 0
	for _, eps := range []float64{0.002, 0.02} {
		f, gg := randomPotential(rng, xs.pts.N, eps, 6), randomPotential(rng, ys.pts.N, eps, 6)
		for _, rho := range []float64{math.Inf(1), 0.01} {
			bf, bg := g.bound(xs, g.btx, f), g.bound(ys, g.bty, gg)
			tf := g.potentialTest(g.btx, g.bty, bf, bg, eps, rho)
			fast := tf.run()
			lf, lg := *bf.lin, *bg.lin
			lf.tame, lg.tame = false, false // no skip: every pair's affine bound is computed
			ts := g.potentialTest(g.btx, g.bty, &potBound{bf.max, &lf}, &potBound{bg.max, &lg}, eps, rho)
			slow := ts.run()
			if !slices.Equal(fast.offsets, slow.offsets) || !slices.Equal(fast.cols, slow.cols) ||
				math.Float64bits(fast.maxDrop) != math.Float64bits(slow.maxDrop) || fast.widened != slow.widened {
				t.Fatalf("eps %g rho %g: the far skip changed the test (kept %d vs %d, drop %g vs %g)", eps, rho, len(fast.cols), len(slow.cols), fast.maxDrop, slow.maxDrop)
			}
			if !bf.lin.tame || !bg.lin.tame {
				t.Fatalf("eps %g: bounds of moderate potentials must be tame", eps)
			}
			tt := g.potentialTest(g.btx, g.bty, bf, bg, eps, rho)
			for a := 0; a < len(g.btx.groups[0])-1; a += 7 {
				r := tt.cellRow(0, a, 0)
				for b := 0; b < g.bty.blocks(); b += 5 {
					if _, u := r.box(b); u < tt.thr-40 {
						skipped++
					}
				}
			}
		}
	}
	if skipped == 0 {
		t.Fatal("no pair is far: the check needs pairs that the skip applies to")
	}
}

// TestTruncUnionAndTransposes: union of the int32 lists and the Ranges
// written from them (ranges, transposeRanges) are the merge of the two
// patterns and Ranges.Transpose, whatever the thread count; a limit below
// the union's size reports it dense.
func TestTruncUnionAndTransposes(t *testing.T) {
	g, xs, ys := truncFixture(t, 1500, 1)
	rng := rand.New(rand.NewPCG(25, 26))
	eps := 0.01
	f, gg := randomPotential(rng, xs.pts.N, eps, 4), randomPotential(rng, ys.pts.N, eps, 4)
	bf, bg := g.bound(xs, g.btx, f), g.bound(ys, g.bty, gg)
	ta, tb := g.potentialTest(g.btx, g.bty, bf, bg, eps, g.cfg.rho), g.potentialTest(g.bty, g.btx, bg, bf, eps, g.cfg.rho)
	a, b := ta.run(), tb.run()
	K := g.btx.blocks()
	ra, rbt := a.ranges(xs.blk, ys.blk), b.ranges(ys.blk, xs.blk).Transpose()
	// Reference: the union row by row through a set.
	want := &Ranges{RowStart: xs.blk, ColStart: ys.blk, Offsets: []int{0}}
	for k := 0; k < K; k++ {
		row := slices.Concat(ra.Kept(k), rbt.Kept(k))
		slices.Sort(row)
		row = slices.Compact(row)
		want.Cols = append(want.Cols, row...)
		want.Offsets = append(want.Offsets, len(want.Cols))
	}
	if len(want.Cols) == len(ra.Cols) || len(want.Cols) == len(rbt.Cols) {
		t.Fatal("the check needs two different patterns")
	}
	for _, threads := range []int{1, 2, 3} {
		u, dense := union(a, b.transpose(K), -1, threads)
		if dense || !sameRanges(u.ranges(xs.blk, ys.blk), want) {
			t.Fatalf("threads %d: union differs from the reference", threads)
		}
		if !sameRanges(u.transposeRanges(ys.blk, xs.blk), want.Transpose()) {
			t.Fatalf("threads %d: transposeRanges differs from Ranges.Transpose", threads)
		}
		if _, dn := union(a, b.transpose(K), float64(len(want.Cols)-1), threads); !dn {
			t.Fatalf("threads %d: a limit below the union's size must report it dense", threads)
		}
		if u2, dn := union(a, b.transpose(K), float64(len(want.Cols)), threads); dn || !slices.Equal(u2.cols, u.cols) {
			t.Fatalf("threads %d: a limit at the union's size must keep it", threads)
		}
	}
}
