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
	ez    []float64 // e^(z_v − M)
	eb    []float64 // e^(z_v − max of v's block)
	// lower envelope of parabolas (p = 2)
	vtx []int
	brk []float64
}

func newLineScratch(n int) *lineScratch {
	return &lineScratch{
		arg: make([]int, n), bmax: make([]float64, (n+blockSize-1)/blockSize), terms: make([]float64, n), ez: make([]float64, n), eb: make([]float64, n),
		vtx: make([]int, n), brk: make([]float64, n+1),
	}
}

// lse computes out[u] = LSE_v(z_v − κ(u − v)) for one line (len(z) = k.N),
// dropping only terms below m_u − k.Tau (AxisKernel). It finds, for each u, a
// maximising v (exactly for p = 1 and p = 2 up to rounding, by the linear-time
// distance transforms below), takes m_u = z_v − κ(u − v) there, and sums
// e^(t − m_u) over the terms t of a window of v, in increasing v, with
// core.ExpShifted. The window is the radius r_u beyond which even the line's
// maximum M gives a term below m_u − Tau (κ(r) ≤ M − m_u + Tau); a window
// wider than 4 blocks of 8 pixels is cut further to the blocks whose maximum
// can give a term above m_u − Tau. Terms kept beyond the rule's only make
// the sum more exact.
//
// Where it is safe the sum is a product sum instead, with no exponential
// per term: with E_v = e^(z_v − M) (one exponential per pixel) and the
// symmetric kernel table ksym[n−1+Δ] = e^(−κ(|Δ|)) (len 2n−1),
//
//	out_u = M + ln Σ_v E_v·ksym[n−1+v−u]   (productSum),
//
// used when m_u ≥ M − 600 and κ(r_u) ≤ 600: then every factor and every term
// the rule keeps (≥ e^(m_u − Tau − M)) is a normal float64 far from
// underflow (Tau ≤ 40 for any tolerance used), so both forms agree to
// rounding; otherwise (far from any mass, e.g. in zero regions) the
// max-shifted form runs, except, in a window cut to blocks, for the blocks
// b whose maximum M_b is at most 600 − Tau above m_u: they are summed as
// e^(M_b − m_u)·Σ_{v∈b} e^(z_v − M_b)·e^(−κ) under the same guarantee (one
// exponential per block instead of one per term).
func (s *lineScratch) lse(k *AxisKernel, ksym, z, out []float64) {
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
	blocks, products, blockScaled := false, false, false
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
		if mu-M >= -600 && cost[r] <= 600 && k.Tau <= 40 {
			if !products {
				for v, x := range z {
					s.ez[v] = x - M
				}
				core.ExpShifted(s.ez, 0)
				products = true
			}
			out[u] = M + logFast(productSum(s.ez, ksym, u, vlo, vhi))
			continue
		}
		t := s.terms[:0]
		if vhi-vlo < 4*blockSize || math.IsInf(theta, -1) {
			t = appendTerms(t, z, cost, u, vlo, vhi)
		} else {
			if !blocks {
				s.blockMaxima(z)
				blocks = true
			}
			var prod float64 // Σ over the blocks summed as products, × e^(−m_u)
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
				if bm := s.bmax[b]; bm-mu <= 600-k.Tau {
					if !blockScaled {
						for v, x := range z {
							s.eb[v] = x - s.bmax[v/blockSize]
						}
						core.ExpShifted(s.eb, 0)
						blockScaled = true
					}
					prod += math.Exp(bm-mu) * productSum(s.eb, ksym, u, max(bs, vlo), min(be, vhi))
				} else {
					t = appendTerms(t, z, cost, u, max(bs, vlo), min(be, vhi))
				}
			}
			out[u] = mu + logFast(prod+core.ExpShifted(t, mu))
			continue
		}
		out[u] = mu + logFast(core.ExpShifted(t, mu))
	}
}

// productSum returns Σ_{lo ≤ v ≤ hi} ez_v·ksym[n−1+v−u] (ksym[n−1+Δ] =
// e^(−κ(|Δ|)), n = len(ez)): a dot product of two contiguous runs, summed in
// four interleaved partial sums (v ≡ lo, lo+1, lo+2, lo+3 mod 4) then
// ((s0 + s1) + (s2 + s3)) — a fixed order, so the result is reproducible.
func productSum(ez, ksym []float64, u, lo, hi int) float64 {
	x := ez[lo : hi+1]
	k := ksym[len(ez)-1-u+lo:]
	k = k[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * k[i]
		s1 += x[i+1] * k[i+1]
		s2 += x[i+2] * k[i+2]
		s3 += x[i+3] * k[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * k[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// appendTerms appends z_v − κ(u − v) for lo ≤ v ≤ hi to t.
func appendTerms(t, z, cost []float64, u, lo, hi int) []float64 {
	for v := lo; v <= min(hi, u); v++ {
		t = append(t, z[v]-cost[u-v])
	}
	for v := max(lo, u+1); v <= hi; v++ {
		t = append(t, z[v]-cost[v-u])
	}
	return t
}

// blockMaxima sets s.bmax to the maxima of z over blocks of blockSize pixels.
func (s *lineScratch) blockMaxima(z []float64) {
	for b := range s.bmax {
		m := math.Inf(-1)
		for _, v := range z[b*blockSize : min((b+1)*blockSize, len(z))] {
			m = max(m, v)
		}
		s.bmax[b] = m
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
	f := s.ez[:n] // scratch: f_v = v² − z_v/A (lse fills ez only afterwards)
	inv := 1 / A
	for v, x := range z {
		f[v] = float64(v)*float64(v) - x*inv
	}
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
		fq := f[q]
		x := math.Inf(-1)
		for k >= 0 {
			p := s.vtx[k]
			x = (fq - f[p]) / float64(2*(q-p))
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
