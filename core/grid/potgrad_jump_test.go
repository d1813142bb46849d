package grid

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// densePool is the sum-pooling written on coordinates: the coarse pixel of
// multi-index c (sides ⌈n/2⌉) holds the sum of the fine pixels u with
// ⌊u/2⌋ = c.
func densePool(shape []int, w []float64) (cshape []int, out []float64) {
	cshape = make([]int, len(shape))
	size := 1
	for k, n := range shape {
		cshape[k] = (n + 1) / 2
		size *= cshape[k]
	}
	out = make([]float64, size)
	for i, x := range w {
		u := unravel(i, shape)
		c := 0
		for k := range u {
			c = c*cshape[k] + u[k]/2
		}
		out[c] += x
	}
	return cshape, out
}

// denseUp is the ×2 upsampling of §6.5 written as one dense interpolation:
// fine pixel u is Σ_c Π_k w(u_k, c_k)·v_c with the 1D weights
// w(u, c) = ¾·[c = ⌊u/2⌋] + ¼·[c = j(u)], j(u) the clamped neighbour
// (⌊u/2⌋ − 1 for even u, ⌊u/2⌋ + 1 for odd u).
func denseUp(cshape, shape []int, v []float64) []float64 {
	w := func(u, c, nc int) float64 {
		k := u / 2
		j := max(k-1, 0)
		if u%2 == 1 {
			j = min(k+1, nc-1)
		}
		s := 0.0
		if c == k {
			s += 0.75
		}
		if c == j {
			s += 0.25
		}
		return s
	}
	n := 1
	for _, s := range shape {
		n *= s
	}
	out := make([]float64, n)
	for i := range out {
		u := unravel(i, shape)
		for c, x := range v {
			cc := unravel(c, cshape)
			prod := 1.0
			for k := range u {
				prod *= w(u[k], cc[k], cshape[k])
			}
			out[i] += prod * x
		}
	}
	return out
}

// unravel returns the row-major multi-index of pixel i.
func unravel(i int, shape []int) []int {
	c := make([]int, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		c[k] = i % shape[k]
		i /= shape[k]
	}
	return c
}

