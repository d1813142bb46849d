package core

// msTaylorLevel marks the multiscale plan's Taylor level: the input points
// themselves, reduced by Taylor soft-mins (core/taylor.go) while ε is large
// against the clouds' extents.
var msTaylorLevel = [2]int{-3, -3}

// taylorRun returns how many leading iterations of the schedule eps run on
// the Taylor level: those at which every soft-min the loss needs is within
// the Taylor bound (ρ ≤ taylorMaxRho) and cheaper than the exact reduction,
// by the estimate (N_rows + N_cols)·C(K+D, D)·2·taylorCostRatio <
// N_rows·N_cols summed over the problems. Never the last ε (its step takes gradients), only for the
// cost |x − y|²/2, and not for the kernel losses.
func (g *multiscale[T]) taylorRun(eps []float64) int {
	if g.cost != CostHalfSquared || g.cfg.kernelRadius > 0 || !msTaylor || g.coarseStart(eps) {
		return 0
	}
	_, rx := cloudBall(g.x)
	_, ry := cloudBall(g.y)
	type prob struct{ r, nr, nc float64 }
	var ps []prob
	n, m := float64(g.x.N), float64(g.y.N)
	if g.need.Cross {
		ps = append(ps, prob{rx * ry, n, m}, prob{rx * ry, m, n})
	}
	if g.need.Self {
		ps = append(ps, prob{rx * rx, n, n}, prob{ry * ry, m, m})
	}
	tol := taylorTol[T]()
	t := 0
	for ; t < len(eps)-1; t++ {
		var ct, cd float64
		for _, p := range ps {
			k, ok := expPolyDegree(p.r/eps[t], tol, taylorMaxRho[T]())
			if !ok {
				return t
			}
			ct += (p.nr + p.nc) * taylorCount(g.x.D, k) * 2
			cd += p.nr * p.nc
		}
		if !(ct*taylorCostRatio < cd) {
			return t
		}
	}
	return t
}

// coarseStart reports whether the schedule eps would start on a coarse
// level (κ finite and either cloud clustered at eps[0]): the coarse levels
// then take the large-ε iterations, which are cheaper on centroids than by
// Taylor on the points (and a Taylor level, on the points, could not jump
// back to centroids).
func (g *multiscale[T]) coarseStart(eps []float64) bool {
	return len(eps) > 1 && (g.shiftFor(g.sizeX, g.cntX, g.x.N, eps[0]) >= 0 || g.shiftFor(g.sizeY, g.cntY, g.y.N, eps[0]) >= 0)
}

// buildTaylor builds the Taylor level: its pairs on the input points, valid
// down to the last ε of the Taylor run.
func (g *multiscale[T]) buildTaylor() (*msLevel[T], error) {
	epsMin := g.sched.Eps[g.taylorIters-1]
	lv := &msLevel[T]{taylor: true, x: &msSide[T]{shift: msTaylorLevel[0], pts: g.x}, y: &msSide[T]{shift: msTaylorLevel[1], pts: g.y}}
	mk := func(dst *Pair[T], u, v Cloud[T]) error {
		p, ok := newTaylorPair(u, v, epsMin, g.res)
		if !ok {
			return errorf(ErrInternal, "multiscale geometry: Taylor level out of range at ε = %g", epsMin)
		}
		lv.degree = max(lv.degree, p.mono.k)
		*dst = p
		lv.closer.add(p)
		return nil
	}
	var err error
	if g.need.Cross {
		if err = mk(&lv.sc.XY, g.x, g.y); err == nil {
			err = mk(&lv.sc.YX, g.y, g.x)
		}
	}
	if err == nil && g.need.Self {
		if err = mk(&lv.sc.XX, g.x, g.x); err == nil {
			err = mk(&lv.sc.YY, g.y, g.y)
		}
	}
	if err != nil {
		return nil, err
	}
	lv.sc.LA, lv.sc.LB = g.la, g.lb
	n, m := int64(g.x.N), int64(g.y.N)
	lv.allPairs = n*m*2 + n*n + m*m
	return lv, nil
}

// jumpFromTaylor leaves the Taylor level k: the points do not change, so the
// duals (input order) are kept, and level k+1 is built on the sorted fine
// points, truncated from them at eps.
func (g *multiscale[T]) jumpFromTaylor(k int, eps float64, d Duals[T]) (Duals[T], error) {
	cur := g.levels[k]
	if err := cur.closer.close(); err != nil {
		return d, err
	}
	nx := g.plan[k+1]
	xs := g.side(g.x, g.a, g.hx, g.btx, nx[0])
	ys := g.side(g.y, g.b, g.hy, g.bty, nx[1])
	lv, err := g.buildLevel(k+1, xs, ys, g.sorted(d), g.firstEps(k+1, eps))
	if err != nil {
		return d, err
	}
	g.levels = append(g.levels, lv)
	cp := func(v []T) []T {
		if v == nil {
			return nil
		}
		return append([]T(nil), v...)
	}
	return Duals[T]{F: cp(d.F), G: cp(d.G), FAA: cp(d.FAA), GBB: cp(d.GBB)}, nil
}

// taylorCostRatio is the measured cost of one monomial term (scalar
// float64) against one pair of a SIMD soft-min.
const taylorCostRatio = 3

// msTaylor enables the Taylor level (a variable so that tests can compare
// with and without it).
var msTaylor = true

// firstEps returns the temperature of the first iteration on level k (the
// one its truncation must be exact for: the kept pattern is tested at the ε
// the reductions will run at), or def if the schedule has none.
func (g *multiscale[T]) firstEps(k int, def float64) float64 {
	for i, l := range g.levelOf {
		if l == k {
			return g.sched.Eps[i]
		}
	}
	return def
}
