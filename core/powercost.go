package core

import (
	"fmt"
	"math"
)

// CostPower is the ground cost C = |x − y|^q/q for a real exponent q ≥ 1,
// with s = |x − y|²:
//
//	C = s^{q/2}/q,    ∇₁C = s^{q/2 − 1} (x − y)   (0 where s = 0)
//
// without a clamp: the gradient's factor s^{q/2−1}·|x − y| = |x − y|^{q−1}
// is bounded for q ≥ 1, and the one pair it would be 0·∞ (s = 0) is 0, the
// limit for q > 1. q = 2 is CostHalfSquared exactly and q = 1 CostEuclidean
// up to its clamp. The exponent is not part of the Cost value: only core's
// portable Pairs built by PowerPair reduce it (engines never see CostPower,
// and their Pair methods do not accept it).
const CostPower Cost = 3

// PowerPair returns core's portable Pair for the cost |x − y|^q/q between x
// and y: online (streaming, memory O(N+M)), or dense (the tensorized
// backend: the squared distances stored once). It reduces exactly as the
// portable engine does for its own costs (softMinRow, planRow), with the
// cost s^{q/2}/q rounded in T.
func PowerPair[T Float](x, y Cloud[T], q float64, res Resources, dense bool) (Pair[T], error) {
	if !(q >= 1) || math.IsInf(q, 1) {
		return nil, errorf(ErrInvalidOption, "q: the power cost needs a finite exponent q ≥ 1, got %g", q)
	}
	p := &rowPair[T]{x: x, y: y, cost: CostPower, q: q, res: res, row: onlineRow[T]{x: x, y: y}}
	if dense {
		dp, err := densePair(x, y, CostHalfSquared, res)
		if err != nil {
			return nil, err
		}
		p.row = dp.(*rowPair[T]).row
	}
	return p, nil
}

// powCost returns C = s^{q/2}/q rounded in T (see CostPower).
func powCost[T Float](s T, q float64) T {
	return T(math.Pow(float64(s), q/2) / q)
}

// powGrad returns the factor g with ∇₁C = g·(x − y) (see CostPower).
func powGrad(s, q float64) float64 {
	if s == 0 {
		return 0
	}
	return math.Pow(s, q/2-1)
}

// powerNote says that engine e has no power-cost path, so that the
// reductions ran on core's portable code.
func powerNote(engine string, q float64) string {
	return fmt.Sprintf("engine %s has no |x−y|^q/q path (q = %g): reductions and plan products ran on the portable code", engine, q)
}
