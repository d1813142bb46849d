package grid

import (
	"math"

	"github.com/libgeomloss/libgeomloss/core"
)

// solver runs the symmetric multiscale Sinkhorn loop of one problem setup
// on pairs of densities.
type solver[T core.Float] struct {
	sm     softMinner[T]
	levels []level
	eps    []float64
	jumps  []int
	rho    float64
	debias bool
	// record: keep the last jump iteration's inputs and soft-min outputs
	// (lastStep) for the potentials' VJP; only asked with cotangents, as it
	// copies eight coarse maps.
	record bool
}

// solve returns the final potentials F, G (and Faa, Gbb when debiased, else
// nil; when balanced, debiased and the last iteration jumps, F − Faa and
// G − Gbb as F, G with Faa = Gbb = nil, which is all the value needs) on the
// finest grid for densities a, b (see Evaluate); progress (nil:
// none) is called before iteration t and may cancel.
func (s *solver[T]) solve(a, b []T, progress func(t int) error) (F, G, Faa, Gbb []T, err error) {
	F, G, Faa, Gbb, _, err = s.solveDuals(a, b, progress)
	return
}

// lastStep is the last step of a solve whose explicit dependence on the
// densities the potentials' VJP differentiates (potgrad.go): the duals f, g,
// faa, gbb it started from (held fixed: no gradient flows through them), its
// soft-min outputs F = λ smin_ε(ℓb + g/ε), G, Faa, Gbb on its level lv
// (Faa, Gbb nil when raw), ε and λ. Either the final full-resolution step
// (up nil: F, G, Faa, Gbb are the returned potentials), or, when the last
// iteration is a pyramid jump, that iteration on the coarser level lv, whose
// returned potentials are upsampled averages: F_fine = U((f + F)/2), with
// the densities sum-pooled from the finest grid *up.
type lastStep[T core.Float] struct {
	f, g, faa, gbb []T
	F, G, Faa, Gbb []T
	eps, lam       float64
	lv             level
	up             *level
}

// solveDuals is solve, also returning the last step (see lastStep; nil when
// the last iteration jumps and s.record is false).
func (s *solver[T]) solveDuals(a, b []T, progress func(t int) error) (F, G, Faa, Gbb []T, st *lastStep[T], err error) {
	L := len(s.levels)
	as, bs := make([][]T, L), make([][]T, L)
	as[L-1], bs[L-1] = a, b
	for l := L - 2; l >= 0; l-- {
		as[l] = sumPool(as[l+1], s.levels[l+1], s.levels[l])
		bs[l] = sumPool(bs[l+1], s.levels[l+1], s.levels[l])
	}
	// Log-densities, computed when a level is first reached (the finest one
	// is never needed when the last iteration jumps to it).
	la, lb := make([][]T, L), make([][]T, L)
	logs := func(l int) {
		if la[l] == nil {
			la[l], lb[l] = logDens(as[l]), logDens(bs[l])
		}
	}
	logs(0)
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
		th := s.sm.threads
		f, g = upsample(f, lv, fl, th), upsample(g, lv, fl, th)
		if s.debias {
			faa, gbb = upsample(faa, lv, fl, th), upsample(gbb, lv, fl, th)
		}
		k++
		lv = fl
		newLevel()
	}
	last := len(s.eps) - 1
	final := true
	ji := 0
	for t, e := range s.eps {
		if progress != nil && err == nil {
			err = progress(t)
		}
		if err != nil {
			return nil, nil, nil, nil, nil, err
		}
		lam = core.Damping(e, s.rho)
		logs(k)
		jump := ji < len(s.jumps) && s.jumps[ji] == t
		if jump && t == last && s.record {
			fl := s.levels[k+1]
			st = &lastStep[T]{f: clone(f), g: clone(g), faa: clone(faa), gbb: clone(gbb), eps: e, lam: lam, lv: lv, up: &fl}
		}
		sm(e, lam, lb[k], g, ft) // both from the old f, g, then averaged
		sm(e, lam, la[k], f, gt)
		if st != nil {
			st.F, st.G = clone(ft), clone(gt)
		}
		average(f, ft)
		average(g, gt)
		if s.debias {
			sm(e, lam, la[k], faa, ft)
			sm(e, lam, lb[k], gbb, gt)
			if st != nil {
				st.Faa, st.Gbb = clone(ft), clone(gt)
			}
			average(faa, ft)
			average(gbb, gt)
		}
		if jump {
			ji++
			if t == last && s.debias && math.IsInf(s.rho, 1) && err == nil {
				// The upsampled maps are final and, balanced and debiased,
				// only enter through F − Faa and G − Gbb: upsampling is
				// linear, so upsample the differences (half the work at full
				// resolution). DualSide then takes the raw branch on them.
				for i := range f {
					f[i] -= faa[i]
					g[i] -= gbb[i]
				}
				fl := s.levels[k+1]
				th := s.sm.threads
				return upsample(f, lv, fl, th), upsample(g, lv, fl, th), nil, nil, st, nil
			}
			up()
			if t == last {
				final = false
			}
		}
	}
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	if !final {
		return f, g, faa, gbb, st, nil
	}
	e := s.eps[last]
	lam = core.Damping(e, s.rho)
	logs(k)
	F, G = make([]T, lv.size), make([]T, lv.size)
	sm(e, lam, lb[k], g, F)
	sm(e, lam, la[k], f, G)
	if s.debias {
		Faa, Gbb = make([]T, lv.size), make([]T, lv.size)
		sm(e, lam, la[k], faa, Faa)
		sm(e, lam, lb[k], gbb, Gbb)
	}
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	return F, G, Faa, Gbb, &lastStep[T]{f: f, g: g, faa: faa, gbb: gbb, F: F, G: G, Faa: Faa, Gbb: Gbb, eps: e, lam: lam, lv: lv}, nil
}

// clone returns a copy of v (nil: nil).
func clone[T core.Float](v []T) []T {
	if v == nil {
		return nil
	}
	return append([]T(nil), v...)
}

// average sets dst = (dst + src)/2.
func average[T core.Float](dst, src []T) {
	for i := range dst {
		dst[i] = (dst[i] + src[i]) / 2
	}
}
