package grid

import "github.com/libgeomloss/libgeomloss/core"

// solver runs the symmetric multiscale Sinkhorn loop of one problem setup
// on pairs of densities.
type solver[T core.Float] struct {
	sm     softMinner[T]
	levels []level
	eps    []float64
	jumps  []int
	rho    float64
	debias bool
}

// solve returns the final potentials F, G (and Faa, Gbb when debiased, else
// nil) on the finest grid for densities a, b (see Evaluate).
func (s *solver[T]) solve(a, b []T) (F, G, Faa, Gbb []T, err error) {
	L := len(s.levels)
	as, bs := make([][]T, L), make([][]T, L)
	as[L-1], bs[L-1] = a, b
	for l := L - 2; l >= 0; l-- {
		as[l] = sumPool(as[l+1], s.levels[l+1], s.levels[l])
		bs[l] = sumPool(bs[l+1], s.levels[l+1], s.levels[l])
	}
	la, lb := make([][]T, L), make([][]T, L)
	for l := range as {
		la[l], lb[l] = logDens(as[l]), logDens(bs[l])
	}
	k := 0
	lv := s.levels[0]
	var f, g, faa, gbb, ft, gt []T
	newLevel := func() {
		ft, gt = make([]T, lv.size), make([]T, lv.size)
	}
	newLevel()
	sm := func(eps, lam float64, ell, pot, out []T) {
		if err == nil {
			err = s.sm.softMin(lv, eps, lam, ell, pot, out)
		}
	}
	e0 := s.eps[0]
	lam := core.Damping(e0, s.rho)
	f, g = make([]T, lv.size), make([]T, lv.size)
	sm(e0, lam, la[0], nil, g)
	sm(e0, lam, lb[0], nil, f)
	if s.debias {
		faa, gbb = make([]T, lv.size), make([]T, lv.size)
		sm(e0, lam, la[0], nil, faa)
		sm(e0, lam, lb[0], nil, gbb)
	}
	up := func() {
		fl := s.levels[k+1]
		f, g = upsample(f, lv, fl), upsample(g, lv, fl)
		if s.debias {
			faa, gbb = upsample(faa, lv, fl), upsample(gbb, lv, fl)
		}
		k++
		lv = fl
		newLevel()
	}
	last := len(s.eps) - 1
	final := true
	ji := 0
	for t, e := range s.eps {
		lam = core.Damping(e, s.rho)
		sm(e, lam, lb[k], g, ft) // both from the old f, g, then averaged
		sm(e, lam, la[k], f, gt)
		average(f, ft)
		average(g, gt)
		if s.debias {
			sm(e, lam, la[k], faa, ft)
			sm(e, lam, lb[k], gbb, gt)
			average(faa, ft)
			average(gbb, gt)
		}
		if ji < len(s.jumps) && s.jumps[ji] == t {
			ji++
			up()
			if t == last {
				final = false
			}
		}
	}
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if !final {
		return f, g, faa, gbb, nil
	}
	e := s.eps[last]
	lam = core.Damping(e, s.rho)
	F, G = make([]T, lv.size), make([]T, lv.size)
	sm(e, lam, lb[k], g, F)
	sm(e, lam, la[k], f, G)
	if s.debias {
		Faa, Gbb = make([]T, lv.size), make([]T, lv.size)
		sm(e, lam, la[k], faa, Faa)
		sm(e, lam, lb[k], gbb, Gbb)
	}
	return F, G, Faa, Gbb, err
}

// average sets dst = (dst + src)/2.
func average[T core.Float](dst, src []T) {
	for i := range dst {
		dst[i] = (dst[i] + src[i]) / 2
	}
}
