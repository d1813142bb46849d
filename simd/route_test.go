package simd

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

func highD[T core.Float](n, m, d int) (x, y core.Cloud[T], h []T) {
	rng := rand.New(rand.NewPCG(7, 8))
	px, py := make([]T, n*d), make([]T, m*d)
	for i := range px {
		px[i] = T(rng.Float64())
	}
	for i := range py {
		py[i] = T(rng.Float64())
	}
	h = make([]T, m)
	return core.Cloud[T]{Pts: px, N: n, D: d}, core.Cloud[T]{Pts: py, N: m, D: d}, h
}

// Issue 11, bug 10: a 1-point x with D = 10⁶ was ~100× slower on AVX2 than
// portable (every call allocated and filled D·width broadcast buffers for one
// useful lane). Such pairs are now the portable engine's, on every path, with
// its results bit for bit; ordinary shapes keep the vector kernels. (The
// speed itself: BenchmarkHighDimension.)
func TestHighDimensionRoutedToPortable(t *testing.T) {
	for _, name := range Paths() {
		if name == "portable" {
			continue
		}
		eng, err := ForPath[float32](name, core.Resources{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			n, m, d  int
			portable bool
		}{{1, 1, 1_000_000, true}, {3, 5, 64, true}, {100, 100, 65536, true}, {100, 100, 64, false}, {1, 1, 3, false}, {200, 7, 2, false}} {
			x, y, h := highD[float32](c.n, c.m, c.d)
			p, err := eng.Pair(x, y, core.CostHalfSquared)
			if err != nil {
				t.Fatal(err)
			}
			if _, vec := p.(*pair[float32]); vec == c.portable {
				t.Errorf("%s N=%d M=%d D=%d: vector pair %v, want portable %v", name, c.n, c.m, c.d, vec, c.portable)
			}
			if c.portable && c.d <= 65536 {
				ref, _ := core.Portable[float32](core.Resources{}).Pair(x, y, core.CostHalfSquared)
				got, want := make([]float32, c.n), make([]float32, c.n)
				gg, wg := make([]float32, c.n*c.d), make([]float32, c.n*c.d)
				if err := p.SoftMin(0.5, h, got, gg); err != nil {
					t.Fatal(err)
				}
				if err := ref.SoftMin(0.5, h, want, wg); err != nil {
					t.Fatal(err)
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%s N=%d M=%d D=%d: soft-min %v, portable %v", name, c.n, c.m, c.d, got[i], want[i])
					}
				}
			}
			p.Close()
		}
	}
}

// BenchmarkHighDimension: one soft-min with gradient of a 1-point x against
// 1 point in D = 10⁶ (issue 11's case), per path.
func BenchmarkHighDimension(b *testing.B) {
	x, y, h := highD[float32](1, 1, 1_000_000)
	for _, name := range Paths() {
		eng, _ := ForPath[float32](name, core.Resources{Threads: 1})
		b.Run(fmt.Sprintf("%s/N1/M1/D1e6", name), func(b *testing.B) {
			p, _ := eng.Pair(x, y, core.CostHalfSquared)
			out, g := make([]float32, 1), make([]float32, x.D)
			for b.Loop() {
				p.SoftMin(0.5, h, out, g)
			}
		})
	}
}
