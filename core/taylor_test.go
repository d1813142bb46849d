package core

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTaylorSoftMinMatchesOnline: the Taylor soft-min equals the exact
// (portable online) one within its stated bound ε·ρ^{K+1}e^ρ/(K+1)! plus
// rounding, over the whole range of ρ it accepts, in 1D–3D, with potentials
// spanning many orders of magnitude and shifted centres.
func TestTaylorSoftMinMatchesOnline(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, d := range []int{1, 2, 3} {
		n, m := 300, 500
		x, y := make([]float64, n*d), make([]float64, m*d)
		for i := range x {
			x[i] = r.NormFloat64()
		}
		for i := range y {
			y[i] = 0.5*r.NormFloat64() + 0.7
		}
		cx, cy := Cloud[float64]{x, n, d}, Cloud[float64]{y, m, d}
		exact, _ := Portable[float64](Resources{}).Pair(cx, cy, CostHalfSquared)
		h := make([]float64, m)
		for j := range h {
			h[j] = 20 * r.NormFloat64()
		}
		_, rx := cloudBall(cx)
		_, ry := cloudBall(cy)
		for _, rho := range []float64{0.01, 0.5, 1, 2, 3.5, 4.99} {
			eps := rx * ry / rho
			tp, ok := newTaylorPair(cx, cy, eps, Resources{})
			if !ok {
				t.Fatalf("D=%d ρ=%g: refused", d, rho)
			}
			got, want := make([]float64, n), make([]float64, n)
			if err := tp.SoftMin(eps, h, got, nil); err != nil {
				t.Fatal(err)
			}
			if err := exact.SoftMin(eps, h, want, nil); err != nil {
				t.Fatal(err)
			}
			var worst float64
			for i := range got {
				worst = max(worst, math.Abs(got[i]-want[i])/eps)
			}
			if worst > 1e-11 {
				t.Errorf("D=%d ρ=%g (K=%d): |Δ soft-min|/ε = %.2e", d, rho, tp.mono.k, worst)
			}
		}
		if _, ok := newTaylorPair(cx, cy, rx*ry/(taylorMaxRho[float64]()*1.01), Resources{}); ok {
			t.Errorf("D=%d: accepted ρ beyond taylorMaxRho", d)
		}
	}
}

// TestTaylorDeterministic: the result does not depend on the thread count.
func TestTaylorDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n, m, d := 700, 5000, 3
	x, y := make([]float32, n*d), make([]float32, m*d)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for i := range y {
		y[i] = float32(r.NormFloat64())
	}
	h := make([]float32, m)
	for j := range h {
		h[j] = float32(r.NormFloat64())
	}
	var ref []float32
	for _, th := range []int{1, 2, 3, 7} {
		tp, ok := newTaylorPair(Cloud[float32]{x, n, d}, Cloud[float32]{y, m, d}, 20, Resources{Threads: th})
		if !ok {
			t.Fatal("refused")
		}
		out := make([]float32, n)
		if err := tp.SoftMin(20, h, out, nil); err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = out
			continue
		}
		for i := range out {
			if math.Float32bits(out[i]) != math.Float32bits(ref[i]) {
				t.Fatalf("threads=%d: row %d differs", th, i)
			}
		}
	}
}

// TestMonomials: the graded monomial list has C(K+D, D) entries and 1/α!.
func TestMonomials(t *testing.T) {
	m := newMonomials(3, 6)
	if got, want := m.count(6), int(taylorCount(3, 6)); got != want {
		t.Fatalf("count %d, want %d", got, want)
	}
	u := []float64{0.3, -0.2, 0.5}
	v := []float64{-0.4, 0.1, 0.7}
	lu, lv := make([]lanes, 3), make([]lanes, 3)
	for q := range u {
		lu[q][0], lv[q][0] = u[q], v[q]
	}
	mu, mv := make([]lanes, m.count(6)), make([]lanes, m.count(6))
	m.evalLanes(lu, 6, mu)
	m.evalLanes(lv, 6, mv)
	var s float64
	for t := range mu {
		s += mu[t][0] * mv[t][0] * m.inv[t]
	}
	dot := u[0]*v[0] + u[1]*v[1] + u[2]*v[2]
	var want, term float64 = 0, 1
	for k := 0; k <= 6; k++ {
		want += term
		term *= dot / float64(k+1)
	}
	if math.Abs(s-want) > 1e-15 {
		t.Fatalf("Σ u^α v^α/α! = %.17g, want the degree-6 Taylor polynomial of e^{u·v} %.17g", s, want)
	}
}

// TestTaylorSoftMinFloat32: float32 clouds up to ρ = 8 (their larger range:
// the polynomial runs in float64) agree with the exact float64 soft-min on
// the same points within float32 rounding of the result plus the 1e-8·ε
// Taylor tolerance.
func TestTaylorSoftMinFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	n, m, d := 200, 300, 3
	x32, y32 := make([]float32, n*d), make([]float32, m*d)
	x64, y64 := make([]float64, n*d), make([]float64, m*d)
	for i := range x32 {
		x32[i] = float32(r.NormFloat64())
		x64[i] = float64(x32[i])
	}
	for i := range y32 {
		y32[i] = float32(r.NormFloat64())
		y64[i] = float64(y32[i])
	}
	h32, h64 := make([]float32, m), make([]float64, m)
	for j := range h32 {
		h32[j] = float32(5 * r.NormFloat64())
		h64[j] = float64(h32[j])
	}
	c32x, c32y := Cloud[float32]{x32, n, d}, Cloud[float32]{y32, m, d}
	exact, _ := Portable[float64](Resources{}).Pair(Cloud[float64]{x64, n, d}, Cloud[float64]{y64, m, d}, CostHalfSquared)
	_, rx := cloudBall(c32x)
	_, ry := cloudBall(c32y)
	for _, rho := range []float64{1, 6, 7.99} {
		eps := float32(rx * ry / rho)
		tp, ok := newTaylorPair(c32x, c32y, float64(eps), Resources{})
		if !ok {
			t.Fatalf("ρ=%g refused for float32", rho)
		}
		got, want := make([]float32, n), make([]float64, n)
		if err := tp.SoftMin(eps, h32, got, nil); err != nil {
			t.Fatal(err)
		}
		if err := exact.SoftMin(float64(eps), h64, want, nil); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if e := math.Abs(float64(got[i]) - want[i]); e > 2e-7*math.Abs(want[i])+1e-8*float64(eps) {
				t.Fatalf("ρ=%g row %d: %.9g vs exact %.9g", rho, i, got[i], want[i])
			}
		}
	}
}
