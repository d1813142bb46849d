package core

import (
	"math"
	"runtime"
	"sync"
)

// Portable returns the scalar Go engine: the reference implementation of the
// reduction interface, used where no faster engine applies and as the
// conformance oracle for the others.
//
// Each row i is reduced on its own (rows split among threads by ParallelRows)
// in passes over j < M with per-goroutine scratch: the squared distances
// s_ij in T (specialised loops for D = 1, 2, 3), then, in float64,
// z_j = h_j − C_ij/ε and its max m, the exponentials e^(z_j − m) and their sum
// (left to right), and last, if asked, the gradient. The exponential is
// expFast: relative error below 1e-15 (measured ≤ 5e-16), flushed to 0 below
// e^−707 < 2⁻¹⁰¹⁹. Results are identical bit for bit whatever the thread
// count and whether or not the gradient is asked for.
func Portable[T Float](res Resources) Engine[T] { return portable[T]{res: res} }

type portable[T Float] struct{ res Resources }

func (portable[T]) Name() string   { return "portable" }
func (portable[T]) Device() string { return "cpu" }

func (e portable[T]) Pair(x, y Cloud[T], cost Cost) (Pair[T], error) {
	return &rowPair[T]{x: x, y: y, cost: cost, res: e.res, row: onlineRow[T]{x: x, y: y, cost: cost}}, nil
}

// DensePair implements DenseEngine with core's portable dense Pair.
func (e portable[T]) DensePair(x, y Cloud[T], cost Cost) (Pair[T], error) {
	return densePair(x, y, cost, e.res)
}

var (
	_ Engine[float32]      = portable[float32]{}
	_ DenseEngine[float64] = portable[float64]{}
)

// costRows produces the squared distances s_ij (j < M) of one row i into buf.
// The online engine computes them on the fly; the tensorized backend reads a
// stored matrix. Everything downstream of the row (soft-min, gradients,
// kernel sums) is shared, so both backends reduce identically.
type costRows[T Float] interface {
	sqDists(i int, buf []T) []T
}

type onlineRow[T Float] struct {
	x, y Cloud[T]
	cost Cost
}

func (r onlineRow[T]) sqDists(i int, buf []T) []T {
	m, d := r.y.N, r.x.D
	xi, buf := r.x.Point(i), buf[:m]
	// s = ((x₀−y₀)² + (x₁−y₁)²) + …, rounded in T, in this order for every D.
	switch d {
	case 1:
		x0, yp := xi[0], r.y.Pts[:m]
		for j := range buf {
			t0 := x0 - yp[j]
			buf[j] = t0 * t0
		}
	case 2:
		x0, x1, yp := xi[0], xi[1], r.y.Pts[:2*m]
		for j := range buf {
			yj := yp[2*j : 2*j+2 : 2*j+2]
			t0, t1 := x0-yj[0], x1-yj[1]
			buf[j] = t0*t0 + t1*t1
		}
	case 3:
		x0, x1, x2, yp := xi[0], xi[1], xi[2], r.y.Pts[:3*m]
		for j := range buf {
			yj := yp[3*j : 3*j+3 : 3*j+3]
			t0, t1, t2 := x0-yj[0], x1-yj[1], x2-yj[2]
			buf[j] = t0*t0 + t1*t1 + t2*t2
		}
	default:
		for j := range buf {
			yj := r.y.Pts[j*d : (j+1)*d]
			var s T
			for k := range xi {
				t := xi[k] - yj[k]
				s += t * t
			}
			buf[j] = s
		}
	}
	return buf
}

// rowPair implements Pair over any source of squared-distance rows.
type rowPair[T Float] struct {
	x, y Cloud[T]
	cost Cost
	q    float64 // the exponent of CostPower (PowerPair)
	sym  int8    // fused updates: 0 unknown, 1 the two clouds are the same points, 2 not (see symmetric)
	res  Resources
	row  costRows[T]
}

