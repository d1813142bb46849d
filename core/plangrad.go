package core

import "math"

// CostGradients returns the gradients of the linear cost ⟨π, C⟩ w.r.t. the
// points at fixed π, for a plan between points:
//
//	GX_i = Σ_j π_ij ∇₁C(x_i, y_j)   (N×D),    GY_j = Σ_i π_ij ∇₁C(y_j, x_i)   (M×D)
//
// in the user's cost units (Scale times the Pairs' cost), with
// ∇₁C(x, y) = γ(s)·(x − y), s = |x − y|²: γ = 1 for ½|x − y|², 1/|x − y|
// for |x − y| (0 below the clamp DistClamp, as the soft-min gradients),
// s^{q/2−1} for |x − y|^q/q (powGrad). By the envelope theorem these are
// the gradients of the entropic OT value w.r.t. x and y (balanced or
// unbalanced, not debiased: only C depends on the points in
// min_π ⟨π, C⟩ + ε·KL(π | a⊗b) + the marginal terms), up to the solve's
// convergence. Each row is one streaming pass of core's portable rows
// (planGradRow), summed left to right in float64: memory O((N+M)·D) and
// the same results whatever the thread count. A multiscale plan sums over
// the pairs of its kept blocks only (the plan its products reduce, zero
// elsewhere). A cost matrix's plan has no points: ErrUnsupported.
func (p *Plan[T]) CostGradients() (gx, gy []T, err error) {
	if p.x.D == 0 {
		return nil, nil, errorf(ErrUnsupported, "cost gradients: the plan was given by a cost matrix, without points")
	}
	r, ok := p.ref.(planGrads[T])
	if !ok {
		return nil, nil, errorf(ErrUnsupported, "cost gradients: the plan's reductions have no gradient rows")
	}
	gx = make([]T, p.N*p.x.D)
	gy = make([]T, p.M*p.y.D)
	if err := r.costGrads(T(p.Eps), p.Scale, p.s, p.h, gx, gy); err != nil {
		return nil, nil, err
	}
	if err := finite("cost gradient w.r.t. x", gx); err != nil {
		return nil, nil, err
	}
	return gx, gy, finite("cost gradient w.r.t. y", gy)
}

// planGrads is what CostGradients needs of a plan's reference rows.
type planGrads[T Float] interface {
	// costGrads writes gx_i = scale·Σ_j π_ij ∇₁C(x_i, y_j) (N×D) and
	// gy_j = scale·Σ_i π_ij ∇₁C(y_j, x_i) (M×D) for the plan
	// π_ij = exp(s_i + h_j − C_ij/ε).
	costGrads(eps T, scale float64, s, h, gx, gy []T) error
}

// costGrads implements planGrads for core's portable Pairs (every pair).
func (p *rowPair[T]) costGrads(eps T, scale float64, s, h, gx, gy []T) error {
	yx := &rowPair[T]{x: p.y, y: p.x, cost: p.cost, q: p.q, res: p.res, row: onlineRow[T]{x: p.y, y: p.x, cost: p.cost}}
	p.planGradRows(eps, scale, s, h, gx)
	yx.planGradRows(eps, scale, h, s, gy)
	return p.res.Stop.Err()
}

// planGradRows writes out_i = scale·Σ_j π_ij ∇₁C(x_i, y_j) (N×D) for the
// plan π_ij = exp(s_i + h_j − C_ij/ε) over the Pair's rows.
func (p *rowPair[T]) planGradRows(eps T, scale float64, s, h, out []T) {
	m := p.y.N
	ParallelRows(p.x.N, p.res.Threads, 64, func(lo, hi int) {
		sbuf, z := make([]T, m), make([]float64, m)
		for i := lo; i < hi && !p.res.Stop.Stopped(); i++ {
			p.planGradRow(i, eps, scale, s[i], h, out, sbuf, z)
		}
	})
}

// planGradRow writes row i of planGradRows, out[i·D:(i+1)·D] =
// scale·Σ_j π_ij ∇₁C(x_i, y_j) over p's columns (sbuf and z: M scratch
// entries each).
func (p *rowPair[T]) planGradRow(i int, eps T, scale float64, si T, h, out, sbuf []T, z []float64) {
	m, d := p.y.N, p.x.D
	z = z[:m]
	sq := p.row.sqDists(i, sbuf[:m])
	p.planRow(i, eps, si, h, sq, z, nil)
	for j, sj := range sq[:m] {
		switch p.cost {
		case CostPower:
			z[j] *= powGrad(float64(sj), p.q)
		case CostEuclidean:
			if sj < T(DistClamp) {
				z[j] = 0
			} else {
				z[j] /= math.Sqrt(float64(sj))
			}
		}
	}
	var g [maxStackD]float64
	gi := gradBuf(&g, d)
	clear(gi)
	accumGrad(gi, z, p.x.Point(i), p.y)
	for k, v := range gi {
		out[i*d+k] = T(scale * v)
	}
}
