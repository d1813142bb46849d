package core

// guard wraps a Pair so that its first error is kept in *err and every later
// reduction through a guard sharing err is skipped (returning that error).
// The closed-form outputs (final step, gradients, adjoint solves) then read
// as straight-line maths; the loss checks *err once at the end, and results
// computed after a failure are discarded.
type guard[T Float] struct {
	p   Pair[T]
	err *error
}

func (g guard[T]) SoftMin(eps T, h, out, grad []T) error {
	if *g.err == nil {
		*g.err = g.p.SoftMin(eps, h, out, grad)
	}
	return *g.err
}

func (g guard[T]) KernelSum(k Kernel, sigma T, w, out, grad []T) error {
	if *g.err == nil {
		*g.err = g.p.KernelSum(k, sigma, w, out, grad)
	}
	return *g.err
}

// Close does nothing: the geometry owns (and closes) the guarded Pair.
func (g guard[T]) Close() error { return nil }
