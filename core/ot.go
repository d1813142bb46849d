package core

import (
	"math"
	"runtime"
)

// OTCost names the ground cost of the OT solver (GeomLoss 0.3.1's
// geomloss.ot, which has no ½ in its squared cost).
type OTCost int

const (
	// OTSqEuclidean is C = |x − y|² (the default, "sqeuclidean").
	OTSqEuclidean OTCost = iota
	// OTEuclidean is C = |x − y|, clamped as p = 1 (sqrt(max(s, 1e-8))), "euclidean".
	OTEuclidean
	// OTHalfSqEuclidean is C = |x − y|²/2, SamplesLoss's p = 2 cost ("halfsqeuclidean").
	OTHalfSqEuclidean
)

var otCostNames = map[string]OTCost{
	"sqeuclidean": OTSqEuclidean, "euclidean": OTEuclidean, "halfsqeuclidean": OTHalfSqEuclidean,
	// GeomLoss's KeOps formulas of its built-in costs.
	"SqDist(X,Y)": OTSqEuclidean, "SqDist(X,Y) / IntCst(2)": OTHalfSqEuclidean, "Norm2(X-Y)": OTEuclidean,
}

// ParseOTCost maps a cost name to an OTCost.
func ParseOTCost(name string) (OTCost, error) {
	if c, ok := otCostNames[name]; ok {
		return c, nil
	}
	return 0, errorf(ErrInvalidOption, "cost: unknown cost %q (want sqeuclidean, euclidean or halfsqeuclidean)", name)
}

// pairCost returns the Pairs' cost and the factor s with C = s·(Pairs' cost),
// and the exponent q with C(diameter) = s·diameter^q/…, used for blur/reach.
func (c OTCost) pairCost() (cost Cost, scale float64, q float64) {
	switch c {
	case OTEuclidean:
		return CostEuclidean, 1, 1
	case OTHalfSqEuclidean:
		return CostHalfSquared, 1, 2
	}
	return CostHalfSquared, 2, 2
}

// OTParams are the OT solver's parameters (geomloss.ot.solve_sample's).
type OTParams struct {
	Cost OTCost
	// Reg is the entropic temperature ε, in units of the cost. 0 means from
	// Blur: ε = s·blur^q for the cost s·|x−y|^q (sqeuclidean: 2·blur², as
	// GeomLoss 0.3.1; euclidean: blur; halfsqeuclidean: blur²).
	Reg, Blur float64
	// Unbalanced is ρ, the KL marginal penalty; 0 (or +Inf) means balanced.
	// 0 with Reach > 0 means ρ = s·reach^q.
	Unbalanced, Reach float64
	// Debias subtracts the self terms (the Sinkhorn divergence); samples only.
	Debias bool
	// Scaling is the ratio of successive ε of the schedule, in (0, 1); 0: 0.5.
	// The schedule is max(C₀·scaling^k, ε), k = 0, 1, … down to ε, from
	// C₀ = the cost at the diameter (samples) or max C − min C (matrix).
	Scaling float64
	// Diameter bounds the clouds' extent (0: estimated, §2.1).
	Diameter float64
	// Tol and MaxIter: the stopping rule after the schedule (see Convergence).
	Tol     float64
	MaxIter int
	// Backend: auto (online), online or tensorized (samples only).
	Backend Backend
	// Progress, if non-nil, receives progress reports on the caller's
	// goroutine (see Evaluate); returning true cancels.
	Progress func(stage string, iter, total int) (stop bool)
}

// OTProblem is one pair of measures: points X (N×D) and Y (M×D), or an
// explicit N×M cost matrix C (row-major; X, Y nil); weights A (N) and B (M),
// nil meaning uniform 1/N, 1/M.
type OTProblem[T Float] struct {
	N, M, D int
	X, Y    []T
	C       []T
	A, B    []T
}

// OTResult is the solution of an entropic OT problem. Potentials, values
// and ε are in the units of the cost; the plan π_ij = a_i b_j
// e^{(f_i + g_j − C_ij)/ε} is the lazy operator Plan (close it, or the
// result, when done).
type OTResult[T Float] struct {
	// Value is the dual objective, GeomLoss's value: ⟨a,f⟩ + ⟨b,g⟩ balanced
	// (the entropic OT cost ⟨π,C⟩ + ε·KL(π|a⊗b) at convergence), with the
	// unbalanced and debiasing terms of §3.1 otherwise.
	Value float64
	// ValueLinear is ⟨π, C⟩.
	ValueLinear float64
	// PotentialA/B are f and g; PotentialAA/BB the self potentials (Debias).
	PotentialA, PotentialB, PotentialAA, PotentialBB []T
	// MarginalA = π1, MarginalB = πᵀ1.
	MarginalA, MarginalB []T
	// Iterations are the Sinkhorn iterations run. MarginalError is
	// ‖π1 − a‖₁ + ‖πᵀ1 − b‖₁ of the returned plan (balanced); unbalanced, the
	// last dual change in units of ε with Tol, NaN without.
	Iterations    int
	MarginalError float64
	// Eps and Rho are ε and ρ (+Inf balanced), in the units of the cost.
	Eps, Rho float64
	Plan     *Plan[T]
	Backend  Backend
	Engine   string
	Device   string
	Note     string
}

