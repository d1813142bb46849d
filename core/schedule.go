package core

import "math"

// EstimateDiameter returns the diagonal of the bounding box of all points of
// x and y (every batch item together, as GeomLoss does, §2.1).
func EstimateDiameter[T Float](x, y []T, d int) float64 {
	lo := make([]float64, d)
	hi := make([]float64, d)
	for k := range lo {
		lo[k], hi[k] = math.Inf(1), math.Inf(-1)
	}
	for _, pts := range [][]T{x, y} {
		for i, v := range pts {
			k := i % d
			lo[k] = math.Min(lo[k], float64(v))
			hi[k] = math.Max(hi[k], float64(v))
		}
	}
	var s float64
	for k := range lo {
		s += (hi[k] - lo[k]) * (hi[k] - lo[k])
	}
	return math.Sqrt(s)
}

// EpsSchedule returns GeomLoss's annealing schedule of temperatures (§2.2):
//
//	[diameter^p] ++ [exp(p·ln diameter + k·δ) : k < n] ++ [blur^p]
//
// where the middle part reproduces numpy.arange(p·ln diameter, p·ln blur,
// p·ln scaling) exactly: n = ceil((stop−start)/step) (0 if not positive) and
// δ = (start+step) − start. The duplicated first value is deliberate.
func EpsSchedule(p int, diameter, blur, scaling float64) []float64 {
	fp := float64(p)
	start, stop, step := fp*math.Log(diameter), fp*math.Log(blur), fp*math.Log(scaling)
	n := 0
	if q := (stop - start) / step; q > 0 {
		n = int(math.Ceil(q))
	}
	delta := (start + step) - start
	eps := make([]float64, 0, n+2)
	eps = append(eps, math.Pow(diameter, fp))
	for k := 0; k < n; k++ {
		eps = append(eps, math.Exp(start+float64(k)*delta))
	}
	return append(eps, math.Pow(blur, fp))
}
