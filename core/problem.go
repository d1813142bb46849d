package core

import "math"

// Problem holds B independent pairs of weighted point clouds, row-major:
// X is B×N×D, Y is B×M×D, A is B×N and Bw is B×M. A nil weight vector means
// uniform weights 1/N (resp. 1/M). The library never writes to a Problem.
type Problem[T Float] struct {
	B, N, M, D int
	X, Y       []T
	A, Bw      []T
	// LabelsX (B×N), LabelsY (B×M), if non-nil, are cluster labels of the
	// points of x and y for the multiscale backend (GeomLoss's six-argument
	// call; any integers: equal labels within one batch item form a
	// cluster, each item clustered on its own). They select the multiscale
	// backend.
	LabelsX, LabelsY []int64
}

// Request says which outputs to compute besides the values, and the
// cotangents that weight them. Gradients are those of
//
//	S = Σ_b CotValue_b·value_b + Σ CotF·F + Σ CotG·G
//
// (a nil CotValue means all ones; nil CotF/CotG mean zero).
type Request[T Float] struct {
	GradX, GradY, GradA, GradB bool
	// Potentials asks for the dual vectors F (B×N) and G (B×M) (§3.2, §5.2).
	Potentials bool
	CotValue   []T
	CotF, CotG []T
	// Progress, if non-nil, is called with a stage name, an iteration and a
	// total, on the goroutine that called Evaluate (see Evaluate); returning
	// true cancels the evaluation (ErrCancelled).
	Progress func(stage string, iter, total int) (stop bool)
}

// Result holds the outputs of one evaluation. Slices not asked for are nil.
type Result[T Float] struct {
	Value                      []T // B
	F, G                       []T // B×N, B×M
	GradX, GradY, GradA, GradB []T // shapes of X, Y, A, Bw
	// Iterations (B) are the Sinkhorn loop's iterations per batch item, and
	// MarginalError (B) the error of its stopping rule (Params.Tol; NaN when
	// the fixed schedule ran). Sinkhorn only (nil otherwise).
	Iterations    []int
	MarginalError []float64
	// Backend is the backend that actually ran, Engine the reduction engine's
	// name and Device the hardware it ran on ("cpu", "cuda:0 ...").
	Backend Backend
	Engine  string
	Device  string
	// Note explains a substitution (e.g. multiscale run as online).
	Note string
}

