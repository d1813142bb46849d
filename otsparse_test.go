package geomloss

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/simd"
)

// TestOTMultiscaleSparsePlan: a multiscale plan reduces over the block pairs
// its own potentials keep. On every path: the note says so and keeps a
// fraction of the pairs; the lazy products, marginals and ⟨π, C⟩ equal the
// same plan made dense (zeros outside the kept blocks) to rounding; the
// reported marginal error is the plan's; and the products agree with the
// online solve's (every pair) within the stated dropped mass; in float32,
// the products agree with float64's to float32 accuracy.
func TestOTMultiscaleSparsePlan(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	n, m, d, k := 1000, 1300, 2, 3
	x, y := randPts(r, n*d, 1), randPts(r, m*d, 1)
	v, u := randPts(r, m*k, 2), randPts(r, n*k, 2)
	for q := range v {
		v[q] -= 1
	}
	for _, unb := range []float64{0, 0.5} {
		par := core.OTParams{Cost: core.OTSqEuclidean, Reg: 0.003, Unbalanced: unb, Tol: 1e-8, MaxIter: 5000}
		par.Backend = core.Online
		on, err := core.SolveOT(core.Config[float64]{}, par, core.OTProblem[float64]{N: n, M: m, D: d, X: x, Y: y})
		if err != nil {
			t.Fatal(err)
		}
		defer on.Close()
		onv, _ := on.Plan.Times(v, k)
		for _, name := range simd.Paths() {
			if name == "portable" && unb != 0 {
				continue // the portable engine's block-sparse code is the same for both
			}
			var eng core.Engine[float64]
			if name == "portable" {
				eng = core.Portable[float64](core.Resources{})
			} else if eng, err = simd.ForPath[float64](name, core.Resources{}); err != nil {
				t.Fatal(err)
			}
			par.Backend = core.Multiscale
			ms, err := core.SolveOT(core.Config[float64]{Engine: eng}, par, core.OTProblem[float64]{N: n, M: m, D: d, X: x, Y: y})
			if err != nil {
				t.Fatal(err)
			}
			defer ms.Close()
			t.Logf("%s unbalanced=%g: %s", name, unb, ms.Note)
			if !strings.Contains(ms.Note, "kept block pairs") || !strings.Contains(ms.Plan.Note, "kept block pairs") {
				t.Fatalf("%s: note %q: want block-sparse plan products", name, ms.Note)
			}
			plan, err := ms.Plan.Dense(0)
			if err != nil {
				t.Fatal(err)
			}
			zeros := 0
			for _, e := range plan {
				if e == 0 {
					zeros++
				}
			}
			if zeros < n*m/2 {
				t.Errorf("%s: the dense plan has %d zeros of %d: the pattern should drop most pairs", name, zeros, n*m)
			}
			pv, _ := ms.Plan.Times(v, k)
			ptu, _ := ms.Plan.TransposeTimes(u, k)
			worst, drift, scale := 0.0, 0.0, 0.0
			var linear float64
			for i := 0; i < n; i++ {
				var ra float64
				for j := 0; j < m; j++ {
					ra += plan[i*m+j]
				}
				worst = math.Max(worst, math.Abs(ms.MarginalA[i]-ra))
				for q := 0; q < k; q++ {
					var s float64
					for j := 0; j < m; j++ {
						s += plan[i*m+j] * v[j*k+q]
					}
					worst, scale = math.Max(worst, math.Abs(pv[i*k+q]-s)), math.Max(scale, math.Abs(s))
					drift = math.Max(drift, math.Abs(pv[i*k+q]-onv[i*k+q]))
				}
				for j := 0; j < m; j++ {
					var c float64
					for l := 0; l < d; l++ {
						c += (x[i*d+l] - y[j*d+l]) * (x[i*d+l] - y[j*d+l])
					}
					linear += plan[i*m+j] * c
				}
			}
			for j := 0; j < m; j++ {
				for q := 0; q < k; q++ {
					var s float64
					for i := 0; i < n; i++ {
						s += plan[i*m+j] * u[i*k+q]
					}
					worst = math.Max(worst, math.Abs(ptu[j*k+q]-s))
				}
			}
			if !(worst <= 1e-12*scale) {
				t.Errorf("%s unbalanced=%g: lazy vs dense sparse plan differ by %.2e (scale %.2e)", name, unb, worst, scale)
			}
			if e := math.Abs(ms.ValueLinear-linear) / linear; !(e <= 1e-12) {
				t.Errorf("%s unbalanced=%g: value_linear %.15g vs the dense plan's %.15g", name, unb, ms.ValueLinear, linear)
			}
			if unb == 0 {
				var ea float64
				for i := 0; i < n; i++ {
					ea += math.Abs(ms.MarginalA[i] - 1.0/float64(n))
				}
				if ms.MarginalError < ea || !(ms.MarginalError <= 1e-6) {
					t.Errorf("%s: marginal error %.3e, the plan's row part alone is %.3e", name, ms.MarginalError, ea)
				}
			}
			// Against every pair: the mass dropped per row (≤ e^−5/100 of it,
			// the note's bound) and the two solves' tolerance.
			if rel := drift / scale; !(rel <= 2e-5) {
				t.Errorf("%s unbalanced=%g: sparse vs online products differ by %.2e relative", name, unb, rel)
			} else {
				t.Logf("%s unbalanced=%g: sparse vs online products: %.2e relative", name, unb, rel)
			}
			if unb == 0 && name != "portable" {
				sparsePlanFloat32(t, name, par, n, m, d, k, x, y, v, pv, scale)
			}
		}
	}
}

func sparsePlanFloat32(t *testing.T, name string, par core.OTParams, n, m, d, k int, x, y, v, pv64 []float64, scale float64) {
	eng, err := simd.ForPath[float32](name, core.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	f32 := func(a []float64) []float32 {
		b := make([]float32, len(a))
		for i := range a {
			b[i] = float32(a[i])
		}
		return b
	}
	par.Tol = 1e-5
	ms, err := core.SolveOT(core.Config[float32]{Engine: eng}, par, core.OTProblem[float32]{N: n, M: m, D: d, X: f32(x), Y: f32(y)})
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	if !strings.Contains(ms.Plan.Note, "kept block pairs") {
		t.Fatalf("%s float32: plan note %q: want block-sparse products", name, ms.Plan.Note)
	}
	pv, err := ms.Plan.Times(f32(v), k)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i := range pv {
		worst = math.Max(worst, math.Abs(float64(pv[i])-pv64[i]))
	}
	if !(worst <= 1e-3*scale) {
		t.Errorf("%s float32: sparse plan products differ from float64's by %.2e (scale %.2e)", name, worst, scale)
	}
}