// Close releases nothing: a rowPair holds only garbage-collected memory.
func (p *rowPair[T]) Close() error { return nil }

// ParallelRows splits the rows [0, n) into at most threads contiguous chunks
// (≤ 0: all cores; chunks of at least minRows rows) and runs body on each
// chunk in its own goroutine. The split depends only on n and threads, so
// results are reproducible bit for bit.
func ParallelRows(n, threads, minRows int, body func(lo, hi int)) {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	if w := (n + minRows - 1) / minRows; w < threads {
		threads = w
	}
	if threads <= 1 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + threads - 1) / threads
	for lo := 0; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			body(lo, hi)
		}(lo, min(lo+chunk, n))
	}
	wg.Wait()
}

func (p *rowPair[T]) SoftMin(eps T, h, out, grad []T) error {
	m := p.y.N
	ParallelRows(p.x.N, p.res.Threads, 64, func(lo, hi int) {
		sbuf, z := make([]T, m), make([]float64, m)
		var r []float64
		if grad != nil && p.cost == CostEuclidean {
			r = make([]float64, m)
		}
		for i := lo; i < hi && !p.res.Stop.Stopped(); i++ {
			p.softMinRow(i, eps, h, out, grad, p.row.sqDists(i, sbuf), z, r)
		}
	})
	return p.res.Stop.Err()
}

// softMinRow reduces row i given its squared distances s:
//
//	z_j = h_j − C(s_j)/ε                      (float64, C rounded in T as PointCost)
//	out_i = −ε (m + log Σ_j exp(z_j − m)),    m = max_j z_j
//	grad_i = Σ_j exp(z_j − m) ∇₁C_ij / Σ_j exp(z_j − m)
//
// in three passes over the row (z and its max; the exponentials and their
// sum, left to right in float64; the gradient), so the value never depends on
// whether the gradient is asked for. The exponentials are expFast (relative
// error < 1e-15). z is scratch of length M, and so is r for the gradient of
// the Euclidean cost (nil otherwise), which keeps sqrt(max(s_j, DistClamp)).
// The power cost's gradient factor s^{q/2−1} is recomputed in the last pass.
func (p *rowPair[T]) softMinRow(i int, eps T, h, out, grad, s []T, z, r []float64) {
	d := p.x.D
	s = s[:len(z)]
	h = h[:len(z)]
	inv := 1 / float64(eps)
	mx := math.Inf(-1)
	if p.cost == CostHalfSquared {
		for j, sj := range s {
			zj := float64(h[j]) - float64(sj/2)*inv
			z[j] = zj
			if zj > mx {
				mx = zj
			}
		}
	} else if p.cost == CostPower {
		for j, sj := range s {
			zj := float64(h[j]) - float64(powCost(sj, p.q))*inv
			z[j] = zj
			if zj > mx {
				mx = zj
			}
		}
	} else if r == nil {
		for j, sj := range s {
			c := T(math.Sqrt(float64(max(sj, T(DistClamp)))))
			zj := float64(h[j]) - float64(c)*inv
			z[j] = zj
			if zj > mx {
				mx = zj
			}
		}
	} else {
		r = r[:len(z)]
		for j, sj := range s {
			rj := math.Sqrt(float64(max(sj, T(DistClamp))))
			r[j] = rj
			zj := float64(h[j]) - float64(T(rj))*inv
			z[j] = zj
			if zj > mx {
				mx = zj
			}
		}
	}
	if math.IsInf(mx, -1) {
		// All terms are −∞ (or NaN, which the sum below would propagate).
		nan := false
		for _, zj := range z {
			nan = nan || zj != zj
		}
		if !nan {
			out[i] = T(math.Inf(1))
			if grad != nil {
				clear(grad[i*d : (i+1)*d])
			}
			return
		}
	}
	sum := expShifted(z, mx)
	out[i] = T(-float64(eps) * (mx + math.Log(sum)))
	if grad == nil {
		return
	}
	if p.cost == CostPower {
		// ∇₁C = s^{q/2−1} (x − y), 0 at s = 0.
		for j, sj := range s {
			z[j] *= powGrad(float64(sj), p.q)
		}
	} else if p.cost == CostEuclidean {
		// ∇₁C = (x − y)/sqrt(s), 0 below the clamp.
		r = r[:len(z)]
		for j, sj := range s {
			if sj < T(DistClamp) {
				z[j] = 0
			} else {
				z[j] /= r[j]
			}
		}
	}
	var g [maxStackD]float64
	gi := gradBuf(&g, d)
	accumGrad(gi, z, p.x.Point(i), p.y)
	for k := range gi {
		grad[i*d+k] = T(gi[k] / sum)
	}
}

