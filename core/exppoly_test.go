package core

import (
	"math"
	"math/big"
	"testing"
)

// TestExpPoly: the polynomial of expPolyDegree/expPoly is within its bound
// δ_K(ρ) of e^t relatively on [−ρ, ρ] (evaluated in 256 bits from its
// float64 coefficients, so only their rounding — amplified by at most
// e^{2ρ} — adds to it), its coefficients keep Σ_k |a_k|ρ^k within 1e-3 of
// e^ρ (the rounding analysis of the Taylor soft-min), and its degree is
// below the Taylor polynomial's for the same accuracy (Lagrange remainder
// ρ^{K+1}e^ρ/(K+1)!).
func TestExpPoly(t *testing.T) {
	taylorK := func(rho, tol float64) int {
		for k := 0; ; k++ {
			lg, _ := math.Lgamma(float64(k + 2))
			if float64(k+1)*math.Log(rho)+rho-lg <= math.Log(tol) {
				return k
			}
		}
	}
	for _, tol := range []float64{1e-8, 1e-14} {
		for _, rho := range []float64{0, 0.01, 0.3, 1, 2.5, 5, 6.5, 8} {
			k, ok := expPolyDegree(rho, tol, 8)
			if !ok {
				t.Fatalf("ρ=%g tol=%g: refused", rho, tol)
			}
			a := expPoly(rho, k)
			if len(a) != k+1 {
				t.Fatalf("ρ=%g: %d coefficients for degree %d", rho, len(a), k)
			}
			allow := tol + math.Exp(2*rho)*0x1p-52
			var worst, sum float64
			for i := 0; i <= 2000; i++ {
				x := rho * (2*float64(i)/2000 - 1)
				p, xb := new(big.Float).SetPrec(256), new(big.Float).SetPrec(256).SetFloat64(x)
				for j := len(a) - 1; j >= 0; j-- {
					p.Mul(p, xb)
					p.Add(p, new(big.Float).SetFloat64(a[j]))
				}
				pv, _ := p.Float64()
				worst = max(worst, math.Abs(pv/math.Exp(x)-1))
			}
			if worst > allow {
				t.Errorf("ρ=%g tol=%g K=%d: relative error %.3g > %.3g", rho, tol, k, worst, allow)
			}
			for j, v := range a {
				sum += math.Abs(v) * math.Pow(rho, float64(j))
			}
			if r := sum / math.Exp(rho); math.Abs(r-1) > 1e-3 {
				t.Errorf("ρ=%g tol=%g: Σ|a_k|ρ^k = %.6g·e^ρ", rho, tol, r)
			}
			if rho >= 1 && k >= taylorK(rho, tol) {
				t.Errorf("ρ=%g tol=%g: degree %d, the Taylor polynomial's is %d", rho, tol, k, taylorK(rho, tol))
			}
		}
	}
	if _, ok := expPolyDegree(8.01, 1e-8, 8); ok {
		t.Error("accepted ρ beyond maxRho")
	}
}
