package enginetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/cluster"
)

// BlockCase is one block-sparse problem: a soft-min or kernel-sum case of
// the main table whose points are split into clusters, with a random
// pattern of kept cluster pairs. The reference is the dense reduction with
// the excluded pairs removed (h_j = −∞, w_j = 0 there).
type BlockCase struct {
	Case
	Sizes func(r *rand.Rand, n int) []int // cluster sizes summing to n (zeros allowed)
	Keep  float64                         // probability of keeping a cluster pair
	// Labels: the clusters come from unsorted random labels (cluster.Labels)
	// instead of Sizes.
	Labels bool
}

// randomSizes splits n into clusters of 0..2·avg points, with some empty
// and some single-point clusters.
func randomSizes(avg int) func(r *rand.Rand, n int) []int {
	return func(r *rand.Rand, n int) []int {
		var s []int
		for left := n; left > 0; {
			var c int
			switch r.IntN(5) {
			case 0:
				c = 0
			case 1:
				c = 1
			default:
				c = 1 + r.IntN(2*avg)
			}
			c = min(c, left)
			s = append(s, c)
			left -= c
		}
		return append(s, 0) // a trailing empty cluster
	}
}

// BlockCases returns the block-sparse conformance table.
func BlockCases() []BlockCase {
	var cs []BlockCase
	add := func(c BlockCase) {
		c.Seed = uint64(1000 + len(cs))
		if c.Scale == 0 {
			c.Scale = 1
		}
		cs = append(cs, c)
	}
	cn := map[core.Cost]string{core.CostHalfSquared: "p2", core.CostEuclidean: "p1"}
	for _, cost := range []core.Cost{core.CostHalfSquared, core.CostEuclidean} {
		for _, g := range []bool{false, true} {
			for _, d := range []int{1, 2, 3, 5} {
				add(BlockCase{Case: Case{Name: fmt.Sprintf("bs-smin/%s/D%d/grad=%v", cn[cost], d, g), N: 70, M: 90, D: d,
					Cost: cost, Eps: .05, Grad: g, H: hUniform}, Sizes: randomSizes(6), Keep: .5})
			}
			pre := fmt.Sprintf("bs-smin/%s/grad=%v/", cn[cost], g)
			add(BlockCase{Case: Case{Name: pre + "singletons", N: 30, M: 40, D: 3, Cost: cost, Eps: .05, Grad: g, H: hUniform},
				Sizes: func(_ *rand.Rand, n int) []int { return slices.Repeat([]int{1}, n) }, Keep: .3})
			add(BlockCase{Case: Case{Name: pre + "keep-none", N: 30, M: 40, D: 3, Cost: cost, Eps: .05, Grad: g, H: hUniform},
				Sizes: randomSizes(5), Keep: 0})
			add(BlockCase{Case: Case{Name: pre + "keep-all", N: 50, M: 70, D: 3, Cost: cost, Eps: .05, Grad: g, H: hUniform},
				Sizes: randomSizes(5), Keep: 1})
			add(BlockCase{Case: Case{Name: pre + "unsorted-labels", N: 80, M: 60, D: 2, Cost: cost, Eps: .02, Grad: g, H: hUniform},
				Labels: true, Keep: .6})
			add(BlockCase{Case: Case{Name: pre + "neg-inf", N: 40, M: 61, D: 3, Cost: cost, Eps: .1, Grad: g, H: hSomeInf},
				Sizes: randomSizes(4), Keep: .5})
			add(BlockCase{Case: Case{Name: pre + "large-clusters", N: 64, M: 4500, D: 3, Cost: cost, Eps: .003, Grad: g, H: hUniform},
				Sizes: randomSizes(300), Keep: .5})
			add(BlockCase{Case: Case{Name: pre + "self", N: 60, M: 60, D: 3, Cost: cost, Eps: .02, Grad: g, H: hUniform, Self: true},
				Sizes: randomSizes(5), Keep: .5})
		}
	}
	kn := map[core.Kernel]string{core.KernelGaussian: "gaussian", core.KernelLaplacian: "laplacian", core.KernelEnergy: "energy"}
	for _, k := range []core.Kernel{core.KernelGaussian, core.KernelLaplacian, core.KernelEnergy} {
		for _, g := range []bool{false, true} {
			for _, d := range []int{1, 3, 6} {
				add(BlockCase{Case: Case{Name: fmt.Sprintf("bs-kernel/%s/grad=%v/D%d", kn[k], g, d), N: 50, M: 70, D: d,
					Kernel: k, Sigma: .3, Grad: g, W: wSigned}, Sizes: randomSizes(5), Keep: .5})
			}
		}
	}
	return cs
}

