package main

import (
	"fmt"
	"math"
	"os"

	"github.com/libgeomloss/libgeomloss/core"
)

// needed prints, for every ε of the default schedule, the fraction of the
// (i, j) pairs that any exact truncation must keep at that iteration: those
// with (f_i + g_j − C_ij)/ε above −truncate (5) and above our test's
// threshold −5 − ln 100, for the cross problem x–y, from the potentials of
// the online run stopped at that ε (blur = ε^{1/2}, same diameter: the
// schedule's prefix; the self problems' duals are not outputs, and their
// fractions are alike). Averaged over the schedule, it bounds the speed-up
// over online of any method that reduces exactly over the pairs it keeps.
func needed(pr core.Problem[float32], eng core.Engine[float32]) {
	diam := core.EstimateDiameter(pr.X, pr.Y, pr.D)
	par := core.DefaultParams()
	eps := core.EpsSchedule(2, diam, par.Blur, par.Scaling)
	fmt.Printf("%8s  %10s %10s\n", "eps", "xy > −5", "xy > −9.6")
	var sum5, sum96 float64
	for _, e := range eps {
		p := par
		p.Backend, p.Diameter, p.Blur = core.Online, diam, math.Sqrt(e)
		res, err := core.Evaluate(core.Config[float32]{Engine: eng}, p, pr, core.Request[float32]{Potentials: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		xy5, xy96 := countKept(pr.X, pr.Y, res.F, res.G, pr.N, pr.M, e)
		fmt.Printf("%8.4g  %10.4g %10.4g\n", e, xy5, xy96)
		sum5 += xy5
		sum96 += xy96
	}
	k := float64(len(eps))
	fmt.Printf("mean over the %d iterations: %.3g (> −5), %.3g (> −9.6): online does %.1f× / %.1f× the needed pairs\n",
		len(eps), sum5/k, sum96/k, k/sum5, k/sum96)
}

// countKept returns the fractions of pairs with (u_i + v_j − |x_i − y_j|²/2)/ε
// above −5 and above −5 − ln 100.
func countKept(x, y, u, v []float32, n, m int, eps float64) (float64, float64) {
	t5, t96 := -5*eps, (-5-math.Log(100))*eps
	var c5, c96 int64
	for i := 0; i < n; i++ {
		x0, x1, x2, ui := float64(x[3*i]), float64(x[3*i+1]), float64(x[3*i+2]), float64(u[i])
		for j := 0; j < m; j++ {
			d0, d1, d2 := x0-float64(y[3*j]), x1-float64(y[3*j+1]), x2-float64(y[3*j+2])
			z := ui + float64(v[j]) - (d0*d0+d1*d1+d2*d2)/2
			if z > t96 {
				c96++
				if z > t5 {
					c5++
				}
			}
		}
	}
	nm := float64(n) * float64(m)
	return float64(c5) / nm, float64(c96) / nm
}
