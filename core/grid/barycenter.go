package grid

import (
	"math"

	"github.com/libgeomloss/libgeomloss/core"
)

// BarycenterParams are ImagesBarycenter's parameters (§6.6).
type BarycenterParams struct {
	// P is the cost exponent (2, or 1 for the L1 cost).
	P int
	// Blur is the final blur; 0 means the smallest pixel width (the reference's 1/N).
	Blur float64
	// ScalingN is the number of iterations per pyramid level (reference: 10).
	ScalingN int
	// ExtraIterations runs that many more iterations at the final
	// temperature. The reference runs backward_iterations = 5 of them only
	// when its inputs require gradients, so its forward result depends on
	// that; here it is explicit: 0 reproduces a call without gradients, 5 one
	// with.
	ExtraIterations int
	// Spacing holds the pixel widths (nil: 1/n_k).
	Spacing []float64
}

// DefaultBarycenterParams returns the reference's defaults (p = 2, blur =
// pixel, 10 iterations per level, no extra iterations).
func DefaultBarycenterParams() BarycenterParams { return BarycenterParams{P: 2, ScalingN: 10} }

// Barycenter computes B Wasserstein barycenters of K densities each on one
// grid (GeomLoss's ImagesBarycenter, §6.6, generalised to 1D/3D and any
// sides): measures is B×K×Π shape, weights B×K; the result is B×Π shape,
// exp(ℓ_bar) (mass ≈ 1, not exactly). Per level of the pyramid of the K
// measures (coarse to fine), ScalingN iterations at temperatures
// ε = σ^p, σ ← max(σ·2^(−1/ScalingN), blur) (from σ = 1), each
//
//	ℓ_bar = ℓ_d − Σ_k w_k S_k/ε,   S_k = smin_ε(ℓa_k + g_k/ε)
//	f_k ← (f_k + S_k)/2,   g_k ← (g_k + smin_ε(ℓ_bar + f_k/ε))/2      (simultaneous)
//	ℓ_bar = ℓ_d − Σ_k w_k smin_ε(ℓa_k + g_k/ε)/ε
//	ℓ_d ← (ℓ_d + ℓ_bar + smin_ε(ℓ_d)/ε)/2
//
// from f_k = g_k = smin_1(ℓa_k) and ℓ_d = −ln(pixels) on the coarsest level;
// f, g and ℓ_d are upsampled (§6.5) between levels; then ExtraIterations
// more at the last ε. The reference's own iteration computes S_k twice (the
// same soft-min): here once.
func Barycenter[T core.Float](cfg Config[T], par BarycenterParams, B, K int, shape []int, measures, weights []T) ([]T, error) {
	out, _, _, err := barycenter(cfg, par, B, K, shape, measures, weights, nil, nil)
	return out, err
}

// BarycenterGrad returns the barycenters (as Barycenter) and the gradients
// of S = Σ cot·bar w.r.t. the measures (B×K×Π shape) and the weights (B×K),
// by reverse mode through the ExtraIterations last iterations (§7.8; the
// reference's backward_iterations: its earlier iterations carry no
// gradient). ExtraIterations must be ≥ 1. Zero pixels of a measure get a
// zero gradient (∂L(a)/∂a = 1/a for a > 0, 0 otherwise).
//
// The weights' gradient is the reference's autograd one. The reference has
// none w.r.t. the measures (it takes their log-densities without gradient,
// so autograd returns None); here it is the gradient through the
// log-densities of the differentiated iterations (TestBarycenterGradient).
func BarycenterGrad[T core.Float](cfg Config[T], par BarycenterParams, B, K int, shape []int, measures, weights, cot []T) (bar, gradMeasures, gradWeights []T, err error) {
	if par.ExtraIterations < 1 {
		return nil, nil, nil, bad(core.ErrUnsupported, "backward iterations: gradients need at least 1 (the reference differentiates its backward_iterations), got %d", par.ExtraIterations)
	}
	if cot == nil {
		return nil, nil, nil, bad(core.ErrInvalidArgument, "cotangent: required for the gradients")
	}
	return barycenter(cfg, par, B, K, shape, measures, weights, cot, nil)
}

