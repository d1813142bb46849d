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
		var sc planScratch[T]
		for i := lo; i < hi && !p.res.Stop.Stopped(); i++ {
			p.planRowTimes(i, eps, s[i], h, v, k, out, cost, &sc)
		}
	})
	return p.res.Stop.Err()
}

// planScratch holds one goroutine's row buffers for planRowTimes.
type planScratch[T Float] struct {
	sq   []T
	z, c []float64
	acc  []float64
}

// planRowTimes computes row i of PlanTimes: out[i·k+q] = Σ_j π_ij v[j·k+q]
// (and cost[i] = Σ_j π_ij C_ij if cost is non-nil), the terms summed left to
// right in float64 over p's columns.
func (p *rowPair[T]) planRowTimes(i int, eps, si T, h, v []T, k int, out, cost []T, sc *planScratch[T]) {
	m := p.y.N
	sc.sq, sc.z, sc.acc = grow(sc.sq, m), grow(sc.z, m), grow(sc.acc, k)
	var c []float64
	if cost != nil {
		sc.c = grow(sc.c, m)
		c = sc.c
	}
	z, acc := sc.z, sc.acc
	p.planRow(i, eps, si, h, p.row.sqDists(i, sc.sq), z, c)
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

// planRow writes row i of the plan, π_ij = exp(si + h_j − C_ij/ε), into z
// (len M) given the row's squared distances sq, and C_ij into c if non-nil.
// C_ij is rounded in T exactly as the soft-min rounds it.
func (p *rowPair[T]) planRow(i int, eps T, si T, h, sq []T, z, c []float64) {
	inv := 1 / float64(eps)
	sq, h = sq[:len(z)], h[:len(z)]
	for j, sj := range sq {
		var cj float64
		switch p.cost {
		case CostHalfSquared:
			cj = float64(sj / 2)
		case CostPower:
			cj = float64(powCost(sj, p.q))
		default:
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
// of eng itself when it has the capability, else softMinPlan over eng's
// Pair (the products as soft-min reductions on eng, the row costs on core's
// portable reduction), with a note naming the fallback. close releases it.
func PlanReducer[T Float](eng Engine[T], res Resources, x, y Cloud[T], cost Cost) (pp PlanPair[T], close func() error, note string, err error) {
	p, err := eng.Pair(x, y, cost)
	if err != nil {
		return nil, nil, "", err
	}
	if pp, ok := p.(PlanPair[T]); ok {
		return pp, p.Close, "", nil
	}
	rp := &rowPair[T]{x: x, y: y, cost: cost, res: res, row: onlineRow[T]{x: x, y: y, cost: cost}}
	return softMinPlan[T]{p: p, rows: rp}, p.Close, "engine " + eng.Name() + " has no plan capability: plan products ran as its soft-min reductions (row costs ⟨π_i, C_i⟩ on the portable code)", nil
}

// softMinPlan computes plan products with any Pair's soft-min: for a
// column V_k ≥ 0,
//
//	Σ_j e^{s_i + h_j − C_ij/ε} V_jk = exp(s_i − smin_ε(h + ln V_k)_i/ε)
//
// (ln 0 = −∞ drops a term; a row of −∞ gives smin = +∞, hence 0), and a
// signed column is split as V⁺ − V⁻: one or two soft-mins per column, summed
// in float64. Row costs (cost non-nil) come from the portable rows.
type softMinPlan[T Float] struct {
	p    Pair[T]
	rows PlanPair[T] // the row costs
}

func (q softMinPlan[T]) PlanTimes(eps T, s, h, v []T, k int, out, cost []T) error {
	n, m := len(s), len(h)
	if len(v) != m*k || len(out) != n*k {
		return errorf(ErrInternal, "PlanTimes: buffer sizes (v %d, out %d) do not match N=%d M=%d K=%d", len(v), len(out), n, m, k)
	}
	hv, sm, acc := make([]T, m), make([]T, n), make([]float64, n)
	inv := 1 / float64(eps)
	for col := 0; col < k; col++ {
		clear(acc)
		for _, sign := range []float64{1, -1} {
			some := false
			for j := range hv {
				if vj := sign * float64(v[j*k+col]); vj > 0 {
					hv[j] = T(float64(h[j]) + math.Log(vj))
					some = true
				} else {
					hv[j] = T(math.Inf(-1))
				}
			}
			if !some {
				continue
			}
			if err := q.p.SoftMin(eps, hv, sm, nil); err != nil {
				return err
			}
			for i := range acc {
				acc[i] += sign * math.Exp(float64(s[i])-float64(sm[i])*inv)
			}
		}
		for i, a := range acc {
			out[i*k+col] = T(a)
		}
	}
	if cost == nil {
		return nil
	}
	return q.rows.PlanTimes(eps, s, h, ones[T](m), 1, make([]T, n), cost)
}

var _ PlanPair[float32] = (*rowPair[float32])(nil)
