// Package enginetest is the conformance suite of core's reduction interface:
// one table of cases that every engine (portable, AVX2, AVX-512, GPU, ...)
// must pass, each checked against a float64 scalar reference written from the
// definitions of core.Pair (independently of core.Portable).
//
//	func TestConformance(t *testing.T) {
//		enginetest.Run[float32](t, newMyEngine32) // func(core.Resources) core.Engine[float32]
//		enginetest.Run[float64](t, newMyEngine64)
//	}
//
// An engine that also implements core.DenseEngine passes the same table with
// its dense (tensorized) Pair, under the subtest "dense". RunQuick runs a
// representative subset (every kernel specialisation: D = 1, 2, 3 and a
// generic D; p = 1, 2; the three kernels; with and without gradient; the
// edge cases) for engines whose full run is already covered elsewhere.
//
// Tolerances are error bounds in units of the element type's rounding unit u
// (2⁻²⁴ or 2⁻⁵³) scaled by the magnitude of what is being summed:
//
//	soft-min:  |out − ref| ≤ f·u·ε·(1 + Σ_j P_ij (|h_j| + C_ij/ε))
//	gradient:  |g − ref|   ≤ f·u·(max_j |∇C_ij|·(1 + Z̄_i) + Σ_j P_ij |∇C_ij| Z_ij)
//	kernels:   |out − ref| ≤ f·u·Σ_j |w_j k_ij| (1 + |a_ij|)   (a = exp argument)
//
// with f = 128 unless Run is given another factor. These are the bounds of a
// computation whose every operation rounds once in T (z_ij = h_j − C_ij/ε is
// only known to u·|z_ij| in T), so a faithful engine passes them in float32
// and float64 alike, and a real bug (a wrong clamp, a lost term, a bad
// rescale) exceeds them by orders of magnitude.
package enginetest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// Case is one soft-min or kernel-sum problem of the table.
type Case struct {
	Name     string
	Quick    bool // part of the RunQuick subset
	N, M, D  int
	Cost     core.Cost   // soft-min cost (0 for a kernel case)
	Kernel   core.Kernel // kernel-sum kernel (0 for a soft-min case)
	Eps      float64     // soft-min temperature
	Sigma    float64     // kernel width
	Grad     bool
	Threads  int
	Seed     uint64
	Scale    float64                                           // coordinates ~ U[0, Scale)
	Coincide bool                                              // some y_j equal some x_i exactly
	Self     bool                                              // y is x (the C_xx / K_xx pairs of Sinkhorn and kernel norms)
	H        func(r *rand.Rand, j, m int, eps float64) float64 // log-weights (soft-min)
	W        func(r *rand.Rand, j, m int) float64              // kernel weights
}

func hUniform(r *rand.Rand, j, m int, eps float64) float64 {
	return math.Log(1/float64(m)) + (r.Float64()-.5)*0.3/eps
}

func hSomeInf(r *rand.Rand, j, m int, eps float64) float64 {
	if j%3 == 1 {
		return math.Inf(-1)
	}
	return hUniform(r, j, m, eps)
}

func hAllInf(r *rand.Rand, j, m int, eps float64) float64 { return math.Inf(-1) }

func hFloor(r *rand.Rand, j, m int, eps float64) float64 {
	if j%4 == 0 {
		return -1e5 // the log-weight floor of zero weights
	}
	return hUniform(r, j, m, eps)
}

// hUnderflow makes every exp(z_ij) underflow in float32 and float64 before
// the max shift.
func hUnderflow(r *rand.Rand, j, m int, eps float64) float64 {
	return -2000 - 5*r.Float64()
}

func wPositive(r *rand.Rand, j, m int) float64 { return (0.5 + r.Float64()) / float64(m) }
func wSigned(r *rand.Rand, j, m int) float64   { return (r.Float64() - 0.4) / float64(m) }

