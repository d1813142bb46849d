package core

import (
	"math"
	"runtime"
	"sync"
)

// Portable returns the scalar Go engine: the reference implementation of the
// reduction interface, used where no faster engine applies and as the
// conformance oracle for the others.
func Portable[T Float]() Engine[T] { return portable[T]{} }

type portable[T Float] struct{}

func (portable[T]) Name() string { return "portable" }

func (portable[T]) Pair(x, y Cloud[T], cost Cost, threads int) Pair[T] {
	return &rowPair[T]{x: x, y: y, cost: cost, threads: threads, row: onlineRow[T]{x: x, y: y, cost: cost}}
}

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
	xi, d := r.x.Point(i), r.x.D
	for j := 0; j < r.y.N; j++ {
		yj := r.y.Pts[j*d : (j+1)*d]
		var s T
		for k := range xi {
			t := xi[k] - yj[k]
			s += t * t
		}
		buf[j] = s
	}
	return buf[:r.y.N]
}

// rowPair implements Pair over any source of squared-distance rows.
type rowPair[T Float] struct {
	x, y    Cloud[T]
	cost    Cost
	threads int
	row     costRows[T]
}

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

func (p *rowPair[T]) SoftMin(eps T, h, out, grad []T) {
	m := p.y.N
	ParallelRows(p.x.N, p.threads, 64, func(lo, hi int) {
		sbuf, z := make([]T, m), make([]float64, m)
		for i := lo; i < hi; i++ {
			p.softMinRow(i, eps, h, out, grad, p.row.sqDists(i, sbuf), z)
		}
	})
}

// softMinRow reduces row i given its squared distances s: z_j = h_j − C_ij/ε,
// then a max-shifted log-sum-exp and, if asked, the soft-max weighted ∇₁C.
// z is scratch of length M.
func (p *rowPair[T]) softMinRow(i int, eps T, h, out, grad, s []T, z []float64) {
	d, m := p.x.D, p.y.N
	inv := 1 / float64(eps)
	mx := math.Inf(-1)
	for j := 0; j < m; j++ {
		zj := float64(h[j]) - float64(PointCost(p.cost, s[j]))*inv
		z[j] = zj
		mx = math.Max(mx, zj)
	}
	if math.IsInf(mx, -1) {
		out[i] = T(math.Inf(1))
		if grad != nil {
			clear(grad[i*d : (i+1)*d])
		}
		return
	}
	var sum float64
	var g [maxStackD]float64
	gi := g[:0]
	if grad != nil {
		gi = gradBuf(&g, d)
	}
	xi := p.x.Point(i)
	for j := 0; j < m; j++ {
		w := math.Exp(z[j] - mx)
		sum += w
		if grad != nil && w != 0 {
			p.addCostGrad(gi, w, xi, p.y.Point(j), s[j])
		}
	}
	out[i] = T(-float64(eps) * (mx + math.Log(sum)))
	for k := range gi {
		grad[i*d+k] = T(gi[k] / sum)
	}
}

// addCostGrad adds w·∇₁C(x, y) to g (see Cost).
func (p *rowPair[T]) addCostGrad(g []float64, w float64, x, y []T, s T) {
	if p.cost == CostHalfSquared {
		for k := range g {
			g[k] += w * float64(x[k]-y[k])
		}
		return
	}
	if s < T(DistClamp) {
		return
	}
	c := w / math.Sqrt(float64(s))
	for k := range g {
		g[k] += c * float64(x[k]-y[k])
	}
}

func (p *rowPair[T]) KernelSum(k Kernel, sigma T, wts, out, grad []T) {
	m := p.y.N
	ParallelRows(p.x.N, p.threads, 64, func(lo, hi int) {
		sbuf := make([]T, m)
		for i := lo; i < hi; i++ {
			p.kernelRow(i, k, sigma, wts, out, grad, p.row.sqDists(i, sbuf))
		}
	})
}

// kernelRow reduces row i given its squared distances s.
func (p *rowPair[T]) kernelRow(i int, k Kernel, sigma T, wts, out, grad, s []T) {
	d, m := p.x.D, p.y.N
	var g [maxStackD]float64
	gi := g[:0]
	if grad != nil {
		gi = gradBuf(&g, d)
	}
	xi := p.x.Point(i)
	var sum float64
	for j := 0; j < m; j++ {
		val, gf := KernelValue(k, sigma, s[j])
		sum += float64(wts[j]) * float64(val)
		if grad != nil && gf != 0 {
			c := float64(wts[j]) * float64(gf)
			yj := p.y.Point(j)
			for q := range gi {
				gi[q] += c * float64(xi[q]-yj[q])
			}
		}
	}
	out[i] = T(sum)
	for q := range gi {
		grad[i*d+q] = T(gi[q])
	}
}

const maxStackD = 16

// gradBuf returns a zeroed accumulator of length d, on the stack when d is small.
func gradBuf(g *[maxStackD]float64, d int) []float64 {
	if d <= maxStackD {
		return g[:d]
	}
	return make([]float64, d)
}
