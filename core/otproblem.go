package core

import "math"

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
	// ValueLinear is ⟨π, C⟩ (Plan.LinearCost). On an engine without the
	// plan capability it is a portable reduction, so it is computed only up
	// to N·M ≤ LinearCostCap (NaN beyond, with a note).
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

// LinearCostCap bounds N·M for the eager ⟨π, C⟩ of SolveOT on engines
// without the plan capability (about a second of portable reduction).
const LinearCostCap = 1 << 26

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
