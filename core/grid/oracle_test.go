package grid

import (
	"fmt"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// TestSingleScaleMatchesPointClouds is the oracle for what the reference
// cannot compute: with the pyramid off (every iteration at full resolution)
// a p = 2 grid problem is the point-cloud Sinkhorn on the pixel centres with
// the densities as weights, the same ε-list (Diameter set to the grid's) and
// the same final step, so value and weight gradients agree with
// core.Evaluate (tensorized) to 1e-6: non-power-of-two sides, rectangles,
// anisotropic spacing, 1D and 3D, large and small blurs, scaling < 0.5,
// balanced/unbalanced, debiased/raw, and truncated passes.
func TestSingleScaleMatchesPointClouds(t *testing.T) {
	type tc struct {
		shape   []int
		spacing []float64
		blur    float64
		reach   float64
		scaling float64
		debias  bool
		zeros   bool
	}
	cases := []tc{
		{shape: []int{12, 12}, debias: true},
		{shape: []int{7, 11}, debias: true, zeros: true},
		{shape: []int{9, 5}, spacing: []float64{0.1, 0.3}, debias: true},
		{shape: []int{10, 6}, spacing: []float64{0.05, 0.2}, blur: 0.4, scaling: 0.3, debias: true},
		{shape: []int{6, 5}, blur: 0.6, debias: false},
		{shape: []int{8, 7}, blur: 0.02, reach: 0.3, debias: true},
		{shape: []int{9, 8}, reach: 0.5, debias: false},
		{shape: []int{40}, debias: true, zeros: true},
		{shape: []int{5, 4, 6}, debias: true},
		{shape: []int{4, 5, 3}, spacing: []float64{0.2, 0.1, 0.3}, reach: 1, debias: true},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%v_%v_blur%g_reach%g", c.shape, c.spacing, c.blur, c.reach), func(t *testing.T) {
			a := blobs(uint64(100+i), 1, c.shape, c.zeros)
			b := blobs(uint64(200+i), 1, c.shape, false)
			if c.reach > 0 { // unequal masses
				for j := range b {
					b[j] *= 1.3
				}
			}
			par := DefaultParams()
			par.SingleScale, par.Blur, par.Reach, par.Debias, par.Spacing = true, c.blur, c.reach, c.debias, c.spacing
			if c.scaling != 0 {
				par.Scaling = c.scaling
			}
			res, err := Evaluate(Config[float64]{}, par, Problem[float64]{B: 1, Shape: c.shape, A: a, Bw: b}, Request[float64]{GradA: true, GradB: true})
			if err != nil {
				t.Fatal(err)
			}
			spacing := c.spacing
			if spacing == nil {
				for _, n := range c.shape {
					spacing = append(spacing, 1/float64(n))
				}
			}
			blur, diam := c.blur, 0.0
			if blur == 0 {
				blur = 1e9
				for k, n := range c.shape {
					blur = min(blur, spacing[k])
					diam = max(diam, float64(n)*spacing[k])
				}
			}
			for k, n := range c.shape {
				diam = max(diam, float64(n)*spacing[k])
			}
			cp := core.DefaultParams()
			cp.Blur, cp.Reach, cp.Debias, cp.Diameter, cp.Scaling, cp.Backend = blur, c.reach, c.debias, diam, par.Scaling, core.Tensorized
			x := pixelCentres(c.shape, spacing)
			n := len(a)
			ref, err := core.Evaluate(core.Config[float64]{}, cp, core.Problem[float64]{B: 1, N: n, M: n, D: len(c.shape), X: x, Y: x, A: a, Bw: b}, core.Request[float64]{GradA: true, GradB: true})
			if err != nil {
				t.Fatal(err)
			}
			ev, ea, eb := maxRel(res.Value, ref.Value, 1e-9), maxRel(res.GradA, ref.GradA, 1e-9), maxRel(res.GradB, ref.GradB, 1e-9)
			if ev > 1e-6 || ea > 1e-6 || eb > 1e-6 {
				t.Errorf("value %.15g vs point clouds %.15g: relative errors value %.3g, grad a %.3g, grad b %.3g", res.Value[0], ref.Value[0], ev, ea, eb)
			}
			t.Logf("value %.10g, %d iterations; relative errors %.2g %.2g %.2g", res.Value[0], len(res.Eps), ev, ea, eb)
		})
	}
}