// validate checks shapes and values against the rules of the core issue.
func (pr *Problem[T]) validate(par Params, req *Request[T]) error {
	if pr.B <= 0 || pr.N <= 0 || pr.M <= 0 || pr.D <= 0 {
		return errorf(ErrInvalidArgument, "sizes: B, N, M and D must be positive, got B=%d N=%d M=%d D=%d", pr.B, pr.N, pr.M, pr.D)
	}
	const maxElems = 1 << 40
	if pr.B > maxElems/pr.N/pr.D || pr.B > maxElems/pr.M/pr.D {
		return errorf(ErrInvalidArgument, "sizes: B=%d N=%d M=%d D=%d overflow", pr.B, pr.N, pr.M, pr.D)
	}
	check := func(name string, v []T, want int, what string) error {
		if v == nil {
			return nil
		}
		if len(v) != want {
			return errorf(ErrShape, "%s has %d elements but %s needs %d", name, len(v), what, want)
		}
		return nil
	}
	if len(pr.X) != pr.B*pr.N*pr.D {
		return errorf(ErrShape, "x has %d elements but B×N×D = %d×%d×%d", len(pr.X), pr.B, pr.N, pr.D)
	}
	if len(pr.Y) != pr.B*pr.M*pr.D {
		if pr.D > 0 && len(pr.Y)%(pr.B*pr.M) == 0 && len(pr.Y) > 0 {
			return errorf(ErrShape, "y has %d columns but x has %d", len(pr.Y)/(pr.B*pr.M), pr.D)
		}
		return errorf(ErrShape, "y has %d elements but B×M×D = %d×%d×%d", len(pr.Y), pr.B, pr.M, pr.D)
	}
	for _, c := range []error{
		check("a (weights of x)", pr.A, pr.B*pr.N, "B×N"),
		check("b (weights of y)", pr.Bw, pr.B*pr.M, "B×M"),
		check("cotangent of the value", req.CotValue, pr.B, "B"),
		check("cotangent of F", req.CotF, pr.B*pr.N, "B×N"),
		check("cotangent of G", req.CotG, pr.B*pr.M, "B×M"),
	} {
		if c != nil {
			return c
		}
	}
	if err := pr.validateLabels(par); err != nil {
		return err
	}
	if err := finite("x", pr.X); err != nil {
		return err
	}
	if err := finite("y", pr.Y); err != nil {
		return err
	}
	if err := checkDistanceRange(*pr); err != nil {
		return err
	}
	for _, v := range []struct {
		name string
		w    []T
	}{{"cotangent of the value", req.CotValue}, {"cotangent of F", req.CotF}, {"cotangent of G", req.CotG}} {
		if err := finite(v.name, v.w); err != nil {
			return err
		}
	}
	_, isKernel := par.Loss.kernel()
	for _, v := range []struct {
		name string
		w    []T
		n    int
	}{{"a (weights of x)", pr.A, pr.N}, {"b (weights of y)", pr.Bw, pr.M}} {
		if v.w == nil {
			continue
		}
		if err := finite(v.name, v.w); err != nil {
			return err
		}
		for b := 0; b < pr.B; b++ {
			item := v.w[b*v.n : (b+1)*v.n]
			allZero := true
			for i, w := range item {
				if w < 0 && !isKernel {
					return errorf(ErrValue, "%s: weight %d of batch item %d is negative (%g); %s needs non-negative weights", v.name, i, b, float64(w), par.Loss)
				}
				if w != 0 {
					allZero = false
				}
			}
			if allZero {
				return errorf(ErrValue, "%s: all weights of batch item %d are zero", v.name, b)
			}
			if m := mass(v.w, b, v.n); math.IsInf(m, 0) { // else |ma − mb| > tol is NaN > NaN
				return errorf(ErrValue, "%s: the total mass of batch item %d overflows (%g); rescale the weights", v.name, b, m)
			}
		}
	}
	if (par.Loss == Sinkhorn || par.Loss == Hausdorff) && par.infiniteRho() {
		for b := 0; b < pr.B; b++ {
			ma, mb := mass(pr.A, b, pr.N), mass(pr.Bw, b, pr.M)
			if math.Abs(ma-mb) > 1e-3*math.Max(math.Abs(ma), math.Abs(mb)) {
				return errorf(ErrValue, "a, b: total masses differ (%g vs %g in batch item %d); balanced transport needs equal masses: set reach for unbalanced transport", ma, mb, b)
			}
		}
	}
	return nil
}

// validateLabels checks the cluster labels: both or neither, one per point
// of each batch item, and a backend that can use them (multiscale or auto).
func (pr *Problem[T]) validateLabels(par Params) error {
	if pr.LabelsX == nil && pr.LabelsY == nil {
		return nil
	}
	switch {
	case pr.LabelsX == nil || pr.LabelsY == nil:
		return errorf(ErrInvalidArgument, "labels: give the cluster labels of both x and y (l_x and l_y), or neither")
	case len(pr.LabelsX) != pr.B*pr.N:
		return errorf(ErrShape, "l_x (labels of x) has %d elements but x has B×N = %d×%d points", len(pr.LabelsX), pr.B, pr.N)
	case len(pr.LabelsY) != pr.B*pr.M:
		return errorf(ErrShape, "l_y (labels of y) has %d elements but y has B×M = %d×%d points", len(pr.LabelsY), pr.B, pr.M)
	case par.Backend != Auto && par.Backend != Multiscale:
		return errorf(ErrInvalidOption, "backend: cluster labels are used by the multiscale backend only, not %s", par.Backend)
	}
	return nil
}

// mass returns the total weight of batch item b (1 for uniform weights).
func mass[T Float](w []T, b, n int) float64 {
	if w == nil {
		return 1
	}
	s := 0.0
	for _, v := range w[b*n : (b+1)*n] {
		s += float64(v)
	}
	return s
}

func finite[T Float](name string, v []T) error {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return errorf(ErrValue, "%s: element %d is not finite (%g)", name, i, float64(x))
		}
	}
	return nil
}
