package grid

import (
	"fmt"
	"math"

	"github.com/libgeomloss/libgeomloss/core"
)

// Params are sinkhorn_divergence's parameters for grids (GeomLoss names),
// with the extensions of this package.
type Params struct {
	// P is the cost exponent: 2 (|Δ|²/2) or 1 (the L1 distance Σ_k |Δ_k|, as the reference).
	P int
	// Blur sets ε = blur^p; 0 means the smallest pixel width (the reference's 1/N).
	Blur float64
	// Reach sets ρ = reach^p (unbalanced); 0 or +Inf means balanced.
	Reach float64
	// Scaling is the ratio of successive blurs of the ε-schedule, in (0, 1)
	// (the reference rejects values below 0.5; this package does not).
	Scaling float64
	// Debias selects the Sinkhorn divergence (true) or raw entropic OT.
	Debias bool
	// Diameter starts the ε-schedule at diameter^p; 0 means the largest side
	// of the domain, max_k n_k·h_k (1 on the reference's [0,1)^d).
	Diameter float64
	// Spacing holds the pixel width along each axis (GeomLoss's axes:
	// (vmax − vmin)/n); nil means 1/n_k (the domain [0,1)^d).
	Spacing []float64
	// SingleScale runs every iteration at full resolution (no pyramid).
	SingleScale bool
	// Tolerance bounds the log-sum-exp error of one truncated pass
	// (TauFor); 0 means 1e-16 (float64) or 1e-8 (float32), and a negative
	// value disables truncation (dense passes).
	Tolerance float64
}

// DefaultParams returns the reference's defaults: p = 2, blur = pixel
// width, balanced, scaling 0.5, debiased, pyramid on, truncated passes.
func DefaultParams() Params { return Params{P: 2, Scaling: 0.5, Debias: true} }

// Problem holds B pairs of densities a, b on one grid of the given shape
// (1 to 3 sides, row-major: the last axis varies fastest), each B×Π shape.
// GeomLoss's (B, K, n, n) inputs are B·K items here (the reference sums the
// K channels' values). The package never writes to a Problem.
type Problem[T core.Float] struct {
	B     int
	Shape []int
	A, Bw []T
}

// Request says what to compute besides the values. Gradients are those of
// S = Σ_b CotValue_b·value_b + Σ CotF·F + Σ CotG·G (nil CotValue: all ones;
// nil CotF, CotG: zero), w.r.t. a and b. The potentials' gradients hold the
// loop's duals fixed and differentiate the last step's explicit dependence
// on the densities (see potgrad.go; the reference's potentials carry none):
// the final full-resolution step, or, when the last iteration is a pyramid
// jump, that iteration's soft-min on the pooled densities, through the
// upsampling.
type Request[T core.Float] struct {
	GradA, GradB, Potentials bool
	CotValue                 []T
	CotF, CotG               []T // B×Π shape
	// Progress, if non-nil, is called before each Sinkhorn iteration of each
	// batch item (stage "grid sinkhorn" or "grid sinkhorn (batch item b of
	// B)", iteration from 1, total); returning true cancels the evaluation,
	// which then fails with a core.ErrCancelled error.
	Progress func(stage string, iter, total int) (stop bool)
}

// Result holds the outputs (nil when not asked).
type Result[T core.Float] struct {
	Value        []T // B
	F, G         []T // B×Π shape: F − Faa, G − Gbb (debiased) or F, G
	GradA, GradB []T // B×Π shape
	// Engine names the AxisEngine that ran; Eps is the ε-schedule, Jumps its
	// level changes (§6.4) and Levels the number of pyramid levels visited.
	Engine string
	Eps    []float64
	Jumps  []int
	Levels int
	// steps holds each item's final step when the potentials' cotangents
	// were given (for the tests' oracles).
	steps []*lastStep[T]
}

// Config chooses the engine and threads (nil engine: Portable; threads ≤ 0:
// all cores). Stop, if non-nil, cancels from another goroutine: it is
// checked before every pass, and a set flag fails the evaluation with a
// core.ErrCancelled error.
type Config[T core.Float] struct {
	Engine  AxisEngine[T]
	Threads int
	Stop    *core.Stop
}

func bad(code core.Code, format string, a ...any) error {
	return &core.Error{Code: code, Msg: fmt.Sprintf(format, a...)}
}

