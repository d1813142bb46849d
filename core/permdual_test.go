package core

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPermPairFused: the multiscale fine level's input-order Pairs pass the
// fused updates through to their sorted Pairs: SoftMinBoth and SoftMinSelf
// on a permPair equal SoftMin on it and on its transpose (the two-pass
// results), row for row in the input order.
func TestPermPairFused(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	n, m, d := 37, 53, 3
	x, y := make([]float64, n*d), make([]float64, m*d)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	for i := range y {
		y[i] = r.NormFloat64()
	}
	px, py := r.Perm(n), r.Perm(m)
	sorted := func(pts []float64, perm []int) Cloud[float64] {
		s := make([]float64, len(pts))
		for k, i := range perm {
			copy(s[k*d:(k+1)*d], pts[i*d:(i+1)*d])
		}
		return Cloud[float64]{Pts: s, N: len(perm), D: d}
	}
	xs, ys := sorted(x, px), sorted(y, py)
	eng := Portable[float64](Resources{Threads: 1})
	mk := func(u, v Cloud[float64], pu, pv []int) *permPair[float64] {
		p, err := eng.Pair(u, v, CostHalfSquared)
		if err != nil {
			t.Fatal(err)
		}
		return newPermPair(p, pu, pv, d)
	}
	xy, yx, xx := mk(xs, ys, px, py), mk(ys, xs, py, px), mk(xs, xs, px, px)
	hx, hy := make([]float64, n), make([]float64, m)
	for i := range hx {
		hx[i] = -math.Log(float64(n)) + 0.3*r.Float64()
	}
	for j := range hy {
		hy[j] = -math.Log(float64(m)) + 0.3*r.Float64()
	}
	const eps = 0.7
	wantX, wantY, wantXX := make([]float64, n), make([]float64, m), make([]float64, n)
	if err := xy.SoftMin(eps, hy, wantX, nil); err != nil {
		t.Fatal(err)
	}
	if err := yx.SoftMin(eps, hx, wantY, nil); err != nil {
		t.Fatal(err)
	}
	if err := xx.SoftMin(eps, hx, wantXX, nil); err != nil {
		t.Fatal(err)
	}
	gotX, gotY, gotXX := make([]float64, n), make([]float64, m), make([]float64, n)
	okX, okY, err := xy.SoftMinBoth(eps, hx, hy, gotX, gotY)
	if err != nil || !okX || !okY {
		t.Fatalf("SoftMinBoth: ok %v %v, err %v: want both directions", okX, okY, err)
	}
	ok, err := xx.SoftMinSelf(eps, hx, gotXX)
	if err != nil || !ok {
		t.Fatalf("SoftMinSelf: ok %v, err %v", ok, err)
	}
	for _, c := range []struct {
		name      string
		got, want []float64
	}{{"outX", gotX, wantX}, {"outY", gotY, wantY}, {"self", gotXX, wantXX}} {
		for i := range c.want {
			if e := math.Abs(c.got[i] - c.want[i]); !(e <= 1e-12*(1+math.Abs(c.want[i]))) {
				t.Fatalf("%s[%d] = %.15g, two-pass %.15g", c.name, i, c.got[i], c.want[i])
			}
		}
	}
	// A sorted Pair without the capability: nothing done, the caller's fallback.
	bp := newPermPair[float64](plainPair{xy.p}, px, py, d)
	if okX, okY, err := bp.SoftMinBoth(eps, hx, hy, gotX, gotY); okX || okY || err != nil {
		t.Errorf("without DualPair: ok %v %v, err %v; want false, false, nil", okX, okY, err)
	}
}

// plainPair hides a Pair's optional capabilities.
type plainPair struct{ Pair[float64] }
