package grid

import (
	"math"
	"unsafe"

	"github.com/libgeomloss/libgeomloss/core"
)

// softMinner evaluates grid soft-mins with one engine and reusable buffers.
type softMinner[T core.Float] struct {
	eng     AxisEngine[T]
	p       int
	delta   float64 // truncation tolerance per pass (0: none)
	threads int
	stop    *core.Stop
	h, buf  []T
}

// softMin writes into out, on level l,
//
//	out = λ · smin_ε(ℓ + pot/ε),   smin_ε(h)_u = −ε LSE_v(h_v − C(u, v)/ε)
//
// (pot nil: h = ℓ), computed as one LSE pass per axis, last axis first
// (§6.3); axes of one pixel are skipped (their pass is the identity).
func (s *softMinner[T]) softMin(l level, eps, lam float64, ell, pot, out []T) error {
	if cap(s.h) < l.size {
		s.h, s.buf = make([]T, l.size), make([]T, l.size)
	}
	h, buf := s.h[:l.size], s.buf[:l.size]
	for i := range h {
		if pot == nil {
			h[i] = ell[i]
		} else {
			h[i] = ell[i] + T(float64(pot[i])/eps)
		}
	}
	for ax := len(l.shape) - 1; ax >= 0; ax-- {
		n := l.shape[ax]
		if n == 1 {
			continue
		}
		tau := math.Inf(1)
		if s.delta > 0 {
			tau = TauFor(n, s.delta)
		}
		if err := s.stop.Err(); err != nil {
			return err
		}
		k := NewAxisKernel(s.p, n, l.spacing[ax], eps, tau)
		if err := s.eng.LSEAxis(k, l.shape, ax, h, buf, s.threads); err != nil {
			return err
		}
		h, buf = buf, h
	}
	for i := range out {
		out[i] = T(-lam * eps * float64(h[i]))
	}
	return nil
}

// defaultTolerance is the default truncation tolerance δ of a pass: 1e-16
// in float64, 1e-8 in float32 (below their rounding units).
func defaultTolerance[T core.Float]() float64 {
	if unsafe.Sizeof(T(0)) == 4 {
		return 1e-8
	}
	return 1e-16
}
