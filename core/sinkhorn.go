package core

import "math"

// item is one batch item's measures, their log-weights and the Pairs that
// reduce between them (xy: rows x / columns y, yx, xx, yy).
type item[T Float] struct {
	x, y           Cloud[T]
	a, b           []T // weights (never nil inside the solver)
	la, lb         []T // log-weights L(a), L(b)
	xy, yx, xx, yy Pair[T]
	ma, mb         float64 // total masses
}

// logWeights returns L(w)_i = ln w_i for w_i > 0, else the floor −1e5 (§0).
func logWeights[T Float](w []T) []T {
	l := make([]T, len(w))
	for i, v := range w {
		if v > 0 {
			l[i] = T(math.Log(float64(v)))
		} else {
			l[i] = -1e5
		}
	}
	return l
}

// duals are the dual vectors of the symmetric Sinkhorn loop: f on x and g on
// y (problem α↔β), faa on x (α↔α) and gbb on y (β↔β).
type duals[T Float] struct{ f, g, faa, gbb []T }

// softMinInto writes lam·smin_eps(pair, l + pot/eps) into out (and the
// soft-max weighted cost gradients into grad, if non-nil). With pot nil the
// log-dual is the log-weights alone (the loop's initialisation).
func softMinInto[T Float](pair Pair[T], eps, lam float64, l, pot, scratch, out, grad []T) {
	h := scratch[:len(l)]
	for j := range h {
		if pot == nil {
			h[j] = l[j]
		} else {
			h[j] = l[j] + T(float64(pot[j])/eps)
		}
	}
	pair.SoftMin(T(eps), h, out, grad)
	if lam != 1 {
		for i := range out {
			out[i] = T(lam * float64(out[i]))
		}
		if grad != nil {
			for i := range grad {
				grad[i] = T(lam * float64(grad[i]))
			}
		}
	}
}

// damping returns λ(ε) = 1/(1 + ε/ρ) (1 when balanced, §2.3).
func damping(eps, rho float64) float64 {
	if math.IsInf(rho, 1) {
		return 1
	}
	return 1 / (1 + eps/rho)
}

// sinkhornLoop runs the symmetric ε-scaling loop of §3 on every iteration of
// epsList and returns the duals before the final (extrapolation) step. With
// cross false only the self problems (faa, gbb) are solved (Hausdorff); with
// self false only the cross problem (f, g).
func sinkhornLoop[T Float](it *item[T], epsList []float64, rho float64, cross, self bool, progress func(int, int)) duals[T] {
	n, m := it.x.N, it.y.N
	var d duals[T]
	hx, hy := make([]T, n), make([]T, m)
	e0 := epsList[0]
	lam := damping(e0, rho)
	if cross {
		d.f, d.g = make([]T, n), make([]T, m)
		softMinInto(it.yx, e0, lam, it.la, nil, hx, d.g, nil)
		softMinInto(it.xy, e0, lam, it.lb, nil, hy, d.f, nil)
	}
	if self {
		d.faa, d.gbb = make([]T, n), make([]T, m)
		softMinInto(it.xx, e0, lam, it.la, nil, hx, d.faa, nil)
		softMinInto(it.yy, e0, lam, it.lb, nil, hy, d.gbb, nil)
	}
	ft, gt := make([]T, n), make([]T, m)
	for k, e := range epsList {
		if progress != nil {
			progress(k, len(epsList))
		}
		lam := damping(e, rho)
		if cross { // both updates from the old f, g: simultaneous, then averaged
			softMinInto(it.xy, e, lam, it.lb, d.g, hy, ft, nil)
			softMinInto(it.yx, e, lam, it.la, d.f, hx, gt, nil)
			average(d.f, ft)
			average(d.g, gt)
		}
		if self {
			softMinInto(it.xx, e, lam, it.la, d.faa, hx, ft, nil)
			softMinInto(it.yy, e, lam, it.lb, d.gbb, hy, gt, nil)
			average(d.faa, ft)
			average(d.gbb, gt)
		}
	}
	return d
}

// average sets dst = (dst + src)/2.
func average[T Float](dst, src []T) {
	for i := range dst {
		dst[i] = (dst[i] + src[i]) / 2
	}
}

// outputs are one batch item's slices of the Result (nil when not asked),
// and its cotangents (cv for the value; cf, cg for the potentials or nil).
type outputs[T Float] struct {
	value          *T
	f, g           []T
	gx, gy, ga, gb []T
	cv             float64
	cf, cg         []T
}

func (o *outputs[T]) wantPosGrad() bool { return o.gx != nil || o.gy != nil }