// Cases returns the conformance table.
func Cases() []Case {
	var cs []Case
	add := func(c Case) {
		if c.Seed == 0 {
			c.Seed = uint64(len(cs) + 1)
		}
		if c.Scale == 0 {
			c.Scale = 1
		}
		cs = append(cs, c)
	}
	costs := []core.Cost{core.CostHalfSquared, core.CostEuclidean}
	cn := map[core.Cost]string{core.CostHalfSquared: "p2", core.CostEuclidean: "p1"}
	for _, cost := range costs {
		for _, d := range []int{1, 2, 3, 4, 5, 8, 16} {
			for _, g := range []bool{false, true} {
				add(Case{Name: fmt.Sprintf("smin/%s/D%d/grad=%v", cn[cost], d, g), N: 37, M: 53, D: d,
					Cost: cost, Eps: 0.05, Grad: g, H: hUniform, Quick: d <= 3 || d == 5})
			}
		}
		for _, g := range []bool{false, true} {
			pre := fmt.Sprintf("smin/%s/grad=%v/", cn[cost], g)
			add(Case{Name: pre + "neg-inf-weights", N: 40, M: 61, D: 3, Cost: cost, Eps: .1, Grad: g, H: hSomeInf, Quick: true})
			add(Case{Name: pre + "all-neg-inf", N: 9, M: 20, D: 3, Cost: cost, Eps: .1, Grad: g, H: hAllInf, Quick: true})
			add(Case{Name: pre + "log-floor", N: 33, M: 45, D: 2, Cost: cost, Eps: .01, Grad: g, H: hFloor})
			add(Case{Name: pre + "tiny-eps", N: 31, M: 70, D: 3, Cost: cost, Eps: 1e-5, Grad: g, H: hUniform, Quick: true})
			add(Case{Name: pre + "huge-eps", N: 31, M: 70, D: 3, Cost: cost, Eps: 1e4, Grad: g, H: hUniform})
			add(Case{Name: pre + "underflow", N: 25, M: 64, D: 3, Cost: cost, Eps: 1e-3, Grad: g, H: hUnderflow, Quick: true})
			add(Case{Name: pre + "N1", N: 1, M: 77, D: 3, Cost: cost, Eps: .05, Grad: g, H: hUniform})
			add(Case{Name: pre + "M1", N: 45, M: 1, D: 3, Cost: cost, Eps: .05, Grad: g, H: hUniform})
			add(Case{Name: pre + "N1M1", N: 1, M: 1, D: 2, Cost: cost, Eps: .05, Grad: g, H: hUniform, Quick: true})
			add(Case{Name: pre + "D16-tiles", N: 40, M: 2100, D: 16, Cost: cost, Eps: .2, Grad: g, H: hUniform})
			add(Case{Name: pre + "many-tiles", N: 37, M: 4500, D: 3, Cost: cost, Eps: .003, Grad: g, H: hUniform, Quick: true})
			add(Case{Name: pre + "coincident", N: 30, M: 40, D: 3, Cost: cost, Eps: .05, Grad: g, H: hUniform, Coincide: true, Quick: true})
			add(Case{Name: pre + "self", N: 50, M: 50, D: 3, Cost: cost, Eps: .02, Grad: g, H: hUniform, Self: true, Quick: true})
			add(Case{Name: pre + "large-coords", N: 30, M: 90, D: 3, Cost: cost, Eps: 5, Grad: g, H: hUniform, Scale: 100})
			for _, th := range []int{1, 3, 0} {
				add(Case{Name: fmt.Sprintf("%sthreads%d", pre, th), N: 301, M: 130, D: 3, Cost: cost, Eps: .02,
					Grad: g, H: hUniform, Threads: th, Quick: th == 3})
			}
		}
	}
	kn := map[core.Kernel]string{core.KernelGaussian: "gaussian", core.KernelLaplacian: "laplacian", core.KernelEnergy: "energy"}
	for _, k := range []core.Kernel{core.KernelGaussian, core.KernelLaplacian, core.KernelEnergy} {
		for _, g := range []bool{false, true} {
			pre := fmt.Sprintf("kernel/%s/grad=%v/", kn[k], g)
			for _, d := range []int{1, 2, 3, 6, 16} {
				add(Case{Name: fmt.Sprintf("%sD%d", pre, d), N: 41, M: 59, D: d, Kernel: k, Sigma: .3, Grad: g, W: wPositive,
					Quick: d != 16})
			}
			add(Case{Name: pre + "signed", N: 41, M: 59, D: 3, Kernel: k, Sigma: .2, Grad: g, W: wSigned, Quick: true})
			add(Case{Name: pre + "coincident", N: 30, M: 40, D: 3, Kernel: k, Sigma: .1, Grad: g, W: wSigned, Coincide: true, Quick: true})
			add(Case{Name: pre + "self", N: 50, M: 50, D: 2, Kernel: k, Sigma: .1, Grad: g, W: wPositive, Self: true})
			add(Case{Name: pre + "tiny-sigma", N: 30, M: 50, D: 3, Kernel: k, Sigma: 1e-3, Grad: g, W: wPositive, Quick: true})
			add(Case{Name: pre + "huge-sigma", N: 30, M: 50, D: 3, Kernel: k, Sigma: 1e3, Grad: g, W: wSigned})
			add(Case{Name: pre + "N1M1", N: 1, M: 1, D: 3, Kernel: k, Sigma: .5, Grad: g, W: wPositive, Quick: true})
			add(Case{Name: pre + "many-tiles", N: 30, M: 4500, D: 3, Kernel: k, Sigma: .25, Grad: g, W: wSigned, Quick: true})
			add(Case{Name: pre + "threads1", N: 301, M: 130, D: 3, Kernel: k, Sigma: .25, Grad: g, W: wSigned, Threads: 1})
			add(Case{Name: pre + "threads3", N: 301, M: 130, D: 3, Kernel: k, Sigma: .25, Grad: g, W: wSigned, Threads: 3, Quick: true})
		}
	}
	return cs
}

