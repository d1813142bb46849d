package core

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
)

// Config chooses how an evaluation runs.
type Config[T Float] struct {
	// Engine, if non-nil, performs every reduction (with the resources it was
	// built with: a cancellation then takes effect between iterations only).
	// nil means the registry's best engine for Device (see NewEngine), built
	// with Threads and the evaluation's cancellation flag.
	Engine Engine[T]
	// Device selects the hardware when Engine is nil.
	Device Device
	// Threads bounds the CPU threads an evaluation uses; ≤ 0 means all cores.
	Threads int
	// TensorizedCap bounds B·N·M for the tensorized backend, which stores
	// up to four dense matrices per batch item (N×M twice, N×N, M×M); ≤ 0
	// means DefaultTensorizedCap.
	TensorizedCap int64
}

// DefaultTensorizedCap is the default bound on B·N·M for the tensorized
// backend: 2^26 ≈ 6.7e7 (5000×5000 fits with room for B ≈ 2; one float64
// N×M matrix is then 512 MiB). Larger problems need the online backend.
const DefaultTensorizedCap = 1 << 26

// Evaluate computes the loss par.Loss between the B pairs of measures of pr,
// and the outputs req asks for. It validates every input first and returns
// an *Error naming the bad argument; it never modifies pr.
//
// With req.Progress set, the computation runs on another goroutine and the
// progress reports are delivered on the calling one (the thread of a C
// caller), one at a time, plus a repeat of the latest report at least every
// HeartbeatInterval; a report returning true cancels the evaluation, which
// then returns an ErrCancelled error within about one heartbeat.
func Evaluate[T Float](cfg Config[T], par Params, pr Problem[T], req Request[T]) (*Result[T], error) {
	if err := par.Validate(); err != nil {
		return nil, err
	}
	if err := pr.validate(par, &req); err != nil {
		return nil, err
	}
	stop := new(Stop)
	if req.Progress == nil {
		return evaluate(cfg, par, pr, req, stop, nil)
	}
	var res *Result[T]
	err := relay(req.Progress, stop, func(report func(string, int, int)) error {
		var err error
		res, err = evaluate(cfg, par, pr, req, stop, report)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// evaluate runs a validated evaluation; report (nil = none) must be safe
// for concurrent use.
func evaluate[T Float](cfg Config[T], par Params, pr Problem[T], req Request[T], stop *Stop, report func(string, int, int)) (*Result[T], error) {
	B, N, M, D := pr.B, pr.N, pr.M, pr.D
	threads := cfg.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	// Batches of at least one item per core run one item per worker, each
	// on a single-threaded engine; otherwise items run in turn on all cores.
	workers := 1
	if cfg.Engine == nil && B >= 2 && B >= threads {
		workers = threads
	}
	engines := make([]Engine[T], workers)
	var notes []string
	for w := range engines {
		if cfg.Engine != nil {
			engines[w] = cfg.Engine
			continue
		}
		res := Resources{Threads: threads, Stop: stop}
		if workers > 1 {
			res.Threads = 1
		}
		eng, note, err := NewEngine[T](cfg.Device, res)
		if err != nil {
			return nil, err
		}
		engines[w] = eng
		if w == 0 && note != "" {
			notes = append(notes, note)
		}
	}
	eng := engines[0]
	backend, note, err := chooseBackend(par, pr, eng, cfg.TensorizedCap)
	if err != nil {
		return nil, err
	}
	if note != "" {
		notes = append(notes, note)
	}
	res := &Result[T]{Value: make([]T, B), Backend: backend, Engine: eng.Name(), Device: eng.Device()}
	alloc := func(want bool, n int) []T {
		if want {
			return make([]T, n)
		}
		return nil
	}
	res.F, res.G = alloc(req.Potentials, B*N), alloc(req.Potentials, B*M)
	res.GradX, res.GradY = alloc(req.GradX, B*N*D), alloc(req.GradY, B*M*D)
	res.GradA, res.GradB = alloc(req.GradA, B*N), alloc(req.GradB, B*M)
	if par.Loss == Sinkhorn {
		res.Iterations, res.MarginalError = make([]int, B), make([]float64, B)
	}

	var epsList []float64
	diam := par.Diameter
	if diam == 0 {
		diam = EstimateDiameter(pr.X, pr.Y, D) // joint over the batch (§2.1)
	}
	if diam == 0 { // all points identical: §8.4
		diam = par.Blur
	}
	if par.Loss == Sinkhorn || par.Loss == Hausdorff {
		if epsList, err = epsSchedule(par, pr); err != nil { // bounded, see scheduleguard.go
			return nil, err
		}
	}
	var ms *msConfig
	if backend == Multiscale {
		ms = multiscaleConfig(par, D, diam, pr.LabelsX, pr.LabelsY)
	}
	cost := CostHalfSquared
	if par.P == 1 {
		cost = CostEuclidean
	}
	need := Needs{Cross: true, Self: par.Loss != Sinkhorn || par.Debias}

	errs := make([]error, B)
	geoNotes := make([]string, B)
	runItem := func(b int, eng Engine[T], threads int) {
		it := &item[T]{
			x: Cloud[T]{Pts: pr.X[b*N*D : (b+1)*N*D], N: N, D: D},
			y: Cloud[T]{Pts: pr.Y[b*M*D : (b+1)*M*D], N: M, D: D},
			a: weightsOf(pr.A, b, N), b: weightsOf(pr.Bw, b, M),
		}
		it.ma, it.mb = mass(pr.A, b, N), mass(pr.Bw, b, M)
		it.la, it.lb = logWeights(it.a), logWeights(it.b)
		o := &outputs[T]{
			value: &res.Value[b],
			f:     sub(res.F, b, N), g: sub(res.G, b, M),
			gx: sub(res.GradX, b, N*D), gy: sub(res.GradY, b, M*D),
			ga: sub(res.GradA, b, N), gb: sub(res.GradB, b, M),
			cv: 1, cf: sub(req.CotF, b, N), cg: sub(req.CotG, b, M),
		}
		if res.Iterations != nil {
			o.iters, o.merr = &res.Iterations[b], &res.MarginalError[b]
		}
		if req.CotValue != nil {
			o.cv = float64(req.CotValue[b])
		}
		g, gnote, err := buildGeometry(backend, eng, Resources{Threads: threads, Stop: stop}, it.x, it.y, it.a, it.b, it.la, it.lb, need, cost, ms.item(b, N, M))
		if err != nil {
			errs[b] = err
			return
		}
		defer func() {
			if cerr := g.Close(); cerr != nil && errs[b] == nil {
				errs[b] = cerr
			}
			if n, ok := g.(interface{ Note() string }); ok && errs[b] == nil {
				geoNotes[b] = joinNotes([]string{geoNotes[b], n.Note()})
			}
		}()
		geoNotes[b] = gnote
		progress := func(k, total int) error { return stop.Err() }
		if report != nil {
			stage := par.Loss.String()
			if B > 1 {
				stage = fmt.Sprintf("%s (batch item %d of %d)", stage, b+1, B)
			}
			sn, _ := g.(interface{ Stage(int) string })
			progress = func(k, total int) error {
				if sn != nil {
					report(stage+": "+sn.Stage(k), k+1, total)
				} else {
					report(stage, k+1, total)
				}
				return stop.Err()
			}
		}
		switch par.Loss {
		case Sinkhorn:
			errs[b] = sinkhorn(it, g, par, epsList, o, progress)
		case Hausdorff:
			errs[b] = hausdorff(it, g, par, epsList, o, progress)
		default:
			sc, err := g.Scale(g.Levels() - 1)
			if err != nil {
				errs[b] = err
				return
			}
			if errs[b] = progress(-1, 1); errs[b] != nil {
				return
			}
			it.use(sc)
			k, _ := par.Loss.kernel()
			kernelLoss(it, k, par.Blur, o)
			if errs[b] = it.err; errs[b] == nil {
				errs[b] = progress(0, 1)
			}
		}
	}
	if workers == 1 {
		for b := 0; b < B; b++ {
			if runItem(b, eng, threads); errs[b] != nil {
				break
			}
		}
	} else {
		var wg sync.WaitGroup
		next := make(chan int, B)
		for b := 0; b < B; b++ {
			next <- b
		}
		close(next)
		for w := range engines {
			wg.Go(func() {
				for b := range next {
					if stop.Stopped() {
						errs[b] = Cancelled()
						continue
					}
					runItem(b, engines[w], 1)
				}
			})
		}
		wg.Wait()
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if geoNotes[0] != "" {
		notes = append(notes, geoNotes[0])
	}
	res.Note = strings.Join(notes, "; ")
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
