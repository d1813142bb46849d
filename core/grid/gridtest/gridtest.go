// Package gridtest is the conformance suite of grid.AxisEngine: one table of
// 1D passes (every axis of 1D, 2D and 3D arrays, p = 1 and 2, wide and
// narrow kernels, dense and truncated, log-density floors and −∞ lines) that
// every engine must pass, each checked against a float64 reference written
// from the definition (a direct max-shifted sum over every term), and for
// bit-for-bit equality across thread counts.
//
//	func TestGridConformance(t *testing.T) {
//		gridtest.Run[float32](t, myEngine32)
//		gridtest.Run[float64](t, myEngine64)
//	}
//
// Tolerance, per output u, with z the inputs rounded to T, m_u the largest
// term and u_T the rounding unit of T (2⁻²⁴ or 2⁻⁵³):
//
//	|out_u − ref_u| ≤ 64·u_T·(1 + |m_u| + max_v |z_v|) + δ
//
// where δ = N·e^(−Tau) is the truncation bound (0 when dense): a faithful
// engine's error is a few roundings of the terms it sums plus what the
// truncation rule drops; a lost or misplaced term exceeds it by orders of
// magnitude.
package gridtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/grid"
)

// Case is one pass of the table.
type Case struct {
	Name    string
	Shape   []int
	Axis    int
	P       int
	H, Eps  float64
	Delta   float64 // truncation tolerance (0: dense)
	Seed    uint64
	Input   string // "smooth", "floor" (zero pixels), "neginf" (a −∞ line), "spiky"
	Threads int
}

// Cases returns the table.
func Cases() []Case {
	var cs []Case
	shapes := [][]int{{1}, {2}, {7}, {64}, {300}, {5, 9}, {16, 16}, {33, 8}, {4, 6, 5}, {9, 8, 10}}
	seed := uint64(1)
	for _, sh := range shapes {
		for ax := range sh {
			for _, p := range []int{1, 2} {
				n := sh[ax]
				h := 1 / float64(n)
				for _, epsMul := range []float64{0.5, 1, 4, 1000} { // ε in units of a pixel's cost
					eps := epsMul * math.Pow(h, float64(p))
					for _, delta := range []float64{0, 1e-16, 1e-8} {
						for _, in := range []string{"smooth", "floor", "spiky", "neginf"} {
							if in == "neginf" && len(sh) == 1 {
								continue
							}
							seed++
							cs = append(cs, Case{
								Name:  fmt.Sprintf("%v/axis%d/p%d/eps%gpx/delta%g/%s", sh, ax, p, epsMul, delta, in),
								Shape: sh, Axis: ax, P: p, H: h, Eps: eps, Delta: delta, Seed: seed, Input: in,
								Threads: 1 + int(seed%3),
							})
						}
					}
				}
			}
		}
	}
	return cs
}

