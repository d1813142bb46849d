package core

import "math"

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
	// OTPower is C = |x − y|^q/q for the exponent q = OTParams.Q ≥ 1
	// ("power"): SamplesLoss's cost family |x − y|^p/p for a real p. q = 1
	// and q = 2 run as euclidean and halfsqeuclidean; any other q runs on
	// core's portable Pairs (CostPower), with a note naming the engine.
	OTPower
)

var otCostNames = map[string]OTCost{
	"sqeuclidean": OTSqEuclidean, "euclidean": OTEuclidean, "halfsqeuclidean": OTHalfSqEuclidean, "power": OTPower,
	// GeomLoss's KeOps formulas of its built-in costs.
	"SqDist(X,Y)": OTSqEuclidean, "SqDist(X,Y) / IntCst(2)": OTHalfSqEuclidean, "Norm2(X-Y)": OTEuclidean,
}

// ParseOTCost maps a cost name to an OTCost.
func ParseOTCost(name string) (OTCost, error) {
	if c, ok := otCostNames[name]; ok {
		return c, nil
	}
	return 0, errorf(ErrInvalidOption, "cost: unknown cost %q (want sqeuclidean, euclidean, halfsqeuclidean or power)", name)
}

// pairCost returns the Pairs' cost and the factor s with C = s·(Pairs'
// cost), and the exponent q of the cost family s·|x − y|^q/q (q = 1:
// euclidean, 2: the squared costs) that sets ε = s·blur^q, ρ = s·reach^q
// and the schedule's start, the cost at the diameter s·diameter^q/q (as
// SamplesLoss's ε = blur^p for its cost |x − y|^p/p).
func (p OTParams) pairCost() (cost Cost, scale float64, q float64) {
	switch p.Cost {
	case OTEuclidean:
		return CostEuclidean, 1, 1
	case OTHalfSqEuclidean:
		return CostHalfSquared, 1, 2
	case OTPower:
		switch p.Q {
		case 1:
			return CostEuclidean, 1, 1
		case 2:
			return CostHalfSquared, 1, 2
		}
		return CostPower, 1, p.Q
	}
	return CostHalfSquared, 2, 2
}

// OTParams are the OT solver's parameters (geomloss.ot.solve_sample's).
type OTParams struct {
	Cost OTCost
	// Q is the exponent of the power cost |x − y|^q/q (Cost OTPower), ≥ 1;
	// it must be 0 (unset) for the other costs.
	Q float64
	// Reg is the entropic temperature ε, in units of the cost. 0 means from
	// Blur: ε = s·blur^q for the cost s·|x−y|^q/q (sqeuclidean: 2·blur², as
	// GeomLoss 0.3.1; euclidean: blur; halfsqeuclidean: blur²; power: blur^q).
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
	// Backend: auto (online), online, tensorized or multiscale (samples
	// only; multiscale: the solve on the multiscale geometry, plan products
	// streamed over every pair).
	Backend Backend
	// Progress, if non-nil, receives progress reports on the caller's
	// goroutine (see Evaluate); returning true cancels.
	Progress func(stage string, iter, total int) (stop bool)
}

func (p OTParams) validate(matrix bool) error {
	bad := func(format string, a ...any) error { return errorf(ErrInvalidOption, format, a...) }
	if p.Cost < OTSqEuclidean || p.Cost > OTPower {
		return bad("cost: unknown cost value %d", int(p.Cost))
	}
	if p.Cost == OTPower && (!(p.Q >= 1) || math.IsInf(p.Q, 1)) {
		return bad("q: the power cost |x−y|^q/q needs a finite exponent q ≥ 1, got %g", p.Q)
	}
	if p.Cost != OTPower && p.Q != 0 {
		return bad("q: applies to the power cost only (cost is %d); leave it unset (0)", int(p.Cost))
	}
	if p.Cost == OTPower && matrix {
		return bad("cost: the power cost applies to point clouds; a cost matrix is its own cost")
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
	case Multiscale:
		if matrix || p.Cost == OTPower {
			return bad("backend: multiscale needs points and the euclidean or squared cost, not a cost matrix or |x−y|^q/q")
		}
	default:
		return bad("backend: the OT solver runs auto, online, tensorized or multiscale, not %v", p.Backend)
	}
	return nil
}

// epsRho returns ε and ρ in the units of the cost.
func (p OTParams) epsRho() (eps, rho float64) {
	_, s, q := p.pairCost()
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
