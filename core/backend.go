package core

import (
	"fmt"
	"math"
)

// chooseBackend resolves par.Backend for problem pr on engine eng.
//
// auto picks the fastest exact backend for the engine. On the CPU engines a
// dense (tensorized) reduction is 1.3–3× slower than the online one at every
// size measured (recomputing |x−y|² is cheaper than reading it from memory),
// so auto runs online there, where GeomLoss's rule (§1.4) would pick
// tensorized for N·M ≤ 5000². For large Sinkhorn problems with p = 2 in
// dimension ≤ 3 (autoMultiscale) auto picks multiscale, as GeomLoss does: its
// Taylor level and truncated fine iterations agree with online within 1e-6
// (relative, measured) and are about 2× faster from 10⁴ × 2·10⁴ points
// (bench/multiscale). An engine that prefers dense reductions for small
// problems says so with DensePreferrer.
func chooseBackend[T Float](par Params, pr Problem[T], eng Engine[T], capEntries int64) (Backend, string, error) {
	if capEntries <= 0 {
		capEntries = DefaultTensorizedCap
	}
	nm := int64(pr.N) * int64(pr.M)
	fits := nm <= capEntries/int64(pr.B) && int64(pr.N)*int64(pr.N) <= capEntries && int64(pr.M)*int64(pr.M) <= capEntries
	b := par.Backend
	note := ""
	if pr.LabelsX != nil {
		b = Multiscale
	}
	if b == Auto {
		dp, ok := eng.(DensePreferrer)
		switch {
		case ok && dp.PrefersDense(pr.B, pr.N, pr.M, pr.D) && fits:
			b = Tensorized
		case autoMultiscale(par, pr, eng):
			b = Multiscale
			note = fmt.Sprintf("auto: multiscale (D = %d ≤ 3, p = 2, N·M = %d ≥ %g)", pr.D, nm, float64(autoMultiscaleNM))
		default:
			b = Online
		}
	}
	switch b {
	case Tensorized:
		if !fits {
			return 0, "", errorf(ErrMemory, "backend: tensorized needs B·N·M = %d·%d·%d dense entries, over the cap of %d; use backend online", pr.B, pr.N, pr.M, capEntries)
		}
	case Multiscale:
		if k, ok := par.Loss.kernel(); ok && (k == KernelEnergy || math.IsInf(par.Truncate, 1)) {
			return Online, "multiscale kernel norms without truncation (energy, or truncate=None) run online (§5.3)", nil
		}
	}
	return b, note, nil
}

// DensePreferrer is the optional capability of engines for which dense
// (tensorized) reductions beat online ones on some problems; the auto
// backend asks it. CPU engines do not implement it.
type DensePreferrer interface {
	PrefersDense(b, n, m, d int) bool
}

// buildGeometry builds the geometry of backend b for one item (clouds x, y
// with log-weights la, lb) on engine eng, with the reductions need asks for.
// note explains a fallback (e.g. an engine without the dense capability).
func buildGeometry[T Float](b Backend, eng Engine[T], res Resources, x, y Cloud[T], wa, wb, la, lb []T, need Needs, cost Cost, ms *msConfig) (Geometry[T], string, error) {
	switch b {
	case Multiscale:
		g, err := newMultiscale(eng, res, x, y, wa, wb, la, lb, need, cost, *ms)
		if err != nil {
			return nil, "", err
		}
		return g, "", nil
	case Tensorized:
		build, note := denseFactory(eng, res, cost)
		g, err := newSingleScale(x, y, la, lb, need, build)
		return g, note, err
	case Online:
		g, err := newSingleScale(x, y, la, lb, need, func(u, v Cloud[T]) (Pair[T], error) { return eng.Pair(u, v, cost) })
		return g, "", err
	}
	return nil, "", errorf(ErrInternal, "backend %v has no geometry builder", b)
}

