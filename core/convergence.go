package core

import "math"

// Convergence is the optional stopping rule of the Sinkhorn loop: after the
// ε-schedule, iterations continue at the final ε until the error (see
// refine) is below Tol or MaxIter more iterations have run. Tol = 0 keeps
// GeomLoss's fixed schedule.
type Convergence struct {
	Tol     float64
	MaxIter int // 0: DefaultMaxIter
}

func (c Convergence) maxIter() int {
	if c.MaxIter > 0 {
		return c.MaxIter
	}
	return DefaultMaxIter
}

// Stats reports how the loop ended: the iterations run (schedule included)
// and the error of the returned duals (NaN when no tolerance was asked).
type Stats struct {
	Iterations int
	Error      float64
}

// refine iterates at temperature e on scale sc until the error of the
// current duals d is below conv.Tol, or after conv.maxIter() iterations, and
// leaves in d the duals whose error it reports. The cross problem iterates
// by alternating (Sinkhorn's) updates, about four times faster than the
// averaged simultaneous ones near convergence (a contraction rate λ² instead
// of (1 + λ)/2):
//
//	f ← λ·smin(ℓb + g/ε),  then  g̃ = λ·smin(ℓa + f/ε),
//
// and the error of (f, g) comes for free from g̃:
//
//	balanced (λ = 1):  π1 = a exactly after the f-update, πᵀ1 = b·e^{(g − g̃)/ε},
//	                   so the error ‖π1 − a‖₁ + ‖πᵀ1 − b‖₁ is ‖b·(e^{(g − g̃)/ε} − 1)‖₁;
//	                   if it is below tol, (f, g) is returned, else g ← g̃;
//	unbalanced:        the dual change ‖f_new − f‖∞/ε + ‖g̃ − g‖∞/ε, then g ← g̃.
//
// Balanced duals are defined up to (f + c, g − c); the alternating updates
// move c, so the returned duals are centred, ⟨a, f⟩ = ⟨b, g⟩ (see center),
// which keeps OT(b, a) the exchange of OT(a, b).
//
// The self problems (debiasing, symmetric by nature) keep the averaged
// updates, with the error 2‖a·(e^{(faa − f̃aa)/ε} − 1)‖₁ (balanced); the
// error reported is the largest of the problems'. k0 numbers the
// iterations for progress.
func refine[T Float](sc *Scale[T], d *Duals[T], e, rho float64, need Needs, conv Convergence, progress func(k, total int) error, k0 int) (Stats, error) {
	maxIter := conv.maxIter()
	lam := damping(e, rho)
	balanced := math.IsInf(rho, 1)
	a, b := expOf(sc.LA), expOf(sc.LB)
	var w loopBuffers[T]
	w.size(sc)
	n, m := len(sc.LA), len(sc.LB)
	var fs, gs []T
	if need.Self {
		fs, gs = make([]T, n), make([]T, m)
	}
	for it := 1; ; it++ { // iteration k0+it
		if progress != nil {
			if err := progress(k0+it-1, k0+maxIter); err != nil {
				return Stats{}, err
			}
		}
		errMax := 0.0
		if need.Cross {
			if err := softMinInto(sc.XY, e, lam, sc.LB, d.G, w.hy, w.ft, nil); err != nil {
				return Stats{}, err
			}
			if !balanced {
				errMax = dualError(nil, d.F, w.ft, e, false)
			}
			copy(d.F, w.ft)
			if err := softMinInto(sc.YX, e, lam, sc.LA, d.F, w.hx, w.gt, nil); err != nil {
				return Stats{}, err
			}
			errMax += dualError(b, d.G, w.gt, e, balanced)
		}
		if need.Self {
			if err := w.updates(sc.XX, sc.YY, true, e, lam, sc.LA, d.FAA, sc.LB, d.GBB, fs, gs, nil, nil); err != nil {
				return Stats{}, err
			}
			errMax = math.Max(errMax, 2*dualError(a, d.FAA, fs, e, balanced))
			errMax = math.Max(errMax, 2*dualError(b, d.GBB, gs, e, balanced))
		}
		done := errMax < conv.Tol || it >= maxIter || math.IsNaN(errMax)
		if need.Cross && (!done || !balanced) {
			copy(d.G, w.gt)
		}
		if done {
			if need.Cross && balanced {
				center(a, d.F, b, d.G)
			}
			return Stats{Iterations: k0 + it, Error: errMax}, nil
		}
		if need.Self {
			average(d.FAA, fs)
			average(d.GBB, gs)
		}
	}
}

// dualError returns Σ_i |w_i e^{(f_i − f̃_i)/ε} − w_i| (balanced) or
// max_i |f̃_i − f_i|/ε.
func dualError[T Float](w []float64, f, ft []T, eps float64, balanced bool) float64 {
	s := 0.0
	for i := range f {
		dv := (float64(f[i]) - float64(ft[i])) / eps
		if balanced {
			s += math.Abs(w[i] * math.Expm1(dv))
		} else {
			s = math.Max(s, math.Abs(dv))
		}
	}
	return s
}

// expOf returns e^{l_i} (the weights behind log-weights; the floor −1e5 gives 0).
func expOf[T Float](l []T) []float64 {
	v := make([]float64, len(l))
	for i, x := range l {
		v[i] = math.Exp(float64(x))
	}
	return v
}

// center shifts f by −c and g by +c, c = (⟨a,f⟩ − ⟨b,g⟩)/(|a| + |b|), so
// that ⟨a, f⟩ = ⟨b, g⟩: the plan, and the value ⟨a,f⟩ + ⟨b,g⟩ when the
// masses are equal, are unchanged.
func center[T Float](a []float64, f []T, b []float64, g []T) {
	var af, bg, ma, mb float64
	for i := range f {
		af += a[i] * float64(f[i])
		ma += a[i]
	}
	for j := range g {
		bg += b[j] * float64(g[j])
		mb += b[j]
	}
	c := (af - bg) / (ma + mb)
	for i := range f {
		f[i] = T(float64(f[i]) - c)
	}
	for j := range g {
		g[j] = T(float64(g[j]) + c)
	}
}
