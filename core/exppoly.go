package core

import (
	"math"
	"math/big"
)

// The polynomial that replaces e^t in the Taylor soft-min (taylor.go), for
// t = ⟨û, v̂⟩ ∈ [−ρ, ρ]: the Chebyshev truncation of degree K of e^t on that
// interval. With x = t/ρ ∈ [−1, 1] and I_n the modified Bessel functions of
// the first kind,
//
//	e^{ρx} = I_0(ρ) + 2 Σ_{n≥1} I_n(ρ) T_n(x),
//
// so dropping the terms n > K (|T_n| ≤ 1) errs by at most 2 Σ_{n>K} I_n(ρ),
// and relatively to e^t ≥ e^{−ρ} by
//
//	δ_K(ρ) = 2 e^ρ Σ_{n>K} I_n(ρ).
//
// Since I_n(ρ) ≈ (ρ/2)^n/n! for n ≫ ρ, this is about 2^{−K} times the
// Taylor remainder ρ^{K+1}e^ρ/(K+1)!: the same accuracy at a lower degree
// (at ρ = 6.5 and 1e-8, degree 23 instead of 35 — C(26, 3) = 2 600
// monomials in 3D instead of 8 436). The soft-min needs the polynomial in
// powers of t, p(t) = Σ_k a_k t^k; a_k = Σ_n c_n·[x^k]T_n/ρ^k mixes terms
// far larger than itself, so it is formed in 256-bit arithmetic (the
// coefficients of T_n are integers, I_n(ρ) a series of positive terms) and
// only then rounded to float64. Since p is within δ_K of e^t and its
// coefficients within about 2·Σ_{n>K} I_n(ρ)(1+√2)^n/ρ^k of 1/k!, the sum
// Σ_k |a_k| ρ^k that bounds the terms of the soft-min's polynomial stays
// e^ρ to within that (TestExpPoly checks it), so the rounding analysis of
// the Taylor soft-min holds unchanged.

// besselI returns I_0(ρ), …, I_{n−1}(ρ) in float64 (series of positive terms:
// I_k(ρ) = Σ_m (ρ/2)^{2m+k}/(m!(m+k)!)), for the degree bound.
func besselI(rho float64, n int) []float64 {
	out := make([]float64, n)
	h := rho / 2
	for k := range out {
		// First term (ρ/2)^k/k! in logarithms (no overflow or premature underflow).
		var lt float64
		if k > 0 {
			if h == 0 {
				continue
			}
			lg, _ := math.Lgamma(float64(k + 1))
			lt = float64(k)*math.Log(h) - lg
		}
		t, s := math.Exp(lt), 0.0
		for m := 0; t > 0 && (t > s*1e-18 || m < 2); m++ {
			s += t
			t *= h * h / (float64(m+1) * float64(m+1+k))
		}
		out[k] = s
	}
	return out
}

// expPolyDegree returns the smallest degree K with δ_K(ρ) ≤ tol (see above),
// or ok = false beyond maxRho or degree 64.
func expPolyDegree(rho, tol, maxRho float64) (int, bool) {
	if !(rho >= 0) || rho > maxRho {
		return 0, false
	}
	if rho == 0 {
		return 0, true
	}
	const n = 64 + 48 // terms beyond 64+48 are below 2^−1000 for ρ ≤ 8
	I := besselI(rho, n)
	tail := 0.0 // Σ_{n>K} I_n, accumulated from the top
	tails := make([]float64, n)
	for k := n - 1; k >= 0; k-- {
		tails[k] = tail // Σ_{m>k} I_m
		tail += I[k]
	}
	for k := 0; k <= 64; k++ {
		if 2*math.Exp(rho)*tails[k] <= tol {
			return k, true
		}
	}
	return 0, false
}

// expPolyPrec is the precision (bits) of expPoly's exact arithmetic.
const expPolyPrec = 256

// expPoly returns a_0, …, a_K, the power-basis coefficients of the
// degree-K Chebyshev truncation of e^t on [−ρ, ρ] (see above), rounded to
// float64. ρ = 0 gives [1].
func expPoly(rho float64, k int) []float64 {
	if rho == 0 || k == 0 {
		return []float64{besselI(rho, 1)[0]}
	}
	nf := func(v float64) *big.Float { return new(big.Float).SetPrec(expPolyPrec).SetFloat64(v) }
	h := nf(rho / 2)
	h2 := new(big.Float).SetPrec(expPolyPrec).Mul(h, h)
	eps := new(big.Float).SetPrec(expPolyPrec).SetMantExp(big.NewFloat(1), -300)
	// c_n = I_n(ρ) (n = 0) or 2·I_n(ρ), by the series in 256 bits.
	c := make([]*big.Float, k+1)
	first := nf(1) // (ρ/2)^n/n!
	for n := 0; n <= k; n++ {
		if n > 0 {
			first.Mul(first, h)
			first.Quo(first, nf(float64(n)))
		}
		s, t := nf(0), new(big.Float).SetPrec(expPolyPrec).Set(first)
		lim := new(big.Float).SetPrec(expPolyPrec).Mul(first, eps)
		for m := 0; t.Cmp(lim) > 0; m++ {
			s.Add(s, t)
			t.Mul(t, h2)
			t.Quo(t, nf(float64(m+1)*float64(m+1+n)))
		}
		if n > 0 {
			s.Mul(s, nf(2))
		}
		c[n] = s
	}
	// Power coefficients of T_n (T_{n+1} = 2x·T_n − T_{n−1}), accumulated
	// into Σ_n c_n T_n(x).
	acc := make([]*big.Float, k+1)
	for i := range acc {
		acc[i] = nf(0)
	}
	prev, cur := []*big.Float{nf(1)}, []*big.Float{nf(0), nf(1)} // T_0, T_1
	add := func(tn []*big.Float, cn *big.Float) {
		for i, v := range tn {
			acc[i].Add(acc[i], new(big.Float).SetPrec(expPolyPrec).Mul(v, cn))
		}
	}
	add(prev, c[0])
	add(cur, c[1])
	for n := 2; n <= k; n++ {
		next := make([]*big.Float, n+1)
		for i := range next {
			next[i] = nf(0)
			if i >= 1 { // len(cur) = n
				next[i].Mul(cur[i-1], nf(2))
			}
			if i < len(prev) {
				next[i].Sub(next[i], prev[i])
			}
		}
		prev, cur = cur, next
		add(cur, c[n])
	}
	// a_i = acc_i / ρ^i.
	out := make([]float64, k+1)
	scale := nf(1)
	r := nf(rho)
	for i := range out {
		out[i], _ = new(big.Float).SetPrec(expPolyPrec).Quo(acc[i], scale).Float64()
		scale.Mul(scale, r)
	}
	return out
}