// accumGrad adds Σ_j c_j (x − y_j) to g (the difference rounded in T, the
// products and sums in float64, j in increasing order).
func accumGrad[T Float](g, c []float64, x []T, y Cloud[T]) {
	m := len(c)
	switch y.D {
	case 1:
		x0 := x[0]
		yp := y.Pts[:m]
		var g0 float64
		for j, cj := range c {
			g0 += cj * float64(x0-yp[j])
		}
		g[0] += g0
	case 2:
		x0, x1 := x[0], x[1]
		yp := y.Pts[:2*m]
		var g0, g1 float64
		for j, cj := range c {
			yj := yp[2*j : 2*j+2 : 2*j+2]
			g0 += cj * float64(x0-yj[0])
			g1 += cj * float64(x1-yj[1])
		}
		g[0] += g0
		g[1] += g1
	case 3:
		x0, x1, x2 := x[0], x[1], x[2]
		yp := y.Pts[:3*m]
		var g0, g1, g2 float64
		for j, cj := range c {
			yj := yp[3*j : 3*j+3 : 3*j+3]
			g0 += cj * float64(x0-yj[0])
			g1 += cj * float64(x1-yj[1])
			g2 += cj * float64(x2-yj[2])
		}
		g[0] += g0
		g[1] += g1
		g[2] += g2
	default:
		d := y.D
		x = x[:d]
		for j, cj := range c {
			yj := y.Pts[j*d : (j+1)*d]
			for k := range x {
				g[k] += cj * float64(x[k]-yj[k])
			}
		}
	}
}

func (p *rowPair[T]) KernelSum(k Kernel, sigma T, wts, out, grad []T) error {
	m := p.y.N
	ParallelRows(p.x.N, p.res.Threads, 64, func(lo, hi int) {
		sbuf, c := make([]T, m), make([]float64, m)
		for i := lo; i < hi && !p.res.Stop.Stopped(); i++ {
			p.kernelRow(i, k, sigma, wts, out, grad, p.row.sqDists(i, sbuf), c)
		}
	})
	return p.res.Stop.Err()
}

// kernelRow reduces row i given its squared distances s: out_i = Σ_j w_j k_ij
// and grad_i = Σ_j w_j g_ij (x_i − y_j), with k and g as KernelValue (see
// Kernel) but evaluated in float64 with expFast (so kernel values below
// 2⁻¹⁰¹⁹ are 0), the sum left to right. c is scratch of length M.
func (p *rowPair[T]) kernelRow(i int, k Kernel, sigma T, wts, out, grad, s []T, c []float64) {
	d := p.x.D
	s = s[:len(c)]
	wts = wts[:len(c)]
	sg := float64(sigma)
	var sum float64
	switch k {
	case KernelGaussian:
		a := -1 / (2 * sg * sg)
		b := -1 / (sg * sg)
		for j, sj := range s {
			c[j] = float64(sj) * a
		}
		expShifted(c, 0)
		for j, e := range c {
			wv := float64(wts[j]) * e
			sum += wv
			c[j] = wv * b
		}
	case KernelLaplacian:
		iv := 1 / (sg * sg)
		for j, sj := range s {
			q := float64(sj) * iv
			r := math.Sqrt(max(q, DistClamp))
			wv := float64(wts[j]) * expFast(-r)
			sum += wv
			if q < DistClamp {
				c[j] = 0
			} else {
				c[j] = -wv * iv / r
			}
		}
	default: // KernelEnergy
		for j, sj := range s {
			r := math.Sqrt(max(float64(sj), DistClamp))
			w := float64(wts[j])
			sum -= w * r
			if float64(sj) < DistClamp {
				c[j] = 0
			} else {
				c[j] = -w / r
			}
		}
	}
	out[i] = T(sum)
	if grad == nil {
		return
	}
	var g [maxStackD]float64
	gi := gradBuf(&g, d)
	accumGrad(gi, c, p.x.Point(i), p.y)
	for q := range gi {
		grad[i*d+q] = T(gi[q])
	}
}

