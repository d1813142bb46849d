package core

import (
	"math"
	"sync/atomic"
)

// The Taylor (low-rank) soft-min of the multiscale backend's large-ε
// iterations, for the cost C = |x − y|²/2 (p = 2).
//
// With centres c_x, c_y of the two clouds, Δ = c_x − c_y and the scaled
// offsets û_i = (x_i − c_x)/√ε, v̂_j = (y_j − c_y)/√ε, Δ̂ = Δ/√ε,
//
//	C_ij/ε = |û_i|²/2 + ⟨û_i, Δ̂⟩ + |Δ̂|²/2  +  |v̂_j|²/2 − ⟨v̂_j, Δ̂⟩  −  ⟨û_i, v̂_j⟩,
//
// so that, with a_j = h_j − |v̂_j|²/2 + ⟨v̂_j, Δ̂⟩ and m = max_j a_j,
//
//	Σ_j e^{h_j − C_ij/ε} = e^{m − |û_i|²/2 − ⟨û_i,Δ̂⟩ − |Δ̂|²/2} · Σ_j e^{a_j − m} e^{⟨û_i, v̂_j⟩}.
//
// Only the last factor couples i and j. With R_x = max|x_i − c_x|,
// R_y = max|y_j − c_y| and ρ = R_x R_y/ε ≥ |⟨û_i, v̂_j⟩|, its exponential is
// replaced by a polynomial of degree K in t = ⟨û, v̂⟩, p(t) = Σ_k a_k t^k:
// the Chebyshev truncation of e^t on [−ρ, ρ] (exppoly.go; a Taylor
// polynomial, a_k = 1/k!, would need a degree about 1.4× higher for the
// same accuracy). Expanding t^k = Σ_{|α|=k} k!/α!·u^α v^α (multi-indices
// α) separates the sum into moments of the columns,
//
//	M_α = a_{|α|}·|α|!/α! · Σ_j e^{a_j − m} v̂_j^α,   S_i = Σ_{|α|≤K} û_i^α M_α,
//
// at a cost of (N + M)·C(K+D, D) instead of N·M.
//
// Error bound: each term's polynomial is within δ_K(ρ) = 2e^ρ Σ_{n>K} I_n(ρ)
// of e^{⟨û,v̂⟩} relatively (see exppoly.go); a sum of positive terms is then
// within the same relative error, i.e. the soft-min within ε·δ_K(ρ)
// absolutely. Rounding: the polynomial's terms are at most Σ_k |a_k| ρ^k ≈
// e^{ρ} times the weights' sum while the result is at least e^{−ρ} times
// it, so float64 rounding is amplified by at most about e^{2ρ};
// taylorMaxRho bounds that.
//
// The result is computed in float64 whatever T, and is deterministic: the
// moments are summed over fixed chunks of columns in a fixed order.

// taylorMaxRho bounds ρ = R_x R_y/ε for the Taylor soft-min so that the
// rounding amplification e^{2ρ}·2⁻⁵³ stays below the tolerance: 5 for
// float64 (2.4e-12 against 1e-14 per term, worst case), 8 for float32
// inputs (9e-10 against 1e-8).
func taylorMaxRho[T Float]() float64 {
	var z T
	if _, ok := any(z).(float32); ok {
		return 8
	}
	return 5
}

// taylorChunk is the number of columns whose moments one task sums.
const taylorChunk = 1024

// taylorTol is the relative error the Taylor soft-min's degree is chosen
// for: far below the rounding of T's own reductions.
func taylorTol[T Float]() float64 {
	var z T
	if _, ok := any(z).(float32); ok {
		return 1e-8
	}
	return 1e-14
}

// monomials is the graded list of the multi-indices α of D variables with
// |α| ≤ K: monomial t > 0 is monomial parent[t] times variable dim[t], and
// inv[t] = 1/α!. Degree-d monomials occupy [start[d], start[d+1]).
type monomials struct {
	d, k        int
	parent, dim []int
	inv         []float64
	start       []int
}

func newMonomials(d, k int) *monomials {
	m := &monomials{d: d, k: k, parent: []int{-1}, dim: []int{-1}, inv: []float64{1}, start: []int{0, 1}}
	exps := [][]int{make([]int, d)}
	last := []int{0} // the largest variable of each monomial (to list each once)
	for deg := 1; deg <= k; deg++ {
		for t := m.start[deg-1]; t < m.start[deg]; t++ {
			for q := last[t]; q < d; q++ {
				e := append([]int(nil), exps[t]...)
				e[q]++
				m.parent = append(m.parent, t)
				m.dim = append(m.dim, q)
				m.inv = append(m.inv, m.inv[t]/float64(e[q]))
				exps = append(exps, e)
				last = append(last, q)
			}
		}
		m.start = append(m.start, len(m.parent))
	}
	return m
}