// Close releases the plan's reductions.
func (r *OTResult[T]) Close() error { return r.Plan.Close() }

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

func (p OTParams) validate(matrix bool) error {
	bad := func(format string, a ...any) error { return errorf(ErrInvalidOption, format, a...) }
	if _, _, q := p.Cost.pairCost(); q == 0 || p.Cost < OTSqEuclidean || p.Cost > OTHalfSqEuclidean {
		return bad("cost: unknown cost value %d", int(p.Cost))
	}
	pos := func(name string, v float64) error {
		if math.IsNaN(v) || v < 0 || math.IsInf(v, -1) {
			return bad("%s: must be positive, got %g", name, v)
		}
		return nil
	}
	for _, c := range []struct {
		name string
		v    float64
	}{{"reg", p.Reg}, {"blur", p.Blur}, {"unbalanced", p.Unbalanced}, {"reach", p.Reach}, {"diameter", p.Diameter}, {"tol", p.Tol}} {
		if err := pos(c.name, c.v); err != nil {
			return err
		}
	}
	if math.IsInf(p.Reg, 1) || math.IsInf(p.Blur, 1) || math.IsInf(p.Diameter, 1) || math.IsInf(p.Tol, 1) {
		return bad("reg, blur, diameter, tol: must be finite")
	}
	if p.Reg == 0 && p.Blur == 0 {
		return bad("reg: set reg (ε) or blur; ε must be positive")
	}
	if p.Scaling != 0 && !(p.Scaling > 0 && p.Scaling < 1) {
		return bad("scaling: must lie in (0, 1), got %g", p.Scaling)
	}
	if p.MaxIter < 0 {
		return bad("max_iter: must be positive (or 0 for the default), got %d", p.MaxIter)
	}
	if matrix && p.Reg == 0 {
		return bad("reg: a cost matrix needs reg (ε) itself; blur applies to point clouds")
	}
	if matrix && p.Reach > 0 && p.Unbalanced == 0 {
		return bad("reach: a cost matrix needs unbalanced (ρ) itself; reach applies to point clouds")
	}
	if matrix && p.Debias {
		return bad("debias: not available for a cost matrix (GeomLoss's solve has no debiasing)")
	}
	switch p.Backend {
	case Auto, Online, Tensorized:
	default:
		return bad("backend: the OT solver runs auto, online or tensorized, not %v", p.Backend)
	}
	return nil
}

// epsRho returns ε and ρ in the units of the cost.
func (p OTParams) epsRho() (eps, rho float64) {
	_, s, q := p.Cost.pairCost()
	eps, rho = p.Reg, p.Unbalanced
	if eps == 0 {
		eps = s * math.Pow(p.Blur, q)
	}
	if rho == 0 && p.Reach > 0 && !math.IsInf(p.Reach, 1) {
		rho = s * math.Pow(p.Reach, q)
	}
	if rho == 0 {
		rho = math.Inf(1)
	}
	return eps, rho
}

func (pr *OTProblem[T]) validate(par OTParams) error {
	if pr.N <= 0 || pr.M <= 0 {
		return errorf(ErrInvalidArgument, "sizes: N and M must be positive, got N=%d M=%d", pr.N, pr.M)
	}
	if pr.C != nil {
		if pr.X != nil || pr.Y != nil {
			return errorf(ErrInvalidArgument, "c: give either a cost matrix or points x, y, not both")
		}
		if int64(pr.N)*int64(pr.M) > DefaultTensorizedCap {
			return errorf(ErrMemory, "c: a %d×%d cost matrix is over the cap of %d entries", pr.N, pr.M, DefaultTensorizedCap)
		}
		if len(pr.C) != pr.N*pr.M {
			return errorf(ErrShape, "c has %d elements but N×M = %d×%d", len(pr.C), pr.N, pr.M)
		}
		if err := finite("c", pr.C); err != nil {
			return err
		}
		for i, c := range pr.C {
			if math.IsInf(float64(2*c), 0) {
				return errorf(ErrValue, "c: element %d (%g) is out of range", i, float64(c))
			}
		}
	} else {
		if pr.D <= 0 {
			return errorf(ErrInvalidArgument, "sizes: D must be positive, got %d", pr.D)
		}
		if len(pr.X) != pr.N*pr.D {
			return errorf(ErrShape, "x has %d elements but N×D = %d×%d", len(pr.X), pr.N, pr.D)
		}
		if len(pr.Y) != pr.M*pr.D {
			return errorf(ErrShape, "y has %d elements but M×D = %d×%d", len(pr.Y), pr.M, pr.D)
		}
		if err := finite("x", pr.X); err != nil {
			return err
		}
		if err := finite("y", pr.Y); err != nil {
			return err
		}
	}
	for _, v := range []struct {
		name string
		w    []T
		n    int
	}{{"a (weights of x)", pr.A, pr.N}, {"b (weights of y)", pr.B, pr.M}} {
		if v.w == nil {
			continue
		}
		if len(v.w) != v.n {
			return errorf(ErrShape, "%s has %d elements but needs %d", v.name, len(v.w), v.n)
		}
		if err := finite(v.name, v.w); err != nil {
			return err
		}
		zero := true
		for i, w := range v.w {
			if w < 0 {
				return errorf(ErrValue, "%s: weight %d is negative (%g)", v.name, i, float64(w))
			}
			zero = zero && w == 0
		}
		if zero {
			return errorf(ErrValue, "%s: all weights are zero", v.name)
		}
	}
	if _, rho := par.epsRho(); math.IsInf(rho, 1) {
		ma, mb := mass(pr.A, 0, pr.N), mass(pr.B, 0, pr.M)
		if math.Abs(ma-mb) > 1e-3*(ma+mb) {
			return errorf(ErrValue, "a, b: total masses differ (%g vs %g); balanced transport needs equal masses: set unbalanced (or reach)", ma, mb)
		}
	}
	return nil
}

