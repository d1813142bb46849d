package simd

//go:generate go run ./gridgen

import (
	"fmt"
	"math"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/grid"
)

// Grid passes (images and volumes): a grid.AxisEngine whose 1D
// log-sum-exp passes are vectorised across lines — the lanes of a vector
// are W independent lines (W = 8 in float32, 4 in float64 on AVX2), the
// neighbours along the array's fastest varying index — and split among
// goroutines by groups of W lines (core.ParallelRows). A line's result
// depends only on its own group, whose composition depends only on the
// shape, so results are identical bit for bit whatever the thread count.
//
// For one group, with z_v the W lanes' inputs in log₂ units (z·log₂e) and
// κ₂ = κ·log₂e, each output u is
//
//	out_u = ln 2 · (m_u + log₂ Σ_{v ∈ kept} 2^(z_v − κ₂(u − v) − m_u)),   m_u = max_v z_v − κ₂(u − v),
//
// computed per lane in the element type, where kept covers every term
// ≥ m_u − τ (τ = AxisKernel.Tau·log₂e) of every lane: the terms AxisKernel
// allows to drop are the only ones dropped. The line is cut in blocks of
// gridBlock pixels with their maxima B (per lane) and the prefix and suffix
// maxima of those; a block cannot hold a term above B − κ₂(d) (d its
// distance to u: κ is non-decreasing), nor can any block beyond it hold one
// above its prefix (suffix) maximum − κ₂(d). For each u:
//
//  1. L = the exact maximum over the blocks the previous output summed
//     (the maximiser moves monotonically with u for these convex costs, so
//     this is usually m_u already) and u's own block;
//  2. scanning outwards on each side until the prefix (suffix) bound falls
//     below L − τ in every lane, each block whose own bound reaches L − τ in
//     some lane has its exact maximum taken, raising L; the block holding
//     the maximiser is never skipped, so L ends at m_u exactly;
//  3. the blocks whose exact maximum is ≥ m_u − τ in some lane are summed
//     (2^x by the package's vector exp2, which is exact to ≤ 1 ulp and
//     gives 0 below 2⁻¹⁰⁰ or 2⁻¹⁰⁰⁰: terms far below the largest, which is
//     2⁰ = 1) and their range is the next output's step 1.
//
// τ = +∞ (dense passes) keeps every block. Costs are clamped at 10³⁰ (a
// float32 cost never overflows to +∞, so no ∞ − ∞ arises); lanes whose line
// is −∞ only are computed on zeros and set to −∞. The log₂ of the sum
// (in [1, N]) is a vector atanh series (gridkern_*.go). The per-term
// exponential costs more than the portable engine's product sums where
// those apply, but it applies everywhere: the portable engine's slow cases
// (maximiser far from u, e.g. the first pass of every soft-min in
// mid-schedule) are the common case in the solver.
const gridBlock = 4

// gridArgs are one group's buffers, in lane-interleaved layout (element
// v·W + g is pixel v of lane g).
type gridArgs[T core.Float] struct {
	n    int
	z    []T     // in: the inputs·log₂e (n·W); lanes of −∞ only are zeroed
	out  []T     // out: the results, natural log units (n·W)
	ks   []T     // κ₂(|d|) broadcast, at (n−1+d)·W, for |d| < n
	tau  []T     // τ broadcast (W)
	bm   []T     // scratch: block maxima (⌈n/gridBlock⌉·W)
	pre  []T     // scratch: prefix maxima of bm
	suf  []T     // scratch: suffix maxima of bm
	tb   []T     // scratch: exact block maxima of the current u
	cand []int32 // scratch: blocks of step 2
}

// gridPath is a compiled vector path of the grid engine.
type gridPath struct {
	name      string
	supported func() bool
	w32, w64  int
	k32       func(*gridArgs[float32])
	k64       func(*gridArgs[float64])
}

// gridRegistry lists the grid paths compiled in, best first.
var gridRegistry []gridPath

// GridPaths returns the names of the grid engine's paths this machine
// supports, best first; "portable" (grid.Portable) is always last.
func GridPaths() []string {
	var r []string
	for _, p := range gridRegistry {
		if p.supported() {
			r = append(r, p.name)
		}
	}
	return append(r, "portable")
}

