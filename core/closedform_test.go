package core

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTranslation: for p=2, balanced, debiased Sinkhorn, translating a
// measure by t costs exactly |t|²/2, and the gradient w.r.t. y is then
// β_j·t (each point pulled back by t).
func TestTranslation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shift := []float64{0.3, -0.2, 0.15}
	want := 0.0
	for _, s := range shift {
		want += s * s / 2
	}
	for _, backend := range []Backend{Tensorized, Online} {
		pr := randProblem(rng, 1, 40, 40, 3, 0, false)
		for i := range pr.Y {
			pr.Y[i] = pr.X[i] + shift[i%3]
		}
		par := DefaultParams()
		par.Scaling, par.Backend = 0.9, backend
		res := mustEval(t, par, pr, Request[float64]{GradY: true})
		if got := res.Value[0]; math.Abs(got-want) > 1e-5*want {
			t.Errorf("%s: S(x, x+t) = %.10g, want |t|²/2 = %.10g", backend, got, want)
		}
		for j := 0; j < pr.M; j++ {
			for k, s := range shift {
				if g := res.GradY[j*3+k]; math.Abs(g-s/float64(pr.M)) > 1e-4/float64(pr.M) {
					t.Fatalf("%s: ∂S/∂y[%d,%d] = %g, want t/M = %g", backend, j, k, g, s/float64(pr.M))
				}
			}
		}
	}
	// float32 agrees with the closed form too.
	pr := randProblem(rng, 1, 40, 40, 3, 0, false)
	p32 := Problem[float32]{B: 1, N: 40, M: 40, D: 3, X: convert[float32](pr.X), Y: make([]float32, 120)}
	for i := range p32.Y {
		p32.Y[i] = p32.X[i] + float32(shift[i%3])
	}
	par := DefaultParams()
	par.Scaling = 0.9
	if got := float64(mustEval(t, par, p32, Request[float32]{}).Value[0]); math.Abs(got-want) > 1e-4*want {
		t.Errorf("float32: S(x, x+t) = %.7g, want %.7g", got, want)
	}
}

// TestPermutationAndIdentity: reordering the points of a measure changes
// nothing, so S(x, x[σ]) = 0 for debiased Sinkhorn, and every loss vanishes
// between identical measures (with zero gradients).
func TestPermutationAndIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	base := randProblem(rng, 2, 30, 30, 2, 0, true)
	perm := rng.Perm(30)
	permuted := base
	permuted.Y, permuted.Bw = make([]float64, len(base.X)), make([]float64, len(base.A))
	for b := 0; b < 2; b++ {
		for j, i := range perm {
			permuted.Bw[b*30+j] = base.A[b*30+i]
			copy(permuted.Y[(b*30+j)*2:(b*30+j+1)*2], base.X[(b*30+i)*2:(b*30+i+1)*2])
		}
	}
	identical := base
	identical.Y, identical.Bw = slices.Clone(base.X), slices.Clone(base.A)
	type variant struct {
		loss  Loss
		p     int
		reach float64
	}
	for _, v := range []variant{{Sinkhorn, 2, 0}, {Sinkhorn, 1, 0}, {Sinkhorn, 2, 0.5}, {Sinkhorn, 1, 0.5}, {Hausdorff, 2, 0}, {Hausdorff, 1, 0}, {Energy, 2, 0}, {Gaussian, 2, 0}, {Laplacian, 2, 0}} {
		for name, pr := range map[string]Problem[float64]{"permuted": permuted, "identical": identical} {
			par := DefaultParams()
			par.Loss, par.P, par.Reach = v.loss, v.p, v.reach
			res := mustEval(t, par, pr, Request[float64]{GradX: true, GradA: true})
			for b, val := range res.Value {
				if math.Abs(val) > 1e-10 {
					t.Errorf("%s p=%d reach=%g %s: value[%d] = %g, want 0", v.loss, v.p, v.reach, name, b, val)
				}
			}
			if name == "identical" {
				// The gradient w.r.t. x vanishes (the y side pulls as hard
				// as the x side); the weight gradient is a constant shift.
				if n := maxAbs(res.GradX); n > 1e-8 {
					t.Errorf("%s p=%d reach=%g: |∂x| = %g between identical measures, want 0", v.loss, v.p, v.reach, n)
				}
			}
		}
	}
}

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

// TestScheduleExamples checks the ε-schedule against the examples of §2.2.
func TestScheduleExamples(t *testing.T) {
	cases := []struct {
		p                   int
		diam, blur, scaling float64
		want                []float64
	}{
		{2, 1, 0.05, 0.5, []float64{1, 1, .25, .0625, .015625, .00390625, .0025}},
		{2, 1, 0.25, 0.5, []float64{1, 1, .25, .0625}},
		{2, 0.1, 0.5, 0.5, []float64{0.01, 0.25}},
		{1, 1, 0.25, 0.5, []float64{1, 1, 0.5, 0.25}},
	}
	for _, c := range cases {
		got := EpsSchedule(c.p, c.diam, c.blur, c.scaling)
		if len(got) != len(c.want) {
			t.Fatalf("EpsSchedule(%d, %g, %g, %g) = %v, want %v", c.p, c.diam, c.blur, c.scaling, got, c.want)
		}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-15*c.want[i] {
				t.Errorf("EpsSchedule(%d, %g, %g, %g)[%d] = %.17g, want %.17g", c.p, c.diam, c.blur, c.scaling, i, got[i], c.want[i])
			}
		}
	}
}

// TestAllPointsIdentical: a zero diameter is clamped to blur instead of
// breaking the schedule; the value is then 0.
func TestAllPointsIdentical(t *testing.T) {
	pr := Problem[float64]{B: 1, N: 3, M: 2, D: 2, X: []float64{1, 1, 1, 1, 1, 1}, Y: []float64{1, 1, 1, 1}}
	res := mustEval(t, DefaultParams(), pr, Request[float64]{GradX: true})
	if math.Abs(res.Value[0]) > 1e-12 || maxAbs(res.GradX) > 1e-12 {
		t.Errorf("identical points: value %g, |∂x| %g; want 0, 0", res.Value[0], maxAbs(res.GradX))
	}
}
