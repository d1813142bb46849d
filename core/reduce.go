package core

import (
	"math"
	"sync/atomic"
)

// Float is the set of element types the library computes in. float64 inputs
// are computed in float64 throughout; float32 inputs in float32.
type Float interface{ ~float32 | ~float64 }

// Cost is a ground cost C(x, y) between two points, with s = |x − y|².
//
//	CostHalfSquared (p = 2):  C = s/2,                  ∇₁C = x − y
//	CostEuclidean   (p = 1):  C = sqrt(max(s, 1e-8)),   ∇₁C = (x − y)/C if s ≥ 1e-8, else 0
//
// The clamp of the Euclidean cost is GeomLoss's tensorized convention; every
// backend and engine uses it (coincident points cost 1e-4 and pull with force 0).
type Cost int

const (
	CostEuclidean   Cost = 1
	CostHalfSquared Cost = 2
)

// Kernel is a radial kernel k(x, y) of the kernel norms, with s = |x − y|²
// and σ the kernel width (blur):
//
//	KernelGaussian:  k = exp(−s/(2σ²)),                       ∇₁k = −k (x − y)/σ²
//	KernelLaplacian: k = exp(−r), r = sqrt(max(s/σ², 1e-8)),   ∇₁k = −k (x − y)/(σ² r), 0 if s/σ² < 1e-8
//	KernelEnergy:    k = −sqrt(max(s, 1e-8)) (σ ignored),      ∇₁k = −(x − y)/sqrt(s), 0 if s < 1e-8
type Kernel int

const (
	KernelGaussian Kernel = iota + 1
	KernelLaplacian
	KernelEnergy
)

// DistClamp is the squared-distance floor of the Euclidean cost and of the
// laplacian and energy kernels (§0, §5.1).
const DistClamp = 1e-8

// Cloud is N points of dimension D stored row-major in Pts (len N·D).
type Cloud[T Float] struct {
	Pts  []T
	N, D int
}

// Point returns the i-th point of c (a sub-slice, not a copy).
func (c Cloud[T]) Point(i int) []T { return c.Pts[i*c.D : (i+1)*c.D] }

// Pair performs reductions over the points y_j of a second cloud Y for each
// point x_i of a first cloud X. It is the one interface through which every
// loss and backend computes; engines (portable, SIMD, GPU) implement it.
// Implementations must be safe for sequential reuse and may use several
// threads internally; a single Pair is never called concurrently.
//
// Reductions are fallible: an engine reports an exhausted resource
// (ErrMemory), a device failure (ErrDevice) or a cancellation (ErrCancelled,
// when its Resources' Stop is set) as an *Error; out and grad are then
// unspecified. Close releases everything the Pair allocated.
type Pair[T Float] interface {
	// SoftMin computes, for every i < N,
	//
	//	out_i = −ε · LSE_j( h_j − C(x_i, y_j)/ε )
	//
	// with a max-shifted log-sum-exp (h_j = −∞ entries contribute nothing; a
	// row whose terms are all −∞ gives +∞). If grad is non-nil (len N·D) it
	// also writes, in the same pass, the soft-max weighted cost gradient
	//
	//	grad_i = Σ_j P_ij ∇₁C(x_i, y_j),   P_ij = exp(h_j − C_ij/ε − LSE_j(...)).
	SoftMin(eps T, h, out, grad []T) error

	// KernelSum computes, for every i < N, out_i = Σ_j w_j k(x_i, y_j) and, if
	// grad is non-nil (len N·D), grad_i = Σ_j w_j ∇₁k(x_i, y_j), in one pass.
	// Weights may be negative (kernel norms accept signed measures).
	KernelSum(k Kernel, sigma T, w, out, grad []T) error

	// Close releases the Pair's resources (host or device memory). It is
	// idempotent; a closed Pair must not be used again.
	Close() error
}

// Engine builds Pairs on the hardware it was constructed for (see
// Resources); it decides how a block of rows is reduced, while a backend
// decides which blocks are reduced (dense, streamed, block-sparse).
type Engine[T Float] interface {
	// Name identifies the engine and its code path, e.g. "portable", "avx512", "cuda".
	Name() string
	// Device names the hardware: "cpu", or e.g. "cuda:0 NVIDIA H200".
	Device() string
	// Pair returns an online (streaming) Pair between x and y: memory O(N+M),
	// never an N×M allocation. x and y must have the same D.
	Pair(x, y Cloud[T], cost Cost) (Pair[T], error)
}

// DenseEngine is the optional capability of engines that accelerate the
// tensorized backend: a Pair that first stores the N×M matrix of squared
// distances, then reduces its rows. Without it the tensorized backend uses
// core's portable dense Pair and says so in Result.Note.
type DenseEngine[T Float] interface {
	DensePair(x, y Cloud[T], cost Cost) (Pair[T], error)
}

// BlockSparseEngine is the optional capability of engines that reduce over
// cluster-pair blocks only (the multiscale backend; KeOps' "ranges"): row i
// of the Pair, in row cluster k, reduces over the columns of the column
// clusters that r keeps for k, as if the excluded pairs had h_j = −∞ (soft-min)
// or w_j = 0 (kernel sums). Without it the multiscale backend uses core's
// portable block-sparse Pair and says so in Result.Note.
type BlockSparseEngine[T Float] interface {
	BlockSparsePair(x, y Cloud[T], cost Cost, r *Ranges) (Pair[T], error)
}

// Resources are what an engine is constructed with: the CPU threads it may
// use and the cancellation flag its reductions watch.
type Resources struct {
	// Threads bounds the goroutines a reduction uses; ≤ 0 means all cores.
	Threads int
	// Stop, if non-nil, cancels the reductions in progress once set: they
	// return Cancelled() within one block of rows.
	Stop *Stop
}

// Stop is a cancellation flag shared by an evaluation and its engines.
type Stop struct{ flag atomic.Bool }

// Set requests cancellation.
func (s *Stop) Set() { s.flag.Store(true) }

// Stopped reports whether cancellation was requested (false for a nil Stop).
func (s *Stop) Stopped() bool { return s != nil && s.flag.Load() }

// Err returns Cancelled() once the flag is set, else nil.
func (s *Stop) Err() error {
	if s.Stopped() {
		return Cancelled()
	}
	return nil
}

// PointCost returns C(x, y) for the squared distance s (see Cost).
func PointCost[T Float](c Cost, s T) T {
	if c == CostHalfSquared {
		return s / 2
	}
	return T(math.Sqrt(float64(max(s, T(DistClamp)))))
}

// KernelValue returns k(x, y) for the squared distance s and the factor g such
// that ∇₁k(x, y) = g·(x − y) (see Kernel).
func KernelValue[T Float](k Kernel, sigma T, s T) (val, g T) {
	switch k {
	case KernelGaussian:
		val = T(math.Exp(-float64(s) / (2 * float64(sigma) * float64(sigma))))
		return val, -val / (sigma * sigma)
	case KernelLaplacian:
		q := s / (sigma * sigma)
		r := T(math.Sqrt(float64(max(q, T(DistClamp)))))
		val = T(math.Exp(-float64(r)))
		if q < T(DistClamp) {
			return val, 0
		}
		return val, -val / (sigma * sigma * r)
	default: // KernelEnergy
		r := T(math.Sqrt(float64(max(s, T(DistClamp)))))
		if s < T(DistClamp) {
			return -r, 0
		}
		return -r, -1 / r
	}
}
