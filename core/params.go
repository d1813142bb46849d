package core

import (
	"fmt"
	"math"
)

// Loss selects the geometric loss.
type Loss int

const (
	// Sinkhorn is the (debiased) entropic optimal transport divergence.
	Sinkhorn Loss = iota + 1
	// Hausdorff is the entropic Hausdorff divergence (§5.4, balanced only).
	Hausdorff
	// Energy is the energy-distance kernel norm, k(x,y) = −|x−y|.
	Energy
	// Gaussian is the Gaussian-kernel MMD, k = exp(−|x−y|²/(2σ²)).
	Gaussian
	// Laplacian is the Laplacian-kernel MMD, k = exp(−|x−y|/σ).
	Laplacian
)

var lossNames = map[Loss]string{Sinkhorn: "sinkhorn", Hausdorff: "hausdorff", Energy: "energy", Gaussian: "gaussian", Laplacian: "laplacian"}

func (l Loss) String() string {
	if s, ok := lossNames[l]; ok {
		return s
	}
	return fmt.Sprintf("Loss(%d)", int(l))
}

// ParseLoss maps a GeomLoss loss name to a Loss.
func ParseLoss(name string) (Loss, error) {
	for l, s := range lossNames {
		if s == name {
			return l, nil
		}
	}
	return 0, &Error{Code: ErrInvalidOption, Msg: fmt.Sprintf("loss: unknown loss %q (want sinkhorn, hausdorff, energy, gaussian or laplacian)", name)}
}

// kernel returns the kernel of a kernel loss.
func (l Loss) kernel() (Kernel, bool) {
	switch l {
	case Energy:
		return KernelEnergy, true
	case Gaussian:
		return KernelGaussian, true
	case Laplacian:
		return KernelLaplacian, true
	}
	return 0, false
}

// Backend selects how reductions are evaluated.
type Backend int

const (
	// Auto applies GeomLoss's rule (§1.4).
	Auto Backend = iota
	// Tensorized stores dense cost matrices (fast for small problems; memory-capped).
	Tensorized
	// Online streams every reduction: memory O(N+M).
	Online
	// Multiscale is the octree backend (§4): block-sparse reductions over the
	// cluster pairs that a bounded truncation keeps (see core/multiscale.go).
	Multiscale
)

var backendNames = map[Backend]string{Auto: "auto", Tensorized: "tensorized", Online: "online", Multiscale: "multiscale"}

func (b Backend) String() string {
	if s, ok := backendNames[b]; ok {
		return s
	}
	return fmt.Sprintf("Backend(%d)", int(b))
}

// ParseBackend maps a GeomLoss backend name to a Backend.
func ParseBackend(name string) (Backend, error) {
	for b, s := range backendNames {
		if s == name {
			return b, nil
		}
	}
	return 0, &Error{Code: ErrInvalidOption, Msg: fmt.Sprintf("backend: unknown backend %q (want auto, tensorized, online or multiscale)", name)}
}

// Params are SamplesLoss's parameters, with GeomLoss's names and meanings.
// Use DefaultParams for GeomLoss's defaults.
type Params struct {
	Loss Loss
	// P is the ground-cost exponent: 1 (|x−y|) or 2 (|x−y|²/2). Sinkhorn and Hausdorff only.
	P int
	// Blur is the target scale: ε = blur^p for Sinkhorn, σ for gaussian/laplacian.
	Blur float64
	// Reach sets ρ = reach^p for unbalanced transport; 0 (or +Inf) means balanced (GeomLoss's None).
	Reach float64
	// Diameter bounds the point clouds' extent; 0 means estimated (§2.1).
	Diameter float64
	// Scaling is the ratio between successive blurs of the ε-schedule, in (0, 1).
	Scaling float64
	// Truncate is the multiscale truncation in units of ε; +Inf means none.
	Truncate float64
	// ClusterScale is the multiscale voxel size; 0 means the default (§4.1).
	ClusterScale float64
	// Debias selects the Sinkhorn divergence (true) or raw entropic OT (false).
	Debias bool
	// Backend selects tensorized, online or multiscale evaluation.
	Backend Backend
	// Tol, if positive, continues the Sinkhorn loop at the final ε after the
	// schedule until the marginal error is below Tol (see Convergence);
	// 0 keeps GeomLoss's fixed schedule. Sinkhorn only.
	Tol float64
	// MaxIter bounds the iterations added by Tol (0: DefaultMaxIter).
	MaxIter int
}

