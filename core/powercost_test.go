package core_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// TestPowerPairSoftMin: the power cost's soft-min equals the brute-force
// −ε log Σ_j exp(h_j − |x_i − y_j|^q/(qε)), online and dense alike bit for
// bit, and its gradient matches central finite differences of the value in
// x_i (float64), including a point coincident with a y_j (gradient term 0).
func TestPowerPairSoftMin(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 3))
	n, m, d := 7, 9, 3
	x, y := make([]float64, n*d), make([]float64, m*d)
	for i := range x {
		x[i] = r.Float64()
	}
	for i := range y {
		y[i] = r.Float64()
	}
	copy(x[:d], y[:d]) // x_0 = y_0
	h := make([]float64, m)
	for j := range h {
		h[j] = r.NormFloat64()
	}
	const eps = .07
	for _, q := range []float64{1.2, 1.5, 3, 4} {
		smin := func(x []float64, dense bool) ([]float64, []float64) {
			p, err := core.PowerPair(core.Cloud[float64]{Pts: x, N: n, D: d}, core.Cloud[float64]{Pts: y, N: m, D: d}, q, core.Resources{}, dense)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			out, grad := make([]float64, n), make([]float64, n*d)
			if err := p.SoftMin(eps, h, out, grad); err != nil {
				t.Fatal(err)
			}
			return out, grad
		}
		out, grad := smin(x, false)
		outD, gradD := smin(x, true)
		if !slices.Equal(out, outD) || !slices.Equal(grad, gradD) {
			t.Errorf("q=%g: online and dense soft-mins differ", q)
		}
		for i := 0; i < n; i++ {
			var z []float64
			for j := 0; j < m; j++ {
				s := 0.0
				for k := 0; k < d; k++ {
					s += (x[i*d+k] - y[j*d+k]) * (x[i*d+k] - y[j*d+k])
				}
				z = append(z, h[j]-math.Pow(s, q/2)/q/eps)
			}
			mx := slices.Max(z)
			sum := 0.0
			for _, v := range z {
				sum += math.Exp(v - mx)
			}
			if want := -eps * (mx + math.Log(sum)); math.Abs(out[i]-want) > 1e-14*math.Max(1, math.Abs(want)) {
				t.Errorf("q=%g row %d: soft-min %.17g, want %.17g", q, i, out[i], want)
			}
			for k := 0; k < d; k++ {
				const dx = 1e-6
				xp, xm := slices.Clone(x), slices.Clone(x)
				xp[i*d+k] += dx
				xm[i*d+k] -= dx
				op, _ := smin(xp, false)
				om, _ := smin(xm, false)
				// d out_i/dx_i = Σ_j P_ij ∇₁C_ij: the Pair's grad.
				if fd := (op[i] - om[i]) / (2 * dx); math.Abs(fd-grad[i*d+k]) > 1e-7 {
					t.Errorf("q=%g: d out[%d]/d x[%d][%d] = %.10g by finite differences, grad %.10g", q, i, i, k, fd, grad[i*d+k])
				}
			}
		}
	}
	if _, err := core.PowerPair(core.Cloud[float64]{}, core.Cloud[float64]{}, .5, core.Resources{}, false); err == nil {
		t.Error("q = 0.5: no error")
	}
}