// warmInputs replace the measures and weights of the iterations that carry
// no gradient (tests: finite differences of the differentiated part alone).
type warmInputs[T core.Float] struct{ measures, weights []T }

func barycenter[T core.Float](cfg Config[T], par BarycenterParams, B, K int, shape []int, measures, weights, cot []T, warm *warmInputs[T]) (out, gm, gwOut []T, err error) {
	if par.P != 1 && par.P != 2 {
		return nil, nil, nil, bad(core.ErrInvalidOption, "p: must be 1 or 2, got %d", par.P)
	}
	if math.IsNaN(par.Blur) || par.Blur < 0 || math.IsInf(par.Blur, 0) {
		return nil, nil, nil, bad(core.ErrInvalidOption, "blur: must be positive and finite (or 0 for the pixel width), got %g", par.Blur)
	}
	if par.ScalingN < 1 || par.ExtraIterations < 0 {
		return nil, nil, nil, bad(core.ErrInvalidOption, "scaling_N: must be ≥ 1 and backward iterations ≥ 0, got %d and %d", par.ScalingN, par.ExtraIterations)
	}
	if K < 1 {
		return nil, nil, nil, bad(core.ErrInvalidArgument, "K: must be positive, got %d", K)
	}
	// The measures are validated as B·K densities (a = b: no mass check).
	spacing, err := validate(Params{P: par.P, Scaling: 0.5, Spacing: par.Spacing, Reach: 1}, Problem[T]{B: B * K, Shape: shape, A: measures, Bw: measures}, Request[T]{})
	if err != nil {
		return nil, nil, nil, err
	}
	if len(weights) != B*K {
		return nil, nil, nil, bad(core.ErrShape, "weights has %d elements but B×K = %d×%d", len(weights), B, K)
	}
	for i, w := range weights {
		if f := float64(w); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, nil, nil, bad(core.ErrValue, "weights: element %d is not finite (%g)", i, f)
		}
	}
	eng := cfg.Engine
	if eng == nil {
		eng = Portable[T]()
	}
	levels := pyramidLevels(shape, spacing, false)
	L := len(levels)
	blur := par.Blur
	if blur == 0 {
		blur = math.Inf(1)
		for k, n := range shape {
			if n > 1 || len(shape) == 1 {
				blur = min(blur, spacing[k])
			}
		}
		if math.IsInf(blur, 1) {
			blur = spacing[0]
		}
	}
	sm := &softMinner[T]{eng: eng, p: par.P, delta: defaultTolerance[T](), threads: cfg.Threads, stop: cfg.Stop}
	size := levels[L-1].size
	out = make([]T, B*size)
	if cot != nil {
		if len(cot) != B*size {
			return nil, nil, nil, bad(core.ErrShape, "cotangent has %d elements but B×Π shape = %d×%d", len(cot), B, size)
		}
		for i, x := range cot {
			if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, nil, nil, bad(core.ErrValue, "cotangent: element %d is not finite (%g)", i, f)
			}
		}
		gm, gwOut = make([]T, B*K*size), make([]T, B*K)
	}
	p := float64(par.P)
	wMeasures, wWeights := measures, weights
	if warm != nil {
		wMeasures, wWeights = warm.measures, warm.weights
	}
	for b := 0; b < B; b++ {
		w := make([]float64, K)
		for k := range w {
			w[k] = float64(wWeights[b*K+k])
		}
		// Pyramids of the K measures, as log-densities.
		la := make([][][]T, L) // [level][k]
		la[L-1] = make([][]T, K)
		dens := make([][]T, K)
		for k := 0; k < K; k++ {
			dens[k] = wMeasures[(b*K+k)*size : (b*K+k+1)*size]
		}
		for l := L - 1; l >= 0; l-- {
			la[l] = make([][]T, K)
			for k := range dens {
				if l < L-1 {
					dens[k] = sumPool(dens[k], levels[l+1], levels[l])
				}
				la[l][k] = logDens(dens[k])
			}
		}
		it := &baryIter[T]{sm: sm, w: w, K: K}
		lv := levels[0]
		it.f, it.g = make([][]T, K), make([][]T, K)
		for k := 0; k < K; k++ {
			it.f[k], it.g[k] = make([]T, lv.size), make([]T, lv.size)
			if err := sm.softMin(lv, 1, 1, la[0][k], nil, it.f[k]); err != nil {
				return nil, nil, nil, err
			}
			copy(it.g[k], it.f[k])
		}
		it.d = make([]T, lv.size)
		for i := range it.d {
			it.d[i] = T(-math.Log(float64(lv.size)))
		}
		sigma, eps := 1.0, 1.0
		for l, lv := range levels {
			for s := 0; s < par.ScalingN; s++ {
				eps = math.Pow(sigma, p)
				if err := it.step(lv, eps, la[l], nil); err != nil {
					return nil, nil, nil, err
				}
				sigma = math.Max(sigma*math.Pow(2, -1/float64(par.ScalingN)), blur)
			}
			if l+1 < L {
				fl := levels[l+1]
				for k := 0; k < K; k++ {
					it.f[k], it.g[k] = upsample(it.f[k], lv, fl, cfg.Threads), upsample(it.g[k], lv, fl, cfg.Threads)
				}
				it.d = upsample(it.d, lv, fl, cfg.Threads)
			}
		}
		laFine := la[L-1]
		if warm != nil {
			laFine = make([][]T, K)
			for k := range laFine {
				laFine[k] = logDens(measures[(b*K+k)*size : (b*K+k+1)*size])
				it.w[k] = float64(weights[b*K+k])
			}
		}
		var tape []*baryRecord[T]
		for s := 0; s < par.ExtraIterations; s++ {
			var rec *baryRecord[T]
			if cot != nil {
				rec = &baryRecord[T]{}
				tape = append(tape, rec)
			}
			if err := it.step(levels[L-1], eps, laFine, rec); err != nil {
				return nil, nil, nil, err
			}
		}
		for i, v := range it.bar {
			out[b*size+i] = T(math.Exp(float64(v)))
		}
		if cot != nil {
			ga, gw, err := it.reverse(levels[L-1], eps, laFine, tape, cot[b*size:(b+1)*size], out[b*size:(b+1)*size])
			if err != nil {
				return nil, nil, nil, err
			}
			for k := 0; k < K; k++ {
				a := measures[(b*K+k)*size : (b*K+k+1)*size]
				for i, x := range a {
					if x > 0 {
						gm[(b*K+k)*size+i] = T(ga[k][i] / float64(x))
					}
				}
				gwOut[b*K+k] = T(gw[k])
			}
		}
	}
	for _, o := range []struct {
		name string
		v    []T
	}{{"barycenter", out}, {"gradient w.r.t. the measures", gm}, {"gradient w.r.t. the weights", gwOut}} {
		for i, x := range o.v {
			if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, nil, nil, bad(core.ErrValue, "the computed %s: element %d is not finite (%g): the problem is numerically out of range", o.name, i, f)
			}
		}
	}
	return out, gm, gwOut, nil
}

