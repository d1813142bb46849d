package geomloss

import "github.com/libgeomloss/libgeomloss/core"

// The OT solver (GeomLoss 0.3.1's geomloss.ot), re-exported from core.
type (
	OTParams                = core.OTParams
	OTCost                  = core.OTCost
	OTResult[T core.Float]  = core.OTResult[T]
	Plan[T core.Float]      = core.Plan[T]
	OTProblem[T core.Float] = core.OTProblem[T]
)

// Ground costs of the OT solver: |x−y|² (the default, no ½), |x−y|, and
// SamplesLoss's p = 2 cost |x−y|²/2.
const (
	SqEuclidean     = core.OTSqEuclidean
	Euclidean       = core.OTEuclidean
	HalfSqEuclidean = core.OTHalfSqEuclidean
)

// SolveSample solves the entropic OT problem between the points x (N×D,
// row-major) with weights a and y (M×D) with weights b (nil: uniform), as
// geomloss.ot.solve_sample: ε = par.Reg (or from par.Blur), cost par.Cost.
// The result's Plan is a lazy operator (πV, πᵀU, barycentric maps);
// close the result when done.
func SolveSample[T core.Float](x, y []T, d int, a, b []T, par OTParams, opts ...Options) (*OTResult[T], error) {
	if d <= 0 {
		return nil, &Error{Code: core.ErrInvalidArgument, Msg: "d: the dimension must be positive"}
	}
	if len(x)%d != 0 || len(y)%d != 0 {
		return nil, &Error{Code: core.ErrShape, Msg: "x, y: lengths must be multiples of d"}
	}
	return solveOT(OTProblem[T]{N: len(x) / d, M: len(y) / d, D: d, X: x, Y: y, A: a, B: b}, par, opts)
}

// Solve solves the entropic OT problem for an explicit n×m cost matrix c
// (row-major) and weights a, b (nil: uniform), as geomloss.ot.solve.
func Solve[T core.Float](c []T, n, m int, a, b []T, par OTParams, opts ...Options) (*OTResult[T], error) {
	if c == nil {
		return nil, &Error{Code: core.ErrInvalidArgument, Msg: "c: the cost matrix is missing"}
	}
	return solveOT(OTProblem[T]{N: n, M: m, C: c, A: a, B: b}, par, opts)
}

func solveOT[T core.Float](pr OTProblem[T], par OTParams, opts []Options) (*OTResult[T], error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	return core.SolveOT(core.Config[T]{Device: o.Device, Threads: o.Threads}, par, pr)
}
