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

// refine iterates the averaged updates of solve at temperature e on scale sc
// until the error of the current duals d is below conv.Tol, or after
// conv.maxIter() updates, and leaves in d the duals whose error it reports.
// The error of duals (f, g) comes for free from the updates f̃, g̃ computed
// from them:
//
//	balanced (λ = 1):  the plan of (f, g) has marginals π1 = a·e^{(f − f̃)/ε},
//	                   πᵀ1 = b·e^{(g − g̃)/ε}, and the error is
//	                   ‖π1 − a‖₁ + ‖πᵀ1 − b‖₁;
//	unbalanced:        the dual change ‖f̃ − f‖∞/ε + ‖g̃ − g‖∞/ε.
//
// With the self problems (debiasing) the error is the largest of the
// problems' errors (a self problem's two marginals are equal). k0 numbers
// the iterations for progress.
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
	for it := 0; ; it++ {
		if progress != nil {
			if err := progress(k0+it, k0+maxIter); err != nil {
				return Stats{}, err
			}
		}
		errMax := 0.0
		if need.Cross {
			if err := w.updates(sc.XY, sc.YX, e, lam, sc.LB, d.G, sc.LA, d.F, w.ft, w.gt); err != nil {
				return Stats{}, err
			}
			errMax = dualError(a, d.F, w.ft, e, balanced) + dualError(b, d.G, w.gt, e, balanced)
		}
		if need.Self {
			if err := w.updates(sc.XX, sc.YY, e, lam, sc.LA, d.FAA, sc.LB, d.GBB, fs, gs); err != nil {
				return Stats{}, err
			}
			errMax = math.Max(errMax, 2*dualError(a, d.FAA, fs, e, balanced))
			errMax = math.Max(errMax, 2*dualError(b, d.GBB, gs, e, balanced))
		}
		if errMax < conv.Tol || it == maxIter || math.IsNaN(errMax) {
			return Stats{Iterations: k0 + it, Error: errMax}, nil
		}
		if need.Cross {
			average(d.F, w.ft)
			average(d.G, w.gt)
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
