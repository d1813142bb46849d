// Package simd provides the fast CPU reduction engines (AVX-512, AVX2+FMA,
// portable Go) behind core's reduction interface, chosen at run time.
//
// # Code paths and dispatch
//
// For[T] returns the best path this CPU supports, detected with
// github.com/klauspost/cpuid/v2 (and confirmed with archsimd's own feature
// check): "avx512" (AVX-512 F+CD+BW+DQ+VL, 512-bit vectors), then "avx2"
// (AVX2 and FMA, 256-bit vectors), then "portable" (core.Portable, scalar Go).
// The environment variable GEOMLOSS_SIMD=avx512|avx2|portable forces a path;
// a value that is unknown or that this CPU (or this build) does not support
// is ignored: For falls back to the automatic choice and prints one warning
// on standard error. Paths lists what the machine supports, ForPath selects
// one by name (with an error if unsupported) — the tests run every path.
//
// # Implementation route: Go 1.26 simd/archsimd
//
// The vector kernels use simd/archsimd (GOEXPERIMENT=simd, set by
// build/env.sh), not Go assembly: the kernels stay ordinary Go (bounds
// checked slices, the race detector and vet work, register allocation and
// instruction scheduling are the compiler's), one generator template
// (simd/gen) emits all four variants (float32×16, float32×8, float64×8,
// float64×4) and every specialisation (D = 1, 2, 3 and generic; p = 1, 2;
// three kernels; with and without gradient), which would be several thousand
// lines of hand-written assembly to keep in sync. The files that need the
// experiment carry "//go:build goexperiment.simd && amd64"; without it
// the package builds with the portable path only.
//
// # Algorithm
//
// Y is stored transposed (one array per coordinate, padded to the vector
// width; padded log-weights are −∞, padded kernel weights 0). For each row i
// and each tile of 2048 columns, one sweep computes per vector of columns the
// squared distances s (from differences, not the expanded ‖x‖²+‖y‖²−2⟨x,y⟩),
// z = h − C/ε, and keeps per lane a running maximum m with the sums
// S = Σ e^{z−m} and V = Σ e^{z−m}∇₁C (rescaled by e^{m_old−m_new} on the
// rare vectors that raise a lane's maximum) — the soft-min, its soft-max
// weighted gradient and likewise the kernel sums with their gradients all
// come out of the same pass. The lanes of a tile are merged into a float64
// running (max, sum, gradient) per row; a tile's lanes start from the row's
// running maximum, so a rescale only happens when a tile raises it.
// Costs and kernels use the clamps of core.Cost and core.Kernel.
//
// # Accuracy
//
// The vector exp reduces x = n ln2 + r (|r| ≤ ln2/2, Cody–Waite with a split
// ln2, n by the round-to-nearest magic-number trick inside one FMA), then
// evaluates a Taylor polynomial (degree 7 in float32, 12 in float64) by
// Horner's rule with FMAs and multiplies by 2ⁿ built in the exponent field.
// Measured over [−87, 0] (float32) and [−708, 0] (float64) against math.Exp:
// ≤ 2 ulp in float32 and ≤ 1e-15 relative in float64 (see TestExpAccuracy).
// Arguments below −88 (float32) / −709 (float64), including −∞, give exactly
// 0 (a flush a little above the denormal range, irrelevant after the max
// shift: the largest term of every row is e⁰ = 1). Within a tile, sums are
// accumulated per lane in the element type (≤ 128 terms per lane in float32),
// across tiles in float64.
package simd

//go:generate go run ./gen

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/libgeomloss/libgeomloss/core"
)

// EnvVar names the environment variable that forces a code path.
const EnvVar = "GEOMLOSS_SIMD"

// path is one vector code path, registered by the files built with
// GOEXPERIMENT=simd on amd64.
type path struct {
	name      string
	supported func() bool
	k32       *kernels[float32]
	k64       *kernels[float64]
}

// registry lists the vector paths compiled in, best first.
var registry []path

// Paths returns the names of the code paths this machine supports, best
// first; "portable" is always last.
func Paths() []string {
	var r []string
	for _, p := range registry {
		if p.supported() {
			r = append(r, p.name)
		}
	}
	return append(r, "portable")
}

// ForPath returns the engine of the named path, or an error if the name is
// unknown or the path is not supported by this CPU or build.
func ForPath[T core.Float](name string) (core.Engine[T], error) {
	if name == "portable" {
		return core.Portable[T](), nil
	}
	for _, p := range registry {
		if p.name != name {
			continue
		}
		if !p.supported() {
			return nil, fmt.Errorf("simd: path %q is not supported by this CPU", name)
		}
		var z T
		switch any(z).(type) {
		case float32:
			return any(engine[float32]{name: p.name, k: p.k32}).(core.Engine[T]), nil
		default:
			return any(engine[float64]{name: p.name, k: p.k64}).(core.Engine[T]), nil
		}
	}
	if name == "avx512" || name == "avx2" {
		return nil, fmt.Errorf("simd: path %q is not compiled in (build with GOEXPERIMENT=simd on amd64)", name)
	}
	return nil, fmt.Errorf("simd: unknown path %q (want avx512, avx2 or portable)", name)
}

var (
	chosenOnce sync.Once
	chosen     string
)

// Selected returns the name of the path For uses: GEOMLOSS_SIMD if set to a
// supported path, else the best supported one.
func Selected() string {
	chosenOnce.Do(func() {
		chosen = Paths()[0]
		env := strings.TrimSpace(strings.ToLower(os.Getenv(EnvVar)))
		if env == "" {
			return
		}
		if _, err := ForPath[float32](env); err != nil {
			fmt.Fprintf(os.Stderr, "geomloss: %s=%q ignored (%v); using %q\n", EnvVar, env, err, chosen)
			return
		}
		chosen = env
	})
	return chosen
}

// For returns the fastest engine this CPU supports for element type T (or
// the one GEOMLOSS_SIMD forces; see the package doc).
func For[T core.Float]() core.Engine[T] {
	e, err := ForPath[T](Selected())
	if err != nil { // cannot happen: Selected only returns supported paths
		return core.Portable[T]()
	}
	return e
}
