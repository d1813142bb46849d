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
	if par.P != 1 && par.P != 2 {
		return nil, bad(core.ErrInvalidOption, "p: must be 1 or 2, got %d", par.P)
	}
	if math.IsNaN(par.Blur) || par.Blur < 0 || math.IsInf(par.Blur, 0) {
		return nil, bad(core.ErrInvalidOption, "blur: must be positive and finite (or 0 for the pixel width), got %g", par.Blur)
	}
	if par.ScalingN < 1 || par.ExtraIterations < 0 {
		return nil, bad(core.ErrInvalidOption, "scaling_N: must be ≥ 1 and backward iterations ≥ 0, got %d and %d", par.ScalingN, par.ExtraIterations)
	}
	if K < 1 {
		return nil, bad(core.ErrInvalidArgument, "K: must be positive, got %d", K)
	}
	// The measures are validated as B·K densities (a = b: no mass check).
	spacing, err := validate(Params{P: par.P, Scaling: 0.5, Spacing: par.Spacing, Reach: 1}, Problem[T]{B: B * K, Shape: shape, A: measures, Bw: measures}, Request[T]{})
	if err != nil {
		return nil, err
	}
	if len(weights) != B*K {
		return nil, bad(core.ErrShape, "weights has %d elements but B×K = %d×%d", len(weights), B, K)
	}
	for i, w := range weights {
		if f := float64(w); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, bad(core.ErrValue, "weights: element %d is not finite (%g)", i, f)
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
	out := make([]T, B*size)
	p := float64(par.P)
	for b := 0; b < B; b++ {
		w := make([]float64, K)
		for k := range w {
			w[k] = float64(weights[b*K+k])
		}
		// Pyramids of the K measures, as log-densities.
		la := make([][][]T, L) // [level][k]
		la[L-1] = make([][]T, K)
		dens := make([][]T, K)
		for k := 0; k < K; k++ {
			dens[k] = measures[(b*K+k)*size : (b*K+k+1)*size]
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
				return nil, err
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
				if err := it.step(lv, eps, la[l]); err != nil {
					return nil, err
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
		for s := 0; s < par.ExtraIterations; s++ {
			if err := it.step(levels[L-1], eps, la[L-1]); err != nil {
				return nil, err
			}
		}
		for i, v := range it.bar {
			out[b*size+i] = T(math.Exp(float64(v)))
		}
	}
	for i, x := range out {
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, bad(core.ErrValue, "the computed barycenter: element %d is not finite (%g): the problem is numerically out of range", i, f)
		}
	}
	return out, nil
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

// step runs one barycenter iteration (see Barycenter) at temperature eps.
func (it *baryIter[T]) step(lv level, eps float64, la [][]T) error {
	n := lv.size
	S := make([][]T, it.K)
	for k := range S {
		S[k] = make([]T, n)
		if err := it.sm.softMin(lv, eps, 1, la[k], it.g[k], S[k]); err != nil {
			return err
		}
	}
	bar := it.barLog(S, eps)
	gt := make([]T, n)
	for k := 0; k < it.K; k++ {
		if err := it.sm.softMin(lv, eps, 1, bar, it.f[k], gt); err != nil {
			return err
		}
		average(it.f[k], S[k])
		average(it.g[k], gt)
	}
	for k := range S {
		if err := it.sm.softMin(lv, eps, 1, la[k], it.g[k], S[k]); err != nil {
			return err
		}
	}
	it.bar = it.barLog(S, eps)
	sd := make([]T, n)
	if err := it.sm.softMin(lv, eps, 1, it.d, nil, sd); err != nil {
		return err
	}
	for i := range it.d {
		it.d[i] = T(0.5 * (float64(it.d[i]) + float64(it.bar[i]) + float64(sd[i])/eps))
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
