// Command demo computes real losses between two 3D point clouds — x uniform
// on the unit cube, y Gaussian around (.7, .5, .5) with σ = .1 — at a few
// sizes, printing the value, the gradient norm, the backend and engine that
// ran, and the wall time. `make demo` runs it.
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/libgeomloss/libgeomloss"
)

func main() {
	sizes := flag.String("sizes", "1000,5000,20000", "comma-separated cloud sizes N = M")
	threads := flag.Int("threads", 0, "CPU threads (0: all cores)")
	flag.Parse()
	fmt.Printf("%-10s %-7s %-22s %7s %14s %12s %9s\n", "loss", "N=M", "backend (engine)", "dtype", "value", "|∇x|", "time")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "demo: bad size %q\n", s)
			os.Exit(2)
		}
		x, y := clouds(n)
		sink := geomloss.DefaultParams() // sinkhorn, p=2, blur=.05, scaling=.5, debias
		sink.Backend = geomloss.Online
		run("sinkhorn", sink, n, x, y, *threads)
		if n <= 5000 { // GeomLoss's auto rule picks the tensorized backend here
			auto := geomloss.DefaultParams()
			run("sinkhorn", auto, n, x, y, *threads)
		}
		gauss := geomloss.DefaultParams()
		gauss.Loss, gauss.Blur, gauss.Backend = geomloss.Gaussian, 0.1, geomloss.Online
		run("gaussian", gauss, n, x, y, *threads)
	}
}

// clouds draws x ~ U[0,1]³ and y ~ N((.7,.5,.5), .1²·I), n points each, float32.
func clouds(n int) (x, y []float32) {
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	x, y = make([]float32, 3*n), make([]float32, 3*n)
	centre := []float64{0.7, 0.5, 0.5}
	for i := range x {
		x[i] = rng.Float32()
		y[i] = float32(centre[i%3] + 0.1*rng.NormFloat64())
	}
	return x, y
}

func run(name string, par geomloss.Params, n int, x, y []float32, threads int) {
	pr := geomloss.Problem[float32]{B: 1, N: n, M: n, D: 3, X: x, Y: y}
	start := time.Now()
	res, err := geomloss.Evaluate(par, pr, geomloss.Request[float32]{GradX: true}, geomloss.Options{Threads: threads})
	elapsed := time.Since(start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %s N=%d: %v\n", name, n, err)
		os.Exit(1)
	}
	norm := 0.0
	for _, g := range res.GradX {
		norm += float64(g) * float64(g)
	}
	fmt.Printf("%-10s %-7d %-22s %7s %14.7g %12.5g %8.3fs\n", name, n,
		fmt.Sprintf("%s (%s)", res.Backend, res.Engine), "float32", res.Value[0], math.Sqrt(norm), elapsed.Seconds())
}