// TestPotentialVJPJump checks the gradients of Σ cF·F + Σ cG·G w.r.t. a and
// b (cot_value = 0) when the schedule's last iteration is a pyramid jump:
// the defaults (blur = 1/N, scaling 0.5) on 1D, 2D and 3D power-of-two
// grids, p = 1 and 2, balanced and unbalanced, debiased and raw. The oracle
// holds the last iteration's input duals fixed (the convention of
// potgrad.go) and recomputes the potentials as
// denseUp(½(f + densePot(densePool(b), g))) (and the three others), which
// must reproduce the returned F, G (1e-9); its central finite differences
// (five points, step 10⁻³ of each fine pixel's density) must match the VJP to 1e-6
// relative to the largest entry. Also checked: the closed form of a uniform
// rescaling (b → s·b shifts every coarse soft-min by −λε ln s, the average
// by half that, and U keeps constants), ⟨b, ∇_b⟩ = −½λε(Σ cF − Σ cG)
// debiased, −½λε Σ cF raw (a likewise with cF, cG swapped), and linearity
// in the cotangents.
func TestPotentialVJPJump(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 17))
	for _, shape := range [][]int{{16}, {8, 8}, {4, 4, 4}} {
		for _, p := range []int{1, 2} {
			for _, debias := range []bool{true, false} {
				for _, reach := range []float64{0, 0.5} {
					name := func() string { return fmt.Sprintf("shape %v p=%d debias=%v reach=%g", shape, p, debias, reach) }
					a, b := blobs(51, 1, shape, false), blobs(52, 1, shape, false)
					n := len(a)
					par := DefaultParams()
					par.P, par.Debias, par.Reach = p, debias, reach
					cf, cg := make([]float64, n), make([]float64, n)
					for i := range cf {
						cf[i], cg[i] = r.NormFloat64(), r.NormFloat64()
					}
					pr := Problem[float64]{B: 1, Shape: shape, A: a, Bw: b}
					res, err := Evaluate(Config[float64]{}, par, pr, Request[float64]{GradA: true, GradB: true, Potentials: true, CotValue: []float64{0}, CotF: cf, CotG: cg})
					if err != nil {
						t.Fatal(name(), err)
					}
					if len(res.Jumps) == 0 || res.Jumps[len(res.Jumps)-1] != len(res.Eps)-1 {
						t.Fatalf("%s: the last iteration does not jump (jumps %v, %d iterations)", name(), res.Jumps, len(res.Eps))
					}
					st := res.steps[0]
					if st.up == nil {
						t.Fatalf("%s: the recorded step is not a jump", name())
					}
					var hc []float64
					for _, s := range shape {
						hc = append(hc, 2/float64(s)) // the coarse pixel width on [0, 1)
					}
					outs := func(a, b []float64) (F, G []float64) {
						cshape, pa := densePool(shape, a)
						_, pb := densePool(shape, b)
						// U(½(avg + λ smin(ℓw + dual/ε))): the last iteration averages
						// F (dual g) with f, G (dual f) with g.
						half := func(dual, avg, w []float64, sign float64, dst []float64) []float64 {
							s := densePot(cshape, hc, p, st.eps, st.lam, w, dual)
							for i := range s {
								s[i] = (s[i] + avg[i]) / 2
							}
							up := denseUp(cshape, shape, s)
							if dst == nil {
								return up
							}
							for i := range dst {
								dst[i] += sign * up[i]
							}
							return dst
						}
						F = half(st.g, st.f, pb, 1, nil)
						G = half(st.f, st.g, pa, 1, nil)
						if debias {
							half(st.faa, st.faa, pa, -1, F)
							half(st.gbb, st.gbb, pb, -1, G)
						}
						return
					}
					F0, G0 := outs(a, b)
					for i := range F0 {
						if math.Abs(F0[i]-res.F[i]) > 1e-9 || math.Abs(G0[i]-res.G[i]) > 1e-9 {
							t.Fatalf("%s: dense F, G [%d] = %g, %g, returned %g, %g", name(), i, F0[i], G0[i], res.F[i], res.G[i])
						}
					}
					S := func(a, b []float64) float64 {
						F, G := outs(a, b)
						s := 0.0
						for i := range F {
							s += cf[i]*F[i] + cg[i]*G[i]
						}
						return s
					}
					for side, grad := range [][]float64{res.GradA, res.GradB} {
						scale := 0.0
						for _, g := range grad {
							scale = max(scale, math.Abs(g))
						}
						for j := 0; j < n; j++ {
							// Five-point stencil, step relative to the pixel's
							// density (the narrow kernels make S nearly
							// logarithmic in the small corner densities).
							w := [][]float64{a, b}[side]
							d := 1e-3 * w[j]
							at := func(s float64) float64 {
								ap, bp := append([]float64(nil), a...), append([]float64(nil), b...)
								[][]float64{ap, bp}[side][j] += s * d
								return S(ap, bp)
							}
							fd := (8*(at(1)-at(-1)) - (at(2) - at(-2))) / (12 * d)
							if math.Abs(fd-grad[j]) > 1e-6*scale {
								t.Errorf("%s side %d pixel %d: VJP %.12g, finite difference %.12g", name(), side, j, grad[j], fd)
							}
						}
					}
					// ⟨w, ∇_w⟩ under a uniform rescaling.
					sf, sg := 0.0, 0.0
					for i := range cf {
						sf += cf[i]
						sg += cg[i]
					}
					wantA, wantB := -st.lam*st.eps/2*sg, -st.lam*st.eps/2*sf
					if debias {
						wantA, wantB = -st.lam*st.eps/2*(sg-sf), -st.lam*st.eps/2*(sf-sg)
					}
					for side, c := range []struct {
						w, g []float64
						want float64
					}{{a, res.GradA, wantA}, {b, res.GradB, wantB}} {
						dot := 0.0
						for i := range c.w {
							dot += c.w[i] * c.g[i]
						}
						if math.Abs(dot-c.want) > 1e-9*(1+math.Abs(c.want)) {
							t.Errorf("%s side %d: <w, grad> = %.12g, closed form %.12g", name(), side, dot, c.want)
						}
					}
					// Linearity: (2cF, −3cG) gives 2·VJP(cF, 0) − 3·VJP(0, cG).
					vjp := func(cf, cg []float64) []float64 {
						res, err := Evaluate(Config[float64]{}, par, pr, Request[float64]{GradB: true, CotValue: []float64{0}, CotF: cf, CotG: cg})
						if err != nil {
							t.Fatal(name(), err)
						}
						return res.GradB
					}
					scaled := func(c []float64, s float64) []float64 {
						out := make([]float64, len(c))
						for i := range c {
							out[i] = s * c[i]
						}
						return out
					}
					both, onlyF, onlyG := vjp(scaled(cf, 2), scaled(cg, -3)), vjp(cf, nil), vjp(nil, cg)
					for i := range both {
						want := 2*onlyF[i] - 3*onlyG[i]
						if math.Abs(both[i]-want) > 1e-12*(1+math.Abs(want)) {
							t.Fatalf("%s: grad_b[%d] with (2cF, -3cG) = %g, 2·VJP(cF) − 3·VJP(cG) = %g", name(), i, both[i], want)
						}
					}
				}
			}
		}
	}
}

// TestPotentialVJPJumpFloat32 checks that float32 gives the float64 VJP
// through a last jump (2D 16×16, the defaults) to 1e-4 relative to the
// largest entry.
func TestPotentialVJPJumpFloat32(t *testing.T) {
	shape := []int{16, 16}
	a, b := blobs(61, 1, shape, false), blobs(62, 1, shape, false)
	r := rand.New(rand.NewPCG(3, 9))
	cf, cg := make([]float64, len(a)), make([]float64, len(a))
	for i := range cf {
		cf[i], cg[i] = r.NormFloat64(), r.NormFloat64()
	}
	f32 := func(v []float64) []float32 {
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out
	}
	req64 := Request[float64]{GradA: true, GradB: true, CotValue: []float64{0}, CotF: cf, CotG: cg}
	r64, err := Evaluate(Config[float64]{}, DefaultParams(), Problem[float64]{B: 1, Shape: shape, A: a, Bw: b}, req64)
	if err != nil {
		t.Fatal(err)
	}
	req32 := Request[float32]{GradA: true, GradB: true, CotValue: []float32{0}, CotF: f32(cf), CotG: f32(cg)}
	r32, err := Evaluate(Config[float32]{}, DefaultParams(), Problem[float32]{B: 1, Shape: shape, A: f32(a), Bw: f32(b)}, req32)
	if err != nil {
		t.Fatal(err)
	}
	if r64.Jumps[len(r64.Jumps)-1] != len(r64.Eps)-1 {
		t.Fatalf("the last iteration does not jump: %v", r64.Jumps)
	}
	for side, g := range [][2]any{{r64.GradA, r32.GradA}, {r64.GradB, r32.GradB}} {
		g64, g32 := g[0].([]float64), g[1].([]float32)
		scale := 0.0
		for _, x := range g64 {
			scale = max(scale, math.Abs(x))
		}
		for i := range g64 {
			if math.Abs(float64(g32[i])-g64[i]) > 1e-4*scale {
				t.Fatalf("side %d pixel %d: float32 %g, float64 %g", side, i, g32[i], g64[i])
			}
		}
	}
}