// Values builds the case's array: a log-density plus a potential over ε, as
// the solver's h = ℓ + g/ε.
func (c Case) Values() []float64 {
	r := rand.New(rand.NewPCG(c.Seed, 7))
	size := 1
	for _, s := range c.Shape {
		size *= s
	}
	z := make([]float64, size)
	d := len(c.Shape)
	idx := make([]int, d)
	shift := r.Float64() * 0.3
	for i := range z {
		// A Gaussian blob (log-density) and a linear potential that moves
		// the row maxima away from the diagonal.
		q, lin := 0.0, 0.0
		for k, u := range idx {
			x := (float64(u) + .5) / float64(c.Shape[k])
			q += (x - .4) * (x - .4)
			lin += shift * x
		}
		z[i] = -q/0.02 + 0.5*lin/math.Pow(c.H, float64(c.P))
		switch c.Input {
		case "floor":
			if r.Float64() < 0.3 {
				z[i] = -1e4
			}
		case "spiky":
			z[i] += 30 * (r.Float64() - .5)
		}
		for k := d - 1; k >= 0; k-- {
			if idx[k]++; idx[k] < c.Shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	if c.Input == "neginf" { // the first line along the axis
		stride := 1
		for _, s := range c.Shape[c.Axis+1:] {
			stride *= s
		}
		for v := 0; v < c.Shape[c.Axis]; v++ {
			z[v*stride] = math.Inf(-1)
		}
	}
	return z
}

// reference computes the pass from the definition in float64, dense.
func reference(k *grid.AxisKernel, shape []int, axis int, z []float64) (out, mx []float64) {
	n := shape[axis]
	stride, outer := 1, 1
	for _, s := range shape[axis+1:] {
		stride *= s
	}
	for _, s := range shape[:axis] {
		outer *= s
	}
	out, mx = make([]float64, len(z)), make([]float64, len(z))
	for o := 0; o < outer; o++ {
		for i := 0; i < stride; i++ {
			base := o*n*stride + i
			for u := 0; u < n; u++ {
				m := math.Inf(-1)
				for v := 0; v < n; v++ {
					m = max(m, z[base+v*stride]-k.Cost[abs(u-v)])
				}
				res := m
				if !math.IsInf(m, -1) {
					s := 0.0
					for v := 0; v < n; v++ {
						s += math.Exp(z[base+v*stride] - k.Cost[abs(u-v)] - m)
					}
					res = m + math.Log(s)
				}
				out[base+u*stride], mx[base+u*stride] = res, m
			}
		}
	}
	return out, mx
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Run checks eng on every case of the table.
func Run[T core.Float](t *testing.T, eng grid.AxisEngine[T]) {
	unit := math.Ldexp(1, -53)
	if unsafe.Sizeof(T(0)) == 4 {
		unit = math.Ldexp(1, -24)
	}
	worst := 0.0
	for _, c := range Cases() {
		zin := c.Values()
		in := make([]T, len(zin))
		z := make([]float64, len(zin))
		zmax := 0.0
		for i, v := range zin {
			in[i] = T(v)
			z[i] = float64(in[i])
			if !math.IsInf(z[i], 0) {
				zmax = max(zmax, math.Abs(z[i]))
			}
		}
		n := c.Shape[c.Axis]
		tau := grid.TauFor(n, c.Delta)
		k := grid.NewAxisKernel(c.P, n, c.H, c.Eps, tau)
		ref, mx := reference(k, c.Shape, c.Axis, z)
		out := make([]T, len(in))
		if err := eng.LSEAxis(k, c.Shape, c.Axis, in, out, c.Threads); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		drop := 0.0
		if c.Delta > 0 {
			drop = float64(n) * math.Exp(-tau)
		}
		for i := range out {
			got := float64(out[i])
			if math.IsInf(ref[i], -1) {
				if !math.IsInf(got, -1) {
					t.Fatalf("%s: out[%d] = %g, want −Inf", c.Name, i, got)
				}
				continue
			}
			tol := 64*unit*(1+math.Abs(mx[i])+zmax) + drop
			if e := math.Abs(got - ref[i]); !(e <= tol) {
				t.Fatalf("%s: out[%d] = %.17g, want %.17g (error %.3g > %.3g)", c.Name, i, got, ref[i], e, tol)
			} else if r := e / tol; r > worst {
				worst = r
			}
		}
		// Bit for bit whatever the thread count.
		again := make([]T, len(in))
		if err := eng.LSEAxis(k, c.Shape, c.Axis, in, again, 1+c.Threads%2*3); err != nil {
			t.Fatal(err)
		}
		for i := range out {
			if math.Float64bits(float64(out[i])) != math.Float64bits(float64(again[i])) {
				t.Fatalf("%s: out[%d] differs between thread counts (%g vs %g)", c.Name, i, float64(out[i]), float64(again[i]))
			}
		}
	}
	t.Logf("%d cases; worst error %.3g of its tolerance", len(Cases()), worst)
}