// PairFunc builds the Pair under test (an Engine's Pair or a DenseEngine's
// DensePair) on an engine built with the given number of threads.
type PairFunc[T core.Float] func(x, y core.Cloud[T], cost core.Cost, threads int) (core.Pair[T], error)

// EngineFunc builds the engine under test with the given resources.
type EngineFunc[T core.Float] func(core.Resources) core.Engine[T]

// Run runs every case of the table on the engines newEngine builds (and on
// their DensePair if they are core.DenseEngines), then the cancellation and
// release checks. The optional argument replaces the tolerance factor f
// (default 128; see the package doc).
func Run[T core.Float](t *testing.T, newEngine EngineFunc[T], tol ...float64) {
	run(t, newEngine, false, tol)
}

// RunQuick runs the Quick subset of the table, the determinism, reuse,
// cancellation and release checks (and the same on the DensePair): every
// kernel specialisation and edge case, at a fraction of Run's time.
func RunQuick[T core.Float](t *testing.T, newEngine EngineFunc[T], tol ...float64) {
	run(t, newEngine, true, tol)
}

func run[T core.Float](t *testing.T, newEngine EngineFunc[T], quick bool, tol []float64) {
	f := 128.0
	if len(tol) > 0 {
		f = tol[0]
	}
	online := func(x, y core.Cloud[T], cost core.Cost, threads int) (core.Pair[T], error) {
		return newEngine(core.Resources{Threads: threads}).Pair(x, y, cost)
	}
	RunPairs(t, online, quick, f)
	t.Run("dual", func(t *testing.T) { RunDual(t, online, f) })
	t.Run("cancel", func(t *testing.T) { cancel(t, newEngine, false) })
	t.Run("plan", func(t *testing.T) { RunPlan(t, newEngine, f) })
	if _, ok := newEngine(core.Resources{}).(core.DenseEngine[T]); ok {
		dense := func(x, y core.Cloud[T], cost core.Cost, threads int) (core.Pair[T], error) {
			return newEngine(core.Resources{Threads: threads}).(core.DenseEngine[T]).DensePair(x, y, cost)
		}
		t.Run("dense", func(t *testing.T) {
			RunPairs(t, dense, quick, f)
			t.Run("cancel", func(t *testing.T) { cancel(t, newEngine, true) })
		})
	}
	if _, ok := newEngine(core.Resources{}).(core.BlockSparseEngine[T]); ok {
		bs := func(x, y core.Cloud[T], cost core.Cost, r *core.Ranges, threads int) (core.Pair[T], error) {
			return newEngine(core.Resources{Threads: threads}).(core.BlockSparseEngine[T]).BlockSparsePair(x, y, cost, r)
		}
		t.Run("blocksparse", func(t *testing.T) {
			RunBlockSparse(t, bs, f)
			t.Run("dual", func(t *testing.T) { RunBlockDual(t, bs, f) })
			t.Run("cancel", func(t *testing.T) { blockCancel(t, newEngine) })
		})
	}
}