// taylorLanes is the number of points whose monomials are evaluated
// together (independent chains for the CPU's pipelines).
const taylorLanes = 8

// lanes holds one value per point of a group of taylorLanes points.
type lanes [taylorLanes]float64

// evalLanes writes the monomials of degree ≤ K of taylorLanes points: u[q][l] is variable q
// of point l, out[t][l] monomial t of point l.
func (m *monomials) evalLanes(u []lanes, k int, out []lanes) {
	out[0] = lanes{1, 1, 1, 1, 1, 1, 1, 1}
	n := m.count(k)
	par, dim := m.parent[:n], m.dim[:n]
	for t := 1; t < n; t++ {
		a, b, o := &out[par[t]], &u[dim[t]], &out[t]
		o[0], o[1], o[2], o[3] = a[0]*b[0], a[1]*b[1], a[2]*b[2], a[3]*b[3]
		o[4], o[5], o[6], o[7] = a[4]*b[4], a[5]*b[5], a[6]*b[6], a[7]*b[7]
	}
}

// count returns the number of monomials of degree ≤ K.
func (m *monomials) count(k int) int { return m.start[k+1] }

// taylorCount returns C(K+D, D), the number of monomials of degree ≤ K in D
// variables.
func taylorCount(d, k int) float64 {
	c := 1.0
	for q := 1; q <= d; q++ {
		c = c * float64(k+q) / float64(q)
	}
	return c
}

// taylorPair is the Taylor soft-min between two clouds (SoftMin without
// gradients only): see the comment above. It is valid for ε ≥ epsMin, the
// smallest temperature it was built for.
type taylorPair[T Float] struct {
	x, y   Cloud[T]
	cx, cy []float64 // centres (bounding-box middles)
	rx, ry float64   // radii about them
	res    Resources
	mono   *monomials
	tol    float64
}

// cloudBall returns the bounding-box centre of c and the largest distance
// of a point to it.
func cloudBall[T Float](c Cloud[T]) ([]float64, float64) {
	d := c.D
	lo, hi := make([]float64, d), make([]float64, d)
	for q := range lo {
		lo[q], hi[q] = math.Inf(1), math.Inf(-1)
	}
	for i := 0; i < c.N; i++ {
		for q, v := range c.Point(i) {
			lo[q], hi[q] = min(lo[q], float64(v)), max(hi[q], float64(v))
		}
	}
	cen := make([]float64, d)
	for q := range cen {
		cen[q] = (lo[q] + hi[q]) / 2
	}
	var r2 float64
	for i := 0; i < c.N; i++ {
		var s float64
		for q, v := range c.Point(i) {
			s += (float64(v) - cen[q]) * (float64(v) - cen[q])
		}
		r2 = max(r2, s)
	}
	return cen, math.Sqrt(r2)
}

// taylorRho returns ρ = R_x R_y/ε for two clouds' balls.
func taylorRho(rx, ry, eps float64) float64 { return rx * ry / eps }

// newTaylorPair returns the Taylor soft-min between x and y for every
// ε ≥ epsMin, or ok = false when the degree epsMin needs is out of range.
func newTaylorPair[T Float](x, y Cloud[T], epsMin float64, res Resources) (*taylorPair[T], bool) {
	p := &taylorPair[T]{x: x, y: y, res: res, tol: taylorTol[T]()}
	p.cx, p.rx = cloudBall(x)
	p.cy, p.ry = cloudBall(y)
	k, ok := expPolyDegree(taylorRho(p.rx, p.ry, epsMin), p.tol, taylorMaxRho[T]())
	if !ok {
		return nil, false
	}
	p.mono = newMonomials(x.D, k)
	return p, true
}

func (p *taylorPair[T]) Close() error { return nil }

func (p *taylorPair[T]) KernelSum(Kernel, T, []T, []T, []T) error {
	return errorf(ErrInternal, "taylor soft-min: no kernel sums")
}

