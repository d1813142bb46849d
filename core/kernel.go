package core

// kernelLoss computes a kernel norm of one item (§5.1, §5.2, §7.6):
//
//	L = ½ αᵀK^{xx}α + ½ βᵀK^{yy}β − αᵀK^{xy}β,   F = K^{xx}α − K^{xy}β,   G = K^{yy}β − K^{yx}α.
//
// Gradients are those of cv·L + ⟨cF, F⟩ + ⟨cG, G⟩. Through the value they are
// the true gradients. Through the potentials they follow GeomLoss's autograd
// graph exactly: the self terms (K^{xx}α in F, K^{yy}β in G) are
// differentiated through their first argument only, with a factor 2 (its
// "double_grad"), and not through the weights.
func kernelLoss[T Float](it *item[T], k Kernel, sigma float64, o *outputs[T]) {
	n, m, dim := it.x.N, it.y.N, it.x.D
	s := T(sigma)
	grads := func(rows int, want bool) []T {
		if want {
			return make([]T, rows*dim)
		}
		return nil
	}
	wantX, wantY := o.gx != nil, o.gy != nil
	// ax = K^{xx}α, bx = K^{xy}β, by = K^{yy}β, ay = K^{yx}α, with ∇₁ sums.
	ax, bx, by, ay := make([]T, n), make([]T, n), make([]T, m), make([]T, m)
	gxx, gxy, gyy, gyx := grads(n, wantX), grads(n, wantX), grads(m, wantY), grads(m, wantY)
	it.xx.KernelSum(k, s, it.a, ax, gxx)
	it.xy.KernelSum(k, s, it.b, bx, gxy)
	it.yy.KernelSum(k, s, it.b, by, gyy)
	it.yx.KernelSum(k, s, it.a, ay, gyx)

	var val float64
	for i := range ax {
		val += float64(it.a[i]) * (0.5*float64(ax[i]) - float64(bx[i]))
	}
	for j := range by {
		val += 0.5 * float64(it.b[j]) * float64(by[j])
	}
	o.setValue(val)
	if o.f != nil {
		for i := range ax {
			o.f[i] = ax[i] - bx[i]
		}
		for j := range by {
			o.g[j] = by[j] - ay[j]
		}
	}
	// Cross terms of the potentials' cotangents: ⟨cG, −K^{yx}α⟩ reaches α and
	// x through K^{xy}cG; ⟨cF, −K^{xy}β⟩ reaches β and y through K^{yx}cF.
	var kcg, hx, kcf, hy []T
	if o.cg != nil && (o.ga != nil || wantX) {
		kcg, hx = make([]T, n), grads(n, wantX)
		it.xy.KernelSum(k, s, o.cg, kcg, hx)
	}
	if o.cf != nil && (o.gb != nil || wantY) {
		kcf, hy = make([]T, m), grads(m, wantY)
		it.yx.KernelSum(k, s, o.cf, kcf, hy)
	}
	weightGrad(o.ga, o.cv, ax, bx, kcg)
	weightGrad(o.gb, o.cv, by, ay, kcf)
	kernelPosGrad(o.gx, it.a, o.cv, o.cf, gxx, gxy, hx, dim)
	kernelPosGrad(o.gy, it.b, o.cv, o.cg, gyy, gyx, hy, dim)
}

// weightGrad writes dst = cv·(self − cross) − kc (kc nil = 0).
func weightGrad[T Float](dst []T, cv float64, self, cross, kc []T) {
	for i := range dst {
		g := cv * (float64(self[i]) - float64(cross[i]))
		if kc != nil {
			g -= float64(kc[i])
		}
		dst[i] = T(g)
	}
}

// kernelPosGrad writes dst_i = cv·w_i(gs_i − gc_i) + c_i(2gs_i − gc_i) − w_i·h_i.
func kernelPosGrad[T Float](dst, w []T, cv float64, c, gs, gc, h []T, dim int) {
	if dst == nil {
		return
	}
	for i := range w {
		f, ci := cv*float64(w[i]), 0.0
		if c != nil {
			ci = float64(c[i])
		}
		for k := 0; k < dim; k++ {
			s, x := float64(gs[i*dim+k]), float64(gc[i*dim+k])
			g := f*(s-x) + ci*(2*s-x)
			if h != nil {
				g -= float64(w[i]) * float64(h[i*dim+k])
			}
			dst[i*dim+k] = T(g)
		}
	}
}
