package grid

import (
	"math"

	"github.com/libgeomloss/libgeomloss/core"
)

// blockSize is the number of pixels whose maximum bounds a block of terms in
// a truncated pass.
const blockSize = 8

// lineScratch is one goroutine's working memory for passes over lines of n
// pixels.
type lineScratch struct {
	arg   []int     // argmax_v of z_v − κ(u − v)
	bmax  []float64 // block maxima of z
	terms []float64 // kept terms of one output
	// lower envelope of parabolas (p = 2)
	vtx []int
	brk []float64
}

func newLineScratch(n int) *lineScratch {
	return &lineScratch{
		arg: make([]int, n), bmax: make([]float64, (n+blockSize-1)/blockSize), terms: make([]float64, n),
		vtx: make([]int, n), brk: make([]float64, n+1),
	}
}

// lse computes out[u] = LSE_v(z_v − κ(u − v)) for one line (len(z) = k.N),
// dropping the terms below m_u − k.Tau (AxisKernel). It finds, for each u, a
// maximising v (exactly for p = 1 and p = 2 up to rounding, by the linear-time
// distance transforms below), takes m_u = z_v − κ(u − v) there, and sums
// e^(t − m_u) over the kept terms t in increasing v with core.ExpShifted.
// The candidates are bounded twice: by the radius r_u beyond which even the
// line's maximum M gives a term below m_u − Tau (κ(r) ≤ M − m_u + Tau), and by
// the maxima of blocks of 8 pixels. Dropped terms are exactly those the rule
// excludes; the bounds only avoid looking at them.
func (s *lineScratch) lse(k *AxisKernel, z, out []float64) {
	n := len(z)
	M := math.Inf(-1)
	for _, v := range z {
		M = max(M, v)
	}
	if math.IsInf(M, -1) || n == 1 {
		copy(out, z)
		return
	}
	cost := k.Cost
	if k.P == 2 {
		s.argmaxQuadratic(z, k.Cost[1])
	} else {
		s.argmaxLinear(z, cost)
	}
	for b := range s.bmax {
		m := math.Inf(-1)
		for _, v := range z[b*blockSize : min((b+1)*blockSize, n)] {
			m = max(m, v)
		}
		s.bmax[b] = m
	}
	for u := 0; u < n; u++ {
		a := s.arg[u]
		mu := z[a] - cost[absInt(u-a)]
		theta := mu - k.Tau // −Inf when dense
		// r: the largest Δ with κ(Δ) ≤ M − θ (all of them when dense).
		r := n - 1
		if lim := M - theta; !math.IsInf(lim, 1) && cost[r] > lim {
			lo, hi := 0, r // cost[lo] ≤ lim < cost[hi]
			for hi-lo > 1 {
				mid := (lo + hi) / 2
				if cost[mid] <= lim {
					lo = mid
				} else {
					hi = mid
				}
			}
			r = lo
		}
		vlo, vhi := max(u-r, 0), min(u+r, n-1)
		t := s.terms[:0]
		for b := vlo / blockSize; b <= vhi/blockSize; b++ {
			bs, be := b*blockSize, min((b+1)*blockSize, n)-1
			d := 0
			if u < bs {
				d = bs - u
			} else if u > be {
				d = u - be
			}
			if s.bmax[b]-cost[d] < theta {
				continue
			}
			for v := max(bs, vlo); v <= min(be, vhi); v++ {
				if x := z[v] - cost[absInt(u-v)]; x >= theta {
					t = append(t, x)
				}
			}
		}
		out[u] = mu + math.Log(core.ExpShifted(t, mu))
	}
}

// argmaxLinear sets s.arg[u] to a maximiser of z_v − κ(u − v) for a cost
// additive along the line (p = 1: κ(Δ) = A·|Δ|), by one pass from each side.
func (s *lineScratch) argmaxLinear(z, cost []float64) {
	n := len(z)
	val := func(u, v int) float64 { return z[v] - cost[absInt(u-v)] }
	s.arg[0] = 0
	for u := 1; u < n; u++ {
		if c := s.arg[u-1]; val(u, c) > z[u] {
			s.arg[u] = c
		} else {
			s.arg[u] = u
		}
	}
	right := n - 1
	for u := n - 1; u >= 0; u-- {
		if u < n-1 && val(u, right) > z[u] {
			// keep right
		} else {
			right = u
		}
		if val(u, right) > val(u, s.arg[u]) {
			s.arg[u] = right
		}
	}
}

// argmaxQuadratic sets s.arg[u] to a maximiser of z_v − A(u − v)² (A = κ(1))
// by the lower envelope of the parabolas (u − v)² − z_v/A (Felzenszwalb and
// Huttenlocher's distance transform). −∞ entries are skipped; at least one is
// finite. Rounding can only make the chosen v slightly suboptimal, which the
// caller tolerates (m_u is then a term slightly below the max).
func (s *lineScratch) argmaxQuadratic(z []float64, A float64) {
	n := len(z)
	f := func(v int) float64 { return -z[v]/A + float64(v)*float64(v) }
	k := -1
	for q := 0; q < n; q++ {
		if math.IsInf(z[q], -1) {
			continue
		}
		if k < 0 {
			k = 0
			s.vtx[0], s.brk[0] = q, math.Inf(-1)
			continue
		}
		fq := f(q)
		x := math.Inf(-1)
		for k >= 0 {
			p := s.vtx[k]
			x = (fq - f(p)) / float64(2*(q-p))
			if x > s.brk[k] {
				break
			}
			k--
		}
		if k < 0 { // q's parabola lies below every earlier one
			k = 0
			s.vtx[0], s.brk[0] = q, math.Inf(-1)
			continue
		}
		k++
		s.vtx[k], s.brk[k] = q, x
	}
	j := 0
	for u := 0; u < n; u++ {
		for j < k && s.brk[j+1] <= float64(u) {
			j++
		}
		s.arg[u] = s.vtx[j]
	}
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