// baryIter holds one barycenter problem's state on the current level: the
// K pairs of potentials, ℓ_d and the last ℓ_bar.
type baryIter[T core.Float] struct {
	sm     *softMinner[T]
	w      []float64
	K      int
	f, g   [][]T
	d, bar []T
}

// baryRecord keeps what the reverse pass of one iteration needs: its inputs
// f, g, d, the new g, and the soft-mins S = smin(ℓa + g/ε), GT =
// smin(bar1 + f/ε), S2 = smin(ℓa + g'/ε), SD = smin(d) with bar1, bar2.
type baryRecord[T core.Float] struct {
	f, g, gNew, S, GT, S2 [][]T
	d, bar1, bar2, SD     []T
}

func cloneAll[T core.Float](v [][]T) [][]T {
	out := make([][]T, len(v))
	for k := range v {
		out[k] = clone(v[k])
	}
	return out
}

// step runs one barycenter iteration (see Barycenter) at temperature eps;
// rec, if non-nil, receives what its reverse pass needs.
func (it *baryIter[T]) step(lv level, eps float64, la [][]T, rec *baryRecord[T]) error {
	n := lv.size
	if rec != nil {
		rec.f, rec.g, rec.d = cloneAll(it.f), cloneAll(it.g), append([]T(nil), it.d...)
	}
	S := make([][]T, it.K)
	for k := range S {
		S[k] = make([]T, n)
		if err := it.sm.softMin(lv, eps, 1, la[k], it.g[k], S[k]); err != nil {
			return err
		}
	}
	bar := it.barLog(S, eps)
	GT := make([][]T, it.K)
	for k := 0; k < it.K; k++ {
		GT[k] = make([]T, n)
		if err := it.sm.softMin(lv, eps, 1, bar, it.f[k], GT[k]); err != nil {
			return err
		}
		average(it.f[k], S[k])
		average(it.g[k], GT[k])
	}
	S2 := make([][]T, it.K)
	for k := range S2 {
		S2[k] = make([]T, n)
		if err := it.sm.softMin(lv, eps, 1, la[k], it.g[k], S2[k]); err != nil {
			return err
		}
	}
	it.bar = it.barLog(S2, eps)
	sd := make([]T, n)
	if err := it.sm.softMin(lv, eps, 1, it.d, nil, sd); err != nil {
		return err
	}
	for i := range it.d {
		it.d[i] = T(0.5 * (float64(it.d[i]) + float64(it.bar[i]) + float64(sd[i])/eps))
	}
	if rec != nil {
		rec.gNew, rec.S, rec.GT, rec.S2 = cloneAll(it.g), S, GT, S2
		rec.bar1, rec.bar2, rec.SD = bar, it.bar, sd
	}
	return nil
}

