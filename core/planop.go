package core

import "math"

// Plan is a lazy entropic transport plan between N points x_i (weights a)
// and M points y_j (weights b), defined by dual potentials f, g at
// temperature ε:
//
//	π_ij = a_i b_j exp((f_i + g_j − C_ij)/ε) = exp(s_i + h_j − C_ij/ε),
//	s_i = L(a)_i + f_i/ε,  h_j = L(b)_j + g_j/ε   (L: log-weights, §0).
//
// Its products πV and πᵀU are streaming reductions (PlanPair): memory
// O((N+M)·K), never an N×M matrix; Dense materialises π only under a cap.
// The cost C is Scale times the cost the Pairs reduce (Scale = 2 for the
// squared Euclidean cost |x−y|² over the p = 2 Pairs of ½|x−y|²); since
// (C, ε, f, g) and (C/Scale, ε/Scale, f/Scale, g/Scale) give the same π,
// only ⟨π, C⟩ sees Scale. A Plan must be closed.
type Plan[T Float] struct {
	N, M    int
	Eps     float64 // ε of the Pairs' cost (user's ε / Scale)
	Scale   float64
	s, h    []T
	xy, yx  PlanPair[T]
	ref     planRows[T] // portable rows of π for Dense
	x, y    Cloud[T]    // the points (barycentric maps); D = 0 for a cost matrix
	closer  []func() error
	threads int // for Dense
	// Note names a fallback (an engine without the plan capability).
	Note string
}

// newPlan builds the plan of potentials f, g (in the Pairs' cost units) over
// the PlanPairs xy (rows x) and yx (rows y); ref reduces the same cost
// portably. It takes ownership of closers.
func newPlan[T Float](xy, yx PlanPair[T], ref planRows[T], x, y Cloud[T], eps, scale float64, la, lb, f, g []T, closers []func() error, threads int) *Plan[T] {
	p := &Plan[T]{N: len(la), M: len(lb), Eps: eps, Scale: scale, xy: xy, yx: yx, ref: ref, x: x, y: y, closer: closers, threads: threads}
	p.s, p.h = make([]T, p.N), make([]T, p.M)
	for i := range p.s {
		p.s[i] = T(float64(la[i]) + float64(f[i])/eps)
	}
	for j := range p.h {
		p.h[j] = T(float64(lb[j]) + float64(g[j])/eps)
	}
	return p
}

// Times returns πV (N×k, row-major) for V of M×k.
func (p *Plan[T]) Times(v []T, k int) ([]T, error) {
	if k <= 0 || len(v) != p.M*k {
		return nil, errorf(ErrShape, "plan product: v has %d elements but M×k = %d×%d", len(v), p.M, k)
	}
	if err := finite("plan product: v", v); err != nil {
		return nil, err
	}
	out := make([]T, p.N*k)
	if err := p.xy.PlanTimes(T(p.Eps), p.s, p.h, v, k, out, nil); err != nil {
		return nil, err
	}
	return out, finite("plan product", out)
}

// TransposeTimes returns πᵀU (M×k) for U of N×k.
func (p *Plan[T]) TransposeTimes(u []T, k int) ([]T, error) {
	if k <= 0 || len(u) != p.N*k {
		return nil, errorf(ErrShape, "transposed plan product: u has %d elements but N×k = %d×%d", len(u), p.N, k)
	}
	if err := finite("transposed plan product: u", u); err != nil {
		return nil, err
	}
	out := make([]T, p.M*k)
	if err := p.yx.PlanTimes(T(p.Eps), p.h, p.s, u, k, out, nil); err != nil {
		return nil, err
	}
	return out, finite("transposed plan product", out)
}

// Marginals returns π1 (N) and πᵀ1 (M).
func (p *Plan[T]) Marginals() (ra, rb []T, err error) {
	if ra, err = p.Times(ones[T](p.M), 1); err != nil {
		return nil, nil, err
	}
	if rb, err = p.TransposeTimes(ones[T](p.N), 1); err != nil {
		return nil, nil, err
	}
	return ra, rb, nil
}

