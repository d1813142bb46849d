package grid

import (
	"math"

	"github.com/libgeomloss/libgeomloss/core"
)

// AxisKernel is the 1D kernel of one separable pass at temperature ε along an
// axis of N pixels of width H:
//
//	κ(Δ) = (Δ·H)²/(2ε)  (P = 2),     κ(Δ) = |Δ|·H/ε  (P = 1),     Δ = u − v.
//
// Cost[Δ] holds κ(Δ) for 0 ≤ Δ < N, rounded once in float64, as every engine
// must use it; it is non-decreasing and Cost[0] = 0.
//
// Tau truncates the pass: for each output u, terms with
//
//	z_v − κ(u − v) < m_u − Tau,     m_u = max_v (z_v − κ(u − v)),
//
// may be dropped (which of them is the engine's choice: typically those
// outside a window around the maximum); every other term is summed. At most
// N terms are dropped, each below e^(−Tau) times the
// largest, so the log-sum-exp loses at most N·e^(−Tau) (absolute, in log
// units): TauFor(N, δ) = ln N + ln(1/δ) bounds that loss by δ. Tau = +Inf
// keeps every term (the dense O(N²) pass).
type AxisKernel struct {
	P    int
	N    int
	H    float64
	Eps  float64
	Cost []float64
	Tau  float64
}

// NewAxisKernel fills an AxisKernel (Cost computed as above).
func NewAxisKernel(p, n int, h, eps, tau float64) *AxisKernel {
	k := &AxisKernel{P: p, N: n, H: h, Eps: eps, Cost: make([]float64, n), Tau: tau}
	for d := range k.Cost {
		t := float64(d) * h
		if p == 2 {
			k.Cost[d] = t * t / 2 / eps
		} else {
			k.Cost[d] = t / eps
		}
	}
	return k
}

// TauFor returns the truncation ln n + ln(1/δ) that bounds the loss of a
// pass over n terms by δ (+Inf for δ ≤ 0: no truncation).
func TauFor(n int, delta float64) float64 {
	if !(delta > 0) {
		return math.Inf(1)
	}
	return math.Log(float64(n)) - math.Log(delta)
}

// AxisEngine performs the 1D passes of the separable grid soft-min.
//
// LSEAxis computes, for every line along axis `axis` of the row-major array
// in of the given shape (last axis fastest; shape[axis] = k.N),
//
//	out[…, u, …] = LSE_v( in[…, v, …] − κ(u − v) )
//
// with a max-shifted log-sum-exp, dropping the terms k.Tau excludes (see
// AxisKernel). A line whose inputs are all −∞ gives −∞. in and out have the
// same length and do not overlap. Lines may be split among up to threads
// goroutines (≤ 0: all cores); the result must not depend on the split.
type AxisEngine[T core.Float] interface {
	Name() string
	LSEAxis(k *AxisKernel, shape []int, axis int, in, out []T, threads int) error
}
