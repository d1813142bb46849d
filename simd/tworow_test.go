package simd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// The two-row soft-min kernels (kernels.sm2) give each row exactly the
// one-row kernel's reference and sum, bit for bit: from the row's first
// tile (m = −MaxFloat) and from a later one, with log-weights that force
// many raises, with −∞ padding, and over tails of one vector group.
func TestTwoRowKernels(t *testing.T) {
	tested := 0
	for _, p := range registry {
		if !p.supported() {
			continue
		}
		tested += twoRowCase(t, p.name, p.k32) + twoRowCase(t, p.name, p.k64)
	}
	if tested == 0 && slices.Contains(Paths(), "avx2") {
		t.Fatal("no two-row kernel on the avx2 path")
	}
}

func twoRowCase[T core.Float](t *testing.T, name string, k *kernels[T]) (tested int) {
	w := k.width
	r := rand.New(rand.NewPCG(7, 8))
	for d := 1; d <= 3; d++ {
		for pi, cost := range []core.Cost{core.CostEuclidean, core.CostHalfSquared} {
			two := k.sm2[d][pi]
			if two == nil {
				continue
			}
			tested++
			one := k.sm[d][pi][0]
			for _, cols := range []int{w, 2 * w, 3 * w, 17 * w, 64 * w} {
				for _, hk := range []string{"flat", "rising", "padded"} {
					x, y, h := benchClouds[T](6, cols, d)
					pr := engine[T]{name: name, k: k}.newPair(x, y, cost)
					for j := range h {
						switch hk {
						case "flat":
							pr.buf[j] = h[j]
						case "rising": // a new maximum every few columns: raises
							pr.buf[j] = T(float64(j)*7 + r.Float64())
						case "padded":
							pr.buf[j] = h[j]
							if j >= cols-w/2 {
								pr.buf[j] = T(math.Inf(-1))
							}
						}
					}
					eps := 0.01
					nc := T(-math.Log2E / eps)
					if cost == core.CostHalfSquared {
						nc = T(-math.Log2E / (2 * eps))
					}
					mk := func() smArgs[T] {
						ws := newWorkspace[T](d, w)
						return smArgs[T]{y: pr.ys, yp: pr.yp, xb: ws.xb, h: pr.buf, nc: nc, g: ws.g, scr: ws.scr, acc: ws.acc, j1: cols}
					}
					for _, start := range []string{"first", "later"} {
						for i := 0; i+1 < x.N; i += 2 {
							a, b, ref := mk(), mk(), mk()
							a.x, b.x = x.Pts[i*d:(i+1)*d], x.Pts[(i+1)*d:(i+2)*d]
							a.m, b.m = negMax[T](), negMax[T]()
							if start == "later" {
								a.m, b.m = T(-50), T(30)
							}
							want := [2][2]T{}
							for q, row := range []*smArgs[T]{&a, &b} {
								ref.x, ref.m = row.x, row.m
								one(&ref)
								want[q] = [2]T{ref.m, ref.s}
							}
							two(&a, &b)
							got := [2][2]T{{a.m, a.s}, {b.m, b.s}}
							if got != want {
								t.Errorf("%s %T D=%d cost %d cols=%d h %s start %s rows %d,%d: two-row (m, s) = %v, one-row %v",
									name, a.m, d, cost, cols, hk, start, i, i+1, got, want)
							}
						}
					}
				}
			}
		}
	}
	return tested
}

// Through the engine: the rows that go by two (soft-min without gradient)
// give the values of the gradient run (one-row kernels) bit for bit, over
// one tile and several, for odd numbers of rows and several thread counts.
func TestTwoRowEngine(t *testing.T) {
	for _, name := range Paths() {
		if name == "portable" {
			continue
		}
		for _, n := range []int{1, 2, 33, 77} {
			t.Run(fmt.Sprintf("%s/n=%d", name, n), func(t *testing.T) {
				twoRowEngine(t, engineOf[float32](name), n)
				twoRowEngine(t, engineOf[float64](name), n)
			})
		}
	}
}

func twoRowEngine[T core.Float](t *testing.T, eng func(int) core.Engine[T], n int) {
	for _, dm := range [][2]int{{1, 501}, {2, 501}, {3, 501}, {3, 4100}} { // one tile, three tiles
		d := dm[0]
		x, y, h := benchClouds[T](n, dm[1], d)
		for _, cost := range []core.Cost{core.CostEuclidean, core.CostHalfSquared} {
			var base []T
			for _, th := range []int{1, 2, 3} {
				p := onlinePair(eng)(x, y, cost, th)
				v, vg, g := make([]T, n), make([]T, n), make([]T, n*d)
				if err := p.SoftMin(.003, h, v, nil); err != nil {
					t.Fatal(err)
				}
				if err := p.SoftMin(.003, h, vg, g); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(v, vg) {
					t.Errorf("%T D=%d cost %d threads=%d: values differ with and without gradient", v[0], d, cost, th)
				}
				if base == nil {
					base = v
				} else if !slices.Equal(v, base) {
					t.Errorf("%T D=%d cost %d threads=%d: values differ from threads=1", v[0], d, cost, th)
				}
			}
		}
	}
}