// LinearCost returns ⟨π, C⟩ = Σ_ij π_ij C_ij, in one reduction.
func (p *Plan[T]) LinearCost() (float64, error) {
	ra, cost := make([]T, p.N), make([]T, p.N)
	if err := p.xy.PlanTimes(T(p.Eps), p.s, p.h, ones[T](p.M), 1, ra, cost); err != nil {
		return 0, err
	}
	if err := finite("plan row cost", cost); err != nil {
		return 0, err
	}
	linear := 0.0
	for _, c := range cost {
		linear += float64(c)
	}
	return p.Scale * linear, nil
}

// BarycentricAB returns the barycentric map a→b, (πy)_i/(π1)_i (N×D), by
// one product with [y | 1]; a row of π with no mass (π1_i = 0, e.g. a
// zero-weight point) maps to x_i itself. BarycentricBA is the map b→a.
func (p *Plan[T]) BarycentricAB() ([]T, error) { return p.barycentric(p.x, p.y, p.Times) }

// BarycentricBA returns the barycentric map b→a, (πᵀx)_j/(πᵀ1)_j (M×D).
func (p *Plan[T]) BarycentricBA() ([]T, error) { return p.barycentric(p.y, p.x, p.TransposeTimes) }

func (p *Plan[T]) barycentric(from, to Cloud[T], times func([]T, int) ([]T, error)) ([]T, error) {
	d := to.D
	if d == 0 {
		return nil, errorf(ErrUnsupported, "barycentric map: the plan was given by a cost matrix, without points")
	}
	v := make([]T, to.N*(d+1))
	for j := 0; j < to.N; j++ {
		copy(v[j*(d+1):], to.Point(j))
		v[j*(d+1)+d] = 1
	}
	pv, err := times(v, d+1)
	if err != nil {
		return nil, err
	}
	out := make([]T, from.N*d)
	for i := 0; i < from.N; i++ {
		row, mass := pv[i*(d+1):i*(d+1)+d], float64(pv[i*(d+1)+d])
		for q := range row {
			if mass > 0 {
				out[i*d+q] = T(float64(row[q]) / mass)
			} else {
				out[i*d+q] = from.Point(i)[q]
			}
		}
	}
	return out, nil
}

// Dense returns π as an N×M row-major matrix, if N·M ≤ capEntries (≤ 0:
// DefaultTensorizedCap), else an ErrMemory error.
func (p *Plan[T]) Dense(capEntries int64) ([]T, error) {
	if capEntries <= 0 {
		capEntries = DefaultTensorizedCap
	}
	if int64(p.N)*int64(p.M) > capEntries {
		return nil, errorf(ErrMemory, "plan: a dense %d×%d plan is over the cap of %d entries; use the plan products", p.N, p.M, capEntries)
	}
	out := make([]T, p.N*p.M)
	ParallelRows(p.N, p.threads, 64, func(lo, hi int) {
		var sc planScratch[T]
		z := make([]float64, p.M)
		for i := lo; i < hi; i++ {
			p.ref.denseRow(i, T(p.Eps), p.s[i], p.h, z, &sc)
			for j, e := range z {
				out[i*p.M+j] = T(e)
			}
		}
	})
	return out, finite("plan", out)
}

// Close releases the plan's reductions; it is idempotent.
func (p *Plan[T]) Close() error {
	var first error
	for _, c := range p.closer {
		if err := c(); err != nil && first == nil {
			first = err
		}
	}
	p.closer = nil
	return first
}

// marginalError returns ‖ra − a‖₁ + ‖rb − b‖₁.
func marginalError[T Float](ra, a, rb, b []T) float64 {
	e := 0.0
	for i := range ra {
		e += math.Abs(float64(ra[i]) - float64(a[i]))
	}
	for j := range rb {
		e += math.Abs(float64(rb[j]) - float64(b[j]))
	}
	return e
}

func ones[T Float](n int) []T {
	v := make([]T, n)
	for i := range v {
		v[i] = 1
	}
	return v
}