// blockProblem is a BlockCase's clouds (sorted by cluster) and pattern.
type blockProblem[T core.Float] struct {
	problem[T]
	r *core.Ranges
}

func bounds(sizes []int) []int {
	b := []int{0}
	for _, s := range sizes {
		b = append(b, b[len(b)-1]+s)
	}
	return b
}

func buildBlock[T core.Float](c BlockCase) blockProblem[T] {
	pr := build[T](c.Case)
	r := rand.New(rand.NewPCG(c.Seed, 77))
	var rs, cs []int
	if c.Labels {
		sortBy := func(cl *core.Cloud[T], v []T, n int) []int {
			lab := make([]int64, n)
			for i := range lab {
				lab[i] = int64(r.IntN(9)*13 - 40) // unsorted, not compact, negative values
			}
			h := cluster.Labels(lab)
			pts := make([]T, n*cl.D)
			for k, i := range h.Perm {
				copy(pts[k*cl.D:(k+1)*cl.D], cl.Point(i))
			}
			cl.Pts = pts
			if v != nil {
				vv := make([]T, n)
				for k, i := range h.Perm {
					vv[k] = v[i]
				}
				copy(v, vv)
			}
			return h.Bounds(0)
		}
		rs = sortBy(&pr.x, nil, c.N)
		if c.Self {
			pr.y = pr.x
			cs = rs
		} else {
			cs = sortBy(&pr.y, nil, c.M)
		}
	} else {
		rs = bounds(c.Sizes(r, c.N))
		if c.Self {
			cs = rs
		} else {
			cs = bounds(c.Sizes(r, pr.y.N))
		}
	}
	rg := &core.Ranges{RowStart: rs, ColStart: cs, Offsets: []int{0}}
	for k := 0; k < len(rs)-1; k++ {
		for l := 0; l < len(cs)-1; l++ {
			if r.Float64() < c.Keep {
				rg.Cols = append(rg.Cols, int32(l))
			}
		}
		rg.Offsets = append(rg.Offsets, len(rg.Cols))
	}
	return blockProblem[T]{problem: pr, r: rg}
}

// masked returns pr with the columns that row cluster k does not keep
// removed (h = −∞, w = 0).
func (bp blockProblem[T]) masked(k int) problem[T] {
	m := bp.y.N
	keep := make([]bool, m)
	for _, l := range bp.r.Kept(k) {
		for j := bp.r.ColStart[l]; j < bp.r.ColStart[l+1]; j++ {
			keep[j] = true
		}
	}
	q := bp.problem
	if q.h != nil {
		q.h = slices.Clone(q.h)
		for j := range q.h {
			if !keep[j] {
				q.h[j] = T(math.Inf(-1))
			}
		}
	}
	if q.w != nil {
		q.w = slices.Clone(q.w)
		for j := range q.w {
			if !keep[j] {
				q.w[j] = 0
			}
		}
	}
	return q
}

// BlockPairFunc builds a block-sparse Pair with the given thread count.
type BlockPairFunc[T core.Float] func(x, y core.Cloud[T], cost core.Cost, r *core.Ranges, threads int) (core.Pair[T], error)

// RunBlockSparse runs the block-sparse table on the Pairs mk builds, then
// the thread-count determinism check, with tolerance factor f.
func RunBlockSparse[T core.Float](t *testing.T, mk BlockPairFunc[T], f float64) {
	for _, c := range BlockCases() {
		t.Run(c.Name, func(t *testing.T) { runBlockCase(t, mk, c, f) })
	}
	t.Run("bs-determinism", func(t *testing.T) { blockDeterminism(t, mk) })
}