// item returns the configuration of batch item b of sizes n, m: its own
// slices of the labels (B×N, B×M); nil stays nil.
func (c *msConfig) item(b, n, m int) *msConfig {
	if c == nil || c.labelsX == nil {
		return c
	}
	ci := *c
	ci.labelsX, ci.labelsY = c.labelsX[b*n:(b+1)*n], c.labelsY[b*m:(b+1)*m]
	return &ci
}

// multiscaleConfig returns the multiscale settings of par for an item of
// dimension d whose clouds have diameter diam (§4.1, §5.3).
func multiscaleConfig(par Params, d int, diam float64, lx, ly []int64) *msConfig {
	cfg := &msConfig{truncate: par.Truncate, p: par.P, rho: math.Inf(1), labelsX: lx, labelsY: ly}
	if cfg.truncate == 0 {
		cfg.truncate = 5
	}
	if !par.Balanced() {
		cfg.rho = math.Pow(par.Reach, float64(par.P))
	}
	cfg.maxDrop = math.Exp(-cfg.truncate) / 100
	cfg.side = diam / (math.Sqrt(float64(d)) * math.Pow(2000, 1/float64(d)))
	if k, ok := par.Loss.kernel(); ok {
		// Pairs farther apart than the radius are dropped: GeomLoss's
		// truncate·blur (§5.3) leaves a gaussian kernel e^{−truncate²/2} and a
		// laplacian one e^{−truncate} there (6.7e-3: errors of 1e-2 on the
		// golden cases); ours drops only kernels below e^{−truncate²}: radius
		// √2·truncate·blur (gaussian), truncate²·blur (laplacian).
		cfg.kernelRadius = math.Sqrt2 * cfg.truncate * par.Blur
		if k == KernelLaplacian {
			cfg.kernelRadius = cfg.truncate * cfg.truncate * par.Blur
		}
		if par.ClusterScale > 0 {
			cfg.side = par.ClusterScale * par.Blur // in units of blur (§5.3)
		}
	} else if par.ClusterScale > 0 {
		cfg.side = par.ClusterScale
	}
	if !(cfg.side > 0) {
		cfg.side = par.Blur
	}
	cfg.blockSide = 6 * par.Blur
	cfg.diameter = diam
	cfg.kappa = msKappa
	if par.Tol > 0 && cfg.kappa == msKappaDefault {
		// Converged at the final ε, the result no longer depends on the
		// path there: the large and middle temperatures run on centroids.
		cfg.kappa = msKappaConverged
	}
	return cfg
}

// denseFactory returns the dense Pair builder of eng, or core's portable
// one (with a note saying so) when eng lacks the DenseEngine capability.
func denseFactory[T Float](eng Engine[T], res Resources, cost Cost) (pairFactory[T], string) {
	if de, ok := eng.(DenseEngine[T]); ok {
		return func(u, v Cloud[T]) (Pair[T], error) { return de.DensePair(u, v, cost) }, ""
	}
	note := fmt.Sprintf("engine %s has no dense capability: tensorized reductions ran on the portable code", eng.Name())
	return func(u, v Cloud[T]) (Pair[T], error) { return densePair(u, v, cost, res) }, note
}

// autoMultiscaleNM is the size N·M from which auto picks the multiscale
// backend (see chooseBackend).
const autoMultiscaleNM = 2e8

// autoMultiscale reports whether auto should run pr on the multiscale
// backend: a Sinkhorn loss with p = 2 (the Taylor level needs the squared
// cost), D ≤ 3 (octree clusters), one item, N·M ≥ autoMultiscaleNM, on a CPU
// engine.
func autoMultiscale[T Float](par Params, pr Problem[T], eng Engine[T]) bool {
	return par.Loss == Sinkhorn && par.P == 2 && pr.D <= 3 && pr.B == 1 &&
		float64(pr.N)*float64(pr.M) >= autoMultiscaleNM && eng.Device() == "cpu"
}
