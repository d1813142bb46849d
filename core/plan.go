package core

import "math"

// PlanPair is the optional capability of a Pair that reduces products with
// an entropic transport plan given in the log domain,
//
//	π_ij = exp(s_i + h_j − C(x_i, y_j)/ε),
//
// (with s_i = ln a_i + f_i/ε and h_j = ln b_j + g_j/ε, π is the plan of the
// duals f, g: π_ij = a_i b_j e^{(f_i + g_j − C_ij)/ε}). For every row i < N:
//
//	out_ik  = Σ_j π_ij V_jk            (k < K; V is M×K, out N×K, row-major)
//	cost_i  = Σ_j π_ij C(x_i, y_j)     (only if cost is non-nil)
//
// computed by a streaming reduction (no N×M storage beyond what the Pair
// already holds). A term whose exponent is below −707 counts 0. The
// transposed product πᵀU is the same reduction on the (y, x) Pair with s and
// h exchanged. Engines whose Pairs lack the capability get core's portable
// reduction over the same clouds (see NewPlanReducer), with a note saying so.
type PlanPair[T Float] interface {
	PlanTimes(eps T, s, h, v []T, k int, out, cost []T) error
}

// PlanTimes implements PlanPair for core's portable Pairs (online, dense and
// explicit cost matrices): rows split among threads by ParallelRows, each
// row's exponentials computed as in softMinRow (expShifted, float64) and
// summed left to right in float64, so results are identical whatever the
// thread count.
func (p *rowPair[T]) PlanTimes(eps T, s, h, v []T, k int, out, cost []T) error {
	m := p.y.N
	if len(s) != p.x.N || len(h) != m || len(v) != m*k || len(out) != p.x.N*k || (cost != nil && len(cost) != p.x.N) {
		return errorf(ErrInternal, "PlanTimes: buffer sizes (s %d, h %d, v %d, out %d) do not match N=%d M=%d K=%d", len(s), len(h), len(v), len(out), p.x.N, m, k)
	}
	ParallelRows(p.x.N, p.res.Threads, 64, func(lo, hi int) {
		sbuf, z := make([]T, m), make([]float64, m)
		var c []float64
		if cost != nil {
			c = make([]float64, m)
		}
		acc := make([]float64, k)
		for i := lo; i < hi && !p.res.Stop.Stopped(); i++ {
			p.planRow(i, eps, s[i], h, p.row.sqDists(i, sbuf), z, c)
			clear(acc)
			for j, e := range z {
				if e == 0 {
					continue
				}
				vj := v[j*k : (j+1)*k]
				for q := range acc {
					acc[q] += e * float64(vj[q])
				}
			}
			for q, a := range acc {
				out[i*k+q] = T(a)
			}
			if cost != nil {
				var t float64
				for j, e := range z {
					t += e * c[j]
				}
				cost[i] = T(t)
			}
		}
	})
	return p.res.Stop.Err()
}

// planRow writes row i of the plan, π_ij = exp(si + h_j − C_ij/ε), into z
// (len M) given the row's squared distances sq, and C_ij into c if non-nil.
// C_ij is rounded in T exactly as the soft-min rounds it.
func (p *rowPair[T]) planRow(i int, eps T, si T, h, sq []T, z, c []float64) {
	inv := 1 / float64(eps)
	sq, h = sq[:len(z)], h[:len(z)]
	for j, sj := range sq {
		var cj float64
		if p.cost == CostHalfSquared {
			cj = float64(sj / 2)
		} else {
			cj = float64(T(math.Sqrt(float64(max(sj, T(DistClamp))))))
		}
		if c != nil {
			c[j] = cj
		}
		z[j] = float64(si) + float64(h[j]) - cj*inv
	}
	expShifted(z, 0)
}

// PlanReducer returns a PlanPair between x and y for engine eng: the Pair
// of eng itself when it has the capability, else core's portable online
// Pair, with a note naming the fallback. close releases the Pair.
func PlanReducer[T Float](eng Engine[T], res Resources, x, y Cloud[T], cost Cost) (pp PlanPair[T], close func() error, note string, err error) {
	p, err := eng.Pair(x, y, cost)
	if err != nil {
		return nil, nil, "", err
	}
	if pp, ok := p.(PlanPair[T]); ok {
		return pp, p.Close, "", nil
	}
	if err := p.Close(); err != nil {
		return nil, nil, "", err
	}
	rp := &rowPair[T]{x: x, y: y, cost: cost, res: res, row: onlineRow[T]{x: x, y: y, cost: cost}}
	return rp, rp.Close, "engine " + eng.Name() + " has no plan capability: plan products ran on the portable code", nil
}

var _ PlanPair[float32] = (*rowPair[float32])(nil)
