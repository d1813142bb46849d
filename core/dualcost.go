package core

import "math"

// DualSide is one measure's share of the Sinkhorn value and its weight
// gradient, computed from the final potentials (§3.1, §7.1 with the project's
// deviations, the same table as the point-cloud solver):
//
//	balanced, debias:   value = ⟨w, F − Faa⟩,                 φ = F − Faa
//	balanced, raw:      value = ⟨w, F⟩,                       φ = F
//	unbalanced, debias: value = κ⟨w, e^(−Faa/ρ) − e^(−F/ρ)⟩,  φ = κ'(e^(−Faa/ρ) − e^(−F/ρ))
//	unbalanced, raw:    value = ⟨w, ρ + ε·m'/2 − κ e^(−F/ρ)⟩, φ = ρ + ε·m' − κ' e^(−F/ρ)
//
// with κ = ρ + ε/2, κ' = ρ + ε (the true gradient, not the reference's κ) and
// m' the other measure's total mass. Faa is nil for the raw cost; ρ = +Inf is
// balanced. phi, if non-nil, receives φ (len(w)). The unbalanced forms are
// evaluated stably (expDiff, oneMinusExp), as in the point-cloud solver, so
// they tend to the balanced ones as ρ → ∞.
func DualSide[T Float](w, F, Faa []T, eps, rho, mOther float64, phi []float64) (value float64) {
	kappa, kappaG := rho+eps/2, rho+eps
	for i := range F {
		fi := float64(F[i])
		var p float64
		switch {
		case math.IsInf(rho, 1) && Faa != nil:
			p = fi - float64(Faa[i])
			value += float64(w[i]) * p
		case math.IsInf(rho, 1):
			p = fi
			value += float64(w[i]) * p
		case Faa != nil: // κ(e^{−F_aa/ρ} − e^{−F/ρ}), stably (unbalanced.go)
			diff := expDiff(float64(Faa[i]), fi, rho)
			value += float64(w[i]) * kappa * diff
			p = kappaG * diff
		default: // (ρ + ε·m'/2) − κ·e^{−F/ρ} = ρ(1 − e^{−F/ρ}) + ε/2·(m' − e^{−F/ρ})
			ef := math.Exp(-fi / rho)
			value += float64(w[i]) * (oneMinusExp(fi, rho) + eps/2*(mOther-ef))
			p = oneMinusExp(fi, rho) + eps*(mOther-ef)
		}
		if phi != nil {
			phi[i] = p
		}
	}
	return value
}

// Damping returns λ(ε) = 1/(1 + ε/ρ), 1 when balanced (ρ = +Inf, §2.3).
func Damping(eps, rho float64) float64 { return damping(eps, rho) }
