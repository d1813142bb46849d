package core

import (
	"math"
	"runtime"
)

// SolveOT solves the entropic optimal transport problem pr (§10: GeomLoss
// 0.3.1's ot.solve_sample / ot.solve) with the symmetric ε-scaling loop of
// §3, and returns the potentials, values, marginals and the lazy plan.
// Without Tol the potentials are those of the loss after GeomLoss's final
// extrapolation step; with Tol they are the loop's duals at which the
// stopping rule held, so MarginalError is the error of the returned plan.
func SolveOT[T Float](cfg Config[T], par OTParams, pr OTProblem[T]) (*OTResult[T], error) {
	if err := par.validate(pr.C != nil); err != nil {
		return nil, err
	}
	if err := pr.validate(par); err != nil {
		return nil, err
	}
	stop := new(Stop)
	if par.Progress == nil {
		return solveOT(cfg, par, pr, stop, nil)
	}
	var res *OTResult[T]
	err := relay(par.Progress, stop, func(report func(string, int, int)) error {
		var err error
		res, err = solveOT(cfg, par, pr, stop, report)
		return err
	})
	return res, err
}

func solveOT[T Float](cfg Config[T], par OTParams, pr OTProblem[T], stop *Stop, report func(string, int, int)) (*OTResult[T], error) {
	threads := cfg.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	res := Resources{Threads: threads, Stop: stop}
	eng := cfg.Engine
	var notes []string
	if eng == nil {
		var note string
		var err error
		if eng, note, err = NewEngine[T](cfg.Device, res); err != nil {
			return nil, err
		}
		if note != "" {
			notes = append(notes, note)
		}
	}
	cost, scale, q := par.pairCost()
	if pr.C != nil {
		scale = 1 // a matrix Pair reduces the given cost itself
	}
	eps, rho := par.epsRho()
	pe, prho := eps/scale, rho/scale // in the Pairs' cost units
	n, m := pr.N, pr.M
	a, b := weightsOf(pr.A, 0, n), weightsOf(pr.B, 0, m)
	la, lb := logWeights(a), logWeights(b)
	need := Needs{Cross: true, Self: par.Debias}
	out := &OTResult[T]{Eps: eps, Rho: rho, Engine: eng.Name(), Device: eng.Device()}

	// The geometry, and the plan's reducers (xy, yx, and ref for Dense).
	var (
		g        Geometry[T]
		x, y     Cloud[T]
		xy, yx   PlanPair[T]
		ref      planRows[T]
		closers  []func() error
		c0       float64 // the schedule's first ε, in the cost's units
		planNote string
	)
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	if pr.C != nil {
		mxy, myx := matrixPair(pr.C, n, m, res), matrixPair(transpose(pr.C, n, m), m, n, res)
		x, y = mxy.x, mxy.y
		calls := 0 // newSingleScale builds XY, then YX
		g0, err := newSingleScale(x, y, la, lb, need, func(u, v Cloud[T]) (Pair[T], error) {
			if calls++; calls == 1 {
				return mxy, nil
			}
			return myx, nil
		})
		if err != nil {
			return nil, err
		}
		g, xy, yx, ref = g0, mxy, myx, mxy
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range pr.C {
			lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
		}
		c0 = hi - lo
		out.Backend = Tensorized
		x, y = Cloud[T]{}, Cloud[T]{}
	} else {
		x, y = Cloud[T]{Pts: pr.X, N: n, D: pr.D}, Cloud[T]{Pts: pr.Y, N: m, D: pr.D}
		backend := Online
		if par.Backend == Multiscale {
			backend = Multiscale
		}
		if par.Backend == Tensorized {
			if int64(n)*int64(m) > DefaultTensorizedCap || par.Debias && max(int64(n)*int64(n), int64(m)*int64(m)) > DefaultTensorizedCap {
				return nil, errorf(ErrMemory, "backend: tensorized needs %d×%d dense entries, over the cap of %d; use backend online", n, m, DefaultTensorizedCap)
			}
			backend = Tensorized
		}
		out.Backend = backend
		if cost == CostPower {
			// No engine reduces |x−y|^q/q: core's portable Pairs do it all.
			var err error
			if g, err = newSingleScale(x, y, la, lb, need, func(u, v Cloud[T]) (Pair[T], error) {
				return PowerPair(u, v, q, res, backend == Tensorized)
			}); err != nil {
				return nil, err
			}
			pxy, _ := PowerPair(x, y, q, res, false)
			pyx, _ := PowerPair(y, x, q, res, false)
			xy, yx, ref = pxy.(*rowPair[T]), pyx.(*rowPair[T]), pxy.(*rowPair[T])
			if eng.Name() != "portable" {
				planNote = powerNote(eng.Name(), q)
			}
			out.Engine = "portable"
		} else {
			var ms *msConfig
			if backend == Multiscale {
				ms = otMultiscaleConfig(par, pr, cost, pe, prho)
			}
			g0, gnote, err := buildGeometry(backend, eng, res, x, y, a, b, la, lb, need, cost, ms)
			if err != nil {
				return nil, err
			}
			g = g0
			if gnote != "" {
				notes = append(notes, gnote)
			}
			var c1, c2 func() error
			var n1 string
			if xy, c1, n1, err = PlanReducer(eng, res, x, y, cost); err == nil {
				closers = append(closers, c1)
				yx, c2, _, err = PlanReducer(eng, res, y, x, cost)
				closers = append(closers, c2)
			}
			if err != nil {
				g.Close()
				closeAll()
				return nil, err
			}
			planNote = n1
			ref = &rowPair[T]{x: x, y: y, cost: cost, res: res, row: onlineRow[T]{x: x, y: y, cost: cost}}
		}
		diam := par.Diameter
		if diam == 0 {
			diam = EstimateDiameter(pr.X, pr.Y, pr.D)
		}
		c0 = scale * math.Pow(diam, q) / q // the cost at the diameter
	}
	defer func() {
		if g != nil {
			g.Close()
		}
	}()

	progress := func(k, total int) error { return stop.Err() }
	if report != nil {
		progress = func(k, total int) error {
			report("ot", k+1, total)
			return stop.Err()
		}
	}
	sched := otSchedule(c0, eps, par.Scaling)
	for k := range sched {
		sched[k] /= scale
	}
	conv := Convergence{Tol: par.Tol, MaxIter: par.MaxIter}
	d, sc, stats, err := solveTol(g, g.Schedule(sched), prho, need, conv, progress)
	if err != nil {
		closeAll()
		return nil, err
	}
	F, G, Faa, Gbb := d.F, d.G, d.FAA, d.GBB
	if conv.Tol <= 0 { // GeomLoss's final extrapolation step, from the loop's duals
		F, G = make([]T, n), make([]T, m)
		Faa, Gbb = nil, nil
		if par.Debias {
			Faa, Gbb = make([]T, n), make([]T, m)
		}
		if err := finalStep(sc, d, pe, damping(pe, prho), la, lb, F, G, Faa, Gbb, nil, nil, nil, nil); err != nil {
			closeAll()
			return nil, err
		}
	}
	ma, mb := mass(pr.A, 0, n), mass(pr.B, 0, m)
	val := DualSide(a, F, Faa, pe, prho, mb, nil, nil, nil) + DualSide(b, G, Gbb, pe, prho, ma, nil, nil, nil)
	out.Value = scale * val
	out.Iterations = stats.Iterations
	// A multiscale plan reduces over the blocks its own potentials keep;
	// the streamed reducers above stay for the plans the test keeps dense.
	sparseCost := false
	if ms, ok := g.(*multiscale[T]); ok {
		sp, err := ms.planPairs(F, G, pe)
		if err != nil {
			closeAll()
			return nil, err
		}
		if sp != nil {
			closeAll()
			xy, yx, ref, closers = sp.xy, sp.yx, sp.ref, sp.closers
			planNote, sparseCost = sp.note(), true
		}
	}
	out.Plan = newPlan(xy, yx, ref, x, y, pe, scale, la, lb, F, G, closers, res.Threads)
	out.Plan.Note = planNote
	if n, ok := g.(interface{ Note() string }); ok && n.Note() != "" {
		notes = append(notes, n.Note())
	}
	if planNote != "" {
		notes = append(notes, planNote)
	}
	scaled := func(v []T) []T {
		if v == nil {
			return nil
		}
		w := make([]T, len(v))
		for i := range v {
			w[i] = T(scale * float64(v[i]))
		}
		return w
	}
	out.PotentialA, out.PotentialB = scaled(F), scaled(G)
	out.PotentialAA, out.PotentialBB = scaled(Faa), scaled(Gbb)
	if out.MarginalA, out.MarginalB, err = out.Plan.Marginals(); err == nil {
		out.ValueLinear = math.NaN()
		if _, native := xy.(*rowPair[T]); native || sparseCost || int64(n)*int64(m) <= LinearCostCap {
			out.ValueLinear, err = out.Plan.LinearCost()
		} else {
			notes = append(notes, "value_linear not computed (N·M over LinearCostCap): call Plan.LinearCost")
		}
	}
	if err != nil {
		out.Plan.Close()
		return nil, err
	}
	switch {
	case math.IsInf(rho, 1):
		out.MarginalError = marginalError(out.MarginalA, a, out.MarginalB, b)
	default:
		out.MarginalError = stats.Error
	}
	for _, v := range []struct {
		name string
		v    []T
	}{{"potential_a", out.PotentialA}, {"potential_b", out.PotentialB}, {"potential_aa", out.PotentialAA}, {"potential_bb", out.PotentialBB}} {
		if err := finite("the computed "+v.name, v.v); err != nil {
			out.Plan.Close()
			return nil, errorf(ErrValue, "%v: the problem is numerically out of range (try a larger reg, or float64)", err)
		}
	}
	if math.IsNaN(out.Value) || math.IsInf(out.Value, 0) {
		out.Plan.Close()
		return nil, errorf(ErrValue, "the computed value is not finite (%g): the problem is numerically out of range", out.Value)
	}
	out.Note = joinNotes(notes)
	return out, nil
}

func joinNotes(notes []string) string {
	s := ""
	for _, n := range notes {
		if n == "" {
			continue
		}
		if s != "" {
			s += "; "
		}
		s += n
	}
	return s
}

// otMultiscaleConfig returns the multiscale settings of an OT problem: those
// of SamplesLoss with blur = ε^{1/p} and reach = ρ^{1/p} in the Pairs' cost
// units (p = 2 for the squared costs, 1 for the euclidean one) and the
// default truncation.
func otMultiscaleConfig[T Float](par OTParams, pr OTProblem[T], cost Cost, pe, prho float64) *msConfig {
	sp := DefaultParams()
	sp.P = 1
	if cost == CostHalfSquared {
		sp.P = 2
	}
	sp.Blur = math.Pow(pe, 1/float64(sp.P))
	if !math.IsInf(prho, 1) {
		sp.Reach = math.Pow(prho, 1/float64(sp.P))
	}
	diam := par.Diameter
	if diam == 0 {
		diam = EstimateDiameter(pr.X, pr.Y, pr.D)
	}
	sp.Tol = par.Tol
	return multiscaleConfig(sp, pr.D, diam, nil, nil)
}
