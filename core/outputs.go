package core

// outputs are one batch item's slices of the Result (nil when not asked),
// and its cotangents (cv for the value; cf, cg for the potentials or nil).
type outputs[T Float] struct {
	value          *T
	f, g           []T
	gx, gy, ga, gb []T
	cv             float64
	cf, cg         []T
	iters          *int     // loop iterations run (Sinkhorn)
	merr           *float64 // final error of the stopping rule (NaN without tol)
}

func (o *outputs[T]) setStats(s Stats) {
	if o.iters != nil {
		*o.iters, *o.merr = s.Iterations, s.Error
	}
}

func (o *outputs[T]) wantPosGrad() bool { return o.gx != nil || o.gy != nil }

func (o *outputs[T]) setValue(v float64) {
	if o.value != nil {
		*o.value = T(v)
	}
}

// potentials writes F − Faa (debiased) or F into dst.
func potentials[T Float](dst, F, Faa []T) {
	for i := range dst {
		dst[i] = F[i]
		if Faa != nil {
			dst[i] -= Faa[i]
		}
	}
}

// scaleInto writes c·src into dst (if dst is non-nil).
func scaleInto[T Float](dst []T, src []float64, c float64) {
	for i := range dst {
		dst[i] = T(c * src[i])
	}
}