// DefaultMaxIter bounds the iterations at the final ε when Tol is set and
// MaxIter is not.
const DefaultMaxIter = 10000

// convergence returns the stopping rule of p.
func (p Params) convergence() Convergence {
	return Convergence{Tol: p.Tol, MaxIter: p.MaxIter}
}

// DefaultParams returns GeomLoss's defaults: sinkhorn, p=2, blur=0.05,
// balanced, estimated diameter, scaling=0.5, truncate=5, debias.
func DefaultParams() Params {
	return Params{Loss: Sinkhorn, P: 2, Blur: 0.05, Scaling: 0.5, Truncate: 5, Debias: true, Backend: Auto}
}

// Balanced reports whether reach is None (ρ = +∞).
func (p Params) Balanced() bool { return p.Reach == 0 || math.IsInf(p.Reach, 1) }

// Validate checks every parameter and returns an *Error naming the first bad one.
func (p Params) Validate() error {
	bad := func(format string, a ...any) error {
		return &Error{Code: ErrInvalidOption, Msg: fmt.Sprintf(format, a...)}
	}
	if _, ok := lossNames[p.Loss]; !ok {
		return bad("loss: unknown loss value %d", int(p.Loss))
	}
	if _, ok := backendNames[p.Backend]; !ok {
		return bad("backend: unknown backend value %d", int(p.Backend))
	}
	if p.P != 1 && p.P != 2 {
		return bad("p: must be 1 or 2, got %d", p.P)
	}
	if !(p.Blur > 0) || math.IsInf(p.Blur, 0) {
		return bad("blur: must be a positive finite number, got %g", p.Blur)
	}
	if !(p.Scaling > 0 && p.Scaling < 1) {
		return bad("scaling: must lie in (0, 1), got %g", p.Scaling)
	}
	if math.IsNaN(p.Reach) || p.Reach < 0 || math.IsInf(p.Reach, -1) {
		return bad("reach: must be positive (or 0/+Inf for balanced transport), got %g", p.Reach)
	}
	if math.IsNaN(p.Diameter) || p.Diameter < 0 || math.IsInf(p.Diameter, 0) {
		return bad("diameter: must be positive and finite (or 0 to estimate it), got %g", p.Diameter)
	}
	if math.IsNaN(p.Truncate) || p.Truncate <= 0 {
		return bad("truncate: must be positive (+Inf for no truncation), got %g", p.Truncate)
	}
	if math.IsNaN(p.ClusterScale) || p.ClusterScale < 0 || math.IsInf(p.ClusterScale, 0) {
		return bad("cluster_scale: must be positive and finite (or 0 for the default), got %g", p.ClusterScale)
	}
	if math.IsNaN(p.Tol) || p.Tol < 0 || math.IsInf(p.Tol, 0) {
		return bad("tol: must be positive and finite (or 0 for the fixed schedule), got %g", p.Tol)
	}
	if p.MaxIter < 0 {
		return bad("max_iter: must be positive (or 0 for the default), got %d", p.MaxIter)
	}
	if p.Tol > 0 && p.Loss != Sinkhorn {
		return bad("tol: only the sinkhorn loss iterates to a tolerance, not %s", p.Loss)
	}
	if p.Loss == Hausdorff && !p.Balanced() {
		return bad("reach: the hausdorff loss is balanced only; leave reach unset")
	}
	return nil
}