func runBlockCase[T core.Float](t *testing.T, mk BlockPairFunc[T], c BlockCase, f float64) {
	bp := buildBlock[T](c)
	u := unit[T]() * f
	cost := c.Cost
	if c.Kernel != 0 {
		cost = core.CostHalfSquared
	}
	p, err := mk(bp.x, bp.y, cost, bp.r, c.Threads)
	if err != nil {
		t.Fatalf("building the Pair: %v", err)
	}
	defer p.Close()
	n, d := c.N, c.D
	out := make([]T, n)
	var grad []T
	if c.Grad {
		grad = make([]T, n*d)
		for i := range grad {
			grad[i] = T(math.NaN())
		}
	}
	for i := range out {
		out[i] = T(math.NaN())
	}
	if c.Kernel == 0 {
		check(t, p.SoftMin(T(c.Eps), bp.h, out, grad))
	} else {
		check(t, p.KernelSum(c.Kernel, T(c.Sigma), bp.w, out, grad))
	}
	bad := 0
	report := func(format string, args ...any) {
		if bad < 5 {
			t.Errorf(format, args...)
		}
		bad++
	}
	for k := 0; k < bp.r.RowClusters(); k++ {
		q := bp.masked(k)
		for i := bp.r.RowStart[k]; i < bp.r.RowStart[k+1]; i++ {
			var ref, otol, gtol float64
			var rg []float64
			if c.Kernel == 0 {
				var zbar float64
				ref, rg, zbar, gtol = refSoftMin(q, c.Cost, float64(T(c.Eps)), i)
				otol = float64(T(c.Eps)) * (1 + zbar)
			} else {
				ref, rg, otol, gtol = refKernel(q, c.Kernel, float64(T(c.Sigma)), i, u)
			}
			got := float64(out[i])
			if math.IsInf(ref, 1) {
				if !math.IsInf(got, 1) {
					report("row %d (cluster %d): out = %g, want +Inf (no kept column)", i, k, got)
				}
			} else if !(math.Abs(got-ref) <= u*otol) {
				report("row %d (cluster %d): out = %.10g, want %.10g (|diff| %.3g > tol %.3g)", i, k, got, ref, math.Abs(got-ref), u*otol)
			}
			if c.Grad {
				for q := 0; q < d; q++ {
					if g := float64(grad[i*d+q]); !(math.Abs(g-rg[q]) <= u*gtol) {
						report("row %d: grad[%d] = %.10g, want %.10g", i, q, g, rg[q])
					}
				}
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d mismatches in all", bad)
	}
}

// blockDeterminism checks bit-for-bit equality across thread counts and
// that values do not depend on whether the gradient is asked for.
func blockDeterminism[T core.Float](t *testing.T, mk BlockPairFunc[T]) {
	c := BlockCase{Case: Case{N: 500, M: 1500, D: 3, Cost: core.CostHalfSquared, Eps: .01, Seed: 31, Scale: 1, H: hUniform, W: wSigned},
		Sizes: randomSizes(20), Keep: .4}
	bp := buildBlock[T](c)
	eval := func(threads int) (all []T) {
		for _, cost := range []core.Cost{core.CostHalfSquared, core.CostEuclidean} {
			p, err := mk(bp.x, bp.y, cost, bp.r, threads)
			if err != nil {
				t.Fatal(err)
			}
			o, g, plain := make([]T, c.N), make([]T, c.N*c.D), make([]T, c.N)
			check(t, p.SoftMin(T(c.Eps), bp.h, o, g))
			check(t, p.SoftMin(T(c.Eps), bp.h, plain, nil))
			if !slices.Equal(o, plain) {
				t.Errorf("threads=%d cost %d: values differ with and without gradient", threads, cost)
			}
			all = append(append(all, o...), g...)
			check(t, p.KernelSum(core.KernelGaussian, .3, bp.w, o, g))
			all = append(append(all, o...), g...)
			p.Close()
		}
		return all
	}
	base := eval(1)
	for _, th := range []int{2, 3, 0} {
		if got := eval(th); !slices.Equal(got, base) {
			t.Errorf("threads=%d: results differ from threads=1", th)
		}
	}
}

// blockCancel checks that a block-sparse reduction on an engine whose Stop
// is set returns ErrCancelled.
func blockCancel[T core.Float](t *testing.T, newEngine EngineFunc[T]) {
	c := BlockCase{Case: Case{N: 400, M: 600, D: 3, Cost: core.CostHalfSquared, Eps: .01, Seed: 5, Scale: 1, H: hUniform, W: wSigned},
		Sizes: randomSizes(10), Keep: .7}
	bp := buildBlock[T](c)
	stop := new(core.Stop)
	e := newEngine(core.Resources{Threads: 2, Stop: stop}).(core.BlockSparseEngine[T])
	p, err := e.BlockSparsePair(bp.x, bp.y, c.Cost, bp.r)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]T, c.N)
	check(t, p.SoftMin(T(c.Eps), bp.h, out, nil))
	stop.Set()
	for what, err := range map[string]error{
		"SoftMin":   p.SoftMin(T(c.Eps), bp.h, out, nil),
		"KernelSum": p.KernelSum(core.KernelGaussian, .3, bp.w, out, nil),
	} {
		var ce *core.Error
		if !asErr(err, &ce) || ce.Code != core.ErrCancelled {
			t.Errorf("%s after Stop.Set: got %v, want ErrCancelled", what, err)
		}
	}
	for k := 0; k < 2; k++ {
		if err := p.Close(); err != nil {
			t.Errorf("Close #%d: %v", k+1, err)
		}
	}
}