// sinkhorn computes the Sinkhorn loss of one item (§3, §3.1, §3.2, §7.1) with
// the project's deviations: unbalanced gradients use ρ+ε (the true
// gradients), and the raw unbalanced value is the true entropic OT value.
func sinkhorn[T Float](it *item[T], par Params, epsList []float64, o *outputs[T], progress func(int, int)) {
	p := float64(par.P)
	eps := math.Pow(par.Blur, p)
	rho := math.Inf(1)
	if !par.Balanced() {
		rho = math.Pow(par.Reach, p)
	}
	d := sinkhornLoop(it, epsList, rho, true, par.Debias, progress)
	lam := damping(eps, rho)

	n, m, dim := it.x.N, it.y.N, it.x.D
	var px, qy, ax, ry []T // Σ P ∇₁C rows of the final step
	if o.gx != nil {
		px = make([]T, n*dim)
		if par.Debias {
			ax = make([]T, n*dim)
		}
	}
	if o.gy != nil {
		qy = make([]T, m*dim)
		if par.Debias {
			ry = make([]T, m*dim)
		}
	}
	// Final extrapolation step (simultaneous, from the loop's duals).
	hx, hy := make([]T, n), make([]T, m)
	F, G := make([]T, n), make([]T, m)
	softMinInto(it.xy, eps, lam, it.lb, d.g, hy, F, px)
	softMinInto(it.yx, eps, lam, it.la, d.f, hx, G, qy)
	var Faa, Gbb []T
	if par.Debias {
		Faa, Gbb = make([]T, n), make([]T, m)
		softMinInto(it.xx, eps, lam, it.la, d.faa, hx, Faa, ax)
		softMinInto(it.yy, eps, lam, it.lb, d.gbb, hy, Gbb, ry)
	}

	// Per-point coefficients: φ = ∂L/∂α, and u, v weighting the cross and
	// self soft-max gradients (table of §7.1, with κ' = ρ+ε for gradients).
	side := func(w []T, F, Faa []T, mOther float64) (val float64, phi, u, v []float64) {
		phi, u, v = make([]float64, len(F)), make([]float64, len(F)), make([]float64, len(F))
		kappa, kappaG := rho+eps/2, rho+eps
		for i := range F {
			fi := float64(F[i])
			switch {
			case math.IsInf(rho, 1) && par.Debias:
				phi[i], u[i], v[i] = fi-float64(Faa[i]), 1, -1
			case math.IsInf(rho, 1):
				phi[i], u[i] = fi, 1
			case par.Debias:
				ef, efa := math.Exp(-fi/rho), math.Exp(-float64(Faa[i])/rho)
				val += float64(w[i]) * kappa * (efa - ef)
				phi[i], u[i], v[i] = kappaG*(efa-ef), kappaG/rho*ef, -kappaG/rho*efa
				continue
			default:
				ef := math.Exp(-fi / rho)
				val += float64(w[i]) * ((rho + eps*mOther/2) - kappa*ef)
				phi[i], u[i] = rho+eps*mOther-kappaG*ef, kappaG/rho*ef
				continue
			}
			val += float64(w[i]) * phi[i]
		}
		return val, phi, u, v
	}
	va, phi, u, v := side(it.a, F, Faa, it.mb)
	vb, psi, u2, v2 := side(it.b, G, Gbb, it.ma)
	o.setValue(va + vb)

	if o.f != nil {
		potentials(o.f, F, Faa)
		potentials(o.g, G, Gbb)
	}
	scaleInto(o.ga, phi, o.cv)
	scaleInto(o.gb, psi, o.cv)
	// ∂x_i = cv·α_i·[u_i P_i + v_i A_i] + cF_i·[P_i − A_i]   (λ already in P, A)
	posGrad(o.gx, it.a, o.cv, u, v, o.cf, px, ax, dim)
	posGrad(o.gy, it.b, o.cv, u2, v2, o.cg, qy, ry, dim)
}

func (o *outputs[T]) setValue(v float64) {
	if o.value != nil {
		*o.value = T(v)
	}
}

// potentials writes F − Faa (debiased) or F into dst.
func potentials[T Float](dst, F, Faa []T) {
	for i := range dst {
		dst[i] = F[i]
		if Faa != nil {
			dst[i] -= Faa[i]
		}
	}
}

// scaleInto writes c·src into dst (if dst is non-nil).
func scaleInto[T Float](dst []T, src []float64, c float64) {
	for i := range dst {
		dst[i] = T(c * src[i])
	}
}

// posGrad writes dst_i = (cv·w_i·u_i + cpot_i)·P_i + (cv·w_i·v_i − cpot_i)·A_i
// for the D-vectors P_i, A_i (A nil = absent, cpot nil = 0).
func posGrad[T Float](dst, w []T, cv float64, u, v []float64, cpot, P, A []T, dim int) {
	if dst == nil {
		return
	}
	for i := range w {
		cp := 0.0
		if cpot != nil {
			cp = float64(cpot[i])
		}
		cu := cv*float64(w[i])*u[i] + cp
		cA := cv*float64(w[i])*v[i] - cp
		for k := 0; k < dim; k++ {
			g := cu * float64(P[i*dim+k])
			if A != nil {
				g += cA * float64(A[i*dim+k])
			}
			dst[i*dim+k] = T(g)
		}
	}
}