// SoftMin computes out_i = −ε·LSE_j(h_j − C_ij/ε) within the Taylor bound
// (no gradients: the multiscale backend's final step never runs here).
func (p *taylorPair[T]) SoftMin(eps T, h, out, grad []T) error {
	if grad != nil {
		return errorf(ErrInternal, "taylor soft-min: no gradients")
	}
	e := float64(eps)
	rho := taylorRho(p.rx, p.ry, e)
	k, ok := expPolyDegree(rho, p.tol, taylorMaxRho[T]())
	if !ok || k > p.mono.k {
		return errorf(ErrInternal, "taylor soft-min used at ε = %g below its range", e)
	}
	d := p.x.D
	s := 1 / math.Sqrt(e)
	dh := make([]float64, d) // Δ̂
	for q := range dh {
		dh[q] = (p.cx[q] - p.cy[q]) * s
	}
	nm := p.mono.count(k)
	// a_j and its maximum.
	a := make([]float64, p.y.N)
	m := math.Inf(-1)
	for j := range a {
		var v2, vd float64
		for q, v := range p.y.Point(j) {
			w := (float64(v) - p.cy[q]) * s
			v2 += w * w
			vd += w * dh[q]
		}
		a[j] = float64(h[j]) - v2/2 + vd
		m = max(m, a[j])
	}
	if math.IsInf(m, -1) || math.IsNaN(m) {
		for i := range out {
			out[i] = T(math.Inf(1))
		}
		return nil
	}
	// Moments, per fixed chunk of columns (in groups of taylorLanes points),
	// then summed in chunk order.
	nc := (p.y.N + taylorChunk - 1) / taylorChunk
	parts := make([][]float64, nc)
	var stopped atomic.Bool
	ParallelRows(nc, p.res.Threads, 1, func(lo, hi int) {
		mon, v := make([]lanes, nm), make([]lanes, d)
		for c := lo; c < hi; c++ {
			if p.res.Stop.Stopped() {
				stopped.Store(true)
				return
			}
			acc := make([]float64, nm)
			for j0 := c * taylorChunk; j0 < min((c+1)*taylorChunk, p.y.N); j0 += taylorLanes {
				var w lanes
				for l := range taylorLanes {
					j := j0 + l
					if j >= min((c+1)*taylorChunk, p.y.N) {
						for q := range v {
							v[q][l] = 0
						}
						continue
					}
					w[l] = math.Exp(a[j] - m)
					for q, yv := range p.y.Point(j) {
						v[q][l] = (float64(yv) - p.cy[q]) * s
					}
				}
				p.mono.evalLanes(v, k, mon)
				for t := range mon {
					mt := &mon[t]
					acc[t] += w[0]*mt[0] + w[1]*mt[1] + w[2]*mt[2] + w[3]*mt[3] + w[4]*mt[4] + w[5]*mt[5] + w[6]*mt[6] + w[7]*mt[7]
				}
			}
			parts[c] = acc
		}
	})
	if stopped.Load() {
		return Cancelled()
	}
	mom := make([]float64, nm)
	for _, part := range parts {
		for t, v := range part {
			mom[t] += v
		}
	}
	// Degree-d moments times a_d·d!/α! (see the comment above).
	poly := expPoly(rho, k)
	fact := 1.0
	for deg := 0; deg <= k; deg++ {
		if deg > 0 {
			fact *= float64(deg)
		}
		for t := p.mono.start[deg]; t < p.mono.start[deg+1]; t++ {
			mom[t] *= p.mono.inv[t] * poly[deg] * fact
		}
	}
	var d2 float64
	for _, v := range dh {
		d2 += v * v
	}
	// Rows, in groups of taylorLanes.
	groups := (p.x.N + taylorLanes - 1) / taylorLanes
	ParallelRows(groups, p.res.Threads, 32, func(lo, hi int) {
		mon, u := make([]lanes, nm), make([]lanes, d)
		for gi := lo; gi < hi; gi++ {
			if gi%128 == 0 && p.res.Stop.Stopped() {
				stopped.Store(true)
				return
			}
			i0 := gi * taylorLanes
			var u2, ud lanes
			for l := range taylorLanes {
				if i0+l >= p.x.N {
					for q := range u {
						u[q][l] = 0
					}
					continue
				}
				for q, xv := range p.x.Point(i0 + l) {
					w := (float64(xv) - p.cx[q]) * s
					u[q][l] = w
					u2[l] += w * w
					ud[l] += w * dh[q]
				}
			}
			p.mono.evalLanes(u, k, mon)
			var sum lanes
			for t := range mon {
				mt, c := &mon[t], mom[t]
				for l := range taylorLanes {
					sum[l] += mt[l] * c
				}
			}
			for l := range taylorLanes {
				if i0+l < p.x.N {
					out[i0+l] = T(-e*(m+math.Log(sum[l])) + e*(u2[l]/2+ud[l]+d2/2))
				}
			}
		}
	})
	if stopped.Load() {
		return Cancelled()
	}
	return nil
}
