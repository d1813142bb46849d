package grid

import (
	"fmt"
	"math"

	"github.com/libgeomloss/libgeomloss/core"
)

// Evaluate computes the Sinkhorn divergence (or raw entropic OT cost) between
// the B pairs of densities of pr, and what req asks for (§6, §7.5). It
// validates everything first and returns a *core.Error naming the bad
// argument; it never modifies pr.
//
// Schedule: ε_t from core.EpsSchedule(p, diameter, blur, scaling) (§2.2,
// §6.4); the loop starts on the pyramid level plan() picks (the coarsest, on
// the reference's grids) and moves one level finer after each iteration
// plan() lists, upsampling the four potentials (§6.5). If the last iteration
// is such a jump, its upsampled potentials are final (the reference's
// behaviour with its defaults); otherwise one last full-resolution step
// gives them:
//
//	F = λ smin_ε(ℓb + g/ε),  G = λ smin_ε(ℓa + f/ε),  Faa = λ smin_ε(ℓa + faa/ε),  Gbb = λ smin_ε(ℓb + gbb/ε)
//
// with ε = blur^p, λ = λ(ε), ℓ = L(a) with floor −10⁴ (§6.2). Value and
// weight gradients follow core.DualSide (§3.1, §7.1 table: ∂/∂a = φ,
// ∂/∂b = ψ, evaluated on the finest grid, times CotValue). Cotangents
// CotF, CotG on the returned potentials add their VJP with the loop's duals
// held fixed (potgrad.go), whether or not the last iteration jumps.
func Evaluate[T core.Float](cfg Config[T], par Params, pr Problem[T], req Request[T]) (*Result[T], error) {
	spacing, err := validate(par, pr, req)
	if err != nil {
		return nil, err
	}
	eng := cfg.Engine
	if eng == nil {
		eng = Portable[T]()
	}
	levels := pyramidLevels(pr.Shape, spacing, par.SingleScale)
	fine := levels[len(levels)-1]
	blur, diam := par.Blur, par.Diameter
	if blur == 0 {
		blur = math.Inf(1)
		for k, n := range pr.Shape {
			if n > 1 || len(pr.Shape) == 1 {
				blur = min(blur, spacing[k])
			}
		}
		if math.IsInf(blur, 1) { // a single pixel
			blur = spacing[0]
		}
	}
	if diam == 0 {
		for k, n := range pr.Shape {
			diam = max(diam, float64(n)*spacing[k])
		}
	}
	p := float64(par.P)
	rho := math.Inf(1)
	if par.Reach != 0 {
		rho = math.Pow(par.Reach, p)
	}
	epsList := core.EpsSchedule(par.P, diam, blur, par.Scaling)
	scales := make([]float64, len(levels))
	for i, l := range levels {
		scales[i] = l.scale(fine)
	}
	start, js := plan(scales, epsList, par.P)
	delta := par.Tolerance
	if delta == 0 {
		delta = defaultTolerance[T]()
	} else if delta < 0 {
		delta = 0
	}
	s := &solver[T]{
		sm:     softMinner[T]{eng: eng, p: par.P, delta: delta, threads: cfg.Threads, stop: cfg.Stop},
		levels: levels[start:], eps: epsList, jumps: js, rho: rho, debias: par.Debias,
		record: req.CotF != nil || req.CotG != nil,
	}
	B, size := pr.B, fine.size
	alloc := func(want bool, n int) []T {
		if want {
			return make([]T, n)
		}
		return nil
	}
	res := &Result[T]{Value: make([]T, B), Engine: eng.Name(), Eps: epsList, Jumps: js, Levels: len(levels) - start}
	res.F, res.G = alloc(req.Potentials, B*size), alloc(req.Potentials, B*size)
	res.GradA, res.GradB = alloc(req.GradA, B*size), alloc(req.GradB, B*size)
	var phi, psi []float64
	if req.GradA {
		phi = make([]float64, size)
	}
	if req.GradB {
		psi = make([]float64, size)
	}
	eps := math.Pow(blur, p)
	for b := 0; b < B; b++ {
		a, bw := pr.A[b*size:(b+1)*size], pr.Bw[b*size:(b+1)*size]
		var progress func(t int) error
		if req.Progress != nil {
			stage := "grid sinkhorn"
			if B > 1 {
				stage = fmt.Sprintf("grid sinkhorn (batch item %d of %d)", b+1, B)
			}
			progress = func(t int) error {
				if req.Progress(stage, t+1, len(epsList)) {
					return core.Cancelled()
				}
				return nil
			}
		}
		F, G, Faa, Gbb, st, err := s.solveDuals(a, bw, progress)
		if err != nil {
			return nil, err
		}
		ma, mb := mass(a), mass(bw)
		v := core.DualSide(a, F, Faa, eps, rho, mb, phi, nil, nil) + core.DualSide(bw, G, Gbb, eps, rho, ma, psi, nil, nil)
		res.Value[b] = T(v)
		cv := 1.0
		if req.CotValue != nil {
			cv = float64(req.CotValue[b])
		}
		for i := range phi {
			phi[i] *= cv
		}
		for i := range psi {
			psi[i] *= cv
		}
		if cf, cg := sub(req.CotF, b, size), sub(req.CotG, b, size); (cf != nil || cg != nil) && (phi != nil || psi != nil) {
			if err := potGrads(&s.sm, st, cf, cg, phi, psi); err != nil {
				return nil, err
			}
			res.steps = append(res.steps, st)
		}
		for i := range phi {
			res.GradA[b*size+i] = T(phi[i])
		}
		for i := range psi {
			res.GradB[b*size+i] = T(psi[i])
		}
		if req.Potentials {
			diff(res.F[b*size:(b+1)*size], F, Faa)
			diff(res.G[b*size:(b+1)*size], G, Gbb)
		}
	}
	for _, out := range []struct {
		name string
		v    []T
	}{{"value", res.Value}, {"F", res.F}, {"G", res.G}, {"grad_a", res.GradA}, {"grad_b", res.GradB}} {
		for i, x := range out.v {
			if f := float64(x); !(math.Abs(f) <= math.MaxFloat64) { // NaN or ±Inf
				return nil, bad(core.ErrValue, "the computed %s: element %d is not finite (%g): the problem is numerically out of range (try a larger blur, or float64)", out.name, i, f)
			}
		}
	}
	return res, nil
}

// sub is item b's slice of a B×n array (nil: nil).
func sub[T core.Float](v []T, b, n int) []T {
	if v == nil {
		return nil
	}
	return v[b*n : (b+1)*n]
}

// diff writes F − Faa (Faa nil: F) into dst.
func diff[T core.Float](dst, F, Faa []T) {
	for i := range dst {
		dst[i] = F[i]
		if Faa != nil {
			dst[i] -= Faa[i]
		}
	}
}

// logDens returns L(w): ln w where w > 0, else the floor −10⁴ (§6.2).
func logDens[T core.Float](w []T) []T {
	l := make([]T, len(w))
	for i, x := range w {
		if x > 0 {
			l[i] = T(logFast(float64(x)))
		} else {
			l[i] = -1e4
		}
	}
	return l
}
