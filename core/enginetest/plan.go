package enginetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/libgeomloss/libgeomloss/core"
)

// PlanCase is one plan-product problem of the plan table: π_ij =
// exp(s_i + h_j − C_ij/ε) times a random M×K matrix V (and the row costs
// Σ_j π_ij C_ij when Cost is set).
type PlanCase struct {
	Name       string
	N, M, D, K int
	Cost       core.Cost
	Eps        float64
	RowCost    bool
	NegInf     bool // some h_j and s_i are −∞ (zero weights)
	Threads    int
	Seed       uint64
}

// PlanCases returns the plan table: every specialised D, both costs, one
// and several right-hand sides, the row-cost output, zero weights, tiny
// and large problems, thread counts.
func PlanCases() []PlanCase {
	var cs []PlanCase
	add := func(c PlanCase) {
		if c.Seed == 0 {
			c.Seed = uint64(len(cs) + 101)
		}
		cs = append(cs, c)
	}
	for _, cost := range []core.Cost{core.CostHalfSquared, core.CostEuclidean} {
		pn := map[core.Cost]string{core.CostHalfSquared: "p2", core.CostEuclidean: "p1"}[cost]
		for _, d := range []int{1, 2, 3, 5} {
			for _, k := range []int{1, 4} {
				add(PlanCase{Name: fmt.Sprintf("plan/%s/D%d/K%d", pn, d, k), N: 37, M: 53, D: d, K: k, Cost: cost, Eps: .05, RowCost: k == 1})
			}
		}
		pre := "plan/" + pn + "/"
		add(PlanCase{Name: pre + "neg-inf", N: 40, M: 61, D: 3, K: 2, Cost: cost, Eps: .1, NegInf: true, RowCost: true})
		add(PlanCase{Name: pre + "N1M1", N: 1, M: 1, D: 2, K: 3, Cost: cost, Eps: .05, RowCost: true})
		add(PlanCase{Name: pre + "tiny-eps", N: 31, M: 70, D: 3, K: 1, Cost: cost, Eps: 1e-3, RowCost: true})
		add(PlanCase{Name: pre + "many-cols", N: 37, M: 4500, D: 3, K: 4, Cost: cost, Eps: .02})
		for _, th := range []int{1, 3, 0} {
			add(PlanCase{Name: fmt.Sprintf("%sthreads%d", pre, th), N: 301, M: 130, D: 3, K: 2, Cost: cost, Eps: .02, Threads: th, RowCost: true, Seed: 99})
		}
	}
	return cs
}

// RunPlan runs the plan table on the plan reducer core.PlanReducer gives
// for engines newEngine builds (the engine's own PlanPair, or core's
// portable fallback), against a float64 reference from the definition,
// with the tolerance |out − ref| ≤ f·u·Σ_j π_ij |V_jk| (1 + |z_ij|), z_ij =
// s_i + h_j − C_ij/ε the exponent (known to u·|z_ij| in T). It also checks
// that results do not depend on the thread count, bit for bit.
func RunPlan[T core.Float](t *testing.T, newEngine EngineFunc[T], f float64) {
	u := unit[T]() * f
	tiny := 1e-300 // below T's normal range, a term may flush to 0
	if unit[T]() > 1e-10 {
		tiny = 1e-37
	}
	var base []T
	for _, c := range PlanCases() {
		t.Run(c.Name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(c.Seed, 7))
			pts := func(n int) core.Cloud[T] {
				p := make([]T, n*c.D)
				for i := range p {
					p[i] = T(r.Float64())
				}
				return core.Cloud[T]{Pts: p, N: n, D: c.D}
			}
			x, y := pts(c.N), pts(c.M)
			logw := func(n int) []T {
				l := make([]T, n)
				for i := range l {
					l[i] = T(math.Log(1/float64(n)) + 3*(r.Float64()-.5))
					if c.NegInf && i%3 == 1 {
						l[i] = T(math.Inf(-1))
					}
				}
				return l
			}
			s, h := logw(c.N), logw(c.M)
			v := make([]T, c.M*c.K)
			for i := range v {
				v[i] = T(r.Float64()*2 - 1)
			}
			res := core.Resources{Threads: c.Threads}
			pp, closer, _, err := core.PlanReducer(newEngine(res), res, x, y, c.Cost)
			check(t, err)
			defer closer()
			out := make([]T, c.N*c.K)
			var rc []T
			if c.RowCost {
				rc = make([]T, c.N)
			}
			check(t, pp.PlanTimes(T(c.Eps), s, h, v, c.K, out, rc))
			eps := float64(T(c.Eps))
			bad := 0
			for i := 0; i < c.N; i++ {
				ref, tol := make([]float64, c.K), make([]float64, c.K)
				var refC, tolC float64
				for j := 0; j < c.M; j++ {
					sq := sq(x.Point(i), y.Point(j))
					cij := sq / 2
					if c.Cost == core.CostEuclidean {
						cij = math.Sqrt(math.Max(sq, core.DistClamp))
					}
					z := float64(s[i]) + float64(h[j]) - cij/eps
					if math.IsInf(z, -1) {
						continue
					}
					e := math.Exp(z)
					for k := 0; k < c.K; k++ {
						ref[k] += e * float64(v[j*c.K+k])
						tol[k] += e * math.Abs(float64(v[j*c.K+k])) * (1 + math.Abs(z))
					}
					refC += e * cij
					tolC += e * cij * (1 + math.Abs(z))
				}
				for k := 0; k < c.K; k++ {
					got := float64(out[i*c.K+k])
					if tl := u*tol[k] + tiny; !(math.Abs(got-ref[k]) <= tl) {
						if bad++; bad <= 5 {
							t.Errorf("row %d col %d: got %.12g, want %.12g (|diff| %.3g > tol %.3g)", i, k, got, ref[k], math.Abs(got-ref[k]), tl)
						}
					}
				}
				if rc != nil {
					if tl := u*tolC + tiny; !(math.Abs(float64(rc[i])-refC) <= tl) {
						if bad++; bad <= 5 {
							t.Errorf("row %d: row cost %.12g, want %.12g", i, rc[i], refC)
						}
					}
				}
			}
			if c.Threads == 1 && c.N == 301 {
				base = append([]T(nil), out...)
			} else if c.N == 301 && base != nil {
				for i := range out {
					if math.Float64bits(float64(out[i])) != math.Float64bits(float64(base[i])) {
						t.Fatalf("threads=%d: result %d differs from threads=1 bit for bit", c.Threads, i)
					}
				}
			}
		})
	}
}
