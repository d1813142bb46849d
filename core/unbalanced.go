package core

import "math"

// Stable forms of the unbalanced Sinkhorn coefficients (§3.1, §7.1). With
// ρ = reach^p large, e^{−F/ρ} and e^{−F_aa/ρ} both round to nearly 1 and
// their difference, multiplied by κ ≈ ρ, cancels catastrophically (issue 11:
// 2 % off at reach 1e7, exactly 0 from 1e8 on). Written with expm1, the
// values tend to the balanced ones as ρ → ∞.

// expDiff returns e^{−a/ρ} − e^{−b/ρ}, factoring out the larger exponential so
// that the remaining expm1 has a non-positive argument (no spurious
// overflow): for b ≥ a it is −e^{−a/ρ}·expm1(−(b−a)/ρ), else
// e^{−b/ρ}·expm1(−(a−b)/ρ). ρ·expDiff(a, b) → b − a as ρ → ∞.
func expDiff(a, b, rho float64) float64 {
	if b >= a {
		return -math.Exp(-a/rho) * math.Expm1(-(b-a)/rho)
	}
	return math.Exp(-b/rho) * math.Expm1(-(a-b)/rho)
}

// oneMinusExp returns ρ·(1 − e^{−F/ρ}) = −ρ·expm1(−F/ρ), which tends to F as ρ → ∞.
func oneMinusExp(f, rho float64) float64 { return -rho * math.Expm1(-f/rho) }

// infiniteRho reports whether ρ = reach^p is +∞: reach unset (balanced), or
// so large that reach^p overflows. Both take the balanced rules, the
// equal-mass check included (issue 11: reach = 1e200 skipped it).
func (p Params) infiniteRho() bool {
	return p.Balanced() || math.IsInf(math.Pow(p.Reach, float64(p.P)), 1)
}
