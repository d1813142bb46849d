package simd

import (
	"math"

	"github.com/libgeomloss/libgeomloss/core"
)

// scaleOverflows reports whether the kernels' exponent scale c (see
// kernelScale) is not representable in T: −log₂e/(2σ²) for the gaussian, 1/σ²
// for the laplacian overflow float32 for σ ≲ 1e-19 (float64: σ ≲ 1e-154).
// The vector kernels would then compute 0·∞ = NaN for coincident points and
// return 0 where the kernel is 1 (issue 11).
func scaleOverflows[T core.Float](c float64) bool {
	return math.IsInf(float64(T(c)), 0)
}

// portableKernelSum serves KernelSum for such σ with the portable engine,
// which evaluates the kernel in float64 (k = 1 at distance 0, 0 at every
// distance that is not negligible against σ). These σ are far below any
// meaningful scale, so speed does not matter there; the result is the
// portable engine's, whatever the path.
func (p *pair[T]) portableKernelSum(k core.Kernel, sigma T, wts, out, grad []T) error {
	pp, err := core.Portable[T](p.res).Pair(p.x, p.y, p.cost)
	if err != nil {
		return err
	}
	defer pp.Close()
	return pp.KernelSum(k, sigma, wts, out, grad)
}
