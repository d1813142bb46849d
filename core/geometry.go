package core

// Duals are the dual vectors of the symmetric Sinkhorn loop on one scale:
// F on x and G on y (problem α↔β), FAA on x (α↔α) and GBB on y (β↔β). A
// problem that is not solved has nil vectors.
type Duals[T Float] struct{ F, G, FAA, GBB []T }

// Scale is one level of a geometry: the log-weights of the two measures
// there (§0: L(w) with the floor −1e5) and the reductions between them —
// XY (rows x, columns y), YX, and the self reductions XX, YY when the
// geometry was built with them (debiasing, Hausdorff, kernel norms).
type Scale[T Float] struct {
	LA, LB         []T
	XY, YX, XX, YY Pair[T]
}

// Schedule is the iteration plan of the ε-scaling loop on a geometry: the
// temperatures of its iterations, in order, and the iterations after whose
// averaging the loop moves to the next finer scale (ascending; one per
// scale change, so len(Jumps) = number of scales − 1).
type Schedule struct {
	Eps   []float64
	Jumps []int
}

// Geometry is what the Sinkhorn solver runs on: one or several scales
// (coarse to fine; the last one carries the input measures) with the
// reductions the solver needs on each. A backend builds it over an engine:
// one scale of online or dense Pairs, or clustered scales whose fine
// reductions are block-sparse (multiscale).
type Geometry[T Float] interface {
	// Schedule turns the ε-list of §2.2 into the iterations to run. A
	// one-scale geometry returns it unchanged with no jumps.
	Schedule(eps []float64) Schedule
	// Levels returns the number of scales; Levels()−1 is the finest, on the
	// input measures (kernel norms reduce there directly).
	Levels() int
	// Scale returns level k's measures and reductions (0 = coarsest).
	Scale(k int) (*Scale[T], error)
	// Jump extrapolates d, solved on level k at temperature eps (damping
	// lam), to level k+1, preparing that level's reductions (e.g. kernel
	// truncation from d) as needed. Only the problems solved (non-nil
	// vectors of d) are extrapolated.
	Jump(k int, eps, lam float64, d Duals[T]) (Duals[T], error)
	// Close releases every reduction the geometry built.
	Close() error
}

// Needs says which problems a loss solves, hence which reductions a
// geometry must provide: Cross (XY, YX) and Self (XX, YY).
type Needs struct{ Cross, Self bool }
