package core

import (
	"fmt"
)

// Config chooses how an evaluation runs.
type Config[T Float] struct {
	// Engine performs the online reductions; nil means the portable engine.
	Engine Engine[T]
	// Threads bounds the goroutines a reduction uses; ≤ 0 means all cores.
	Threads int
	// TensorizedCap bounds B·N·M for the tensorized backend, which stores
	// four dense matrices per batch item (N×M twice, N×N, M×M); ≤ 0 means
	// DefaultTensorizedCap.
	TensorizedCap int64
}

// DefaultTensorizedCap is the default bound on B·N·M for the tensorized
// backend: 2^26 ≈ 6.7e7 (5000×5000 fits with room for B ≈ 2; one float64
// N×M matrix is then 512 MiB). Larger problems need the online backend.
const DefaultTensorizedCap = 1 << 26

// Evaluate computes the loss par.Loss between the B pairs of measures of pr,
// and the outputs req asks for. It validates every input first and returns
// an *Error naming the bad argument; it never modifies pr.
func Evaluate[T Float](cfg Config[T], par Params, pr Problem[T], req Request[T]) (*Result[T], error) {
	if err := par.Validate(); err != nil {
		return nil, err
	}
	if err := pr.validate(par, &req); err != nil {
		return nil, err
	}
	eng := cfg.Engine
	if eng == nil {
		eng = Portable[T]()
	}
	res := &Result[T]{Value: make([]T, pr.B)}
	backend, note, err := chooseBackend(par, pr, cfg.TensorizedCap)
	if err != nil {
		return nil, err
	}
	res.Backend, res.Note, res.Engine = backend, note, eng.Name()
	if _, ok := eng.(DenseEngine[T]); backend == Tensorized && !ok {
		res.Engine = "portable"
	}
	alloc := func(want bool, n int) []T {
		if want {
			return make([]T, n)
		}
		return nil
	}
	B, N, M, D := pr.B, pr.N, pr.M, pr.D
	res.F, res.G = alloc(req.Potentials, B*N), alloc(req.Potentials, B*M)
	res.GradX, res.GradY = alloc(req.GradX, B*N*D), alloc(req.GradY, B*M*D)
	res.GradA, res.GradB = alloc(req.GradA, B*N), alloc(req.GradB, B*M)

	var epsList []float64
	if par.Loss == Sinkhorn || par.Loss == Hausdorff {
		diam := par.Diameter
		if diam == 0 {
			diam = EstimateDiameter(pr.X, pr.Y, D)
		}
		if diam == 0 { // all points identical: §8.4
			diam = par.Blur
		}
		epsList = EpsSchedule(par.P, diam, par.Blur, par.Scaling)
	}
	cost := CostHalfSquared
	if par.P == 1 {
		cost = CostEuclidean
	}
	threads := cfg.Threads
	dense := densePair[T]
	if de, ok := eng.(DenseEngine[T]); ok {
		dense = de.DensePair
	}
	pair := func(x, y Cloud[T]) Pair[T] {
		if backend == Tensorized {
			return dense(x, y, cost, threads)
		}
		return eng.Pair(x, y, cost, threads)
	}
	for b := 0; b < B; b++ {
		it := &item[T]{
			x: Cloud[T]{Pts: pr.X[b*N*D : (b+1)*N*D], N: N, D: D},
			y: Cloud[T]{Pts: pr.Y[b*M*D : (b+1)*M*D], N: M, D: D},
			a: weightsOf(pr.A, b, N), b: weightsOf(pr.Bw, b, M),
		}
		it.ma, it.mb = mass(pr.A, b, N), mass(pr.Bw, b, M)
		it.la, it.lb = logWeights(it.a), logWeights(it.b)
		it.xy, it.yx, it.xx, it.yy = pair(it.x, it.y), pair(it.y, it.x), pair(it.x, it.x), pair(it.y, it.y)
		o := &outputs[T]{
			value: &res.Value[b],
			f:     sub(res.F, b, N), g: sub(res.G, b, M),
			gx: sub(res.GradX, b, N*D), gy: sub(res.GradY, b, M*D),
			ga: sub(res.GradA, b, N), gb: sub(res.GradB, b, M),
			cv: 1, cf: sub(req.CotF, b, N), cg: sub(req.CotG, b, M),
		}
		if req.CotValue != nil {
			o.cv = float64(req.CotValue[b])
		}
		var progress func(k, total int)
		if req.Progress != nil {
			stage := par.Loss.String()
			if B > 1 {
				stage = fmt.Sprintf("%s (batch item %d of %d)", stage, b+1, B)
			}
			progress = func(k, total int) { req.Progress(stage, k+1, total) }
		}
		switch par.Loss {
		case Sinkhorn:
			sinkhorn(it, par, epsList, o, progress)
		case Hausdorff:
			hausdorff(it, par, epsList, o, progress)
		default:
			k, _ := par.Loss.kernel()
			kernelLoss(it, k, par.Blur, o)
			if progress != nil {
				progress(0, 1)
			}
		}
	}
	// Never hand back a silent NaN: an overflow (e.g. float32 with a tiny blur
	// and far-apart clouds) becomes an error.
	for _, out := range []struct {
		name string
		v    []T
	}{{"value", res.Value}, {"F", res.F}, {"G", res.G}, {"grad_x", res.GradX}, {"grad_y", res.GradY}, {"grad_a", res.GradA}, {"grad_b", res.GradB}} {
		if err := finite("the computed "+out.name, out.v); err != nil {
			return nil, errorf(ErrValue, "%v: the problem is numerically out of range (try a larger blur, or float64)", err)
		}
	}
	return res, nil
}

// chooseBackend applies GeomLoss's auto rule (§1.4) and the tensorized memory cap.
func chooseBackend[T Float](par Params, pr Problem[T], capEntries int64) (Backend, string, error) {
	if capEntries <= 0 {
		capEntries = DefaultTensorizedCap
	}
	nm := int64(pr.N) * int64(pr.M)
	fits := nm <= capEntries/int64(pr.B) && int64(pr.N)*int64(pr.N) <= capEntries && int64(pr.M)*int64(pr.M) <= capEntries
	b := par.Backend
	if b == Auto {
		switch {
		case nm <= 5000*5000:
			b = Tensorized
		case pr.D <= 3 && par.Loss == Sinkhorn && nm > 10000*10000 && par.P == 2:
			b = Multiscale
		default:
			b = Online
		}
		if b == Tensorized && !fits {
			return Online, fmt.Sprintf("auto: B·N·M = %d exceeds the tensorized cap %d; ran online", int64(pr.B)*nm, capEntries), nil
		}
	}
	switch b {
	case Tensorized:
		if !fits {
			return 0, "", errorf(ErrMemory, "backend: tensorized needs B·N·M = %d·%d·%d dense entries, over the cap of %d; use backend online", pr.B, pr.N, pr.M, capEntries)
		}
	case Multiscale:
		return Online, "multiscale backend not implemented yet: ran online", nil
	}
	return b, "", nil
}

// weightsOf returns item b's weights, or uniform weights 1/n when w is nil.
func weightsOf[T Float](w []T, b, n int) []T {
	if w != nil {
		return w[b*n : (b+1)*n]
	}
	u := make([]T, n)
	for i := range u {
		u[i] = T(1 / float64(n))
	}
	return u
}

// sub returns item b's slice of a B×n output (nil stays nil).
func sub[T Float](v []T, b, n int) []T {
	if v == nil {
		return nil
	}
	return v[b*n : (b+1)*n]
}
