package core

import "math"

// sinkhorn computes the Sinkhorn loss of one item (§3, §3.1, §3.2, §7.1) with
// the project's deviations: unbalanced gradients use ρ+ε (the true
// gradients), and the raw unbalanced value is the true entropic OT value.
func sinkhorn[T Float](it *item[T], g Geometry[T], par Params, epsList []float64, o *outputs[T], progress func(int, int) error) error {
	p := float64(par.P)
	eps := math.Pow(par.Blur, p)
	rho := math.Inf(1)
	if !par.Balanced() {
		rho = math.Pow(par.Reach, p)
	}
	d, sc, stats, err := solveTol(g, g.Schedule(epsList), rho, Needs{Cross: true, Self: par.Debias}, par.convergence(), progress)
	if err != nil {
		return err
	}
	o.setStats(stats)
	it.use(sc)
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
	F, G := make([]T, n), make([]T, m)
	var Faa, Gbb []T
	if par.Debias {
		Faa, Gbb = make([]T, n), make([]T, m)
	}
	if err := finalStep(sc, d, eps, lam, it.la, it.lb, F, G, Faa, Gbb, px, qy, ax, ry); err != nil {
		return err
	}

	// Per-point coefficients: φ = ∂L/∂α, and u, v weighting the cross and
	// self soft-max gradients (DualSide: the table of §3.1 and §7.1).
	side := func(w []T, F, Faa []T, mOther float64) (val float64, phi, u, v []float64) {
		phi, u, v = make([]float64, len(F)), make([]float64, len(F)), make([]float64, len(F))
		return DualSide(w, F, Faa, eps, rho, mOther, phi, u, v), phi, u, v
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
	return nil
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