// barLog returns ℓ_d − Σ_k w_k S_k/ε.
func (it *baryIter[T]) barLog(S [][]T, eps float64) []T {
	out := make([]T, len(it.d))
	for i := range out {
		s := 0.0
		for k := range S {
			s += float64(S[k][i]) / eps * it.w[k]
		}
		out[i] = T(float64(it.d[i]) - s)
	}
	return out
}

// smAdjoint returns the adjoint h̄ of s = smin_ε(h) (λ = 1) for the
// cotangent s̄: with P_ij = exp(h_j − C_ij/ε + s_i/ε),
//
//	h̄_j = −ε Σ_i s̄_i P_ij = −ε (e^(h_j + L⁺_j) − e^(h_j + L⁻_j)),
//	L^±_j = LSE_i(ln s̄_i^± + s_i/ε − C_ij/ε) = −smin_ε(ln s̄^± + s/ε)_j/ε,
//
// the positive and negative parts of s̄ each reduced by the same separable
// soft-min (the grid cost is symmetric), so nothing overflows.
func (it *baryIter[T]) smAdjoint(lv level, eps float64, h, s []T, sbar []float64) ([]float64, error) {
	n := lv.size
	hbar := make([]float64, n)
	lq := make([]T, n)
	out := make([]T, n)
	for sign := 1.0; sign >= -1; sign -= 2 {
		any := false
		for i, q := range sbar {
			if q*sign > 0 {
				lq[i] = T(math.Log(q * sign))
				any = true
			} else {
				lq[i] = T(math.Inf(-1))
			}
		}
		if !any {
			continue
		}
		if err := it.sm.softMin(lv, eps, 1, lq, s, out); err != nil {
			return nil, err
		}
		for j := range hbar {
			hbar[j] -= sign * eps * math.Exp(float64(h[j])-float64(out[j])/eps)
		}
	}
	return hbar, nil
}

