// Command demo computes real losses between two 3D point clouds — x uniform
// on the unit cube, y Gaussian around (.7, .5, .5) with σ = .1 — at a few
// sizes, printing the value, the gradient norm, the backend and engine that
// ran, and the wall time; then the multiscale backend on a large problem,
// a Sinkhorn divergence between two images, and an entropic transport plan
// with its barycentric map. `make demo` runs it.
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
	large := flag.Int("multiscale", 20000, "N = M of the multiscale run (0: skip; compare with the online run of that size)")
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
	if *large > 0 {
		x, y := clouds(*large)
		ms := geomloss.DefaultParams()
		ms.Backend = geomloss.Multiscale
		run("sinkhorn", ms, *large, x, y, *threads)
	}
	images(*threads)
	plan(*threads)
}

// images computes the Sinkhorn divergence between two 256×256 densities (a
// disc and a shifted square) with its gradient w.r.t. the first.
func images(threads int) {
	const n = 256
	a, b := make([]float32, n*n), make([]float32, n*n)
	var sa, sb float32
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			u, v := (float64(i)+.5)/n, (float64(j)+.5)/n
			if (u-.35)*(u-.35)+(v-.4)*(v-.4) < .04 {
				a[i*n+j] = 1
				sa++
			}
			if math.Abs(u-.65) < .15 && math.Abs(v-.6) < .15 {
				b[i*n+j] = 1
				sb++
			}
		}
	}
	for k := range a {
		a[k] /= sa
		b[k] /= sb
	}
	start := time.Now()
	res, err := geomloss.EvaluateImages(geomloss.DefaultImageParams(), geomloss.ImageProblem[float32]{B: 1, Shape: []int{n, n}, A: a, Bw: b},
		geomloss.ImageRequest[float32]{GradA: true}, geomloss.Options{Threads: threads})
	elapsed := time.Since(start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: images: %v\n", err)
		os.Exit(1)
	}
	norm := 0.0
	for _, g := range res.GradA {
		norm += float64(g) * float64(g)
	}
	fmt.Printf("%-10s %-7s %-22s %7s %14.7g %12.5g %8.3fs\n", "images", "256²", fmt.Sprintf("grid (%s)", res.Engine), "float32",
		res.Value[0], math.Sqrt(norm), elapsed.Seconds())
}

// plan solves the entropic OT problem between 2000 points of each cloud
// (cost |x−y|², blur .05, converged to a marginal error of 1e-6) and maps x
// onto y with the plan's barycentric map, never storing the 2000×2000 plan.
func plan(threads int) {
	const n = 2000
	x, y := clouds(n)
	par := geomloss.OTParams{Blur: 0.05, Tol: 1e-6}
	start := time.Now()
	res, err := geomloss.SolveSample(x, y, 3, nil, nil, par, geomloss.Options{Threads: threads})
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: ot: %v\n", err)
		os.Exit(1)
	}
	defer res.Close()
	mapped, err := res.Plan.BarycentricAB()
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: ot: %v\n", err)
		os.Exit(1)
	}
	elapsed := time.Since(start)
	var mean [3]float64
	for i, v := range mapped {
		mean[i%3] += float64(v) / n
	}
	fmt.Printf("%-10s %-7d %-22s %7s %14.7g %12s %8.3fs\n", "ot plan", n, fmt.Sprintf("%s (%s)", res.Backend, res.Engine), "float32",
		res.Value, fmt.Sprintf("%d it.", res.Iterations), elapsed.Seconds())
	fmt.Printf("           marginal error %.2g; x mapped by the plan has mean (%.3f, %.3f, %.3f) — y's centre is (.7, .5, .5)\n",
		res.MarginalError, mean[0], mean[1], mean[2])
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
