package core

import "math"

// MaxEpsSteps bounds the length of the ε-schedule (§2.2), i.e. the number of
// Sinkhorn iterations of one evaluation. The length, ⌈ln(diameter/blur) /
// ln(1/scaling)⌉ + 2, is computed before anything is allocated; a longer
// schedule is refused with ErrInvalidOption naming scaling. 10⁵ iterations
// cover scaling = 0.9999 down to blur = diameter·e⁻¹⁰ and take about a second
// for 1000 points; scaling close to 1 (0.9999999999 is 2·10¹⁰ iterations) is
// never what a user means.
const MaxEpsSteps = 100_000

// MaxPrecisionLoss bounds (blur/diameter)^p · u_T, where u_T is the unit
// roundoff of the computation's float type (2⁻²⁴ for float32, 2⁻⁵³ for
// float64). Beyond it the soft-min's log-sum-exp, whose entries are
// ln b_j + (g_j − C_ij)/ε with C/ε ≈ (diameter/blur)^p ≪ |ln b_j|, keeps too
// few significant bits of C/ε: the divergence tends to ½|x̄ − ȳ|² (p = 2)
// but the computed one drifts to 0, negative values or garbage (about
// 50·(blur/diameter)^p·u_T relative error, measured). At the bound the
// relative error is ≲ 1e-3: blur ≤ 12.9·diameter for p = 2 and blur ≤
// 168·diameter for p = 1 in float32, blur ≤ 3·10⁵·diameter (p = 2) and
// 9·10¹⁰·diameter (p = 1) in float64. Larger ratios are refused with
// ErrInvalidOption naming blur/diameter.
const MaxPrecisionLoss = 1e-5

// unitRoundoff returns u_T = 2⁻ᵖ for T's p-bit significand.
func unitRoundoff[T Float]() float64 {
	var z T
	if _, ok := any(z).(float32); ok {
		return 0x1p-24
	}
	if _, ok := any(z).(float64); ok {
		return 0x1p-53
	}
	// ~float32 / ~float64 named types: tell them apart by their rounding.
	if T(1)+T(0x1p-30) == T(1) {
		return 0x1p-24
	}
	return 0x1p-53
}

// epsSchedule returns the ε-schedule of a Sinkhorn or Hausdorff evaluation:
// diameter (given, else estimated jointly over the batch, §2.1; a zero
// diameter, all points identical, is clamped to blur, §8.4), then
// EpsSchedule. It refuses a schedule longer than MaxEpsSteps, and a blur so
// much larger than the clouds' extent (their bounding-box diagonal) that the
// soft-min loses all precision (MaxPrecisionLoss).
func epsSchedule[T Float](par Params, pr Problem[T]) ([]float64, error) {
	extent := EstimateDiameter(pr.X, pr.Y, pr.D)
	diam := par.Diameter
	if diam == 0 {
		diam = extent
	}
	if diam == 0 {
		diam = par.Blur
	}
	fp := float64(par.P)
	if extent > 0 {
		q := math.Pow(par.Blur/extent, fp)
		if u := unitRoundoff[T](); !(q*u <= MaxPrecisionLoss) {
			limit := math.Pow(MaxPrecisionLoss/u, 1/fp)
			prec := "float64"
			if u > 0x1p-53 {
				prec = "float32"
			}
			hint := ""
			if prec == "float32" {
				hint = " or float64"
			}
			return nil, errorf(ErrInvalidOption, "blur/diameter: blur %g is %.3g times the clouds' diameter %.6g (bounding-box diagonal), "+
				"beyond the %.3g at which %s Sinkhorn loses its precision (p=%d): use a smaller blur%s",
				par.Blur, par.Blur/extent, extent, limit, prec, par.P, hint)
		}
	}
	// numpy.arange's length, as EpsSchedule computes it, before any allocation.
	start, stop, step := fp*math.Log(diam), fp*math.Log(par.Blur), fp*math.Log(par.Scaling)
	if q := (stop - start) / step; !(q <= MaxEpsSteps-2) {
		return nil, errorf(ErrInvalidOption, "scaling: %.17g makes the ε-schedule %.3g iterations long (diameter %g, blur %g, p=%d); "+
			"at most %d are allowed: use a smaller scaling (e.g. 0.9 or 0.99)", par.Scaling, q+2, diam, par.Blur, par.P, MaxEpsSteps)
	}
	return EpsSchedule(par.P, diam, par.Blur, par.Scaling), nil
}
