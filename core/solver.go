package core

import "math"

// solve runs the symmetric ε-scaling loop of §3 on geometry g and returns
// the duals before the final (extrapolation) step, with the scale they live
// on (the finest). On each iteration with temperature e and damping λ(e),
// every solved problem is updated simultaneously from the old duals,
//
//	f̃ = λ·smin_e(C^{xy}, ℓb + g/e),     g̃ = λ·smin_e(C^{yx}, ℓa + f/e),
//	f̃aa = λ·smin_e(C^{xx}, ℓa + faa/e), g̃bb = λ·smin_e(C^{yy}, ℓb + gbb/e),
//	then every dual ← (dual + its update)/2,
//
// after an initialisation with the log-weights alone (h = ℓ) at the first
// temperature. After the iterations listed in the schedule's Jumps, the
// duals are extrapolated to the next scale (Geometry.Jump). need says which
// problems are solved. progress, if non-nil, is called before the
// initialisation (k = −1) and before every iteration k; its error (e.g. a
// cancellation) stops the loop.
func solve[T Float](g Geometry[T], sched Schedule, rho float64, need Needs, progress func(k, total int) error) (Duals[T], *Scale[T], error) {
	d, sc, _, err := solveTol(g, sched, rho, need, Convergence{}, progress)
	return d, sc, err
}

// solveTol is solve followed, if conv.Tol > 0, by iterations at the final
// temperature until the stopping rule of conv holds (see refine); stats
// reports the iterations run and the final error (NaN without Tol).
func solveTol[T Float](g Geometry[T], sched Schedule, rho float64, need Needs, conv Convergence, progress func(k, total int) error) (Duals[T], *Scale[T], Stats, error) {
	stats := Stats{Iterations: len(sched.Eps), Error: math.NaN()}
	d, sc, err := schedule(g, sched, rho, need, conv, progress)
	if err != nil || conv.Tol <= 0 {
		return d, sc, stats, err
	}
	stats, err = refine(sc, &d, sched.Eps[len(sched.Eps)-1], rho, need, conv, progress, len(sched.Eps))
	return d, sc, stats, err
}

// schedule runs the loop of solve over sched (conv only sizes the progress
// total).
func schedule[T Float](g Geometry[T], sched Schedule, rho float64, need Needs, conv Convergence, progress func(k, total int) error) (Duals[T], *Scale[T], error) {
	if conv.Tol > 0 && progress != nil {
		total := len(sched.Eps) + conv.maxIter()
		inner := progress
		progress = func(k, _ int) error { return inner(k, total) }
	}
	if progress != nil {
		if err := progress(-1, len(sched.Eps)); err != nil {
			return Duals[T]{}, nil, err
		}
	}
	level := 0
	sc, err := g.Scale(level)
	if err != nil {
		return Duals[T]{}, nil, err
	}
	var d Duals[T]
	var w loopBuffers[T]
	w.size(sc)
	e0 := sched.Eps[0]
	lam := damping(e0, rho)
	n, m := len(sc.LA), len(sc.LB)
	if need.Cross {
		d.F, d.G = make([]T, n), make([]T, m)
		if err := w.init(sc.XY, sc.YX, false, e0, lam, sc.LB, sc.LA, d.F, d.G); err != nil {
			return d, nil, err
		}
	}
	if need.Self {
		d.FAA, d.GBB = make([]T, n), make([]T, m)
		if err := w.init(sc.XX, sc.YY, true, e0, lam, sc.LA, sc.LB, d.FAA, d.GBB); err != nil {
			return d, nil, err
		}
	}
	jumps := sched.Jumps
	for k, e := range sched.Eps {
		if progress != nil {
			if err := progress(k, len(sched.Eps)); err != nil {
				return d, nil, err
			}
		}
		lam := damping(e, rho)
		if need.Cross { // f̃ from the old g and g̃ from the old f
			if err := w.step(sc.XY, sc.YX, false, e, lam, sc.LB, d.G, sc.LA, d.F, d.F, d.G); err != nil {
				return d, nil, err
			}
		}
		if need.Self {
			if err := w.step(sc.XX, sc.YY, true, e, lam, sc.LA, d.FAA, sc.LB, d.GBB, d.FAA, d.GBB); err != nil {
				return d, nil, err
			}
		}
		if len(jumps) > 0 && jumps[0] == k {
			jumps = jumps[1:]
			if d, err = g.Jump(level, e, lam, d); err != nil {
				return d, nil, err
			}
			level++
			if sc, err = g.Scale(level); err != nil {
				return d, nil, err
			}
			w.size(sc)
		}
	}
	return d, sc, nil
}