// matrixPair returns a portable Pair over an explicit cost matrix c (n×m):
// the rows of a dense Pair storing 2c as "squared distances" with the cost
// s/2 (exact: doubling and halving are exact), over point-less clouds of
// dimension 1. It has no gradients or kernel sums.
func matrixPair[T Float](c []T, n, m int, res Resources) *rowPair[T] {
	s := make([]T, n*m)
	for i, v := range c {
		s[i] = 2 * v
	}
	x, y := Cloud[T]{Pts: make([]T, n), N: n, D: 1}, Cloud[T]{Pts: make([]T, m), N: m, D: 1}
	return &rowPair[T]{x: x, y: y, cost: CostHalfSquared, res: res, row: denseRows[T]{s: s, m: m}}
}

func transpose[T Float](c []T, n, m int) []T {
	t := make([]T, n*m)
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			t[j*n+i] = c[i*m+j]
		}
	}
	return t
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
	cost, scale, q := par.Cost.pairCost()
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
		ref      *rowPair[T]
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
		if par.Backend == Tensorized {
			if int64(n)*int64(m) > DefaultTensorizedCap || int64(n)*int64(n) > DefaultTensorizedCap && par.Debias {
				return nil, errorf(ErrMemory, "backend: tensorized needs %d×%d dense entries, over the cap of %d; use backend online", n, m, DefaultTensorizedCap)
			}
			backend = Tensorized
		}
		out.Backend = backend
		g0, gnote, err := buildGeometry(backend, eng, res, x, y, la, lb, need, cost)
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
		diam := par.Diameter
		if diam == 0 {
			diam = EstimateDiameter(pr.X, pr.Y, pr.D)
		}
		c0 = scale * math.Pow(diam, q)
		if cost == CostHalfSquared {
			c0 /= 2
		}
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
		it := &item[T]{}
		it.use(sc)
		lam := damping(pe, prho)
		F, G = make([]T, n), make([]T, m)
		hx, hy := make([]T, n), make([]T, m)
		softMinInto(it.xy, pe, lam, lb, d.G, hy, F, nil)
		softMinInto(it.yx, pe, lam, la, d.F, hx, G, nil)
		if par.Debias {
			Faa, Gbb = make([]T, n), make([]T, m)
			softMinInto(it.xx, pe, lam, la, d.FAA, hx, Faa, nil)
			softMinInto(it.yy, pe, lam, lb, d.GBB, hy, Gbb, nil)
		}
		if it.err != nil {
			closeAll()
			return nil, it.err
		}
	}
	ma, mb := mass(pr.A, 0, n), mass(pr.B, 0, m)
	val := DualSide(a, F, Faa, pe, prho, mb, nil, nil, nil) + DualSide(b, G, Gbb, pe, prho, ma, nil, nil, nil)
	out.Value = scale * val
	out.Iterations = stats.Iterations
	out.Plan = newPlan(xy, yx, ref, x, y, pe, scale, la, lb, F, G, closers)
	out.Plan.Note = planNote
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
	if out.MarginalA, out.MarginalB, out.ValueLinear, err = out.Plan.Marginals(); err != nil {
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

// otSchedule returns the temperatures of GeomLoss 0.3.1's ε-scaling with a
// ratio: max(c0·scaling^k, ε) for k < n, n = ⌊(ln ε − ln c0)/ln scaling⌋ + 2
// (c0 floored at ε; scaling 0 means 0.5), so the last one is ε.
func otSchedule(c0, eps, scaling float64) []float64 {
	if scaling == 0 {
		scaling = 0.5
	}
	c0 = math.Max(c0, eps)
	n := int(math.Floor((math.Log(eps)-math.Log(c0))/math.Log(scaling))) + 2
	s := make([]float64, n)
	for k := range s {
		s[k] = math.Max(c0*math.Pow(scaling, float64(k)), eps)
	}
	s[n-1] = eps
	return s
}

func joinNotes(notes []string) string {
	s := ""
	for _, n := range notes {
		if s != "" {
			s += "; "
		}
		s += n
	}
	return s
}