func asErr(err error, target **core.Error) bool { return errors.As(err, target) }

// cancel checks that reductions on an engine whose Stop is set return an
// ErrCancelled error, that they work again once built without it, and that
// Close can be called twice.
func cancel[T core.Float](t *testing.T, newEngine EngineFunc[T], dense bool) {
	c := Case{N: 300, M: 500, D: 3, Cost: core.CostHalfSquared, Eps: .01, Seed: 5, Scale: 1, H: hUniform, W: wSigned}
	pr := build[T](c)
	stop := new(core.Stop)
	e := newEngine(core.Resources{Threads: 2, Stop: stop})
	mk := func() core.Pair[T] {
		var p core.Pair[T]
		var err error
		if dense {
			p, err = e.(core.DenseEngine[T]).DensePair(pr.x, pr.y, c.Cost)
		} else {
			p, err = e.Pair(pr.x, pr.y, c.Cost)
		}
		if err != nil {
			t.Fatalf("building the Pair: %v", err)
		}
		return p
	}
	p := mk()
	out, grad := make([]T, c.N), make([]T, c.N*c.D)
	if err := p.SoftMin(T(c.Eps), pr.h, out, grad); err != nil {
		t.Fatalf("SoftMin before cancellation: %v", err)
	}
	stop.Set()
	wantCancelled := func(what string, err error) {
		var ce *core.Error
		if !errors.As(err, &ce) || ce.Code != core.ErrCancelled {
			t.Errorf("%s after Stop.Set: got %v, want an ErrCancelled error", what, err)
		}
	}
	wantCancelled("SoftMin", p.SoftMin(T(c.Eps), pr.h, out, grad))
	wantCancelled("KernelSum", p.KernelSum(core.KernelGaussian, .3, pr.w, out, nil))
	for k := 0; k < 2; k++ {
		if err := p.Close(); err != nil {
			t.Errorf("Close #%d: %v", k+1, err)
		}
	}
}

// RunPairs runs the table (or its Quick subset) on the Pairs that mk builds,
// with tolerance factor f.
func RunPairs[T core.Float](t *testing.T, mk PairFunc[T], quick bool, f float64) {
	for _, c := range Cases() {
		if quick && !c.Quick {
			continue
		}
		t.Run(c.Name, func(t *testing.T) { runCase(t, mk, c, f) })
	}
	t.Run("determinism", func(t *testing.T) { determinism(t, mk) })
	t.Run("reuse", func(t *testing.T) { reuse(t, mk, f) })
}

func unit[T core.Float]() float64 {
	var z T
	if _, ok := any(z).(float32); ok {
		return 0x1p-24
	}
	return 0x1p-53
}

type problem[T core.Float] struct {
	x, y core.Cloud[T]
	h, w []T
}

func build[T core.Float](c Case) problem[T] {
	r := rand.New(rand.NewPCG(c.Seed, 0x9e3779b97f4a7c15))
	pts := func(n int) []T {
		p := make([]T, n*c.D)
		for i := range p {
			p[i] = T(r.Float64() * c.Scale)
		}
		return p
	}
	pr := problem[T]{x: core.Cloud[T]{Pts: pts(c.N), N: c.N, D: c.D}}
	if c.Self {
		c.M = c.N
		pr.y = pr.x
	} else {
		pr.y = core.Cloud[T]{Pts: pts(c.M), N: c.M, D: c.D}
	}
	if c.Coincide {
		for j := 0; j < c.M; j += 3 {
			copy(pr.y.Point(j), pr.x.Point((j*7)%c.N))
		}
	}
	if c.H != nil {
		pr.h = make([]T, c.M)
		for j := range pr.h {
			pr.h[j] = T(c.H(r, j, c.M, c.Eps))
		}
	}
	if c.W != nil {
		pr.w = make([]T, c.M)
		for j := range pr.w {
			pr.w[j] = T(c.W(r, j, c.M))
		}
	}
	return pr
}