// validate checks the parameters and the problem; it returns the pixel
// widths to use.
func validate[T core.Float](par Params, pr Problem[T], req Request[T]) ([]float64, error) {
	if par.P != 1 && par.P != 2 {
		return nil, bad(core.ErrInvalidOption, "p: must be 1 or 2, got %d", par.P)
	}
	if math.IsNaN(par.Blur) || par.Blur < 0 || math.IsInf(par.Blur, 0) {
		return nil, bad(core.ErrInvalidOption, "blur: must be positive and finite (or 0 for the pixel width), got %g", par.Blur)
	}
	if !(par.Scaling > 0 && par.Scaling < 1) {
		return nil, bad(core.ErrInvalidOption, "scaling: must lie in (0, 1), got %g", par.Scaling)
	}
	if math.IsNaN(par.Reach) || par.Reach < 0 {
		return nil, bad(core.ErrInvalidOption, "reach: must be positive (or 0/+Inf for balanced transport), got %g", par.Reach)
	}
	if math.IsNaN(par.Diameter) || par.Diameter < 0 || math.IsInf(par.Diameter, 0) {
		return nil, bad(core.ErrInvalidOption, "diameter: must be positive and finite (or 0 for the domain's size), got %g", par.Diameter)
	}
	if math.IsNaN(par.Tolerance) || math.IsInf(par.Tolerance, 0) || par.Tolerance >= 1 {
		return nil, bad(core.ErrInvalidOption, "tolerance: must be in (0, 1), 0 (default) or negative (no truncation), got %g", par.Tolerance)
	}
	d := len(pr.Shape)
	if d < 1 || d > 3 {
		return nil, bad(core.ErrShape, "shape: grids have 1, 2 or 3 axes, got %d", d)
	}
	if pr.B <= 0 {
		return nil, bad(core.ErrInvalidArgument, "B: must be positive, got %d", pr.B)
	}
	size := 1
	for k, n := range pr.Shape {
		if n <= 0 {
			return nil, bad(core.ErrShape, "shape: side %d is %d; sides must be positive", k, n)
		}
		if size > (1<<40)/n {
			return nil, bad(core.ErrInvalidArgument, "shape: %v is too large", pr.Shape)
		}
		size *= n
	}
	if pr.B > (1<<40)/size {
		return nil, bad(core.ErrInvalidArgument, "B: %d grids of %d pixels are too many", pr.B, size)
	}
	spacing := par.Spacing
	if spacing == nil {
		spacing = make([]float64, d)
		for k, n := range pr.Shape {
			spacing[k] = 1 / float64(n)
		}
	} else if len(spacing) != d {
		return nil, bad(core.ErrShape, "spacing: %d pixel widths for a grid of %d axes", len(spacing), d)
	}
	for k, h := range spacing {
		if !(h > 0) || math.IsInf(h, 0) {
			return nil, bad(core.ErrInvalidOption, "spacing: pixel width %d must be positive and finite, got %g", k, h)
		}
	}
	for _, w := range []struct {
		name string
		v    []T
	}{{"a", pr.A}, {"b", pr.Bw}} {
		if len(w.v) != pr.B*size {
			return nil, bad(core.ErrShape, "%s has %d elements but B×Π shape = %d×%d", w.name, len(w.v), pr.B, size)
		}
		for i, x := range w.v {
			if f := float64(x); !(f >= 0 && f <= math.MaxFloat64) { // one test in the common case
				if math.IsNaN(f) || math.IsInf(f, 0) {
					return nil, bad(core.ErrValue, "%s: element %d is not finite (%g)", w.name, i, f)
				}
				return nil, bad(core.ErrValue, "%s: element %d is negative (%g); densities must be non-negative", w.name, i, f)
			}
		}
		for b := 0; b < pr.B; b++ {
			if mass(w.v[b*size:(b+1)*size]) == 0 {
				return nil, bad(core.ErrValue, "%s: batch item %d has zero mass", w.name, b)
			}
		}
	}
	if req.CotValue != nil {
		if len(req.CotValue) != pr.B {
			return nil, bad(core.ErrShape, "cotangent of the value has %d elements but B = %d", len(req.CotValue), pr.B)
		}
		for i, x := range req.CotValue {
			if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, bad(core.ErrValue, "cotangent of the value: element %d is not finite (%g)", i, f)
			}
		}
	}
	for _, c := range []struct {
		name string
		v    []T
	}{{"cotangent of F", req.CotF}, {"cotangent of G", req.CotG}} {
		if c.v == nil {
			continue
		}
		if len(c.v) != pr.B*size {
			return nil, bad(core.ErrShape, "%s has %d elements but B×Π shape = %d×%d", c.name, len(c.v), pr.B, size)
		}
		for i, x := range c.v {
			if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, bad(core.ErrValue, "%s: element %d is not finite (%g)", c.name, i, f)
			}
		}
	}
	if par.Reach == 0 || math.IsInf(par.Reach, 1) {
		for b := 0; b < pr.B; b++ {
			ma, mb := mass(pr.A[b*size:(b+1)*size]), mass(pr.Bw[b*size:(b+1)*size])
			if math.Abs(ma-mb) > 1e-3*math.Max(ma, mb) {
				return nil, bad(core.ErrValue, "a, b: total masses differ (%g vs %g in batch item %d); balanced transport needs equal masses: set reach for unbalanced transport", ma, mb, b)
			}
		}
	}
	return spacing, nil
}

func mass[T core.Float](w []T) float64 {
	s := 0.0
	for _, x := range w {
		s += float64(x)
	}
	return s
}
