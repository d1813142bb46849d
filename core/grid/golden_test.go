package grid

import (
	"math"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/goldentest"
)

// The public golden image cases (GeomLoss 0.2.6, float64; schema in
// ../shared/testdata/README.md), read by core/goldentest's loader.

type imageCase struct{ goldentest.ImageCase }

func loadImages(t testing.TB) []imageCase {
	var r []imageCase
	for _, c := range goldentest.Images(t) {
		r = append(r, imageCase{c})
	}
	return r
}

func (c *imageCase) params() Params {
	par := DefaultParams()
	par.P, par.Scaling, par.Debias = c.Params.P, c.Params.Scaling, c.Params.Debias
	if c.Params.Blur != nil {
		par.Blur = *c.Params.Blur
	}
	if c.Params.Reach != nil {
		par.Reach = *c.Params.Reach
	}
	return par
}

func (c *imageCase) problem64() Problem[float64] {
	shape := make([]int, c.Dim)
	for k := range shape {
		shape[k] = c.N
	}
	return Problem[float64]{B: c.B, Shape: shape, A: c.Inputs.A.Data, Bw: c.Inputs.B.Data}
}

func convert[T core.Float](v []float64) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// expected applies the project's deviations from the reference (the same as
// for point clouds, core/goldentest): unbalanced weight gradients use
// κ' = ρ + ε instead of κ = ρ + ε/2, and the raw unbalanced value (and its
// gradients) is the true entropic OT value (ALGORITHMS.md §7.2, §9 #2–3).
func (c *imageCase) expected() (value, ga, gb []float64) {
	r := c.Result
	clone := func(a *goldentest.Array) []float64 {
		if a == nil {
			return nil
		}
		return append([]float64(nil), a.Data...)
	}
	value = clone(r.Value)
	if r.Grad != nil {
		ga, gb = clone(r.Grad["a"]), clone(r.Grad["b"])
	}
	if c.Params.Reach == nil || c.Params.Potentials {
		return
	}
	p := float64(c.Params.P)
	blur := 1 / float64(c.N)
	if c.Params.Blur != nil {
		blur = *c.Params.Blur
	}
	eps, rho := math.Pow(blur, p), math.Pow(*c.Params.Reach, p)
	kappa, kappaG := rho+eps/2, rho+eps
	if c.Params.Debias {
		for _, g := range [][]float64{ga, gb} {
			for i := range g {
				g[i] *= kappaG / kappa
			}
		}
		return
	}
	size := len(ga) / c.B
	for b := 0; b < c.B; b++ {
		ma, mb := mass(c.Inputs.A.Data[b*size:(b+1)*size]), mass(c.Inputs.B.Data[b*size:(b+1)*size])
		value[b] += eps*ma*mb - eps/2*(ma+mb)
		for i := b * size; i < (b+1)*size; i++ {
			ga[i] = rho + eps*mb - kappaG*(1-ga[i]/kappa)
			gb[i] = rho + eps*ma - kappaG*(1-gb[i]/kappa)
		}
	}
	return
}

// relErr is ‖got − want‖₂ / max(‖want‖₂, floor).
func relErr[T core.Float](got []T, want []float64, floor float64) float64 {
	var num, den float64
	for i := range want {
		d := float64(got[i]) - want[i]
		num += d * d
		den += want[i] * want[i]
	}
	return math.Sqrt(num) / math.Max(math.Sqrt(den), floor)
}

// referenceFails lists the cases where GeomLoss raises but this package
// answers (checked by TestBeyondReferenceGolden).
func (c *imageCase) referenceFails() bool { return c.Result.Status == "error" }

func runGolden[T core.Float](t *testing.T, tol float64, cfg Config[T], par func(*Params)) {
	worst, where := 0.0, ""
	for _, c := range loadImages(t) {
		if c.referenceFails() {
			continue
		}
		t.Run(c.ID, func(t *testing.T) {
			pp := c.params()
			if par != nil {
				par(&pp)
			}
			pr := c.problem64()
			req := Request[T]{GradA: !c.Params.Potentials, GradB: !c.Params.Potentials, Potentials: c.Params.Potentials}
			if cv, ok := c.Cotangent["value"]; ok {
				req.CotValue = convert[T](cv.Data)
			}
			res, err := Evaluate(cfg, pp, Problem[T]{B: pr.B, Shape: pr.Shape, A: convert[T](pr.A), Bw: convert[T](pr.Bw)}, req)
			if err != nil {
				t.Fatal(err)
			}
			value, ga, gb := c.expected()
			check := func(name string, got []T, want []float64) {
				t.Helper()
				if got == nil || len(got) != len(want) {
					t.Fatalf("%s: got %d values, want %d", name, len(got), len(want))
				}
				e := relErr(got, want, 1e-6)
				if e > worst {
					worst, where = e, c.ID+" "+name
				}
				if !(e <= tol) {
					t.Errorf("%s: relative error %.3g > %.3g (got %v, want %v)", name, e, tol, got[:min(3, len(got))], want[:min(3, len(want))])
				}
			}
			if c.Params.Potentials {
				check("F", res.F, c.Result.F.Data)
				check("G", res.G, c.Result.G.Data)
				return
			}
			check("value", res.Value, value)
			check("grad a", res.GradA, ga)
			check("grad b", res.GradB, gb)
		})
	}
	t.Logf("worst relative error %.3g (%s); tolerance %.3g", worst, where, tol)
}

// TestGoldenImages64 checks every public image case the reference answers:
// value (or potentials) and both weight gradients within 1e-6 (norm-wise
// relative, floor 1e-6) in float64.
func TestGoldenImages64(t *testing.T) { runGolden[float64](t, 1e-6, Config[float64]{}, nil) }

// TestGoldenImages32 is the same in float32, within 1e-4.
func TestGoldenImages32(t *testing.T) { runGolden[float32](t, 1e-4, Config[float32]{}, nil) }

// TestGoldenImagesDense checks that the dense (untruncated) passes agree too.
func TestGoldenImagesDense(t *testing.T) {
	runGolden[float64](t, 1e-6, Config[float64]{}, func(p *Params) { p.Tolerance = -1 })
}
