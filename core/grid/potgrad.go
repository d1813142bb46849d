package grid

import (
	"math"

	"github.com/libgeomloss/libgeomloss/core"
)

// Gradients through the potentials (beyond the reference, whose potentials
// carry no gradient). As for point clouds, the duals f, g, faa, gbb of the
// loop are held fixed and only the final full-resolution step
//
//	F_i = λ·(−ε) log Σ_j b_j exp((g_j − C_ij)/ε)
//
// is differentiated, through its explicit weights b_j:
//
//	∂F_i/∂b_j = −λε·exp((g_j − C_ij)/ε + F_i/(λε))   (= −λε·P_ij/b_j),
//
// so the vector-Jacobian product of a cotangent c on F is
//
//	∇_b_j = −λε·exp(g_j/ε)·Σ_i c_i exp(F_i/(λε) − C_ij/ε),
//
// a kernel sum with signed weights (C is symmetric on a grid): computed as
// two separable log-domain passes, on c⁺ and c⁻. G, Faa and Gbb likewise
// (G on a with f; Faa on a with faa; Gbb on b with gbb); the debiased
// outputs F − Faa and G − Gbb subtract the self terms.
//
// When the schedule's last iteration is a pyramid jump (the reference's
// defaults on power-of-two sides) there is no final full-resolution step:
// the potentials are U((f + F)/2), the upsampled average of that
// iteration's duals and soft-min outputs F = λ smin_ε(ℓ(Pb) + g/ε) on the
// coarser level, P the sum-pooling. The same convention (duals held fixed)
// differentiates that soft-min: the cotangent goes through Uᵀ, the VJP
// above runs on the coarser level with a factor ½, and Pᵀ brings it back
// to the finest grid (potGrads).

// potVJP adds sign·∇ (above) for the potential pot = λ smin_ε(ℓ + dual/ε)
// and the cotangent cot to dst, on the step's level.
func potVJP[T core.Float](sm *softMinner[T], st *lastStep[T], dual, pot, cot []T, sign float64, dst []float64) error {
	n := st.lv.size
	eps, lam := st.eps, st.lam
	ell, out := make([]T, n), make([]T, n)
	for _, sg := range []float64{1, -1} {
		// h_i = ln(sg·c_i) + F_i/(λε), shifted by its maximum M (pixels of
		// the other sign: M − 10⁴, whose exponential underflows to 0).
		M := math.Inf(-1)
		for i, c := range cot {
			if v := sg * float64(c); v > 0 {
				M = max(M, math.Log(v)+float64(pot[i])/(lam*eps))
			}
		}
		if math.IsInf(M, -1) {
			continue
		}
		for i, c := range cot {
			if v := sg * float64(c); v > 0 {
				ell[i] = T(math.Log(v) + float64(pot[i])/(lam*eps) - M)
			} else {
				ell[i] = -1e4
			}
		}
		// out_j = −ε LSE_i(h_i − M − C_ij/ε)
		if err := sm.softMin(st.lv, eps, 1, ell, nil, out); err != nil {
			return err
		}
		for j := range dst {
			dst[j] -= sign * sg * lam * eps * math.Exp(float64(dual[j])/eps+M-float64(out[j])/eps)
		}
	}
	return nil
}

// potGrads adds to ga, gb (each nil or of the finest grid's size) the
// gradients of Σ cf·Fout + Σ cg·Gout w.r.t. a and b (cf, cg nil or on the
// finest grid), for the outputs Fout = F − Faa, Gout = G − Gbb (debiased;
// F, G raw) of the last step st, with its duals held fixed.
//
// When st is the final full-resolution step, F = st.F directly. When it is
// a last iteration that jumps (st.up the finest level), the returned maps
// are F = U((f + st.F)/2) with st.F computed on the pooled densities
// P b: the chain rule gives ∇_b = Pᵀ(½·VJP_st(Uᵀ c)), with Uᵀ the adjoint of
// the upsampling (upsampleT) and Pᵀ that of the sum-pooling (spreadAdd:
// each fine pixel receives its coarse parent's value).
func potGrads[T core.Float](sm *softMinner[T], st *lastStep[T], cf, cg []T, ga, gb []float64) error {
	sign, dga, dgb := 1.0, ga, gb
	if st.up != nil {
		sign = 0.5
		cf, cg = upsampleT(cf, st.lv, *st.up), upsampleT(cg, st.lv, *st.up)
		dga, dgb = coarse(ga, st.lv.size), coarse(gb, st.lv.size)
	}
	type term struct {
		dual, pot, cot []T
		sign           float64
		dst            []float64
	}
	var ts []term
	if cf != nil {
		ts = append(ts, term{st.g, st.F, cf, sign, dgb})
		if st.Faa != nil {
			ts = append(ts, term{st.faa, st.Faa, cf, -sign, dga})
		}
	}
	if cg != nil {
		ts = append(ts, term{st.f, st.G, cg, sign, dga})
		if st.Gbb != nil {
			ts = append(ts, term{st.gbb, st.Gbb, cg, -sign, dgb})
		}
	}
	for _, t := range ts {
		if t.dst == nil {
			continue
		}
		if err := potVJP(sm, st, t.dual, t.pot, t.cot, t.sign, t.dst); err != nil {
			return err
		}
	}
	if st.up != nil {
		spreadAdd(dga, st.lv, *st.up, ga)
		spreadAdd(dgb, st.lv, *st.up, gb)
	}
	return nil
}

// coarse returns a zero map of n pixels where g is asked (nil: nil).
func coarse(g []float64, n int) []float64 {
	if g == nil {
		return nil
	}
	return make([]float64, n)
}