func sq[T core.Float](x, y []T) (s float64) {
	for k := range x {
		d := float64(x[k]) - float64(y[k])
		s += d * d
	}
	return s
}

// refSoftMin is the float64 reference of Pair.SoftMin for row i, with the
// tolerance scales of the package doc.
func refSoftMin[T core.Float](pr problem[T], cost core.Cost, eps float64, i int) (out float64, grad []float64, zbar, gtol float64) {
	x, d, m := pr.x.Point(i), pr.x.D, pr.y.N
	z := make([]float64, m)
	cst := make([]float64, m)
	mx := math.Inf(-1)
	for j := 0; j < m; j++ {
		s := sq(x, pr.y.Point(j))
		if cost == core.CostHalfSquared {
			cst[j] = s / 2
		} else {
			cst[j] = math.Sqrt(max(s, core.DistClamp))
		}
		z[j] = float64(pr.h[j]) - cst[j]/eps
		mx = max(mx, z[j])
	}
	grad = make([]float64, d)
	if math.IsInf(mx, -1) {
		return math.Inf(1), grad, 0, 0
	}
	var sum float64
	p := make([]float64, m)
	for j := range p {
		p[j] = math.Exp(z[j] - mx)
		sum += p[j]
	}
	var gmax, gz float64
	for j := range p {
		p[j] /= sum
		if math.IsInf(float64(pr.h[j]), -1) {
			continue
		}
		zj := math.Abs(float64(pr.h[j])) + cst[j]/eps
		zbar += p[j] * zj
		y := pr.y.Point(j)
		var gn float64
		for k := 0; k < d; k++ {
			gk := float64(x[k]) - float64(y[k])
			if cost == core.CostEuclidean {
				if sq(x, y) < core.DistClamp {
					gk = 0
				} else {
					gk /= cst[j]
				}
			}
			grad[k] += p[j] * gk
			gn = max(gn, math.Abs(gk))
		}
		gmax = max(gmax, gn)
		gz += p[j] * gn * zj
	}
	out = -eps * (mx + math.Log(sum))
	return out, grad, zbar, gmax*(1+zbar) + gz
}

// refKernel is the float64 reference of Pair.KernelSum for row i.
func refKernel[T core.Float](pr problem[T], k core.Kernel, sigma float64, i int, u float64) (out float64, grad []float64, otol, gtol float64) {
	// Engines may flush kernel values below 2^-100 (float32) or 2^-1000
	// (float64) to zero, clear of the slow denormal range.
	tiny := 0x1p-1000
	if unit[T]() > 0x1p-30 {
		tiny = 0x1p-100
	}
	x, d := pr.x.Point(i), pr.x.D
	grad = make([]float64, d)
	for j := 0; j < pr.y.N; j++ {
		y := pr.y.Point(j)
		s := sq(x, y)
		w := float64(pr.w[j])
		var val, g, arg float64
		switch k {
		case core.KernelGaussian:
			arg = s / (2 * sigma * sigma)
			val = math.Exp(-arg)
			g = -val / (sigma * sigma)
		case core.KernelLaplacian:
			q := s / (sigma * sigma)
			arg = math.Sqrt(max(q, core.DistClamp))
			val = math.Exp(-arg)
			if q >= core.DistClamp {
				g = -val / (sigma * sigma * arg)
			}
		default:
			r := math.Sqrt(max(s, core.DistClamp))
			val = -r
			if s >= core.DistClamp {
				g = -1 / r
			}
		}
		out += w * val
		otol += math.Abs(w*val) * (1 + arg)
		under := k != core.KernelEnergy && val < 4*tiny
		if under {
			otol += (math.Abs(w*val) + math.Abs(w)*4*tiny) / u
		}
		for q := 0; q < d; q++ {
			dq := float64(x[q]) - float64(y[q])
			grad[q] += w * g * dq
			gtol += math.Abs(w*g*dq) * (1 + arg) / float64(d)
			if under {
				gtol += math.Abs(w*g*dq) / u
			}
		}
	}
	return out, grad, otol, gtol * float64(d)
}