// finalStep is GeomLoss's final extrapolation step from the loop's duals d
// on the finest scale sc, with the item's log-weights la, lb:
//
//	F = lam·smin(XY, lb + g/ε),  G = lam·smin(YX, la + f/ε),
//
// and likewise Faa, Gbb from the self duals when Faa is not nil; with the
// soft-max weighted cost gradients px, qy, ax, ry of those soft-mins where
// not nil. One pass per problem where no gradient is asked (see updates).
func finalStep[T Float](sc *Scale[T], d Duals[T], eps, lam float64, la, lb, F, G, Faa, Gbb, px, qy, ax, ry []T) error {
	var w loopBuffers[T]
	w.size(sc)
	if err := w.updates(sc.XY, sc.YX, false, eps, lam, lb, d.G, la, d.F, F, G, px, qy); err != nil {
		return err
	}
	if Faa == nil {
		return nil
	}
	return w.updates(sc.XX, sc.YY, true, eps, lam, la, d.FAA, lb, d.GBB, Faa, Gbb, ax, ry)
}

// loopBuffers are the loop's scratch vectors on the current scale (hx, ft:
// n entries for the points of x; hy, gt: m for y), reused across iterations.
type loopBuffers[T Float] struct {
	hx, hy, ft, gt []T
	// misses counts, per fused pass (cross, self on x, self on y), the
	// consecutive calls that delivered nothing; at fusedMisses the pass is
	// not tried again on this scale (a problem whose sums stay out of range
	// then costs its two SoftMins, not three passes, per iteration).
	misses [3]int
}

// fusedMisses is the number of consecutive fruitless fused passes after
// which the loop stops trying them on the current scale.
const fusedMisses = 3

func (w *loopBuffers[T]) size(sc *Scale[T]) {
	w.misses = [3]int{}
	n, m := len(sc.LA), len(sc.LB)
	w.hx, w.ft = make([]T, n), make([]T, n)
	w.hy, w.gt = make([]T, m), make([]T, m)
}

// scratch returns the log-dual buffer for columns of length n.
func (w *loopBuffers[T]) scratch(n int) []T {
	if n == len(w.hx) {
		return w.hx
	}
	return w.hy
}

// init writes the initialisation u = lam·smin(pu, lu), v = lam·smin(pv, lv)
// (pu has the rows of u, with column log-weights lu; self as in updates),
// fused where the Pairs allow it.
func (w *loopBuffers[T]) init(pu, pv Pair[T], self bool, e, lam float64, lu, lv, u, v []T) error {
	return w.updates(pu, pv, self, e, lam, lu, nil, lv, nil, u, v, nil, nil)
}

// step performs one averaged simultaneous update
//
//	u ← (u + lam·smin(pu, lu + potU/e))/2,   v ← (v + lam·smin(pv, lv + potV/e))/2,
//
// where potU, potV are the old duals on pu's and pv's columns (g and f for
// the cross problem, faa and gbb themselves for the self problems, self).
func (w *loopBuffers[T]) step(pu, pv Pair[T], self bool, e, lam float64, lu, potU, lv, potV, u, v []T) error {
	ut, vt := w.ft[:len(u)], w.gt[:len(v)] // u lives on x, v on y
	if err := w.updates(pu, pv, self, e, lam, lu, potU, lv, potV, ut, vt, nil, nil); err != nil {
		return err
	}
	average(u, ut)
	average(v, vt)
	return nil
}

