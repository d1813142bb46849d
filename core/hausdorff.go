package core

import "math"

// hausdorff computes the entropic Hausdorff divergence of one item (§5.4):
// the §3 loop solves the self problems only (faa on x, gbb on y), then
//
//	A_x = smin(C^{xx}, ℓa + faa/ε),  A_y = smin(C^{yx}, ℓa + faa/ε),
//	B_y = smin(C^{yy}, ℓb + gbb/ε),  B_x = smin(C^{xy}, ℓb + gbb/ε),
//	H = ½(⟨α, B_x − A_x⟩ + ⟨β, A_y − B_y⟩),  potentials ½(B_x − A_x), ½(A_y − B_y).
//
// Gradients follow §7.7 (the evaluated point carries the gradient, the self
// potentials are held fixed).
func hausdorff[T Float](it *item[T], par Params, epsList []float64, o *outputs[T], progress func(int, int)) {
	eps := math.Pow(par.Blur, float64(par.P))
	d := sinkhornLoop(it, epsList, math.Inf(1), false, true, progress)
	n, m, dim := it.x.N, it.y.N, it.x.D
	grads := func(rows int, want bool) []T {
		if want {
			return make([]T, rows*dim)
		}
		return nil
	}
	hx, hy := make([]T, n), make([]T, m)
	Ax, Bx, Ay, By := make([]T, n), make([]T, n), make([]T, m), make([]T, m)
	gAx, gBx := grads(n, o.gx != nil), grads(n, o.gx != nil)
	gAy, gBy := grads(m, o.gy != nil), grads(m, o.gy != nil)
	softMinInto(it.xx, eps, 1, it.la, d.faa, hx, Ax, gAx)
	softMinInto(it.yx, eps, 1, it.la, d.faa, hx, Ay, gAy)
	softMinInto(it.yy, eps, 1, it.lb, d.gbb, hy, By, gBy)
	softMinInto(it.xy, eps, 1, it.lb, d.gbb, hy, Bx, gBx)

	phi, psi := make([]float64, n), make([]float64, m)
	var val float64
	for i := range phi {
		phi[i] = 0.5 * (float64(Bx[i]) - float64(Ax[i]))
		val += float64(it.a[i]) * phi[i]
	}
	for j := range psi {
		psi[j] = 0.5 * (float64(Ay[j]) - float64(By[j]))
		val += float64(it.b[j]) * psi[j]
	}
	o.setValue(val)
	if o.f != nil {
		scaleInto(o.f, phi, 1)
		scaleInto(o.g, psi, 1)
	}
	scaleInto(o.ga, phi, o.cv)
	scaleInto(o.gb, psi, o.cv)
	// ∂x_i = ½(cv·α_i + cF_i)[Σ P̃ ∇C(x_i, y) − Σ A ∇C(x_i, x)], symmetric for y.
	half := func(w []T, c []T) ([]float64, []float64, []T) {
		u, v := make([]float64, len(w)), make([]float64, len(w))
		for i := range u {
			u[i], v[i] = 0.5, -0.5
		}
		var hc []T
		if c != nil {
			hc = make([]T, len(c))
			for i := range c {
				hc[i] = c[i] / 2
			}
		}
		return u, v, hc
	}
	u, v, hcf := half(it.a, o.cf)
	posGrad(o.gx, it.a, o.cv, u, v, hcf, gBx, gAx, dim)
	u2, v2, hcg := half(it.b, o.cg)
	posGrad(o.gy, it.b, o.cv, u2, v2, hcg, gAy, gBy, dim)
}
