package grid

import (
	"math"
	"math/rand/v2"
)

// blobs returns B densities on the grid: a sum of two random Gaussian blobs
// plus a small floor, normalised to mass 1; with zeros, about a fifth of the
// pixels are exactly 0.
func blobs(seed uint64, B int, shape []int, zeros bool) []float64 {
	r := rand.New(rand.NewPCG(seed, 3))
	size := 1
	for _, s := range shape {
		size *= s
	}
	out := make([]float64, B*size)
	d := len(shape)
	for b := 0; b < B; b++ {
		w := out[b*size : (b+1)*size]
		type blob struct {
			c    []float64
			s, m float64
		}
		bl := make([]blob, 2)
		for i := range bl {
			bl[i].c = make([]float64, d)
			for k := range bl[i].c {
				bl[i].c[k] = 0.2 + 0.6*r.Float64()
			}
			bl[i].s, bl[i].m = 0.08+0.1*r.Float64(), 0.3+r.Float64()
		}
		idx := make([]int, d)
		tot := 0.0
		for i := range w {
			v := 1e-3
			for _, g := range bl {
				q := 0.0
				for k, u := range idx {
					x := (float64(u) + .5) / float64(shape[k])
					q += (x - g.c[k]) * (x - g.c[k])
				}
				v += g.m * math.Exp(-q/(2*g.s*g.s))
			}
			if zeros && r.Float64() < 0.2 {
				v = 0
			}
			w[i] = v
			tot += v
			for k := d - 1; k >= 0; k-- {
				if idx[k]++; idx[k] < shape[k] {
					break
				}
				idx[k] = 0
			}
		}
		for i := range w {
			w[i] /= tot
		}
	}
	return out
}

// pixelCentres returns the pixel coordinates (u_k·h_k) of a grid, row-major,
// as a point cloud (size×d).
func pixelCentres(shape []int, spacing []float64) []float64 {
	d := len(shape)
	size := 1
	for _, s := range shape {
		size *= s
	}
	pts := make([]float64, size*d)
	idx := make([]int, d)
	for i := 0; i < size; i++ {
		for k, u := range idx {
			pts[i*d+k] = float64(u) * spacing[k]
		}
		for k := d - 1; k >= 0; k-- {
			if idx[k]++; idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return pts
}

func maxRel(got, want []float64, floor float64) float64 {
	var num, den float64
	for i := range want {
		num += (got[i] - want[i]) * (got[i] - want[i])
		den += want[i] * want[i]
	}
	return math.Sqrt(num) / math.Max(math.Sqrt(den), floor)
}