// GridEngine returns the grid pass engine of the named path, or an error if
// the name is unknown or the path is not supported here.
func GridEngine[T core.Float](name string) (grid.AxisEngine[T], error) {
	if name == "portable" {
		return grid.Portable[T](), nil
	}
	for _, p := range gridRegistry {
		if p.name != name {
			continue
		}
		if !p.supported() {
			return nil, fmt.Errorf("simd: grid path %q is not supported by this CPU", name)
		}
		var z T
		if _, ok := any(z).(float32); ok {
			return any(gridEngine[float32]{name: p.name, w: p.w32, kern: p.k32}).(grid.AxisEngine[T]), nil
		}
		return any(gridEngine[float64]{name: p.name, w: p.w64, kern: p.k64}).(grid.AxisEngine[T]), nil
	}
	return nil, fmt.Errorf("simd: unknown or uncompiled grid path %q (want one of %v)", name, GridPaths())
}

// GridFor returns the fastest grid pass engine for this CPU, or the
// portable one when GEOMLOSS_SIMD forces the portable path (see Selected;
// the AVX-512 path uses the AVX2 grid kernels).
func GridFor[T core.Float]() grid.AxisEngine[T] {
	if Selected() != "portable" {
		for _, name := range GridPaths() {
			if e, err := GridEngine[T](name); err == nil {
				return e
			}
		}
	}
	return grid.Portable[T]()
}

type gridEngine[T core.Float] struct {
	name string
	w    int
	kern func(*gridArgs[T])
}

func (e gridEngine[T]) Name() string { return e.name }

// LSEAxis implements grid.AxisEngine (see the algorithm above).
func (e gridEngine[T]) LSEAxis(k *grid.AxisKernel, shape []int, axis int, in, out []T, threads int) error {
	if err := grid.CheckPass(k, shape, axis, len(in), len(out)); err != nil {
		return err
	}
	n := shape[axis]
	if len(in) == 0 {
		return nil
	}
	if n == 1 {
		copy(out, in)
		return nil
	}
	outer, stride := grid.AxisSplit(shape, axis)
	W := e.w
	ks := make([]T, (2*n-1)*W)
	for d := 0; d < n; d++ {
		c := T(min(k.Cost[d]*math.Log2E, 1e30))
		for g := 0; g < W; g++ {
			ks[(n-1+d)*W+g], ks[(n-1-d)*W+g] = c, c
		}
	}
	tau := make([]T, W)
	for g := range tau {
		tau[g] = T(k.Tau * math.Log2E)
	}
	// Groups: W consecutive lines of one outer index when stride ≥ W (their
	// pixels are contiguous), else W consecutive lines in the flat order.
	var groups, gpo int
	if stride >= W {
		gpo = (stride + W - 1) / W
		groups = outer * gpo
	} else {
		groups = (outer*stride + W - 1) / W
	}
	nb := (n + gridBlock - 1) / gridBlock
	core.ParallelRows(groups, threads, max(1, 4096/(W*n)), func(lo, hi int) {
		a := gridArgs[T]{n: n, ks: ks, tau: tau,
			z: make([]T, n*W), out: make([]T, n*W), bm: make([]T, nb*W), pre: make([]T, nb*W), suf: make([]T, nb*W), tb: make([]T, nb*W), cand: make([]int32, nb)}
		base := make([]int, W)
		l2e := T(math.Log2E)
		for gi := lo; gi < hi; gi++ {
			w := W
			if stride >= W {
				i0 := (gi % gpo) * W
				w = min(W, stride-i0)
				b0 := (gi/gpo)*n*stride + i0
				for g := range base {
					base[g] = b0 + g
				}
			} else {
				l0 := gi * W
				w = min(W, outer*stride-l0)
				for g := 0; g < w; g++ {
					l := l0 + g
					base[g] = (l/stride)*n*stride + l%stride
				}
			}
			for v := 0; v < n; v++ {
				zv := a.z[v*W : v*W+W]
				off := v * stride
				for g := 0; g < w; g++ {
					zv[g] = in[base[g]+off] * l2e
				}
				for g := w; g < W; g++ {
					zv[g] = 0
				}
			}
			e.kern(&a)
			for v := 0; v < n; v++ {
				ov := a.out[v*W : v*W+w]
				off := v * stride
				for g, x := range ov {
					out[base[g]+off] = x
				}
			}
		}
	})
	return nil
}
