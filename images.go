package geomloss

import (
	"github.com/libgeomloss/libgeomloss/core"
	"github.com/libgeomloss/libgeomloss/core/grid"
	"github.com/libgeomloss/libgeomloss/simd"
)

// Images and volumes (GeomLoss's sinkhorn_divergence on grids and
// ImagesBarycenter), re-exported from core/grid.
type (
	ImageParams                = grid.Params
	ImageProblem[T core.Float] = grid.Problem[T]
	ImageRequest[T core.Float] = grid.Request[T]
	ImageResult[T core.Float]  = grid.Result[T]
	BarycenterParams           = grid.BarycenterParams
)

// DefaultImageParams returns sinkhorn_divergence's defaults (p = 2, blur =
// pixel, balanced, scaling 0.5, debiased).
func DefaultImageParams() ImageParams { return grid.DefaultParams() }

// DefaultBarycenterParams returns ImagesBarycenter's defaults.
func DefaultBarycenterParams() BarycenterParams { return grid.DefaultBarycenterParams() }

// gridConfig maps Options onto the grid solver: the grid passes run on the
// CPU, on the fastest grid engine this CPU supports (simd.GridFor: the AVX2
// vector passes, else the portable ones; Result.Engine names it);
// DeviceGPU, which requires a GPU, is refused.
func gridConfig[T core.Float](opts []Options) (grid.Config[T], error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Device == core.DeviceGPU {
		return grid.Config[T]{}, &core.Error{Code: core.ErrUnsupported, Msg: "device: grids (images, volumes) run on the CPU only; use device auto or cpu"}
	}
	return grid.Config[T]{Engine: simd.GridFor[T](), Threads: o.Threads}, nil
}

// ImagesEngine names the grid pass engine the image functions run on this
// machine ("avx2" or "portable", see gridConfig).
func ImagesEngine[T core.Float]() string { return simd.GridFor[T]().Name() }

// EvaluateImages computes sinkhorn_divergence between the B pairs of
// densities of pr on a 1D, 2D or 3D grid (GeomLoss's (B, K, …) inputs are
// B·K items; the reference sums the K channels' values), with the weight
// gradients and potentials req asks for. Errors are *Error values naming the
// bad argument.
func EvaluateImages[T core.Float](par ImageParams, pr ImageProblem[T], req ImageRequest[T], opts ...Options) (*ImageResult[T], error) {
	cfg, err := gridConfig[T](opts)
	if err != nil {
		return nil, err
	}
	return grid.Evaluate(cfg, par, pr, req)
}

// ImagesBarycenter computes B Wasserstein barycenters of K densities each
// (measures B×K×Π shape, weights B×K) and returns them, B×Π shape.
func ImagesBarycenter[T core.Float](par BarycenterParams, B, K int, shape []int, measures, weights []T, opts ...Options) ([]T, error) {
	cfg, err := gridConfig[T](opts)
	if err != nil {
		return nil, err
	}
	return grid.Barycenter(cfg, par, B, K, shape, measures, weights)
}

// ImagesBarycenterGrad returns the barycenters and the gradients of
// Σ cot·bar w.r.t. the measures and the weights, through the
// par.ExtraIterations (≥ 1) backward iterations (see grid.BarycenterGrad).
func ImagesBarycenterGrad[T core.Float](par BarycenterParams, B, K int, shape []int, measures, weights, cot []T, opts ...Options) (bar, gradMeasures, gradWeights []T, err error) {
	cfg, err := gridConfig[T](opts)
	if err != nil {
		return nil, nil, nil, err
	}
	return grid.BarycenterGrad(cfg, par, B, K, shape, measures, weights, cot)
}