// expShifted overwrites z_j with e^(z_j − m), computed as expFast, and returns
// their sum, accumulated in increasing j.
func expShifted(z []float64, m float64) (sum float64) {
	const (
		shift = 0x1.8p52
		inv   = expN / math.Ln2
		l2hi  = 6.93147180369123816490e-01 / expN // 32 significant bits: kf·l2hi is exact for |kf| < 2²¹
		l2lo  = 1.90821492927058770002e-10 / expN
	)
	j := 0
	for ; j < len(z); j++ {
		x := z[j] - m
		if !(x >= -707 && x <= 707) {
			if x < -707 {
				z[j] = 0 // e^x < 2⁻¹⁰¹⁹: flushed, clear of the slow subnormal range
				continue
			}
			break // overflow, +Inf, NaN: the loop below
		}
		t := x*inv + shift
		kf := t - shift
		k := int64(math.Float64bits(t) - math.Float64bits(shift)) // = kf
		r := (x - kf*l2hi) - kf*l2lo
		p := 1 + r*(1+r*(1./2+r*(1./6+r*(1./24))))
		v := expTab[k&(expN-1)] * p
		e := math.Float64frombits(math.Float64bits(v) + uint64(k>>expBits)<<52)
		z[j] = e
		sum += e
	}
	for ; j < len(z); j++ {
		z[j] = expFast(z[j] - m)
		sum += z[j]
	}
	return sum
}

// expFast returns e^x for any float64 x with a relative error below 1e-15
// (TestExpFast measures ≤ 5e-16 against math.Exp, itself within 1 ulp), by
// table-driven range reduction:
//
//	x = (256·q + j)·ln2/256 + r,   |r| ≤ ln2/512,   0 ≤ j < 256
//	e^x = 2^q · 2^(j/256) · P(r)
//
// with 2^(j/256) from expTab (math.Exp2, within 1 ulp), r computed by a
// two-constant Cody–Waite reduction, and P the degree-4 Taylor polynomial of
// e^r (truncation error below r⁵/5! < 4e-17). Below −707 (e^x < 2⁻¹⁰¹⁹, and
// where 2^q·… could leave the normal range) it returns 0: such terms are
// invisible next to the max-shifted soft-min's leading term 1, and the
// conformance suite lets kernel values below 2⁻¹⁰⁰⁰ flush to 0; this also
// keeps clear of subnormal arithmetic, which costs a microcode assist per
// operation. Above 707, for +Inf and NaN it defers to math.Exp.
func expFast(x float64) float64 {
	if !(x >= -707 && x <= 707) {
		if x < -707 {
			return 0
		}
		return math.Exp(x)
	}
	z := [1]float64{x}
	return expShifted(z[:], 0)
}

const (
	expBits = 8
	expN    = 1 << expBits
)

// expTab[j] = 2^(j/256).
var expTab = func() (t [expN]float64) {
	for j := range t {
		t[j] = math.Exp2(float64(j) / expN)
	}
	return t
}()

const maxStackD = 16

// gradBuf returns a zeroed accumulator of length d, on the stack when d is small.
func gradBuf(g *[maxStackD]float64, d int) []float64 {
	if d <= maxStackD {
		return g[:d]
	}
	return make([]float64, d)
}