// reverse back-propagates the cotangent cot of exp(ℓ_bar) through the
// recorded iterations (last first) and returns the gradients w.r.t. the
// log-densities ℓa_k (len K×n) and the weights. The first recorded
// iteration's inputs f, g, d carry no gradient (as in the reference).
func (it *baryIter[T]) reverse(lv level, eps float64, la [][]T, tape []*baryRecord[T], cot, out []T) (gla [][]float64, gw []float64, err error) {
	n, K := lv.size, it.K
	gla, gw = make([][]float64, K), make([]float64, K)
	for k := range gla {
		gla[k] = make([]float64, n)
	}
	fb, gb := make([][]float64, K), make([][]float64, K) // adjoints of the outputs f', g'
	for k := range fb {
		fb[k], gb[k] = make([]float64, n), make([]float64, n)
	}
	db := make([]float64, n)
	barb := make([]float64, n) // adjoint of bar2
	for i := range barb {
		barb[i] = float64(cot[i]) * float64(out[i])
	}
	h := make([]T, n)
	for r := len(tape) - 1; r >= 0; r-- {
		rec := tape[r]
		// d' = (d + bar2 + SD/ε)/2
		sdb := make([]float64, n)
		for i := range db {
			barb[i] += db[i] / 2
			sdb[i] = db[i] / (2 * eps)
			db[i] /= 2
		}
		// SD = smin(d)
		hb, err := it.smAdjoint(lv, eps, rec.d, rec.SD, sdb)
		if err != nil {
			return nil, nil, err
		}
		addTo(db, hb)
		// bar2 = d − Σ w_k S2_k/ε; S2_k = smin(ℓa_k + g'_k/ε)
		addTo(db, barb)
		for k := 0; k < K; k++ {
			s2b := make([]float64, n)
			for i := range s2b {
				s2b[i] = -it.w[k] * barb[i] / eps
				gw[k] -= barb[i] * float64(rec.S2[k][i]) / eps
			}
			fillH(h, la[k], rec.gNew[k], eps)
			hb, err := it.smAdjoint(lv, eps, h, rec.S2[k], s2b)
			if err != nil {
				return nil, nil, err
			}
			for i := range hb {
				gla[k][i] += hb[i]
				gb[k][i] += hb[i] / eps
			}
		}
		// g'_k = (g_k + GT_k)/2, f'_k = (f_k + S_k)/2; GT_k = smin(bar1 + f_k/ε)
		bar1b := make([]float64, n)
		sb := make([][]float64, K)
		for k := 0; k < K; k++ {
			gtb := make([]float64, n)
			sb[k] = make([]float64, n)
			for i := range gtb {
				gtb[i] = gb[k][i] / 2
				gb[k][i] /= 2
				sb[k][i] = fb[k][i] / 2
				fb[k][i] /= 2
			}
			fillH(h, rec.bar1, rec.f[k], eps)
			hb, err := it.smAdjoint(lv, eps, h, rec.GT[k], gtb)
			if err != nil {
				return nil, nil, err
			}
			for i := range hb {
				bar1b[i] += hb[i]
				fb[k][i] += hb[i] / eps
			}
		}
		// bar1 = d − Σ w_k S_k/ε; S_k = smin(ℓa_k + g_k/ε)
		addTo(db, bar1b)
		for k := 0; k < K; k++ {
			for i := range bar1b {
				sb[k][i] -= it.w[k] * bar1b[i] / eps
				gw[k] -= bar1b[i] * float64(rec.S[k][i]) / eps
			}
			fillH(h, la[k], rec.g[k], eps)
			hb, err := it.smAdjoint(lv, eps, h, rec.S[k], sb[k])
			if err != nil {
				return nil, nil, err
			}
			for i := range hb {
				gla[k][i] += hb[i]
				gb[k][i] += hb[i] / eps
			}
		}
		clear(barb) // bar of the previous iteration is not an output
	}
	return gla, gw, nil
}

// fillH writes h = ℓ + pot/ε as softMin forms it.
func fillH[T core.Float](h, ell, pot []T, eps float64) {
	for i := range h {
		h[i] = ell[i] + T(float64(pot[i])/eps)
	}
}

func addTo(dst, src []float64) {
	for i := range dst {
		dst[i] += src[i]
	}
}
