package core

import "math"

// DualPair is the optional capability of Pairs that compute both directions
// of a Sinkhorn update in one pass over the pairs (i, j). With
//
//	E_ij = hx_i + hy_j − C(x_i, y_j)/ε,
//
// both soft-mins of the update are reductions of the same matrix:
//
//	Σ_j exp(hy_j − C_ij/ε) = e^{−hx_i} · Σ_j e^{E_ij}   (row sums),
//	Σ_i exp(hx_i − C_ij/ε) = e^{−hy_j} · Σ_i e^{E_ij}   (column sums),
//
// so one exponential per pair gives
//
//	outX_i = −ε·LSE_j(hy_j − C_ij/ε) = −ε·(log Σ_j e^{E_ij} − hx_i),
//	outY_j = −ε·LSE_i(hx_i − C_ij/ε) = −ε·(log Σ_i e^{E_ij} − hy_j),
//
// what SoftMin on this Pair (with h = hy) and on its transpose (h = hx)
// compute. There is no running maximum: near the Sinkhorn loop's duals E
// stays in a modest range (for near-feasible duals Σ_j e^{E_ij} ≈ a_i), so
// the sums are formed directly. A sum that overflowed, or that is too
// small for its flushed terms to be negligible (see DualSumValid), makes
// that direction's result unusable: SoftMinBoth then reports it not done
// (okX or okY false, that output unspecified) and the caller computes it
// with SoftMin. A direction reported done is within the soft-min's own
// accuracy (core/enginetest checks it against the two SoftMins). Results
// are identical bit for bit whatever the thread count.
type DualPair[T Float] interface {
	SoftMinBoth(eps T, hx, hy, outX, outY []T) (okX, okY bool, err error)
}

// SelfPair is the optional capability of Pairs between a cloud and itself
// (the debiasing terms): with E_ii' = h_i + h_i' − C_ii'/ε symmetric, row
// sums equal column sums, so only the pairs i ≤ i' need an exponential:
//
//	out_i = −ε·LSE_i'(h_i' − C_ii'/ε) = −ε·(log Σ_i' e^{E_ii'} − h_i),
//
// with the validity rule of DualPair (ok false: out unspecified, use
// SoftMin). A Pair whose two clouds differ (SameValues) reports ok = false.
//
// Symmetry is kept exactly: a DualPair whose clouds are the same values,
// called with hx = hy bit for bit, computes both outputs by this same
// symmetric pass (outX = outY), and declines exactly when it would. So for
// identical measures (x = y, a = b) the cross duals and the self duals of
// the Sinkhorn loop stay equal bit for bit, and the debiased divergence is
// exactly 0, as with the two SoftMin passes.
type SelfPair[T Float] interface {
	SoftMinSelf(eps T, h, out []T) (ok bool, err error)
}

// DualSumValid reports whether a row or column sum s = Σ e^{E} of count
// terms can be used (see DualPair): s is finite and below ceil (the
// largest sum whose terms are all exact: beyond it a term may have been
// clamped), and large enough that the terms the exponential flushed — each
// below flush, dropped or replaced by a value below flush — change it by at
// most 2^−mant relatively (mant = 24 for float32, 53 for float64):
//
//	count · flush · 2^mant ≤ s < ceil.
//
// For example float32 terms flushed below the smallest normal, 2^−126,
// need s ≥ count·2^−102.
func DualSumValid(s float64, count int, flush, ceil float64, mant int) bool {
	return s >= float64(count)*math.Ldexp(flush, mant) && s < ceil
}

// FiniteOrNegInf reports whether v has no NaN and no +∞, and whether it
// has some −∞ (fused passes decline non-finite log-duals: a +∞ or NaN
// spoils every sum, a −∞ its own row's or column's).
func FiniteOrNegInf[T Float](v []T) (clean, negInf bool) {
	for _, x := range v {
		f := float64(x)
		if f != f || math.IsInf(f, 1) {
			return false, false
		}
		negInf = negInf || math.IsInf(f, -1)
	}
	return true, negInf
}

// SameValues reports whether a and b hold the same points (the same memory,
// or equal coordinates).
func SameValues[T Float](a, b Cloud[T]) bool {
	if a.N != b.N || a.D != b.D || len(a.Pts) != len(b.Pts) {
		return false
	}
	if len(a.Pts) == 0 || &a.Pts[0] == &b.Pts[0] {
		return true
	}
	for i, v := range a.Pts {
		if v != b.Pts[i] {
			return false
		}
	}
	return true
}

// SameDuals reports whether hx and hy are equal bit for bit.
func SameDuals[T Float](hx, hy []T) bool {
	if len(hx) != len(hy) {
		return false
	}
	for i, v := range hx {
		if math.Float64bits(float64(v)) != math.Float64bits(float64(hy[i])) {
			return false
		}
	}
	return true
}

// Mantissa returns the precision of T in bits, counting the implicit one
// (24 for float32, 53 for float64).
func Mantissa[T Float]() int {
	var z T
	if _, ok := any(z).(float32); ok {
		return 24
	}
	return 53
}

// dualOut returns −ε·(log s − h) (see DualPair).
func dualOut[T Float](eps float64, s float64, h T) T {
	return T(-eps * (math.Log(s) - float64(h)))
}
