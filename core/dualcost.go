package core

import "math"

// DualSide is one measure's share of the Sinkhorn value, its weight gradient
// and its position-gradient coefficients, computed from the final
// potentials — the table of §3.1 and §7.1 with the project's deviations,
// shared by the point-cloud and grid solvers:
//
//	case                value                               φ = ∂/∂w                    u             v
//	balanced, debias:   ⟨w, F − Faa⟩                        F − Faa                     1             −1
//	balanced, raw:      ⟨w, F⟩                              F                           1             0
//	unbalanced, debias: κ⟨w, e^(−Faa/ρ) − e^(−F/ρ)⟩         κ'(e^(−Faa/ρ) − e^(−F/ρ))   κ'/ρ·e^(−F/ρ)  −κ'/ρ·e^(−Faa/ρ)
//	unbalanced, raw:    ⟨w, ρ + ε·m'/2 − κ e^(−F/ρ)⟩        ρ + ε·m' − κ' e^(−F/ρ)       κ'/ρ·e^(−F/ρ)  0
//
// with κ = ρ + ε/2, κ' = ρ + ε (the true gradient, not the reference's κ) and
// m' the other measure's total mass; u and v weight the cross and self
// soft-max gradients of the positions. Faa is nil for the raw cost; ρ = +Inf
// is balanced. The unbalanced differences are evaluated stably (expDiff,
// oneMinusExp), so that they tend to the balanced ones as ρ → ∞. phi, u, v,
// if non-nil, receive φ, u, v (len(w)).
func DualSide[T Float](w, F, Faa []T, eps, rho, mOther float64, phi, u, v []float64) (value float64) {
	kappa, kappaG := rho+eps/2, rho+eps
	for i := range F {
		fi := float64(F[i])
		var p, ui, vi float64
		switch {
		case math.IsInf(rho, 1) && Faa != nil:
			p, ui, vi = fi-float64(Faa[i]), 1, -1
			value += float64(w[i]) * p
		case math.IsInf(rho, 1):
			p, ui = fi, 1
			value += float64(w[i]) * p
		case Faa != nil: // κ(e^{−F_aa/ρ} − e^{−F/ρ}), stably (unbalanced.go)
			diff := expDiff(float64(Faa[i]), fi, rho)
			value += float64(w[i]) * kappa * diff
			p = kappaG * diff
			ui, vi = kappaG/rho*math.Exp(-fi/rho), -kappaG/rho*math.Exp(-float64(Faa[i])/rho)
		default: // (ρ + ε·m'/2) − κ·e^{−F/ρ} = ρ(1 − e^{−F/ρ}) + ε/2·(m' − e^{−F/ρ})
			ef := math.Exp(-fi / rho)
			value += float64(w[i]) * (oneMinusExp(fi, rho) + eps/2*(mOther-ef))
			p, ui = oneMinusExp(fi, rho)+eps*(mOther-ef), kappaG/rho*ef
		}
		if phi != nil {
			phi[i] = p
		}
		if u != nil {
			u[i], v[i] = ui, vi
		}
	}
	return value
}

// Damping returns λ(ε) = 1/(1 + ε/ρ), 1 when balanced (ρ = +Inf, §2.3).
func Damping(eps, rho float64) float64 { return damping(eps, rho) }