// updates writes ut = lam·smin(pu, lu + potU/e) and vt = lam·smin(pv, lv + potV/e)
// (potU, potV nil: the log-weights alone), and into gu, gv (unless nil) the
// soft-max weighted cost gradients of those soft-mins, in one pass over the
// pairs where the Pairs offer it: the cross problem (pu = XY, pv = YX its
// transpose: potU = g on y, potV = f on x) through pu's DualPair when no
// gradient is asked, each self problem (pu = XX, pv = YY; potU, potV their
// own duals) through its SelfPair when its gradient is not asked. A
// direction the fused pass does not deliver (no capability, a gradient, or
// a sum out of its valid range: see DualPair) is computed by SoftMin, so the
// results never depend on whether the pass succeeded beyond the rounding of
// the soft-min.
func (w *loopBuffers[T]) updates(pu, pv Pair[T], self bool, e, lam float64, lu, potU, lv, potV, ut, vt, gu, gv []T) error {
	doneU, doneV, err := w.fused(pu, pv, self, e, lu, potU, lv, potV, ut, vt, gu == nil, gv == nil)
	if err != nil {
		return err
	}
	if doneU {
		scale(ut, lam)
	} else if err := softMinInto(pu, e, lam, lu, potU, w.scratch(len(lu)), ut, gu); err != nil {
		return err
	}
	if doneV {
		scale(vt, lam)
		return nil
	}
	return softMinInto(pv, e, lam, lv, potV, w.scratch(len(lv)), vt, gv)
}

// fused runs the one-pass updates of updates where pu and pv offer them and
// may (okU, okV: that side's gradient is not asked), reporting which of ut,
// vt it wrote (before the damping lam).
func (w *loopBuffers[T]) fused(pu, pv Pair[T], self bool, e float64, lu, potU, lv, potV, ut, vt []T, okU, okV bool) (doneU, doneV bool, err error) {
	if !self { // lu, potU on y (m entries); lv, potV on x (n)
		dp, ok := pu.(DualPair[T])
		if !ok || !okU || !okV || w.misses[0] >= fusedMisses {
			return false, false, nil
		}
		hy, hx := logDual(lu, potU, e, w.hy[:len(lu)]), logDual(lv, potV, e, w.hx[:len(lv)])
		doneU, doneV, err = dp.SoftMinBoth(T(e), hx, hy, ut, vt)
		w.miss(0, doneU || doneV)
		return doneU, doneV, err
	}
	if sp, ok := pu.(SelfPair[T]); ok && okU && w.misses[1] < fusedMisses { // lu, potU on x; lv, potV on y
		if doneU, err = sp.SoftMinSelf(T(e), logDual(lu, potU, e, w.hx[:len(lu)]), ut); err != nil {
			return false, false, err
		}
		w.miss(1, doneU)
	}
	if sp, ok := pv.(SelfPair[T]); ok && okV && w.misses[2] < fusedMisses {
		if doneV, err = sp.SoftMinSelf(T(e), logDual(lv, potV, e, w.hy[:len(lv)]), vt); err != nil {
			return false, false, err
		}
		w.miss(2, doneV)
	}
	return doneU, doneV, nil
}

// miss records whether fused pass k delivered something (see misses).
func (w *loopBuffers[T]) miss(k int, delivered bool) {
	if delivered {
		w.misses[k] = 0
	} else {
		w.misses[k]++
	}
}

// logDual writes h = l + pot/eps into h (h = l with pot nil) and returns it.
func logDual[T Float](l, pot []T, eps float64, h []T) []T {
	h = h[:len(l)]
	for j := range h {
		if pot == nil {
			h[j] = l[j]
		} else {
			h[j] = l[j] + T(float64(pot[j])/eps)
		}
	}
	return h
}

// softMinInto writes lam·smin_eps(pair, l + pot/eps) into out (and the
// soft-max weighted cost gradients into grad, if non-nil). With pot nil the
// log-dual is the log-weights alone (the loop's initialisation). scratch
// holds len(l) entries.
func softMinInto[T Float](pair Pair[T], eps, lam float64, l, pot, scratch, out, grad []T) error {
	if err := pair.SoftMin(T(eps), logDual(l, pot, eps, scratch), out, grad); err != nil {
		return err
	}
	scale(out, lam)
	if grad != nil {
		scale(grad, lam)
	}
	return nil
}

// scale multiplies v by lam (rounded in T; nothing when lam = 1).
func scale[T Float](v []T, lam float64) {
	if lam == 1 {
		return
	}
	for i := range v {
		v[i] = T(lam * float64(v[i]))
	}
}

// damping returns λ(ε) = 1/(1 + ε/ρ) (1 when balanced, §2.3).
func damping(eps, rho float64) float64 {
	if math.IsInf(rho, 1) {
		return 1
	}
	return 1 / (1 + eps/rho)
}

// average sets dst = (dst + src)/2.
func average[T Float](dst, src []T) {
	for i := range dst {
		dst[i] = (dst[i] + src[i]) / 2
	}
}