func runCase[T core.Float](t *testing.T, mk PairFunc[T], c Case, f float64) {
	pr := build[T](c)
	u := unit[T]() * f
	cost := c.Cost
	if c.Kernel != 0 {
		cost = core.CostHalfSquared
	}
	p := mustPair(t, mk, pr.x, pr.y, cost, c.Threads)
	defer p.Close()
	n, d := c.N, c.D
	out := make([]T, n)
	var grad []T
	if c.Grad {
		grad = make([]T, n*d)
		for i := range grad {
			grad[i] = T(math.NaN()) // must be overwritten
		}
	}
	for i := range out {
		out[i] = T(math.NaN())
	}
	bad := 0
	report := func(format string, args ...any) {
		if bad < 5 {
			t.Errorf(format, args...)
		}
		bad++
	}
	if c.Kernel == 0 {
		eps := T(c.Eps)
		check(t, p.SoftMin(eps, pr.h, out, grad))
		for i := 0; i < n; i++ {
			ref, rg, zbar, gtol := refSoftMin(pr, c.Cost, float64(eps), i)
			got := float64(out[i])
			if math.IsInf(ref, 1) {
				if !math.IsInf(got, 1) {
					report("row %d: out = %g, want +Inf (all log-weights −∞)", i, got)
				}
			} else if tl := u * float64(eps) * (1 + zbar); !(math.Abs(got-ref) <= tl) {
				report("row %d: out = %.10g, want %.10g (|diff| %.3g > tol %.3g)", i, got, ref, math.Abs(got-ref), tl)
			}
			if c.Grad {
				for k := 0; k < d; k++ {
					g := float64(grad[i*d+k])
					if tl := u * gtol; !(math.Abs(g-rg[k]) <= tl) {
						report("row %d: grad[%d] = %.10g, want %.10g (|diff| %.3g > tol %.3g)", i, k, g, rg[k], math.Abs(g-rg[k]), tl)
					}
				}
			}
		}
	} else {
		sigma := T(c.Sigma)
		check(t, p.KernelSum(c.Kernel, sigma, pr.w, out, grad))
		for i := 0; i < n; i++ {
			ref, rg, otol, gtol := refKernel(pr, c.Kernel, float64(sigma), i, u)
			got := float64(out[i])
			if tl := u * otol; !(math.Abs(got-ref) <= tl) {
				report("row %d: out = %.10g, want %.10g (|diff| %.3g > tol %.3g)", i, got, ref, math.Abs(got-ref), tl)
			}
			if c.Grad {
				for k := 0; k < d; k++ {
					g := float64(grad[i*d+k])
					if tl := u * gtol; !(math.Abs(g-rg[k]) <= tl) {
						report("row %d: grad[%d] = %.10g, want %.10g (|diff| %.3g > tol %.3g)", i, k, g, rg[k], math.Abs(g-rg[k]), tl)
					}
				}
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d mismatches in all", bad)
	}
}

// determinism checks that results do not depend on the thread count, bit for
// bit, that repeated calls agree, and that a value does not depend on
// whether its gradient is asked for.
func determinism[T core.Float](t *testing.T, mk PairFunc[T]) {
	c := Case{N: 203, M: 2501, D: 3, Cost: core.CostHalfSquared, Eps: .01, Seed: 99, Scale: 1, H: hUniform, W: wSigned}
	pr := build[T](c)
	type res struct{ out, grad, kout, kgrad []T }
	same := func(a, b []T) bool {
		for i := range a {
			if math.Float64bits(float64(a[i])) != math.Float64bits(float64(b[i])) {
				return false
			}
		}
		return len(a) == len(b)
	}
	eval := func(threads int) res {
		var r res
		for _, cost := range []core.Cost{core.CostHalfSquared, core.CostEuclidean} {
			p := mustPair(t, mk, pr.x, pr.y, cost, threads)
			defer p.Close()
			o, g, plain := make([]T, c.N), make([]T, c.N*c.D), make([]T, c.N)
			check(t, p.SoftMin(T(c.Eps), pr.h, o, g))
			check(t, p.SoftMin(T(c.Eps), pr.h, plain, nil))
			if !same(o, plain) {
				t.Errorf("cost %d, threads=%d: soft-min values differ with and without gradient", cost, threads)
			}
			r.out, r.grad = append(r.out, o...), append(r.grad, g...)
			for _, k := range []core.Kernel{core.KernelGaussian, core.KernelLaplacian, core.KernelEnergy} {
				check(t, p.KernelSum(k, .3, pr.w, o, g))
				check(t, p.KernelSum(k, .3, pr.w, plain, nil))
				if !same(o, plain) {
					t.Errorf("kernel %d, threads=%d: kernel sums differ with and without gradient", k, threads)
				}
				r.kout, r.kgrad = append(r.kout, o...), append(r.kgrad, g...)
			}
		}
		return r
	}
	base := eval(1)
	for _, th := range []int{2, 3, 8, 0} {
		r := eval(th)
		if !same(r.out, base.out) || !same(r.grad, base.grad) || !same(r.kout, base.kout) || !same(r.kgrad, base.kgrad) {
			t.Errorf("threads=%d: results differ from threads=1 bit for bit", th)
		}
	}
}

// reuse checks that one Pair gives correct results over a sequence of calls
// with different arguments (as Sinkhorn iterations make).
func reuse[T core.Float](t *testing.T, mk PairFunc[T], f float64) {
	c := Case{N: 60, M: 90, D: 3, Cost: core.CostHalfSquared, Seed: 7, Scale: 1, H: hUniform, W: wSigned}
	pr := build[T](c)
	p := mustPair(t, mk, pr.x, pr.y, c.Cost, 2)
	defer p.Close()
	u := unit[T]() * f
	out, grad := make([]T, c.N), make([]T, c.N*c.D)
	for it, eps := range []float64{1, .1, .01, .1} {
		for j := range pr.h {
			pr.h[j] = T(math.Log(1/float64(c.M)) + math.Sin(float64(j*(it+1)))/eps)
		}
		check(t, p.SoftMin(T(eps), pr.h, out, grad))
		for i := 0; i < c.N; i++ {
			ref, rg, zbar, gtol := refSoftMin(pr, c.Cost, float64(T(eps)), i)
			if tl := u * float64(T(eps)) * (1 + zbar); !(math.Abs(float64(out[i])-ref) <= tl) {
				t.Fatalf("call %d row %d: out = %g, want %g", it, i, out[i], ref)
			}
			for k := 0; k < c.D; k++ {
				if !(math.Abs(float64(grad[i*c.D+k])-rg[k]) <= u*gtol) {
					t.Fatalf("call %d row %d: grad[%d] = %g, want %g", it, i, k, grad[i*c.D+k], rg[k])
				}
			}
		}
		check(t, p.KernelSum(core.KernelGaussian, T(eps), pr.w, out, nil))
		for i := 0; i < c.N; i++ {
			ref, _, otol, _ := refKernel(pr, core.KernelGaussian, float64(T(eps)), i, u)
			if !(math.Abs(float64(out[i])-ref) <= u*otol) {
				t.Fatalf("call %d row %d: kernel out = %g, want %g", it, i, out[i], ref)
			}
		}
	}
}

// mustPair builds a Pair with mk or fails the test.
func mustPair[T core.Float](t *testing.T, mk PairFunc[T], x, y core.Cloud[T], cost core.Cost, threads int) core.Pair[T] {
	t.Helper()
	p, err := mk(x, y, cost, threads)
	if err != nil {
		t.Fatalf("building the Pair: %v", err)
	}
	return p
}

// check fails the test on a reduction error.
func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("reduction failed: %v", err)
	}
}
