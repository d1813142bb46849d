package simd

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// BenchmarkBlockSparse times the block-sparse soft-min on the pattern of a
// multiscale fine level: uniform points in [0,1]^D sorted by the cells of a
// c^D grid (≈ 33 points per cell, as the multiscale blocks), each row cell
// keeping its 3^D neighbour cells (2.7 % of the pairs in 3D). The pairs/s
// count the kept pairs only; the online soft-min on the same clouds (all
// pairs) is the peer to compare with in the same run.
func BenchmarkBlockSparse(b *testing.B) {
	forEachPath(b, func(b *testing.B, name string) {
		eng := engineOf[float32](name)
		for _, d := range []int{2, 3} {
			x, y, h, r, _ := sortedGridPattern[float32](d)
			kept := 0.0
			for k := 0; k < r.RowClusters(); k++ {
				n := float64(r.RowStart[k+1] - r.RowStart[k])
				for _, l := range r.Kept(k) {
					kept += n * float64(r.ColStart[l+1]-r.ColStart[l])
				}
			}
			for _, g := range []bool{false, true} {
				b.Run(fmt.Sprintf("f32/D%d/grad=%v/sparse", d, g), func(b *testing.B) {
					p, err := eng(1).(core.BlockSparseEngine[float32]).BlockSparsePair(x, y, core.CostHalfSquared, r)
					if err != nil {
						b.Fatal(err)
					}
					benchPairLoop(b, p, x.N, d, h, g, kept)
				})
				b.Run(fmt.Sprintf("f32/D%d/grad=%v/online", d, g), func(b *testing.B) {
					p, _ := eng(1).Pair(x, y, core.CostHalfSquared)
					benchPairLoop(b, p, x.N, d, h, g, float64(x.N)*float64(y.N))
				})
			}
		}
	})
}

func benchPairLoop(b *testing.B, p core.Pair[float32], n, d int, h []float32, grad bool, pairs float64) {
	out := make([]float32, n)
	var g []float32
	if grad {
		g = make([]float32, n*d)
	}
	pt := startPairs(b)
	for b.Loop() {
		pt.lap(func() { p.SoftMin(.01, h, out, g) })
	}
	pt.report(b, pairs, 1)
}

// sortedGridPattern returns two clouds of 2^15 uniform points sorted by grid
// cell, log-weights, and the patterns keeping each cell's neighbours (x
// against y, and x against itself: symmetric).
func sortedGridPattern[T core.Float](d int) (x, y core.Cloud[T], h []T, r, rxx *core.Ranges) {
	const n = 1 << 15
	c := map[int]int{2: 32, 3: 10}[d] // cells per side: ≈ 32 points per cell
	rng := rand.New(rand.NewPCG(3, 4))
	cellOf := func(p []float64) (key int, idx []int) {
		idx = make([]int, d)
		for q := range p {
			idx[q] = min(int(p[q]*float64(c)), c-1)
			key = key*c + idx[q]
		}
		return key, idx
	}
	mk := func() (core.Cloud[T], []int) {
		type pt struct {
			key int
			p   []float64
		}
		ps := make([]pt, n)
		for i := range ps {
			p := make([]float64, d)
			for q := range p {
				p[q] = rng.Float64()
			}
			k, _ := cellOf(p)
			ps[i] = pt{k, p}
		}
		sort.Slice(ps, func(a, b int) bool { return ps[a].key < ps[b].key })
		pts := make([]T, n*d)
		start := []int{0}
		for i, v := range ps {
			for q := range v.p {
				pts[i*d+q] = T(v.p[q])
			}
			if i > 0 && v.key != ps[i-1].key {
				start = append(start, i)
			}
		}
		return core.Cloud[T]{Pts: pts, N: n, D: d}, append(start, n)
	}
	var xs, ys []int
	x, xs = mk()
	y, ys = mk()
	keyOf := func(cl core.Cloud[T], i int) []int {
		p := make([]float64, d)
		for q := range p {
			p[q] = float64(cl.Pts[i*d+q])
		}
		_, idx := cellOf(p)
		return idx
	}
	// pattern keeps the cell pairs of a and b (starts as, bs) that are
	// neighbours.
	pattern := func(a core.Cloud[T], as []int, b core.Cloud[T], bs []int) *core.Ranges {
		r := &core.Ranges{RowStart: as, ColStart: bs, Offsets: []int{0}}
		for k := 0; k+1 < len(as); k++ {
			ik := keyOf(a, as[k])
			for l := 0; l+1 < len(bs); l++ {
				jl := keyOf(b, bs[l])
				near := true
				for q := range ik {
					near = near && ik[q]-jl[q] <= 1 && jl[q]-ik[q] <= 1
				}
				if near {
					r.Cols = append(r.Cols, int32(l))
				}
			}
			r.Offsets = append(r.Offsets, len(r.Cols))
		}
		return r
	}
	r, rxx = pattern(x, xs, y, ys), pattern(x, xs, x, xs)
	h = make([]T, n)
	for j := range h {
		h[j] = T(-10.4 + rng.Float64())
	}
	return x, y, h, r, rxx
}
